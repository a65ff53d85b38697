"""The photo pipeline: stream to disk, check by content, store once per hash, derive display/thumb.

Receiving is cheap and happens in the request: the body is streamed to a spool file while it is
hashed, identified by its content (magic bytes), its pixel count read from the header (nothing
is decoded), a JPEG checked to end with its EOI marker and a PNG's chunks (to IEND) checked,
then moved into storage atomically and durably before the row is committed. The derivatives
(display ≈1600 px, thumb ≈320 px) are made by `process`, after the answer, from a strict
decode of all the data (a JPEG at reduced scale) — a photo damaged inside its data is marked
corrupt there and shown in the visit's missing_photos, so the client sends it again. The
full-size "original" that is served is made when first asked for. All are re-encoded from
pixels turned upright by their EXIF orientation, without EXIF, GPS or any other metadata. The
received bytes themselves are kept untouched under originals/ (the idempotency hash is theirs)
and never served.
"""

import hashlib
import mmap
import struct
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pillow_heif
from flask import current_app
from PIL import ExifTags, Image, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from supervision import tasks
from supervision.db import db
from supervision.errors import DomainError, Invalid
from supervision.storage import Storage, get_storage

pillow_heif.register_heif_opener()

CHUNK = 1024 * 1024
# Pillow format → the media type we record. Cameras often write MPO (a JPEG with a preview).
FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic",
           "WEBP": "image/webp"}
DECLARED = {"image/jpeg": "image/jpeg", "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg",
            "image/png": "image/png", "image/heic": "image/heic", "image/heif": "image/heic",
            "image/webp": "image/webp"}
UNDECLARED = {"", "application/octet-stream"}
HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}
SIZES = {"display": 1600, "thumb": 320}
PROCESSED_SIZES = ("display", "thumb")  # the full-size "original" is made when first asked
# Display at 78 with baseline Huffman tables: as small as 82 with optimized tables (a 12-photo
# report stays under 3 MB) at half the encoding time.
JPEG_QUALITY = {"original": 90, "display": 78, "thumb": 75}


class TooLarge(DomainError):
    code = 413


class UnsupportedMedia(DomainError):
    code = 415


@dataclass(frozen=True)
class Upload:
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class ImageInfo:
    content_type: str
    width: int
    height: int


