"""A real server killed with SIGKILL mid-upload keeps what it acknowledged and nothing else."""

import hashlib
import io
import json
import os
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

import pytest
from PIL import Image

from tests.images import picture
from tests.servers import DEADLINE, wait_until
from tests.visit_support import VISIT_WORLD, audit_body, live_server, new_id, visit_config

DAY_AND_AN_HOUR = 25 * 3600


@pytest.fixture
def app_config(database_url, tmp_path, redis_url):
    """Photos go to a Redis queue that no worker takes from: the killed server leaves them
    `received`."""
    return visit_config(database_url, tmp_path, TASK_MODE="queue", REDIS_URL=redis_url)


@pytest.fixture
def world(make_world):
    return make_world(**VISIT_WORLD)


def call(base, method, path, headers, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = Request(base + path, data=data, method=method,
                      headers={**headers, "Content-Type": content_type})
    with urlopen(request, timeout=DEADLINE) as answer:
        return answer.status, answer.read()


def start_partial_upload(base, path, headers, data: bytes) -> socket.socket:
    """Send the headers and half of the body, then stall like a phone losing its signal."""
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=DEADLINE)
    head = [f"PUT {path} HTTP/1.1", f"Host: {parts.netloc}", "Content-Type: image/jpeg",
            f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data[: len(data) // 2])
    return sock


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_sigkill_mid_upload_keeps_the_acknowledged_photo_only(app, world, database_url,
                                                              tmp_path, runner):
    photo_dir, log = Path(app.config["PHOTO_DIR"]), tmp_path / "server.log"
    headers = world["headers"]["supervisor"]
    visit_id, kept_id, cut_id = new_id(), new_id(), new_id()
    # Photos of about 2 MB that do not compress away.
    kept, cut = (picture(1400, 1000, texture="noise", seed=n, quality=95) for n in (1, 2))
    body = audit_body(world["store"].id, photos=[(kept_id, "signage"), (cut_id, "signage")])
    photo_path = f"/api/v1/visits/{visit_id}/photos/{{}}?item=signage"

    queued = {"TASK_MODE": "queue", "REDIS_URL": app.config["REDIS_URL"]}
    with live_server(database_url, photo_dir, log, **queued) as (server, base):
        assert call(base, "PUT", f"/api/v1/visits/{visit_id}", headers, body)[0] == 201
        status, _ = call(base, "PUT", photo_path.format(kept_id), headers, kept, "image/jpeg")
        assert status == 201
        stalled = start_partial_upload(base, photo_path.format(cut_id), headers, cut)
        wait_until(lambda: list((photo_dir / ".spool").glob(".tmp-*")), "the upload to start")
        os.kill(server.pid, signal.SIGKILL)
        server.wait()
        stalled.close()

    leftovers = list((photo_dir / ".spool").glob(".tmp-*"))
    assert len(leftovers) == 1  # the cut upload's temporary, and no row (checked below)
    with live_server(database_url, photo_dir, log) as (_, base):
        status, raw = call(base, "GET", f"/api/v1/visits/{visit_id}", headers)
        visit = json.loads(raw)
        states = {p["id"]: p["status"] for p in visit["photos"]}
        assert states == {kept_id: "received", cut_id: "announced"}
        assert visit["missing_photos"] == [cut_id]
        status, served = call(base, "GET", f"{photo_path.format(kept_id)}&size=original", headers)
        assert status == 200 and Image.open(io.BytesIO(served)).size == (1400, 1000)

        digest = hashlib.sha256(kept).hexdigest()
        assert (photo_dir / "originals" / digest[:2] / digest).read_bytes() == kept
        for path in leftovers:
            os.utime(path, (time.time() - DAY_AND_AN_HOUR,) * 2)
        result = runner.invoke(args=["photos", "cleanup"])
        assert result.exit_code == 0 and "removed 1 temporaries, 0 orphans" in result.output
        assert files(photo_dir) == {f"{size}/{digest[:2]}/{digest}.jpg"
                                    for size in ("original", "display", "thumb")} | {
            f"originals/{digest[:2]}/{digest}"}

        status, _ = call(base, "PUT", photo_path.format(cut_id), headers, cut, "image/jpeg")
        assert status == 201
