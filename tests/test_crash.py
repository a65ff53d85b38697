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

from tests.visit_support import (
    audit_body,
    encode,
    live_server,
    make_world,
    new_id,
    visit_config,
)

DAY_AND_AN_HOUR = 25 * 3600


@pytest.fixture
def app_config(database_url, tmp_path):
    """Nothing processed in the background: the killed server leaves photos `received`."""
    return visit_config(database_url, tmp_path, PHOTO_PROCESSING="none")


@pytest.fixture
def world(app, make_region, make_store, auth_headers):
    return make_world(app, make_region, make_store, auth_headers)


def call(base, method, path, headers, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    request = Request(base + path, data=data, method=method,
                      headers={**headers, "Content-Type": content_type})
    with urlopen(request, timeout=30) as answer:
        return answer.status, answer.read()


def photo_bytes(seed: int) -> bytes:
    """A photo of about 2 MB that does not compress away."""
    noise = Image.effect_noise((1400, 1000), 40 + seed).convert("RGB")
    return encode(noise, "JPEG", quality=95)


def start_partial_upload(base, path, headers, data: bytes) -> socket.socket:
    """Send the headers and half of the body, then stall like a phone losing its signal."""
    parts = urlsplit(base)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    head = [f"PUT {path} HTTP/1.1", f"Host: {parts.netloc}", "Content-Type: image/jpeg",
            f"Content-Length: {len(data)}", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + data[: len(data) // 2])
    return sock


def wait_for(condition, what: str, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_sigkill_mid_upload_keeps_the_acknowledged_photo_only(app, world, database_url,
                                                              tmp_path, runner):
    photo_dir, log = Path(app.config["PHOTO_DIR"]), tmp_path / "server.log"
    headers = world["headers"]["supervisor"]
    visit_id, kept_id, cut_id = new_id(), new_id(), new_id()
    kept, cut = photo_bytes(1), photo_bytes(2)
    body = audit_body(world["store"].id, photos=[(kept_id, "signage"), (cut_id, "signage")])
    photo_path = f"/api/v1/visits/{visit_id}/photos/{{}}?item=signage"

    with live_server(database_url, photo_dir, log, PHOTO_PROCESSING="none") as (server, base):
        assert call(base, "PUT", f"/api/v1/visits/{visit_id}", headers, body)[0] == 201
        status, _ = call(base, "PUT", photo_path.format(kept_id), headers, kept, "image/jpeg")
        assert status == 201
        stalled = start_partial_upload(base, photo_path.format(cut_id), headers, cut)
        wait_for(lambda: list((photo_dir / ".spool").glob(".tmp-*")), "the upload to start")
        os.kill(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
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
