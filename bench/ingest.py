"""Ingest throughput against bare baselines in one run: photo acknowledgement, derivatives, visits.

    .venv/bin/python bench/ingest.py [--visits 40] [--photos 2] [--clients 2] [--postgres]

- photos acknowledged per second through the app (PUT, checks, durable store, row committed)
  vs a bare Flask endpoint that streams the same bytes to a file and fsyncs it;
- derivatives per second (`process_photo`: strict full decode, upright, three re-encodes) vs a
  bare Pillow pipeline on the same images (draft decode + two resizes, saved as JPEG);
- visits per second and their p95 (PUT of a whole audit, ~60 answers) vs a bare endpoint that
  inserts the same JSON into the same database.

Both servers are the same werkzeug server (`flask run --with-threads`) in a subprocess on a free
127.0.0.1 port, against one throwaway SQLite file (or, with --postgres, a throwaway PostgreSQL
server from tests/servers.py); the app runs with PHOTO_PROCESSING=none (a worker elsewhere), so
the derivatives are measured on their own afterwards. Every count is bounded.
"""

import argparse
import http.client
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, request  # noqa: E402
from PIL import Image  # noqa: E402

CHUNK = 1024 * 1024


def bare_app(folder: str, database_url: str) -> Flask:
    """The baselines: stream a body to a file with fsync; insert a JSON body as one row."""
    from sqlalchemy import create_engine, event, text

    app, engine = Flask("bare"), create_engine(database_url)
    if database_url.startswith("sqlite"):  # the app's own settings (supervision/db.py)
        @event.listens_for(engine, "connect")
        def pragmas(connection, _record):
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=10000"):
                connection.execute(f"PRAGMA {pragma}")

    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS bare_visit "
                                "(id VARCHAR(36) PRIMARY KEY, body TEXT NOT NULL)"))

    @app.put("/bare/photo/<name>")
    def photo(name):
        with open(Path(folder) / name, "wb") as out:
            while chunk := request.stream.read(CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        return {"ok": True}, 201

    @app.put("/bare/visit/<visit_id>")
    def visit(visit_id):
        body = request.get_json()
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO bare_visit (id, body) VALUES (:id, :body)"),
                               {"id": visit_id, "body": json.dumps(body)})
        return {"id": visit_id}, 201

    return app