def spool(stream: BinaryIO, storage: Storage, max_bytes: int) -> Upload:
    """Copy the request body to a spool file chunk by chunk, then hash it while the storage
    makes the file durable: the fsync waits for the disk, the hash for a core."""
    path, size = storage.spool_file(), 0
    try:
        with open(path, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise TooLarge(f"The photo is larger than {max_bytes // (1024 * 1024)} MB.")
                out.write(chunk)
        syncing = storage.sync_soon(path)
        with open(path, "rb") as written:  # from the page cache
            digest = hashlib.file_digest(written, "sha256")
        if syncing is not None:
            syncing.result()
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Upload(path, digest.hexdigest(), size)


def inspect(path: Path, declared: str, max_pixels: int) -> ImageInfo:
    """Identify the image by its bytes and check it cheaply; raise a 4xx DomainError if unfit."""
    try:
        with Image.open(path) as image:
            info = _identify(image, declared, max_pixels)
            _check_complete(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise _too_many_pixels(None, max_pixels) from error
    except UnidentifiedImageError as error:
        if _signature(path):
            raise Invalid("The image is damaged or incomplete: was the upload cut off? Send it "
                          "again.", {"body": ["Damaged or incomplete image."]}) from error
        raise UnsupportedMedia("The body is not an image: send a JPEG, PNG, HEIC or WebP photo.",
                               {"body": ["Not an image."]}) from error
    except (OSError, SyntaxError, ValueError) as error:
        message = f"The image is damaged or incomplete ({error}): was the upload cut off?"
        errors = {"body": ["Damaged or incomplete image."]}
        raise Invalid(f"{message} Send it again.", errors) from error
    return info


def _signature(path: Path) -> bool:
    """Whether the file starts like one of the accepted formats (so it is damaged, not foreign)."""
    with open(path, "rb") as file:
        head = file.read(12)
    return (head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"))
            or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")
            or (head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS))


def _identify(image: Image.Image, declared: str, max_pixels: int) -> ImageInfo:
    content_type = FORMATS.get(image.format or "")
    if content_type is None:
        raise UnsupportedMedia(f"{image.format} images are not accepted: send JPEG, PNG, HEIC "
                               "or WebP.", {"body": ["Unsupported image format."]})
    declared = (declared or "").split(";")[0].strip().lower()
    if declared not in UNDECLARED and DECLARED.get(declared) != content_type:
        raise UnsupportedMedia(
            f"The body is a {content_type} image but was sent as {declared}: send it with "
            f"Content-Type: {content_type}.", {"headers": {"Content-Type": ["Does not match."]}})
    width, height = image.size
    if width * height > max_pixels:
        raise _too_many_pixels(image.size, max_pixels)
    return ImageInfo(content_type, width, height)


def _too_many_pixels(size, max_pixels: int) -> Invalid:
    given = f"{size[0]}×{size[1]} pixels is" if size else "The image has"
    return Invalid(f"{given} more than the limit of {max_pixels / 1e6:g} megapixels.",
                   {"body": ["Too many pixels."]})


def _check_complete(image: Image.Image) -> None:
    """A cut-off upload fails here, without decoding: a JPEG must end its scans with the EOI
    marker; a PNG checks its chunk checksums up to IEND; a HEIC's item locations (its `iloc`
    box) must lie inside the file. WebP, and data damaged inside a complete file, fail the strict
    decode of `process`, which marks the photo corrupt so that the client sends it again."""
    if image.format in ("JPEG", "MPO"):
        if not _jpeg_ends(image.filename, image.tile[0][2]):
            raise OSError("the JPEG data stops before its end marker")
    elif image.format == "PNG":
        image.verify()
    elif image.format == "HEIF":
        with open(image.filename, "rb") as file, \
                mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            _check_heif_extents(data, len(data))


def _check_heif_extents(data, size: int) -> None:
    """Raise OSError unless every extent that the `iloc` box declares ends inside the file.

    Whether libheif notices a cut-off file on open differs between its releases; this reads the
    ISO base media boxes (ISO/IEC 14496-12 §8.11.3) and answers the same on every release."""
    meta = _box(data, 0, len(data), b"meta")
    iloc = _box(data, meta[0] + 4, meta[1], b"iloc") if meta else None  # meta is a full box
    if iloc is None:
        raise OSError("the HEIC has no item locations")
    at, version = iloc[0], data[iloc[0]]
    sizes = data[at + 4] >> 4, data[at + 4] & 15, data[at + 5] >> 4, data[at + 5] & 15
    offset_size, length_size, base_size, index_size = sizes
    at, count = _uint(data, at + 6, 4 if version == 2 else 2)
    for _ in range(count):
        at, _item = _uint(data, at, 4 if version == 2 else 2)
        at, method = _uint(data, at, 2) if version in (1, 2) else (at, 0)
        at, base = _uint(data, at + 2, base_size)  # after the data reference index
        at, extents = _uint(data, at, 2)
        for _ in range(extents):
            at, _index = _uint(data, at, index_size if version in (1, 2) else 0)
            at, offset = _uint(data, at, offset_size)
            at, length = _uint(data, at, length_size)
            if method & 15 == 0 and base + offset + length > size:  # 0: an offset in this file
                raise OSError("the HEIC data stops before the end of its images")


def _box(data, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    """(start of the content, end) of the first box of `kind` between start and end."""
    while start + 8 <= end:
        length, name = struct.unpack_from(">I4s", data, start)
        header = 8
        if length == 1:
            length, header = struct.unpack_from(">Q", data, start + 8)[0], 16
        elif length == 0:
            length = end - start
        if length < header:
            raise OSError("the HEIC has a malformed box")
        if name == kind:
            return start + header, min(start + length, end)
        start += length
    return None


def _uint(data, at: int, size: int) -> tuple[int, int]:
    """(position after, value) of a big-endian unsigned integer of `size` bytes (0: absent)."""
    if at + size > len(data):
        raise OSError("the HEIC item locations are cut off")
    return at + size, int.from_bytes(data[at:at + size], "big")


def _jpeg_ends(path: str, scan_offset: int) -> bool:
    """Whether an end-of-image marker follows the scan data, which can contain no such bytes.

    Pillow cannot say it: it pads a cut-off JPEG silently once ImageFile.LOAD_TRUNCATED_IMAGES
    is set, and WeasyPrint sets it for the whole process on import."""
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        # From the end: the marker is (near) the last bytes of a complete file.
        return data.rfind(b"\xff\xd9", scan_offset) != -1


def original_key(content_hash: str) -> str:
    return f"originals/{content_hash[:2]}/{content_hash}"


def derived_key(content_hash: str, size: str, content_type: str | None) -> str:
    extension = "png" if size == "original" and content_type == "image/png" else "jpg"
    return f"{size}/{content_hash[:2]}/{content_hash}.{extension}"


def derived_type(size: str, content_type: str | None) -> str:
    return "image/png" if derived_key("x", size, content_type).endswith(".png") else "image/jpeg"


def make_derivatives(storage: Storage, content_hash: str, content_type: str) -> tuple[int, int]:
    """Decode the original strictly, at the scale the display version needs, turn it upright
    and store display and thumb; returns the upright size of the original.

    Raises OSError/ValueError/SyntaxError on a damaged image: a reduced JPEG decode still
    reads all of the data. The full-size version is made by `make_original` when asked for."""
    with storage.open(original_key(content_hash)) as raw:
        upright, size = _decode_upright(raw, content_type, SIZES["display"])
    upright, icc = _stripped(upright, content_type)
    for name in PROCESSED_SIZES:  # each from the one before: less to resample
        upright = _fit(upright, SIZES[name])
        _store_image(storage, upright, derived_key(content_hash, name, None), name, icc)
    return size


def make_original(storage: Storage, content_hash: str, content_type: str) -> None:
    """The full-size stripped version, made on its first request (few are ever asked for)."""
    with storage.open(original_key(content_hash)) as raw:
        upright, _ = _decode_upright(raw, content_type)
    upright, icc = _stripped(upright, content_type)
    _store_image(storage, upright, derived_key(content_hash, "original", content_type),
                 "original", icc)


def _stripped(image: Image.Image, content_type: str) -> tuple[Image.Image, bytes | None]:
    icc = image.info.get("icc_profile")
    kept = ("RGB", "RGBA", "L", "LA") if content_type == "image/png" else ("RGB",)
    if image.mode not in kept:
        image = image.convert("RGB")
    image.info = {}  # nothing of the camera's metadata goes along
    return image, icc


def _decode_upright(raw: BinaryIO, content_type: str,
                    longest: int | None = None) -> tuple[Image.Image, tuple[int, int]]:
    """(pixels turned as the EXIF orientation says, the original's upright size). A JPEG is
    decoded at the smallest 1/2, 1/4, 1/8 scale still at least `longest` px (libjpeg's DCT
    scaling). HEIC is decoded by pillow-heif itself (already upright): its Pillow plugin hands
    back a blank image for damaged data once ImageFile.LOAD_TRUNCATED_IMAGES is set, which
    WeasyPrint does on import."""
    if content_type == "image/heic":
        image = pillow_heif.open_heif(raw, convert_hdr_to_8bit=True).to_pillow()
        return image, image.size
    image = Image.open(raw)  # not closed: closing would free the pixels; `raw` is closed
    width, height = image.size
    if longest and max(width, height) > longest:
        scale = longest / max(width, height)
        image.draft("RGB", (round(width * scale), round(height * scale)))
    with _strict_decoding():
        image.load()
    turned = image.getexif().get(ExifTags.Base.Orientation) in (5, 6, 7, 8)
    ImageOps.exif_transpose(image, in_place=True)  # no copy of the pixels when already upright
    return image, (height, width) if turned else (width, height)


_strict_lock = threading.Lock()


@contextmanager
def _strict_decoding():
    """Have Pillow raise on a decoder error instead of padding the image with grey.

    WeasyPrint turns ImageFile.LOAD_TRUNCATED_IMAGES on for the whole process; it is off only
    while a photo decodes (a report rendering meanwhile skips a broken image either way)."""
    with _strict_lock:
        before, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _fit(image: Image.Image, longest: int) -> Image.Image:
    fitted = image.copy()
    fitted.thumbnail((longest, longest), Image.Resampling.LANCZOS)
    return fitted.convert("RGB") if fitted.mode != "RGB" else fitted


def _store_image(storage: Storage, image: Image.Image, key: str, size: str, icc) -> None:
    path = storage.spool_file()
    try:
        extras = {"icc_profile": icc} if icc else {}
        if key.endswith(".png"):
            image.save(path, "PNG", optimize=False, **extras)
        else:
            # Optimized or progressive encoding doubles or triples the cost of the versions
            # made for every photo: only the full-size one, made on request, has them.
            full = size == "original"
            image = image if image.mode == "RGB" else image.convert("RGB")
            image.save(path, "JPEG", quality=JPEG_QUALITY[size], optimize=full,
                       progressive=full, **extras)
        storage.put_file(key, path)
    finally:
        path.unlink(missing_ok=True)


def process(photo) -> str:
    """Make the derivatives of a received photo and mark it processed (or corrupt); flushes.
    A request or a report that needs a photo now calls this; the caller commits."""
    if photo.status != "received":
        return photo.status
    storage = get_storage()
    try:
        if not _derived(storage, photo):
            photo.width, photo.height = make_derivatives(storage, photo.content_hash,
                                                         photo.content_type)
        photo.status, photo.error = "processed", None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        current_app.logger.warning("photo %s is corrupt: %s", photo.id, error)
        photo.status = "corrupt"
        photo.error = f"The image could not be decoded ({error}); send it again."
    db.session.flush()
    return photo.status


def process_task(photo_id: str) -> str:
    """The task that processes a received photo after its upload committed; commits. Safe to run
    again, from any process: a photo not in the `received` state is left as it is."""
    from supervision.visits.models import Photo

    photo = db.session.get(Photo, uuid.UUID(str(photo_id)))
    status = process(photo) if photo is not None else "missing"
    db.session.commit()
    return status


def process_after_commit(photo) -> None:
    """Have a received photo processed once the current transaction commits."""
    tasks.after_commit("photos", f"{__name__}:process_task", str(photo.id))


def _derived(storage: Storage, photo) -> bool:
    """Derivatives already exist when another photo had the same content."""
    return all(storage.exists(derived_key(photo.content_hash, size, photo.content_type))
               for size in PROCESSED_SIZES)


def pending_photos() -> list:
    """Photos received but not processed yet (the process died, or no worker ran)."""
    from supervision.visits.models import Photo

    return list(db.session.scalars(select(Photo).where(Photo.status == "received")))


def clean_storage(older_than_s: float) -> dict[str, int]:
    """Remove abandoned uploads and content no photo refers to, both older than the limit.

    Content is written before its row is committed, so a crash in between leaves a file no row
    names; the age limit spares what a request still in flight is about to commit."""
    from supervision.visits.models import Photo

    storage = get_storage()
    spool = storage.remove_stale_spool(older_than_s)
    hashes = select(Photo.content_hash).where(Photo.content_hash.is_not(None))
    used = set(db.session.scalars(hashes))
    limit, orphans = time.time() - older_than_s, 0
    for prefix in ("originals", "original", "display", "thumb"):
        for key, mtime in list(storage.keys(prefix)):
            if mtime < limit and key.rsplit("/", 1)[-1].split(".")[0] not in used:
                storage.delete(key)
                orphans += 1
    return {"temporaries": len(spool), "orphans": orphans}
