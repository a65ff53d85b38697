"""The tests' one image factory: real images made and encoded by Pillow."""

import io
import random
import struct
import zlib
from functools import cache

from PIL import ExifTags, Image, ImageColor, ImageDraw

EXIF_FORMATS = ("JPEG", "HEIF")


@cache
def picture(width=640, height=480, color=(200, 30, 30), format="JPEG", *, texture="flat",
            seed=0, orientation=None, gps=False, exif=True, quality=85) -> bytes:
    """A real image file's bytes (the same arguments give the same bytes).

    `texture`: "flat", the colour with a blue mark in the top-left corner to see a rotation;
    "noise", grey noise that does not compress away (another `seed`, other noise); "photo",
    gradients, coloured shapes (from `seed`) and sensor-like noise: it compresses like a camera
    photo. `color`: RGB, RGBA (an image with alpha) or a CSS colour name. JPEG and HEIF carry
    EXIF with a camera make ("TestCam"), and `orientation` and a GPS position when asked, for
    the pipeline to strip; `exif=False` leaves it out."""
    size = (width, height)
    image = {"flat": _flat, "noise": _noise, "photo": _photo}[texture](size, color, seed)
    params = {"quality": quality} if format in ("JPEG", "HEIF", "WEBP") else {}
    if exif and format in EXIF_FORMATS:
        params["exif"] = _exif(orientation, gps).tobytes()
    if format == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    buffer = io.BytesIO()
    image.save(buffer, format, **params)
    return buffer.getvalue()


@cache
def bilevel_png(width: int, height: int, seed: int = 0) -> bytes:
    """A real, valid PNG of one bit per pixel, black but for row `seed`: tens of megapixels in a
    few kilobytes, written row by row (no pixels are held here); another seed, other bytes."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        checksum = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + checksum

    row, packer = bytes(1 + (width + 7) // 8), zlib.compressobj(9)
    rows = (row if y != seed else b"\x00" + b"\xff" * (len(row) - 1) for y in range(height))
    data = b"".join(packer.compress(r) for r in rows) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data)
            + chunk(b"IEND", b""))


def _flat(size, color, seed) -> Image.Image:
    color = ImageColor.getrgb(color) if isinstance(color, str) else color
    image = Image.new("RGBA" if len(color) == 4 else "RGB", size, color)
    if image.mode == "RGB":
        image.paste((20, 20, 220), (0, 0, size[0] // 4, size[1] // 4))
    return image


def _noise(size, color, seed) -> Image.Image:
    return Image.effect_noise(size, 50).convert("RGB")  # a new draw for each seed


def _photo(size, color, seed) -> Image.Image:
    width, height = size
    base = Image.merge("RGB", (
        Image.linear_gradient("L").resize(size),
        Image.radial_gradient("L").resize(size),
        Image.linear_gradient("L").rotate(90).resize(size),
    ))
    draw, rnd = ImageDraw.Draw(base), random.Random(seed)
    for _ in range(40):
        x, y = rnd.randrange(width), rnd.randrange(height)
        draw.rectangle([x, y, x + rnd.randrange(width // 80, width // 5),
                        y + rnd.randrange(height // 60, height // 5)],
                       fill=tuple(rnd.randrange(256) for _ in range(3)))
    return Image.blend(base, Image.effect_noise(size, 40).convert("RGB"), 0.25)


def _exif(orientation, gps) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N"
        info[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 2.5)
    return exif