def camera_photo() -> bytes:
    """A 12-megapixel JPEG of about the size a phone writes (busy content, quality 85)."""
    base = Image.effect_noise((500, 375), 50).convert("RGB").resize((4000, 3000))
    noise = Image.effect_noise((4000, 3000), 12).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(base, noise, 0.25).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def unique(photo: bytes, n: int) -> bytes:
    # Bytes after the end marker are ignored by decoders: each photo is distinct content.
    return photo + f"bench-{n:06d}".encode()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(env: dict, log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port),
               "--no-reload", "--no-debugger", "--with-threads"]
    with open(log, "ab") as output:
        server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                  stdout=output, stderr=output)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).connect()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"the server did not start; see {log}")


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def send(port: int, method: str, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request(method, path, body, headers)
    answer = connection.getresponse()
    data = answer.read()
    connection.close()
    return answer.status, data


def prepare(folder: Path, database_url: str) -> tuple[dict, str, dict]:
    """Schema, checklists, a store and a supervisor in a fresh database; (env, token, info)."""
    env = {"SUPERVISION_SQLALCHEMY_DATABASE_URI": database_url,
           "SUPERVISION_PHOTO_DIR": str(folder / "photos"), "SUPERVISION_SECRET_KEY": "bench",
           "SUPERVISION_PHOTO_PROCESSING": "none", "FLASK_APP": "supervision"}
    os.environ.update(env)
    from supervision import create_app
    from supervision.accounts.models import User
    from supervision.accounts.tokens import issue_token
    from supervision.checklists.services import add_version, definition_of
    from supervision.db import db
    from supervision.stores.models import Region, Store

    app = create_app()
    with app.app_context():
        db.create_all()
        version, _ = add_version((ROOT / "checklists" / "storefront-audit.yaml").read_text(),
                                 "storefront-audit.yaml")
        region = Region(code="B", name="基准区")
        store = Store(code="B1", name="基准营业厅", region=region)
        user = User(email="bench@example.com", name="bench", role="supervisor", regions=[region])
        user.set_password("bench-password")
        db.session.add_all([store, user])
        db.session.commit()
        info = {"app": app, "store_id": store.id, "version": version.version,
                "definition": definition_of(version)}
        return env, issue_token(user), info


def visit_body(info: dict, photos: list[tuple[str, str]]) -> dict:
    import random

    from supervision.visits.seed import _answers

    answers = _answers(info["definition"], "good", random.Random(0))
    return {"store_id": info["store_id"], "kind": "audit",
            "checklist": {"slug": "storefront-audit", "version": info["version"]},
            "started_at": "2025-03-01T09:30:00+08:00",
            "responses": [{"item": k, "value": v} for k, v in answers.items()],
            "photos": [{"id": p, "item": item} for p, item in photos]}


def photo_items(info: dict, count: int) -> list[str]:
    items = [item.id for _, item in info["definition"].items() if item.photo.rule != "none"]
    return (items * count)[:count]


class Phase:
    """Requests of one kind run from `clients` threads: latencies, errors, elapsed seconds."""

    def __init__(self, name: str):
        self.name, self.latencies, self.errors, self.seconds = name, [], [], 0.0
        self.lock = threading.Lock()

    def call(self, port, method, path, body, headers, expected=(200, 201)) -> bytes:
        started = time.perf_counter()
        status, data = send(port, method, path, body, headers)
        with self.lock:
            self.latencies.append(time.perf_counter() - started)
            if status not in expected:
                self.errors.append(f"{method} {path}: {status} {data[:200]!r}")
        return data

    def run(self, tasks: list, clients: int) -> "Phase":
        """Run the callables in `tasks` from `clients` threads."""
        pending, lock = list(reversed(tasks)), threading.Lock()

        def worker():
            while True:
                with lock:
                    if not pending:
                        return
                    task = pending.pop()
                task()

        threads = [threading.Thread(target=worker) for _ in range(clients)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.seconds = time.perf_counter() - started
        return self

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def p(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000

    def line(self) -> str:
        return (f"  {self.name:<34} n={len(self.latencies):4d} {self.rate:7.2f}/s  "
                f"p50 {self.p(50):6.0f} ms  p95 {self.p(95):6.0f} ms  errors {len(self.errors)}")


def app_phases(port, token, info, visits, per_visit, photo, clients) -> tuple[Phase, Phase]:
    auth = {"Authorization": f"Bearer {token}"}
    plan = [(str(uuid.uuid4()), [(str(uuid.uuid4()), item)
                                 for item in photo_items(info, per_visit)])
            for _ in range(visits)]
    visit_phase, photo_phase = Phase("visit PUT (app)"), Phase("photo PUT acknowledged (app)")
    Phase("warm-up").call(port, "PUT", f"/api/v1/visits/{uuid.uuid4()}",
                          json.dumps(visit_body(info, [])).encode(),
                          {**auth, "Content-Type": "application/json"})
    visit_phase.run([lambda v=v, ps=ps: visit_phase.call(
        port, "PUT", f"/api/v1/visits/{v}", json.dumps(visit_body(info, ps)).encode(),
        {**auth, "Content-Type": "application/json"}) for v, ps in plan], clients)
    photos = [(v, p, item) for v, ps in plan for p, item in ps]
    photo_phase.run([lambda n=n, v=v, p=p, item=item: photo_phase.call(
        port, "PUT", f"/api/v1/visits/{v}/photos/{p}?item={item}", unique(photo, n),
        {**auth, "Content-Type": "image/jpeg"}) for n, (v, p, item) in enumerate(photos)],
        clients)
    return visit_phase, photo_phase


def bare_phases(port, info, visits, photos, photo, clients) -> tuple[Phase, Phase]:
    visit_phase, photo_phase = Phase("visit PUT (bare insert)"), Phase("photo PUT (bare+fsync)")
    body = json.dumps(visit_body(info, [(str(uuid.uuid4()), "x")])).encode()
    Phase("warm-up").call(port, "PUT", f"/bare/visit/{uuid.uuid4()}", body,
                          {"Content-Type": "application/json"})
    visit_phase.run([lambda: visit_phase.call(
        port, "PUT", f"/bare/visit/{uuid.uuid4()}", body, {"Content-Type": "application/json"})
        for _ in range(visits)], clients)
    photo_phase.run([lambda n=n: photo_phase.call(
        port, "PUT", f"/bare/photo/p{n}", unique(photo, n), {"Content-Type": "image/jpeg"})
        for n in range(photos)], clients)
    return visit_phase, photo_phase


def derivatives(info: dict) -> tuple[float, int, dict]:
    """Process every received photo as the worker does; (seconds, count, states)."""
    from supervision.visits.photos import pending_photo_ids, process_photo

    with info["app"].app_context():
        ids = pending_photo_ids()
        started = time.perf_counter()
        states = [process_photo(photo_id) for photo_id in ids]
        seconds = time.perf_counter() - started
    return seconds, len(ids), {s: states.count(s) for s in set(states)}


def bare_derivatives(photo: bytes, count: int, folder: Path) -> float:
    """The bare Pillow pipeline on the same bytes: draft decode, two resizes, two JPEGs."""
    started = time.perf_counter()
    for n in range(count):
        with Image.open(io.BytesIO(unique(photo, n))) as image:
            scale = 1600 / max(image.size)  # the smallest DCT scale still ≥ 1600 px
            image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
            for name, longest in (("display", 1600), ("thumb", 320)):
                fitted = image.copy()
                fitted.thumbnail((longest, longest), Image.Resampling.LANCZOS)
                fitted.save(folder / f"{name}-{n}.jpg", "JPEG", quality=82)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=40)
    parser.add_argument("--photos", type=int, default=2, help="photos per visit")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients")
    parser.add_argument("--postgres", action="store_true",
                        help="a throwaway PostgreSQL server instead of a SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp, ExitStack() as stack:
        folder = Path(tmp)
        database_url = f"sqlite:///{folder / 'bench.db'}"
        if args.postgres:
            from tests.servers import postgres_server

            database_url = stack.enter_context(postgres_server())
        env, token, info = prepare(folder, database_url)
        photo = camera_photo()
        server, port = start(env, folder / "server.log")
        try:
            app_visits, app_photos = app_phases(port, token, info, args.visits, args.photos,
                                                photo, args.clients)
        finally:
            stop(server)
        (folder / "bare").mkdir()
        bare_env = {**env, "FLASK_APP": f"bench.ingest:bare_app('{folder / 'bare'}', "
                                        f"'{database_url}')"}
        server, port = start(bare_env, folder / "bare.log")
        try:
            bare_visits, bare_photos = bare_phases(port, info, args.visits,
                                                   len(app_photos.latencies), photo, args.clients)
        finally:
            stop(server)
        seconds, count, states = derivatives(info)
        bare_seconds = bare_derivatives(photo, count, folder / "bare")
    report(args, photo, info, (app_photos, bare_photos, app_visits, bare_visits),
           (seconds, count, states, bare_seconds))


def report(args, photo: bytes, info: dict, phases: tuple, derived: tuple) -> None:
    app_photos, bare_photos, app_visits, bare_visits = phases
    seconds, count, states, bare_seconds = derived
    print(f"{args.clients} concurrent clients; {'PostgreSQL' if args.postgres else 'SQLite'}; "
          f"photo {len(photo) / 1e6:.1f} MB (12 MP JPEG); visit body "
          f"{len(visit_body(info, [])['responses'])} answers; nproc {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.2f}")
    for phase in phases:
        print(phase.line())
    print(f"  derivatives (process_photo)        n={count:4d} {count / seconds:7.2f}/s  {states}")
    print(f"  derivatives (bare Pillow)          n={count:4d} {count / bare_seconds:7.2f}/s")
    print("ratio photo acknowledgement (app ÷ bare+fsync): "
          f"{app_photos.rate / bare_photos.rate:.2f}  (target ≥ 0.7)")
    print(f"ratio derivatives (app ÷ bare Pillow): {bare_seconds / seconds:.2f}  (target ≥ 0.9)")
    print(f"ratio visits/s (app ÷ bare insert): {app_visits.rate / bare_visits.rate:.2f}  "
          f"(target ≥ 0.5); p95 app ÷ bare: {app_visits.p(95) / bare_visits.p(95):.2f}  "
          "(target ≤ 2)")
    errors = [e for phase in phases for e in phase.errors]
    print(f"errors: {len(errors)}", *errors[:5], sep="\n  ")

if __name__ == "__main__":
    main()
