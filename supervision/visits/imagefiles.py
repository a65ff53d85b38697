"""The container structure of image files, read as bytes without decoding: whether a HEIC's
items and a JPEG's scans lie inside the file, and a JPEG's first image without its metadata."""

import mmap
import struct


def heif_items_inside(path: str) -> None:
    """Raise OSError unless every extent that the HEIC's `iloc` box declares ends in the file."""
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
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


def jpeg_ends(path: str, scan_offset: int) -> bool:
    """Whether an end-of-image marker follows the scan data, which can contain no such bytes.

    Pillow cannot say it: it pads a cut-off JPEG silently once ImageFile.LOAD_TRUNCATED_IMAGES
    is set, and WeasyPrint sets it for the whole process on import."""
    with open(path, "rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        # From the end: the marker is (near) the last bytes of a complete file.
        return data.rfind(b"\xff\xd9", scan_offset) != -1


def jpeg_without_metadata(data: bytes) -> bytes:
    """The first image of a JPEG (an MPO's previews follow it) with every segment copied as it
    is but APP1 (EXIF, XMP), APP2 other than an ICC profile (MPF), APP3–APP13, APP15 and
    comments. Raises on a structure it cannot follow."""
    kept, at = [b"\xff\xd8"], 2
    while data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # a fill byte
            at += 1
            continue
        if marker == 0xD9:
            return b"".join([*kept, b"\xff\xd9"])
        end = at + 2 + int.from_bytes(data[at + 2:at + 4], "big")
        if marker == 0xDA:  # the entropy-coded data runs to the next marker but RSTn
            end = _scan_end(data, end)
        if _kept(marker, data[at + 4:at + 16]):
            kept.append(data[at:end])
        at = end
    raise ValueError(f"no JPEG marker at byte {at}")


def _kept(marker: int, head: bytes) -> bool:
    if marker == 0xE0:
        return head.startswith(b"JFIF\0")
    if marker == 0xE2:
        return head.startswith(b"ICC_PROFILE\0")
    if marker == 0xEE:  # Adobe: how the colours were transformed
        return True
    return not (0xE0 <= marker <= 0xEF or marker == 0xFE)


def _scan_end(data: bytes, at: int) -> int:
    while True:
        at = data.index(b"\xff", at)
        if data[at + 1] == 0 or 0xD0 <= data[at + 1] <= 0xD7:
            at += 2
        else:
            return at
