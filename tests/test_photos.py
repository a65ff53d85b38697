"""The photo pipeline: checks by content, limits, EXIF stripped, HEIC, derivatives, upkeep."""

import io
import os
import struct
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from supervision.db import db
from tests.images import bilevel_png, picture
from tests.visit_support import VISIT_WORLD, audit_body, new_id, visit_config

MAX_BYTES = 3 * 1024 * 1024


@pytest.fixture
def processing(request):
    """TASK_MODE: inline unless a test names another by indirect parametrization; `queue` is a
    Redis queue that no worker takes from."""
    mode = getattr(request, "param", "inline")
    if mode == "queue":
        return {"TASK_MODE": mode, "REDIS_URL": request.getfixturevalue("redis_url")}
    return {"TASK_MODE": mode}


@pytest.fixture
def app_config(database_url, tmp_path, processing):
    return visit_config(database_url, tmp_path, PHOTO_MAX_BYTES=MAX_BYTES, **processing)


@pytest.fixture
def world(make_world):
    return make_world(**VISIT_WORLD)


@pytest.fixture
def visit(client, world):
    """A draft audit announcing one photo for `signage`; returns (visit id, announced id)."""
    visit_id, photo_id = new_id(), new_id()
    body = audit_body(world["store"].id, photos=[(photo_id, "signage")])
    answer = client.put(f"/api/v1/visits/{visit_id}", json=body,
                        headers=world["headers"]["supervisor"])
    assert answer.status_code == 201, answer.json
    return visit_id, photo_id


def upload(client, world, visit_id, photo_id, data, content_type="image/jpeg", item="signage"):
    query = f"?item={item}" if item else ""
    return client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}{query}", data=data,
                      headers={**world["headers"]["supervisor"], "Content-Type": content_type})


def fetch(client, world, visit_id, photo_id, size="original", who="supervisor", **headers):
    """The answer, read whole and closed (a streamed file stays open until then)."""
    with client.get(f"/api/v1/visits/{visit_id}/photos/{photo_id}?size={size}",
                    headers={**world["headers"][who], **headers}) as answer:
        answer.get_data()
        return answer


