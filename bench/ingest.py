"""Ingest throughput against bare baselines in one run: photo acknowledgement, derivatives, visits.

    .venv/bin/python bench/ingest.py [--visits 80] [--photos 1] [--clients 2] [--postgres]

- photos acknowledged per second through the app (PUT, checks, durable store, row committed)
  vs a bare Flask endpoint that streams the same bytes to a file and fsyncs it;
- derivatives per second (`process_task`: strict full decode, upright, three re-encodes) vs a
  bare Pillow pipeline on the same images (draft decode + two resizes, saved as JPEG);
- visits per second and their p95 (PUT of a whole audit, ~60 answers) vs a bare endpoint that
  inserts the same JSON into the same database.

Both servers are the same werkzeug server (`flask run --with-threads`) in a subprocess on a free
127.0.0.1 port, against one throwaway SQLite file (or, with --postgres, a throwaway PostgreSQL
server from tests/servers.py), and their phases alternate in rounds so that a change of load on
the machine hits both. The app runs with TASK_MODE=queue on a Redis that no worker takes from
(a worker elsewhere); the derivatives are measured afterwards, photo by photo alternating with
the bare pipeline. Every count is bounded.
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
    engine.dispose()  # gunicorn forks after this: each process opens its own connections

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
    """A 12-megapixel JPEG of the size a phone writes: busy content at quality 94, ≈ 4.1 MB
    (phones save 12 MP at quality 90–95, 3–5 MB; the issue's probe streamed 4 MB bodies)."""
    base = Image.effect_noise((500, 375), 50).convert("RGB").resize((4000, 3000))
    noise = Image.effect_noise((4000, 3000), 12).convert("RGB")
    buffer = io.BytesIO()
    Image.blend(base, noise, 0.25).save(buffer, "JPEG", quality=94)
    return buffer.getvalue()


def unique(photo: bytes, n: int) -> bytes:
    # Bytes after the end marker are ignored by decoders: each photo is distinct content.
    return photo + f"bench-{n:06d}".encode()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(env: dict, log: Path, server: str = "werkzeug") -> tuple[subprocess.Popen, int]:
    """The app named by env's FLASK_APP on a free port: werkzeug's threaded server (`flask run`,
    the embedded default) or gunicorn with the production settings (gunicorn.conf.py)."""
    port = free_port()
    command = [sys.executable, "-m", "flask", "run", "--host", "127.0.0.1", "--port", str(port),
               "--no-reload", "--no-debugger", "--with-threads"]
    if server == "gunicorn":
        command = [str(Path(sys.executable).parent / "gunicorn"), "-c",
                   str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
                   "--access-logfile", "/dev/null", env["FLASK_APP"]]
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


def prepare(folder: Path, database_url: str, redis_url: str) -> tuple[dict, str, dict]:
    """Schema, checklists, a store and a supervisor in a fresh database; (env, token, info)."""
    env = {"SUPERVISION_SQLALCHEMY_DATABASE_URI": database_url,
           "SUPERVISION_PHOTO_DIR": str(folder / "photos"), "SUPERVISION_SECRET_KEY": "bench",
           "SUPERVISION_TASK_MODE": "queue", "SUPERVISION_REDIS_URL": redis_url,
           "FLASK_APP": "supervision"}
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
        """Run the callables in `tasks` from `clients` threads; adds to the elapsed seconds."""
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
        self.seconds += time.perf_counter() - started
        return self

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def p(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000

    def line(self) -> str:
        return (f"  {self.name:<34} n={len(self.latencies):4d} {self.rate:7.2f}/s  "
                f"p50 {self.p(50):6.0f} ms  p95 {self.p(95):6.0f} ms  errors {len(self.errors)}")


def app_rounds(port, token, info, args, photo) -> tuple[Phase, Phase, list]:
    """The app's phases and, per round, (visit PUT tasks, photo PUT tasks of those visits)."""
    auth = {"Authorization": f"Bearer {token}"}
    json_auth = {**auth, "Content-Type": "application/json"}
    visit_phase, photo_phase = Phase("visit PUT (app)"), Phase("photo PUT acknowledged (app)")
    Phase("warm-up").call(port, "PUT", f"/api/v1/visits/{uuid.uuid4()}",
                          json.dumps(visit_body(info, [])).encode(), json_auth)
    plan = [(str(uuid.uuid4()), [(str(uuid.uuid4()), item)
                                 for item in photo_items(info, args.photos)])
            for _ in range(args.visits)]
    numbered = {p: n for n, p in enumerate(p for _, ps in plan for p, _ in ps)}
    rounds = []
    for part in (plan[r::args.rounds] for r in range(args.rounds)):
        bodies = {v: json.dumps(visit_body(info, ps)).encode() for v, ps in part}  # untimed
        visits = [lambda v=v, body=bodies[v]: visit_phase.call(
            port, "PUT", f"/api/v1/visits/{v}", body, json_auth) for v, _ in part]
        photos = [lambda v=v, p=p, item=item: photo_phase.call(
            port, "PUT", f"/api/v1/visits/{v}/photos/{p}?item={item}",
            unique(photo, numbered[p]), {**auth, "Content-Type": "image/jpeg"})
            for v, ps in part for p, item in ps]
        rounds.append((visits, photos))
    return visit_phase, photo_phase, rounds


def bare_rounds(port, info, args, photo) -> tuple[Phase, Phase, list]:
    visit_phase, photo_phase = Phase("visit PUT (bare insert)"), Phase("photo PUT (bare+fsync)")
    body = json.dumps(visit_body(info, [(str(uuid.uuid4()), "x")])).encode()
    headers = {"Content-Type": "application/json"}
    Phase("warm-up").call(port, "PUT", f"/bare/visit/{uuid.uuid4()}", body, headers)
    count = args.visits * args.photos
    rounds = [([lambda: visit_phase.call(port, "PUT", f"/bare/visit/{uuid.uuid4()}", body,
                                         headers)
                for _ in range(args.visits)[r::args.rounds]],
               [lambda n=n: photo_phase.call(port, "PUT", f"/bare/photo/p{n}", unique(photo, n),
                                             {"Content-Type": "image/jpeg"})
                for n in range(count)[r::args.rounds]])
              for r in range(args.rounds)]
    return visit_phase, photo_phase, rounds


def derivatives(info: dict, photo: bytes, folder: Path) -> tuple[float, float, dict]:
    """Each received photo processed as the worker does, alternating with the bare pipeline on
    the same bytes (so that a change of load hits both); (seconds, bare seconds, states)."""
    from supervision.visits.photos import pending_photos, process_task

    seconds, bare_seconds, states = 0.0, 0.0, []
    with info["app"].app_context():
        for n, photo_id in enumerate([p.id for p in pending_photos()]):
            started = time.perf_counter()
            states.append(process_task(photo_id))
            seconds += time.perf_counter() - started
            started = time.perf_counter()
            bare_derivatives(unique(photo, n), folder / f"{n}")
            bare_seconds += time.perf_counter() - started
    return seconds, bare_seconds, {s: states.count(s) for s in set(states)}


def bare_derivatives(data: bytes, stem: Path) -> None:
    """The bare Pillow pipeline: draft decode, two resizes, two JPEGs at the app's sizes and
    qualities."""
    from supervision.visits.photos import JPEG_QUALITY, SIZES

    with Image.open(io.BytesIO(data)) as image:
        scale = SIZES["display"] / max(image.size)  # the smallest DCT scale still ≥ 1600 px
        image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
        for name in ("display", "thumb"):
            fitted = image.copy()
            fitted.thumbnail((SIZES[name], SIZES[name]), Image.Resampling.LANCZOS)
            fitted.save(f"{stem}-{name}.jpg", "JPEG", quality=JPEG_QUALITY[name])


def run(args, folder: Path, database_url: str, redis_url: str) -> tuple:
    """Both servers up; each round runs app visits, bare visits, app photos, bare photos."""
    env, token, info = prepare(folder, database_url, redis_url)
    photo = camera_photo()
    (folder / "bare").mkdir()
    bare_env = {**env, "FLASK_APP": f"bench.ingest:bare_app('{folder / 'bare'}', "
                                    f"'{database_url}')"}
    app_env = {**env, "FLASK_APP": "supervision:create_app()"}
    app_server, app_port = start(app_env, folder / "server.log", args.server)
    bare_server, bare_port = start(bare_env, folder / "bare.log", args.server)
    try:
        app_visits, app_photos, app_plan = app_rounds(app_port, token, info, args, photo)
        bare_visits, bare_photos, bare_plan = bare_rounds(bare_port, info, args, photo)
        for (visits, photos), (bare_v, bare_p) in zip(app_plan, bare_plan, strict=True):
            app_visits.run(visits, args.clients)
            bare_visits.run(bare_v, args.clients)
            app_photos.run(photos, args.clients)
            bare_photos.run(bare_p, args.clients)
    finally:
        stop(app_server)
        stop(bare_server)
    derived = derivatives(info, photo, folder / "bare")
    return photo, info, (app_photos, bare_photos, app_visits, bare_visits), derived


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=80)
    parser.add_argument("--photos", type=int, default=1, help="photos per visit")
    parser.add_argument("--clients", type=int, default=2, help="concurrent clients")
    parser.add_argument("--rounds", type=int, default=4,
                        help="app and bare phases alternate this many times")
    parser.add_argument("--server", choices=("werkzeug", "gunicorn"), default="werkzeug",
                        help="werkzeug's threaded server (flask run, the embedded default) or "
                             "gunicorn with gunicorn.conf.py (production), for both")
    parser.add_argument("--postgres", action="store_true",
                        help="a throwaway PostgreSQL server instead of a SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp, ExitStack() as stack:
        from tests.servers import postgres_server, redis_server

        database_url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        if args.postgres:
            database_url = stack.enter_context(postgres_server())
        redis_url = stack.enter_context(redis_server())
        report(args, *run(args, Path(tmp), database_url, redis_url))


def report(args, photo: bytes, info: dict, phases: tuple, derived: tuple) -> None:
    app_photos, bare_photos, app_visits, bare_visits = phases
    seconds, bare_seconds, states = derived
    count = sum(states.values())
    print(f"{args.clients} concurrent clients; {args.server}; "
          f"{'PostgreSQL' if args.postgres else 'SQLite'}; "
          f"photo {len(photo) / 1e6:.1f} MB (12 MP JPEG); visit body "
          f"{len(visit_body(info, [])['responses'])} answers; nproc {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.2f}")
    for phase in phases:
        print(phase.line())
    print(f"  derivatives (process_task)         n={count:4d} {count / seconds:7.2f}/s  {states}")
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
