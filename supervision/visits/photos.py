"""The photo pipeline: stream to disk, check by content, store once per hash, derive three sizes.

Receiving is cheap and happens in the request: the body is streamed to a spool file while it is
hashed, identified by its content (magic bytes), its pixel count read from the header (nothing
is decoded), a JPEG checked to end with its EOI marker and a PNG's chunks (to IEND) checked,
then moved into storage atomically and durably before the row is committed. A header that
cannot be parsed, whatever the parser raises, is refused there (422). The served versions —
original (full size), display (≈1600 px) and thumb (≈320 px) — are made by `process`, after
the answer, from one strict decode of all the data; a photo damaged inside its data is marked
corrupt there and shown in the visit's missing_photos, so the client sends it again. A read
streams a stored version (a photo processed before the full-size version was made here gets
it on its first read, under the same bounds). No image of more than PHOTO_MAX_PIXELS is
decoded, and a process decodes one full-size image at a time, so its memory stays bounded
whatever the concurrent reads. All versions are re-encoded from pixels turned upright by their
EXIF orientation, without EXIF, GPS or any other metadata. The received bytes themselves are
kept untouched under originals/ (the idempotency hash is theirs) and never served.
"""

import hashlib
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import pillow_heif
from flask import current_app
from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError
from sqlalchemy import select

from supervision import tasks
from supervision.db import db
from supervision.errors import DomainError, Invalid, NotFound
from supervision.storage import Storage, get_storage
from supervision.visits import imagefiles

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
PROCESSED_SIZES = ("original", "display", "thumb")
# EXIF orientation → the transposition that turns the pixels upright.
UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
           4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
           6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
           8: Image.Transpose.ROTATE_90}
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
    except DomainError:
        raise
    except Exception as error:  # a damaged header makes Pillow's parsers raise anything
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
        if not image.tile:  # the segment lengths led past every scan
            raise OSError("the JPEG header does not lead to any image data")
        if not imagefiles.jpeg_ends(image.filename, image.tile[0][2]):
            raise OSError("the JPEG data stops before its end marker")
    elif image.format == "PNG":
        image.verify()
    elif image.format == "HEIF":
        imagefiles.heif_items_inside(image.filename)


def original_key(content_hash: str) -> str:
    return f"originals/{content_hash[:2]}/{content_hash}"


def derived_key(content_hash: str, size: str, content_type: str | None) -> str:
    extension = "png" if size == "original" and content_type == "image/png" else "jpg"
    return f"{size}/{content_hash[:2]}/{content_hash}.{extension}"


def derived_type(size: str, content_type: str | None) -> str:
    return "image/png" if derived_key("x", size, content_type).endswith(".png") else "image/jpeg"


def make_derivatives(storage: Storage, content_hash: str, content_type: str,
                     max_pixels: int) -> tuple[int, int]:
    """Store every served version of a received photo — original (full size), display and
    thumb — from one strict decode of all its data; returns the upright size.

    An upright JPEG's full-size version is its own data without the metadata segments (nothing
    re-encoded), and it is decoded at the smallest DCT scale still at least the display size
    (libjpeg's scaling, which still reads all the data); other photos are decoded at full size.
    The app sends photos of at most the display size (static/js/photos.js): an upright JPEG
    of that size is its own display version too, not encoded a second time.
    Raises on a damaged image (OSError, SyntaxError, ValueError, or whatever a decoder raises
    on hostile data) and DecompressionBombError beyond `max_pixels`, before decoding."""
    with storage.open(original_key(content_hash)) as raw, _full_size:
        as_sent = _strippable(raw, content_type)
        longest = SIZES["display"] if as_sent is not None else None
        image, size = _decode_upright(raw, content_type, max_pixels, longest)
        kept = as_sent if image.mode in ("RGB", "L") and max(size) <= SIZES["display"] else None
        image, icc = _stripped(image, content_type)
        _store_original(storage, content_hash, content_type, as_sent or image, icc)
        for name in ("display", "thumb"):  # each from the one before: less to resample
            key = derived_key(content_hash, name, None)
            if name == "display" and kept is not None:
                _store_bytes(storage, key, kept)  # shrunk by the app already: not re-encoded
                continue
            image = _fit(image, SIZES[name])
            _store_image(storage, image, key, name, icc)
    return size


def make_original(storage: Storage, content_hash: str, content_type: str) -> None:
    """The full-size version of a photo processed before `make_derivatives` made it (it was
    made on the first request then): once, under the same bounds."""
    try:
        with storage.open(original_key(content_hash)) as raw, _full_size:
            content, icc = _strippable(raw, content_type), None
            if content is None:
                image, _ = _decode_upright(raw, content_type,
                                           current_app.config["PHOTO_MAX_PIXELS"])
                content, icc = _stripped(image, content_type)
            _store_original(storage, content_hash, content_type, content, icc)
    except DomainError:
        raise
    except Exception as error:
        raise NotFound(f"The full-size version of this photo cannot be made ({error}); "
                       "ask for size=display.") from error


_full_size = threading.Lock()  # one photo decoded at a time in a process: bounded memory


def _store_original(storage: Storage, content_hash: str, content_type: str,
                    content: bytes | Image.Image, icc: bytes | None) -> None:
    key = derived_key(content_hash, "original", content_type)
    if isinstance(content, Image.Image):
        _store_image(storage, content, key, "original", icc)
    else:
        _store_bytes(storage, key, content)


def _store_bytes(storage: Storage, key: str, content: bytes) -> None:
    path = storage.spool_file()
    try:
        path.write_bytes(content)
        storage.put_file(key, path)
    finally:
        path.unlink(missing_ok=True)


