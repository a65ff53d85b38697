"""Shared by the visit tests: a small world, real images made with Pillow, a real server process."""

import io
import os
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from PIL import ExifTags, Image

from supervision.db import db
from tests.servers import free_port

DATA = Path(__file__).parent / "data" / "visits"
ROOT = Path(__file__).resolve().parent.parent


def visit_config(database_url, tmp_path, **extra) -> dict:
    from tests.conftest import _test_config

    return {**_test_config(database_url, tmp_path / "photos"), **extra}


def make_world(app, make_region, make_store, auth_headers) -> dict:
    """Test checklists loaded; an east store with its supervisor, shopper and manager; a west
    store."""
    from supervision.checklists.services import add_version
    from tests.conftest import create_user

    with app.app_context():
        for name in ("audit.yaml", "mystery.yaml"):
            add_version((DATA / name).read_text(encoding="utf-8"), name)
        db.session.commit()
    east, west = make_region("EAST"), make_region("WEST")
    people = {role: create_user(app, role, [east]) for role in ("supervisor", "shopper", "manager")}
    people["admin"] = create_user(app, "admin", [])
    people["other_supervisor"] = create_user(app, "supervisor", [east])
    return {
        "east": east, "west": west,
        "store": make_store(east, "E1"), "west_store": make_store(west, "W1"), **people,
        "headers": {name: auth_headers(user) for name, user in people.items()},
    }


def jpeg(width=640, height=480, color=(200, 30, 30), orientation=None, gps=False,
         quality=85) -> bytes:
    """A real JPEG; optionally with an EXIF orientation and a GPS position to be stripped."""
    image = Image.new("RGB", (width, height), color)
    image.paste((20, 20, 220), (0, 0, width // 4, height // 4))  # a mark to see the rotation
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestCam"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        info = exif.get_ifd(ExifTags.IFD.GPSInfo)
        info[ExifTags.GPS.GPSLatitudeRef] = "N"
        info[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 2.5)
    return encode(image, "JPEG", exif=exif, quality=quality)


def encode(image: Image.Image, format: str, **params) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **params)
    return buffer.getvalue()


def audit_body(store_id, responses=None, photos=(), revision=0, **extra) -> dict:
    """A test-audit body; `responses` maps item ids to values."""
    answers = {"signage": True, "tidy": 4, "has_queue": True, "queue_minutes": 12,
               "argues": False} if responses is None else responses
    return {
        "store_id": store_id, "checklist": {"slug": "test-audit", "version": 1}, "kind": "audit",
        "started_at": "2025-03-01T09:30:00+08:00", "ended_at": "2025-03-01T10:15:00+08:00",
        "location": {"lat": 31.2387, "lon": 121.481, "accuracy_m": 12.5},
        "responses": [{"item": k, "value": v} for k, v in answers.items()],
        "photos": [{"id": str(p), "item": item} for p, item in photos],
        "revision": revision, **extra,
    }


def mystery_body(store_id, **extra) -> dict:
    return {
        "store_id": store_id, "checklist": {"slug": "test-mystery", "version": 1},
        "kind": "mystery", "started_at": "2025-03-02T14:00:00+08:00",
        "moments": [{"moment": "entered", "at": "2025-03-02T14:00:05+08:00"},
                    {"moment": "ticket_taken", "at": "2025-03-02T14:01:00+08:00"},
                    {"moment": "called", "at": "2025-03-02T14:13:30+08:00"}],
        "responses": [{"item": "greeted", "value": True}, {"item": "courtesy", "value": 4}],
        **extra,
    }


def new_id() -> str:
    return str(uuid.uuid4())


@contextmanager
def live_server(database_url: str, photo_dir: Path, log: Path, **config):
    """`flask run` in a subprocess on a free loopback port; yields (process, base URL)."""
    port = free_port()
    env = {**os.environ, "SUPERVISION_SQLALCHEMY_DATABASE_URI": database_url,
           "SUPERVISION_SECRET_KEY": "test-secret", "SUPERVISION_PHOTO_DIR": str(photo_dir),
           "SUPERVISION_LOGIN_RATE_LIMIT": "10000 per minute", "FLASK_APP": "supervision",
           **{f"SUPERVISION_{key}": str(value) for key, value in config.items()}}
    command = [sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port),
               "--no-reload", "--no-debugger", "--with-threads"]
    with open(log, "ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        _wait_until_up(process, port, log)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


@contextmanager
def worker(app, log: Path, *args, **config):
    """`flask jobs worker` in a subprocess on the app's database, storage and Redis; `config`
    adds SUPERVISION_* settings."""
    env = {**os.environ, "FLASK_APP": "supervision", "SUPERVISION_SECRET_KEY": "test-secret",
           "SUPERVISION_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
           "SUPERVISION_PHOTO_DIR": app.config["PHOTO_DIR"],
           "SUPERVISION_REDIS_URL": app.config["REDIS_URL"],
           **{f"SUPERVISION_{key}": str(value) for key, value in config.items()}}
    with open(log, "ab") as output:
        process = subprocess.Popen([sys.executable, "-m", "flask", "jobs", "worker", *args],
                                   cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=20)


def _wait_until_up(process, port: int, log: Path) -> None:
    import http.client

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{log.read_text()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within 30 s:\n{log.read_text()}")