def stored_files(app) -> list[str]:
    root = Path(app.config["PHOTO_DIR"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def received_rows(app) -> int:
    from supervision.visits.models import Photo

    with app.app_context():
        return db.session.scalar(select(func.count(Photo.id)).where(Photo.status != "announced"))


def test_a_photo_is_stored_once_upright_and_stripped(app, client, world, visit):
    visit_id, photo_id = visit
    data = picture(2400, 1200, orientation=6, gps=True)
    first = upload(client, world, visit_id, photo_id, data)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "processed" and first.json["size_bytes"] == len(data)
    assert (first.json["width"], first.json["height"]) == (1200, 2400)  # turned upright
    assert upload(client, world, visit_id, photo_id, data).status_code == 200
    other = upload(client, world, visit_id, photo_id, picture(2400, 1200, color=(0, 0, 0)))
    assert other.status_code == 409 and "other content" in other.json["message"]
    for size, longest in (("original", 2400), ("display", 1600), ("thumb", 320)):
        answer = fetch(client, world, visit_id, photo_id, size)
        assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
        assert b"TestCam" not in answer.data and b"Exif" not in answer.data
        image = Image.open(io.BytesIO(answer.data))
        assert not image.getexif() and image.height == longest and image.width == longest // 2
        assert image.getpixel((image.width - 5, 5))[2] > 150  # the blue mark, now top right
        again = fetch(client, world, visit_id, photo_id, size,
                      **{"If-None-Match": answer.headers["ETag"]})
        assert again.status_code == 304 and again.headers["ETag"] == answer.headers["ETag"]


def test_same_bytes_under_two_ids_are_stored_once(app, client, world, visit):
    visit_id, photo_id = visit
    data = picture()
    assert upload(client, world, visit_id, photo_id, data).status_code == 201
    assert upload(client, world, visit_id, new_id(), data).status_code == 201
    originals = [f for f in stored_files(app) if f.startswith("originals/")]
    assert len(originals) == 1


def heic(width=1024, height=768, exif=True) -> bytes:
    """A real HEIC, as iPads send them, made with pillow-heif's encoder."""
    return picture(width, height, (30, 160, 60), "HEIF", exif=exif, quality=60)


def bomb_jpeg(width=30000, height=30000) -> bytes:
    """A small JPEG whose header claims a huge size (the size is read without decoding)."""
    data = bytearray(picture(64, 64))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def bomb_png(width=30000, height=30000) -> bytes:
    data = bytearray(picture(64, 64, format="PNG"))
    body = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = body
    data[29:33] = struct.pack(">I", zlib.crc32(body))
    return bytes(data)


BAD_PHOTOS = [
    # (what, body, declared type, item, status, words in the message)
    ("not an image", b"hello, this is text" * 100, "image/jpeg", "signage", 415, "not an image"),
    ("truncated JPEG", picture(800, 600, texture="noise", quality=90)[:20000], "image/jpeg",
     "signage", 422,
     "incomplete"),
    ("PNG sent as JPEG", picture(50, 50, format="PNG"), "image/jpeg", "signage", 415,
     "image/png image but was sent as image/jpeg"),
    ("30000×30000 JPEG", bomb_jpeg(), "image/jpeg", "signage", 422, "megapixels"),
    ("30000×30000 PNG", bomb_png(), "image/png", "signage", 422, "megapixels"),
    # A real, valid PNG: 79 megapixels in 10 KB; more than any phone photo.
    ("79 MP PNG of 10 KB", bilevel_png(10240, 7715), "image/png", "signage", 422, "megapixels"),
    ("over the size limit", b"\xff\xd8" + os.urandom(MAX_BYTES), "image/jpeg", "signage", 413,
     ""),
    ("truncated HEIC", heic()[:-100], "image/heic", "signage", 422, "incomplete"),
    ("HEIC cut by ten bytes", heic(640, 480, exif=False)[:-10], "image/heic", "signage", 422,
     "incomplete"),
    ("HEIC cut inside its boxes", heic()[:300], "image/heic", "signage", 422, "incomplete"),
    ("a GIF", picture(20, 20, format="GIF"), "image/gif", "signage", 415,
     "GIF images are not accepted"),
    ("an item that does not exist", picture(), "image/jpeg", "nope", 422, "does not exist"),
    ("no item for an unannounced photo", picture(), "image/jpeg", None, 422, "?item="),
    ("an empty body", b"", "image/jpeg", "signage", 415, "not an image"),
]


@pytest.mark.parametrize(("what", "data", "declared", "item", "status", "words"), BAD_PHOTOS,
                         ids=[b[0] for b in BAD_PHOTOS])
def test_bad_photos_are_refused_and_leave_nothing(app, client, world, visit, what, data,
                                                  declared, item, status, words):
    visit_id, _ = visit
    answer = upload(client, world, visit_id, new_id(), data, declared, item)
    assert answer.status_code == status, answer.json
    assert words in answer.json["message"]
    assert received_rows(app) == 0 and stored_files(app) == []


def test_a_photo_for_a_visit_not_sent_yet_is_404_asking_for_the_visit(app, client, world):
    answer = upload(client, world, new_id(), new_id(), picture())
    assert answer.status_code == 404 and "PUT the visit first" in answer.json["message"]
    assert stored_files(app) == []


def test_photo_ids_follow_their_announcement(client, world, visit):
    visit_id, photo_id = visit
    wrong_item = upload(client, world, visit_id, photo_id, picture(), item="tidy")
    assert wrong_item.status_code == 409 and "announced for item signage" in wrong_item.json[
        "message"]
    assert upload(client, world, visit_id, photo_id, picture(), item=None).status_code == 201
    extra = new_id()
    assert upload(client, world, visit_id, extra, picture(color=(1, 2, 3)),
                  item="tidy").status_code == 201
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"]["supervisor"]).json
    assert {(p["id"], p["item"]) for p in shown["photos"]} == {(photo_id, "signage"),
                                                                (extra, "tidy")}
    assert shown["missing_photos"] == []


def test_no_new_photo_after_submission_but_a_replay_is_fine(client, world, visit):
    visit_id, photo_id = visit
    second = new_id()
    upload(client, world, visit_id, photo_id, picture())
    upload(client, world, visit_id, second, picture(color=(9, 9, 9)))
    submitted = client.post(f"/api/v1/visits/{visit_id}/submit",
                            headers=world["headers"]["supervisor"])
    assert submitted.status_code == 200, submitted.json
    assert upload(client, world, visit_id, second, picture(color=(9, 9, 9))).status_code == 200
    late = upload(client, world, visit_id, new_id(), picture(color=(7, 7, 7)))
    assert late.status_code == 409 and "published" in late.json["message"]


@pytest.mark.parametrize(("data", "declared", "size"), [
    (heic(), "image/heic", (1024, 768)),
    (picture(900, 300, (0, 0, 255, 128), "PNG"), "image/png", (900, 300)),
    (picture(700, 500, (255, 255, 0), "WEBP"), "image/webp", (700, 500)),
    (picture(500, 400), "application/octet-stream", (500, 400)),
], ids=["heic", "png", "webp", "jpeg-undeclared"])
def test_other_formats_are_accepted_and_served_as_browsers_read_them(client, world, visit, data,
                                                                     declared, size):
    visit_id, photo_id = visit
    answer = upload(client, world, visit_id, photo_id, data, declared)
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "processed"
    assert (answer.json["width"], answer.json["height"]) == size
    display = fetch(client, world, visit_id, photo_id, "display")
    assert display.mimetype == "image/jpeg" and b"TestCam" not in display.data
    original = fetch(client, world, visit_id, photo_id)
    expected = "image/png" if declared == "image/png" else "image/jpeg"
    assert original.mimetype == expected
    assert Image.open(io.BytesIO(original.data)).size == size


def bogus_huffman_jpeg() -> tuple[bytes, bytes]:
    """(damaged, good): a complete JPEG, header and end marker intact, whose Huffman table is
    garbage — only a full decode finds it, after the photo was acknowledged."""
    good = picture(320, 240, texture="noise", quality=90)
    data = bytearray(good)
    table = data.index(b"\xff\xc4")
    data[table + 5:table + 21] = b"\xff" * 16
    return bytes(data), good


@pytest.mark.parametrize(("make", "declared"), [(bogus_huffman_jpeg, "image/jpeg")],
                         ids=["jpeg-bad-huffman-table"])
def test_a_damaged_photo_is_acknowledged_then_marked_corrupt_and_can_be_sent_again(
        app, client, world, visit, make, declared):
    visit_id, photo_id = visit
    damaged, good = make()
    cut = upload(client, world, visit_id, photo_id, damaged, declared)
    assert cut.status_code == 201 and cut.json["status"] == "corrupt"
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"]["supervisor"]).json
    assert shown["missing_photos"] == [photo_id]
    assert shown["photos"][0]["status"] == "corrupt"
    assert "send it again" in shown["photos"][0]["error"]
    assert fetch(client, world, visit_id, photo_id).status_code == 404
    again = upload(client, world, visit_id, photo_id, good, declared)
    assert again.status_code == 201 and again.json["status"] == "processed"


SOI, SOF, DQT, DHT, SOS = b"\xff\xd8", b"\xff\xc0", b"\xff\xdb", b"\xff\xc4", b"\xff\xda"
SOUND = picture(320, 240, texture="noise", quality=90, orientation=6)


def damaged(marker: bytes, offset: int, value: bytes) -> bytes:
    """The sound JPEG with `value` written `offset` bytes after its first `marker`."""
    data = bytearray(SOUND)
    at = data.index(marker) + offset
    data[at:at + len(value)] = value
    return bytes(data)


# Real JPEGs damaged in their header (the segments before the scan), as a bad card, a broken
# camera app or a careless client makes them.
DAMAGED_HEADERS = [
    ("SOF with no components", damaged(SOF, 9, b"\x00")),
    ("SOF with zero sampling factors", damaged(SOF, 11, b"\x00")),
    ("SOF with zero width", damaged(SOF, 7, b"\x00\x00")),
    ("SOF length past its components", damaged(SOF, 2, b"\x00\x40")),
    ("DQT table id out of range", damaged(DQT, 4, b"\x0b")),
    ("DQT length past the end", damaged(DQT, 2, b"\xff\xff")),
    ("DHT length past the end", damaged(DHT, 2, b"\x80\x1f")),
    ("DHT counts overflowing", damaged(DHT, 5, b"\xff" * 16)),
    ("header cut inside DQT", SOUND[:SOUND.index(DQT) + 30]),
    ("header cut before the scan", SOUND[:SOUND.index(SOS)]),
    ("bad SOI, JFIF after it", b"\xff\xd9" + SOUND[2:]),
    ("SOI followed by no marker", SOI + b"\x00\x00" + SOUND[2:]),
    ("EXIF entry with a damaged tag", damaged(b"Exif\x00\x00", 17, b"\x00")),
]


@pytest.mark.parametrize(("what", "data"), DAMAGED_HEADERS, ids=[d[0] for d in DAMAGED_HEADERS])
def test_a_damaged_header_is_refused_or_reported_corrupt_never_a_500(
        app, client, world, visit, what, data):
    visit_id, photo_id = visit
    sent = upload(client, world, visit_id, photo_id, data)
    assert sent.status_code in (201, 415, 422), sent.get_data(as_text=True)[:2000]
    if sent.status_code == 201:
        status = sent.json["status"]
        assert status in ("processed", "corrupt")
    else:
        assert any(words in sent.json["message"] for words in ("damaged", "not an image"))
        assert received_rows(app) == 0 and stored_files(app) == []
        status = "announced"
    for size in ("thumb", "display", "original"):
        answer = fetch(client, world, visit_id, photo_id, size)
        assert answer.status_code == (200 if status == "processed" else 404), answer.data[:2000]
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"]["supervisor"])
    assert shown.status_code == 200
    assert (photo_id in shown.json["missing_photos"]) == (status != "processed")
    for fmt in ("pdf", "html"):
        with client.get(f"/api/v1/visits/{visit_id}/report.{fmt}?lang=en",
                        headers=world["headers"]["admin"]) as report:
            assert report.status_code == 200, report.get_data(as_text=True)[:2000]
    with client.get("/api/v1/exports/visits.csv", headers=world["headers"]["admin"]) as export:
        assert export.status_code == 200


@pytest.mark.parametrize("orientation", [None, 8], ids=["upright", "turned"])
def test_the_full_size_version_is_made_when_processed_and_read_as_stored(
        app, client, world, visit, orientation):
    visit_id, photo_id = visit
    sent = picture(1200, 900, texture="noise", orientation=orientation, gps=True)
    answer = upload(client, world, visit_id, photo_id, sent)
    assert answer.status_code == 201 and answer.json["status"] == "processed"
    stored = [f for f in stored_files(app) if f.startswith("original/")]
    assert len(stored) == 1  # before anyone asked for it
    answer = fetch(client, world, visit_id, photo_id, "original")
    assert answer.data == (Path(app.config["PHOTO_DIR"]) / stored[0]).read_bytes()
    assert b"TestCam" not in answer.data and b"Exif" not in answer.data
    served = Image.open(io.BytesIO(answer.data))
    display = fetch(client, world, visit_id, photo_id, "display").data
    if orientation is None:  # the very pixels that were sent, nothing re-encoded
        assert served.tobytes() == Image.open(io.BytesIO(sent)).tobytes()
        assert display == answer.data  # the app's photo is the display size: kept as sent
    else:
        assert served.size == (900, 1200)
        assert display != answer.data and Image.open(io.BytesIO(display)).size == (900, 1200)


@pytest.mark.parametrize("processing", ["queue"], indirect=True)
def test_no_photo_is_decoded_beyond_the_pixel_limit(app, client, world, visit, runner):
    """A photo received under a larger limit (the setting was lowered since) is not decoded."""
    visit_id, photo_id = visit
    assert upload(client, world, visit_id, photo_id, picture(1600, 1200)).status_code == 201
    app.config["PHOTO_MAX_PIXELS"] = 1_000_000
    answer = fetch(client, world, visit_id, photo_id, "display")
    assert answer.status_code == 404 and "could not be decoded" in answer.json["message"]
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"]["supervisor"]).json
    assert shown["photos"][0]["status"] == "corrupt"  # kept: the next read decodes nothing
    assert "megapixels" in shown["photos"][0]["error"]
    result = runner.invoke(args=["photos", "process-pending"])
    assert result.exit_code == 0 and "processed 0, corrupt 0" in result.output


@pytest.mark.parametrize("processing", ["thread"], indirect=True)
def test_processing_in_a_thread_after_the_answer(app, client, world, visit):
    from supervision import tasks

    visit_id, photo_id = visit
    answer = upload(client, world, visit_id, photo_id, picture(1800, 1200))
    assert answer.status_code == 201 and answer.json["status"] in ("received", "processed")
    tasks.drain()
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"]["supervisor"]).json
    assert shown["photos"][0]["status"] == "processed"


@pytest.mark.parametrize("processing", ["queue"], indirect=True)
def test_pending_photos_are_processed_by_the_command_or_on_demand(app, client, world, visit,
                                                                  runner):
    visit_id, photo_id = visit
    first = upload(client, world, visit_id, photo_id, picture())
    assert first.json["status"] == "received"
    on_demand = new_id()
    upload(client, world, visit_id, on_demand, picture(color=(5, 5, 5)))
    assert fetch(client, world, visit_id, on_demand, "thumb").status_code == 200
    result = runner.invoke(args=["photos", "process-pending"])
    assert result.exit_code == 0 and "processed 1, corrupt 0" in result.output
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"]["supervisor"]).json
    assert {p["status"] for p in shown["photos"]} == {"processed"}


def test_cleanup_removes_old_temporaries_and_orphans_only(app, client, world, visit, runner):
    visit_id, photo_id = visit
    upload(client, world, visit_id, photo_id, picture())
    root, day_ago = Path(app.config["PHOTO_DIR"]), time.time() - 25 * 3600
    kept = set(stored_files(app))
    old_spool, new_spool = root / ".spool" / ".tmp-old", root / ".spool" / ".tmp-new"
    orphan = root / "originals" / "ff" / ("f" * 64)
    orphan.parent.mkdir(parents=True)
    for path in (old_spool, new_spool, orphan):
        path.write_bytes(b"partial")
    for path in (old_spool, orphan, *(root / name for name in kept)):
        os.utime(path, (day_ago, day_ago))
    result = runner.invoke(args=["photos", "cleanup"])
    assert result.exit_code == 0 and "removed 1 temporaries, 1 orphans" in result.output
    assert set(stored_files(app)) == kept | {".spool/.tmp-new"}


def test_photos_are_read_by_visit_scope(client, world, visit):
    visit_id, photo_id = visit
    upload(client, world, visit_id, photo_id, picture())
    assert fetch(client, world, visit_id, photo_id, who="other_supervisor").status_code == 404
    assert fetch(client, world, visit_id, photo_id, who="admin").status_code == 200
    assert fetch(client, world, visit_id, new_id()).status_code == 404


def test_health_checks_the_storage(client):
    assert client.get("/healthz").json == {"status": "ok", "database": "ok", "storage": "ok"}
