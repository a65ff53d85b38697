"""Server memory while full-size photos are read at once: peak RSS against the idle server's.

    .venv/bin/python bench/photo_memory.py [--readers 4] [--megapixels 50]

A `flask run --with-threads` server (TASK_MODE=thread, a throwaway SQLite file in /tmp)
receives `readers + 1` distinct valid PNGs of `megapixels` each (one bit a pixel: a few KB on
the wire, as in issue 15), processes them on its thread, and then serves their full-size
version (size=original), each for the first time: one read alone, then `readers` at once. The
peak resident memory of the server process (VmHWM, reset through /proc/<pid>/clear_refs before
each phase) is printed against its idle RSS measured just before, in the same run. A read that
streams a stored file costs next to nothing; one that decodes the photo costs 3 bytes a pixel
or more (150 MB for 50 MP) for every concurrent reader. Also shows that a 79 MP PNG is refused.
"""

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from supervision import create_app  # noqa: E402
from supervision.db import db  # noqa: E402
from tests.conftest import build_world  # noqa: E402
from tests.images import bilevel_png  # noqa: E402
from tests.visit_support import (  # noqa: E402
    VISIT_WORLD,
    audit_body,
    live_server,
    new_id,
    visit_config,
)

MB = 1024 * 1024
TARGET = 1.25  # peak of the concurrent reads over the idle RSS


def memory(pid: int, field: str) -> int:
    """VmRSS or VmHWM of a process, in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def peak_during(pid: int, work) -> tuple[int, int]:
    """(RSS just before, peak RSS while `work()` runs)."""
    time.sleep(1)  # let the server settle after the previous phase (a measurement, not a wait)
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := the current RSS
    before = memory(pid, "VmRSS")
    work()
    return before, memory(pid, "VmHWM")


def call(base: str, method: str, path: str, headers: dict, body: bytes | None = None):
    """(status, size of the body) of one request; the body is read in chunks and dropped."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=600)
    connection.request(method, path, body, headers)
    answer, size = connection.getresponse(), 0
    while chunk := answer.read(MB):
        size += len(chunk)
    connection.close()
    return answer.status, size


def prepare(folder: Path, count: int, width: int, height: int):
    """A database with the test world; a visit announcing `count` photos; their bodies."""
    database = f"sqlite:///{folder / 'bench.db'}"
    app = create_app(visit_config(database, folder))
    with app.app_context():
        db.create_all()
    world = build_world(app, **VISIT_WORLD)
    photos = [new_id() for _ in range(count)]
    body = audit_body(world["store"].id, photos=[(p, "signage") for p in photos])
    bodies = [bilevel_png(width, height, seed=n) for n in range(count)]
    return app, database, world["headers"]["supervisor"], body, photos, bodies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--megapixels", type=float, default=50)
    args = parser.parse_args()
    height = int((args.megapixels * 1e6 * 3 / 4) ** 0.5)
    width = int(args.megapixels * 1e6 / height)
    with tempfile.TemporaryDirectory(prefix="bench-photo-memory-") as tmp:
        folder = Path(tmp)
        app, database, headers, body, photos, bodies = prepare(folder, args.readers + 1,
                                                               width, height)
        log = folder / "server.log"
        with live_server(database, folder / "photos", log, TASK_MODE="thread") as (server, base):
            run(server.pid, base, headers, body, photos, bodies, args, (width, height))
        with app.app_context():
            db.engine.dispose()


def run(pid, base, headers, body, photos, bodies, args, size) -> None:
    fresh = memory(pid, "VmRSS")
    visit_id = new_id()
    status, _ = call(base, "PUT", f"/api/v1/visits/{visit_id}",
                     {**headers, "Content-Type": "application/json"}, json.dumps(body).encode())
    assert status == 201, status
    refused, _ = call(base, "PUT", f"/api/v1/visits/{visit_id}/photos/{new_id()}?item=signage",
                      {**headers, "Content-Type": "image/png"}, bilevel_png(10240, 7715))
    png = {**headers, "Content-Type": "image/png"}
    started = time.perf_counter()
    for photo_id, data in zip(photos, bodies, strict=True):
        status, _ = call(base, "PUT", f"/api/v1/visits/{visit_id}/photos/{photo_id}", png, data)
        assert status == 201, status
    processed(base, headers, visit_id, photos)
    processing = time.perf_counter() - started

    def read(photo_id, sizes):
        sizes.append(call(base, "GET", f"/api/v1/visits/{visit_id}/photos/{photo_id}"
                          "?size=original", headers))

    def readers(ids):
        sizes: list = []
        threads = [threading.Thread(target=read, args=(p, sizes)) for p in ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert all(status == 200 for status, _ in sizes), sizes
        return sizes

    one: list = []
    idle, alone = peak_during(pid, lambda: one.extend(readers(photos[:1])))
    many: list = []
    idle_many, together = peak_during(pid, lambda: many.extend(readers(photos[1:])))
    ratio = together / idle_many
    print(f"{len(photos)} PNGs of {size[0]}×{size[1]} ({size[0] * size[1] / 1e6:.1f} MP, "
          f"{len(bodies[0]) / 1024:.0f} KB each) received and processed in {processing:.1f} s; "
          f"a 79 MP PNG of {len(bilevel_png(10240, 7715)) / 1024:.0f} KB answered {refused}")
    print(f"RSS of the fresh server:                {fresh / MB:7.0f} MB")
    print(f"idle server RSS before the reads:       {idle / MB:7.0f} MB  "
          "(what processing left allocated)")
    print(f"peak RSS, 1 full-size read:             {alone / MB:7.0f} MB  "
          f"(+{(alone - idle) / MB:.0f} MB, {alone / idle:.2f}× idle; "
          f"{one[0][1] / MB:.1f} MB served)")
    print(f"peak RSS, {args.readers} concurrent full-size reads:  {together / MB:7.0f} MB  "
          f"(+{(together - idle_many) / MB:.0f} MB, {ratio:.2f}× idle; "
          f"{sum(s for _, s in many) / MB:.1f} MB served)")
    print(f"target: concurrent peak ≤ {TARGET}× idle — {'met' if ratio <= TARGET else 'MISSED'}")


def processed(base: str, headers: dict, visit_id: str, photos: list[str]) -> None:
    """Wait until the server's thread has processed every photo (bounded)."""
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        connection.request("GET", f"/api/v1/visits/{visit_id}", headers=headers)
        visit = json.loads(connection.getresponse().read())
        connection.close()
        states = [p["status"] for p in visit["photos"] if p["id"] in photos]
        if not {"announced", "received"} & set(states):
            assert set(states) == {"processed"}, states
            return
        time.sleep(0.5)
    raise SystemExit("the photos were not processed within 10 minutes")


if __name__ == "__main__":
    main()