def _strippable(raw: BinaryIO, content_type: str) -> bytes | None:
    """An upright JPEG's data without its metadata, or None: it has to be decoded."""
    if content_type != "image/jpeg":
        return None
    try:
        with Image.open(raw) as header:  # its EXIF comes with the header: nothing is decoded
            upright = _transposition(header) is None
        raw.seek(0)
        return imagefiles.jpeg_without_metadata(raw.read()) if upright else None
    except Exception:  # let the decoder say what is wrong
        return None
    finally:
        raw.seek(0)


def _stripped(image: Image.Image, content_type: str) -> tuple[Image.Image, bytes | None]:
    icc = image.info.get("icc_profile")
    kept = ("RGB", "RGBA", "L", "LA") if content_type == "image/png" else ("RGB",)
    if image.mode not in kept:
        image = image.convert("RGB")
    image.info = {}  # nothing of the camera's metadata goes along
    return image, icc


def _decode_upright(raw: BinaryIO, content_type: str, max_pixels: int,
                    longest: int | None = None) -> tuple[Image.Image, tuple[int, int]]:
    """(pixels turned as the EXIF orientation says, the original's upright size); nothing is
    decoded beyond `max_pixels`. A JPEG is decoded at the smallest 1/2, 1/4, 1/8 scale still at
    least `longest` px. HEIC is decoded by pillow-heif itself (already upright): its Pillow
    plugin hands back a blank image for damaged data once ImageFile.LOAD_TRUNCATED_IMAGES is
    set, which WeasyPrint does on import."""
    if content_type == "image/heic":
        heif = pillow_heif.open_heif(raw, convert_hdr_to_8bit=True)
        _check_pixels(heif.size, max_pixels)
        image = heif.to_pillow()
        return image, image.size
    image = Image.open(raw)  # not closed: closing would free the pixels; `raw` is closed
    _check_pixels(image.size, max_pixels)
    width, height = image.size
    if longest and max(width, height) > longest:
        scale = longest / max(width, height)
        image.draft("RGB", (round(width * scale), round(height * scale)))
    with _strict_decoding():
        image.load()
    method = _transposition(image)
    turned = method in (Image.Transpose.TRANSPOSE, Image.Transpose.TRANSVERSE,
                        Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270)
    image = image if method is None else image.transpose(method)
    return image, (height, width) if turned else (width, height)


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    if size[0] * size[1] > max_pixels:
        raise Image.DecompressionBombError(
            f"{size[0]}×{size[1]} pixels is more than the limit of {max_pixels / 1e6:g} "
            "megapixels")


def _transposition(image: Image.Image) -> Image.Transpose | None:
    """What turns the pixels as the EXIF orientation says; None for a damaged EXIF block
    (ImageOps.exif_transpose would re-encode that block, and fail on it)."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation)
    except Exception:  # the metadata is dropped anyway
        return None
    return UPRIGHT.get(orientation) if isinstance(orientation, int) else None


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
    """In RGB, shrunk to at most `longest` px without a copy of the larger pixels."""
    scale = longest / max(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    return image.convert("RGB") if image.mode != "RGB" else image


def _store_image(storage: Storage, image: Image.Image, key: str, size: str, icc) -> None:
    path = storage.spool_file()
    try:
        extras = {"icc_profile": icc} if icc else {}
        if key.endswith(".png"):
            image.save(path, "PNG", optimize=False, **extras)
        else:
            # Baseline: optimized or progressive encoding is 10 % smaller but takes six times as
            # long, for every photo.
            image = image if image.mode == "RGB" else image.convert("RGB")
            image.save(path, "JPEG", quality=JPEG_QUALITY[size], **extras)
        storage.put_file(key, path)
    finally:
        path.unlink(missing_ok=True)


def process(photo) -> str:
    """Make the served versions of a received photo and mark it processed (or corrupt);
    flushes. A request or a report that needs a photo now calls this; the caller commits."""
    if photo.status != "received":
        return photo.status
    storage = get_storage()
    try:
        if not _derived(storage, photo):
            photo.width, photo.height = make_derivatives(
                storage, photo.content_hash, photo.content_type,
                current_app.config["PHOTO_MAX_PIXELS"])
        photo.status, photo.error = "processed", None
    except (DomainError, MemoryError):  # the storage is unavailable: not the photo's fault
        raise
    except Exception as error:  # a decoder given damaged data raises anything
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
    """The served versions already exist when another photo had the same content."""
    return all(storage.exists(derived_key(photo.content_hash, size, photo.content_type))
               for size in PROCESSED_SIZES)


def pending_photos() -> list:
    """Photos received but not processed yet (the process died, or no worker ran)."""
    from supervision.visits.models import Photo

    return list(db.session.scalars(select(Photo).where(Photo.status == "received")))


def clean_storage(older_than_s: float) -> dict[str, int]:
    """Remove abandoned uploads and content no photo (of a visit, of a fix, or a signature)
    refers to, both older than the limit.

    Content is written before its row is committed, so a crash in between leaves a file no row
    names; the age limit spares what a request still in flight is about to commit."""
    from supervision.followup.models import ActionEvidence
    from supervision.visits.models import Photo, Signoff

    storage = get_storage()
    spool = storage.remove_stale_spool(older_than_s)
    used = set()
    for column in (Photo.content_hash, ActionEvidence.content_hash, Signoff.signature_hash):
        used.update(db.session.scalars(select(column).where(column.is_not(None))))
    limit, orphans = time.time() - older_than_s, 0
    for prefix in ("originals", "original", "display", "thumb"):
        for key, mtime in list(storage.keys(prefix)):
            if mtime < limit and key.rsplit("/", 1)[-1].split(".")[0] not in used:
                storage.delete(key)
                orphans += 1
    return {"temporaries": len(spool), "orphans": orphans}
