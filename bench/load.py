"""Bounded load on loopback against the production stack: gunicorn + PostgreSQL + SeaweedFS (S3)
+ Redis with a `flask jobs worker`; prints throughput, p50/p95/p99 latency, errors, and the ratio
to bare Flask endpoints (bench/ingest.py, under the same gunicorn settings) that only stream the
same bytes to disk with fsync and insert the same visit JSON as one row, in the same run.

    .venv/bin/python bench/load.py [--tablets 32] [--photos 10] [--scale 16,64]

Each simulated tablet syncs one visit (all answers of the storefront audit, ~50, and `--photos`
12-megapixel photos) and submits it; as soon as its submit is answered, its region's manager
downloads the visit's PDF report for the first time, and then a report already in the cache (a
visit of the warm-up run), so that both downloads meet the same load: the p95 of the first is
compared with the p95 of the cached one (target ≤ 2×: the visit's reports are rendered in the
background when it is submitted, REPORT_PRERENDER). The same syncs then run
against the bare endpoints: their whole-sync time is the floor of this machine. Then `--scale`
runs 512 visit JSON PUTs from 16 and from 64 concurrent clients and compares their p99.
Every server is started here on 127.0.0.1 and stopped at the end (tests/servers.py).
"""

import argparse
import json
import os
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

from bench.ingest import camera_photo, photo_items, send, unique, visit_body  # noqa: E402
from tests.servers import (  # noqa: E402
    free_port,
    postgres_server,
    redis_server,
    seaweedfs_server,
)

GUNICORN = str(Path(sys.executable).parent / "gunicorn")
# Visit PUTs per client count in the p99 comparison: a p99 of 64 latencies would be their
# maximum, one unlucky request; of 512 it is the 6th slowest.
SCALE_REQUESTS = 512
FIRST_DOWNLOAD = "report PDF, first download"
CACHED_DOWNLOAD = "report PDF, already cached"
RENDERED_DOWNLOAD = "report PDF, first, after its background render"
RENDERED_AGAIN = "report PDF, the same again"


def bare_s3_app(bucket: str):
    """A second baseline: stream the body to the same object store (boto3, the app's client
    settings) and answer. The app's photo ratio against it leaves out the store's own cost."""
    from flask import Flask, current_app, request

    from supervision.config import Defaults
    from supervision.storage_s3 import _client

    app, clients = Flask("bare-s3"), {}
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("SUPERVISION")

    @app.put("/bare/s3/<name>")
    def put(name):
        if os.getpid() not in clients:  # one client per process, made after gunicorn forked
            config = current_app.config
            clients[os.getpid()] = _client(config, config["S3_ENDPOINT_URL"])
        clients[os.getpid()].put_object(Bucket=bucket, Key=f"bare/{name}", Body=request.get_data())
        return {"ok": True}, 201

    return app


def prepare(env: dict) -> tuple[str, dict]:
    """Schema, bucket, the storefront audit, a store and a supervisor; (token, info)."""
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
        app.extensions["storage"].create_bucket()
        version, _ = add_version((ROOT / "checklists" / "storefront-audit.yaml").read_text(),
                                 "storefront-audit.yaml")
        region = Region(code="B", name="基准区")
        store = Store(code="B1", name="基准营业厅", region=region)
        user = User(email="bench@example.com", name="bench", role="supervisor", regions=[region])
        manager = User(email="manager@example.com", name="经理", role="manager",
                       regions=[region])
        for person in (user, manager):
            person.set_password("bench-password")
        db.session.add_all([store, user, manager])
        db.session.commit()
        info = {"store_id": store.id, "version": version.version,
                "definition": definition_of(version), "manager_token": issue_token(manager)}
        token = issue_token(user)
        db.session.remove()
        db.engine.dispose()
    return token, info


def start(command: list[str], env: dict, log: Path, port: int | None) -> subprocess.Popen:
    with open(log, "ab") as output:
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                                   stdout=output, stderr=output)
    deadline = time.monotonic() + 60
    while port and time.monotonic() < deadline:
        try:
            if send(port, "GET", "/healthz", b"", {})[0] in (200, 404):
                return process
        except OSError:
            time.sleep(0.2)
    if port:
        process.kill()
        raise SystemExit(f"{command[0]} did not start; see {log}")
    return process


def gunicorn(app_spec: str, env: dict, log: Path, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    command = [GUNICORN, "-c", str(ROOT / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
               "--workers", str(workers), "--access-logfile", "/dev/null", app_spec]
    return start(command, env, log, port), port


class Recorder:
    def __init__(self):
        self.lock, self.latency, self.errors = threading.Lock(), {}, []

    def call(self, kind, port, method, path, body, headers, expect=(200, 201)):
        started = time.perf_counter()
        try:
            status, data = send(port, method, path, body, headers)
        except OSError as error:
            status, data = None, str(error).encode()
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latency.setdefault(kind, []).append(elapsed)
            if status not in expect:
                self.errors.append((kind, status, data[:200]))
        return status, data, elapsed


def in_threads(task, count: int) -> float:
    barrier = threading.Barrier(count)

    def run(n):
        barrier.wait()
        task(n)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def run_tablets(port, token, info, tablets, photos, photo, rec: Recorder, reports=True,
                before_reports=None):
    """Phase by phase, every tablet at once: visit JSON, photos, submit, report."""
    auth = {"Authorization": f"Bearer {token}"}
    plans = []
    for _ in range(tablets):
        ids = [(str(uuid.uuid4()), item) for item in photo_items(info, photos)]
        plans.append((str(uuid.uuid4()), ids, json.dumps(visit_body(info, ids)).encode()))
    sync = [0.0] * tablets
    phases = {}

    def visit(n):
        visit_id, _, body = plans[n]
        *_, took = rec.call("visit PUT", port, "PUT", f"/api/v1/visits/{visit_id}", body,
                            {**auth, "Content-Type": "application/json"})
        sync[n] += took

    def upload(n):
        visit_id, ids, _ = plans[n]
        for k, (photo_id, item) in enumerate(ids):
            *_, took = rec.call("photo PUT", port, "PUT",
                                f"/api/v1/visits/{visit_id}/photos/{photo_id}?item={item}",
                                unique(photo, n * 1000 + k), {**auth, "Content-Type": "image/jpeg"})
            sync[n] += took

    def submit(n):
        *_, took = rec.call("submit", port, "POST", f"/api/v1/visits/{plans[n][0]}/submit", b"",
                            auth)
        sync[n] += took
        if reports:  # the manager, at once, while the other tablets still sync
            manager = {"Authorization": f"Bearer {info['manager_token']}"}
            rec.call(FIRST_DOWNLOAD, port, "GET", f"/api/v1/visits/{plans[n][0]}/report.pdf",
                     b"", manager)
            rec.call(CACHED_DOWNLOAD, port, "GET", f"/api/v1/visits/{info['cached']}/report.pdf",
                     b"", manager)

    steps = [("visit", visit), ("photos", upload), ("submit", submit)]
    for name, task in steps:
        if name == "submit" and reports and before_reports:
            before_reports()
        phases[name] = in_threads(task, tablets)
    rec.latency["whole sync (visit+photos+submit)"] = sync
    return phases, [visit_id for visit_id, *_ in plans]


def after_background_renders(port, info, visit_ids, redis_url, rec: Recorder) -> None:
    """Once the workers have rendered what the submissions queued, a version nobody asked for
    yet (English, internal) is downloaded for each visit: the first download a manager makes
    after the visit's background render, against the cached one."""
    from redis import Redis
    from rq import Queue
    from rq.registry import StartedJobRegistry

    connection = Redis.from_url(redis_url)
    queue = Queue("reports", connection=connection)
    deadline = time.monotonic() + 1800
    while queue.count or StartedJobRegistry(queue=queue).count:
        if time.monotonic() > deadline:
            raise SystemExit("the report renders did not finish within 30 minutes")
        time.sleep(0.5)
    manager = {"Authorization": f"Bearer {info['manager_token']}"}
    for visit_id in visit_ids:
        path = f"/api/v1/visits/{visit_id}/report.pdf?lang=en&audience=internal"
        rec.call(RENDERED_DOWNLOAD, port, "GET", path, b"", manager)
        rec.call(RENDERED_AGAIN, port, "GET", path, b"", manager)


def cache_report(port, info) -> None:
    """Download the warm-up visit's report once: from then on it is in the cache."""
    manager = {"Authorization": f"Bearer {info['manager_token']}"}
    path = f"/api/v1/visits/{info['cached']}/report.pdf"
    status, _ = send(port, "GET", path, b"", manager)
    if status != 200:
        raise SystemExit(f"the warm-up report answered {status}")


def run_bare(port, info, tablets, photos, photo, rec: Recorder) -> float:
    """The same syncs against the bare endpoints (bench/ingest.py): the visit JSON inserted as
    one row, each photo streamed to a file with fsync. Their whole-sync time is the floor
    this machine sets, whatever the app does. Returns the photo phase's seconds."""
    sync = [0.0] * tablets
    body = json.dumps(visit_body(info, [(str(uuid.uuid4()), item)
                                        for item in photo_items(info, photos)])).encode()

    def visit(n):
        *_, took = rec.call("bare visit PUT", port, "PUT", f"/bare/visit/{uuid.uuid4()}", body,
                            {"Content-Type": "application/json"})
        sync[n] += took

    def upload(n):
        for k in range(photos):
            *_, took = rec.call("bare photo PUT", port, "PUT", f"/bare/photo/p{n}-{k}",
                                unique(photo, n * 1000 + k), {"Content-Type": "image/jpeg"})
            sync[n] += took

    in_threads(visit, tablets)
    seconds = in_threads(upload, tablets)
    rec.latency["bare whole sync (visit+photos)"] = sync
    return seconds


def run_bare_s3(port, tablets, photos, photo, rec: Recorder) -> float:
    def upload(n):
        for k in range(photos):
            rec.call("bare S3 photo PUT", port, "PUT", f"/bare/s3/p{n}-{k}",
                     unique(photo, n * 1000 + k), {"Content-Type": "image/jpeg"})

    return in_threads(upload, tablets)


def run_scale(port, token, info, clients: int, rec: Recorder) -> list[float]:
    """SCALE_REQUESTS visit PUTs from `clients` clients at once, each sending its share one
    after the other: the same number of latencies for every client count."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    kind = f"visit PUT × {clients} clients"
    body = json.dumps(visit_body(info, [])).encode()

    def many(n):
        for _ in range(max(1, SCALE_REQUESTS // clients)):
            rec.call(kind, port, "PUT", f"/api/v1/visits/{uuid.uuid4()}", body, auth)

    in_threads(many, clients)
    return rec.latency[kind]


def pct(values, p) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def line(kind: str, values: list[float]) -> str:
    return (f"  {kind:36} n={len(values):4}  p50 {pct(values, 50) * 1000:7.0f} ms  "
            f"p95 {pct(values, 95) * 1000:7.0f} ms  p99 {pct(values, 99) * 1000:7.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tablets", type=int, default=32, help="tablets syncing at once")
    parser.add_argument("--photos", type=int, default=10, help="12 MP photos per visit")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn processes")
    parser.add_argument("--scale", default="16,64", help="client counts for the p99 comparison")
    parser.add_argument("--no-reports", action="store_true", help="skip the report downloads")
    parser.add_argument("--worker-elsewhere", action="store_true", help=(
        "start the job worker only after the uploads, as if it ran on another machine "
        "(on 2 cores it otherwise takes one core from the web processes)"))
    args = parser.parse_args()
    workers = args.workers or 2 * os.cpu_count()
    photo = camera_photo()
    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        database = stack.enter_context(postgres_server())
        redis_url = stack.enter_context(redis_server())
        s3 = stack.enter_context(seaweedfs_server())
        s3 = {k: v for k, v in s3.items() if k.startswith("S3_")}
        env = {"SUPERVISION_SQLALCHEMY_DATABASE_URI": database, "SUPERVISION_REDIS_URL": redis_url,
               "SUPERVISION_SECRET_KEY": "bench", "SUPERVISION_PHOTO_DIR": str(folder / "spool"),
               "SUPERVISION_STORAGE_BACKEND": "s3", "SUPERVISION_S3_BUCKET": "photos",
               "SUPERVISION_TASK_MODE": "queue", "FLASK_APP": "supervision",
               **{f"SUPERVISION_{k}": v for k, v in s3.items()}}
        token, info = prepare(env)
        processes = []
        try:
            def worker():
                processes.append(start([sys.executable, "-m", "flask", "jobs", "worker"], env,
                                       folder / "worker.log", None))

            if not args.worker_elsewhere:
                worker()
            server, port = gunicorn("supervision:create_app()", env, folder / "app.log", workers)
            processes.append(server)
            # Each process's first connections and SeaweedFS's first volume, out of the figures;
            # one of its visits gives the report already in the cache.
            _, warm = run_tablets(port, token, info, workers, 2, photo, Recorder(),
                                  reports=False)
            info["cached"] = warm[0]
            if not args.no_reports:
                cache_report(port, info)
            rec = Recorder()
            phases, synced = run_tablets(port, token, info, args.tablets, args.photos, photo,
                                         rec, not args.no_reports,
                                         worker if args.worker_elsewhere else None)
            if not args.no_reports:
                after_background_renders(port, info, synced, redis_url, rec)
            scale = {c: run_scale(port, token, info, c, rec)
                     for c in map(int, args.scale.split(","))}
            (folder / "bare").mkdir()
            bare, bare_port = gunicorn(f"bench.ingest:bare_app('{folder / 'bare'}', "
                                       f"'{database}')", env, folder / "bare.log", workers)
            processes.append(bare)
            run_bare(bare_port, info, workers, 2, photo, Recorder())
            bare_seconds = run_bare(bare_port, info, args.tablets, args.photos, photo, rec)
            bare_s3, bare_s3_port = gunicorn("bench.load:bare_s3_app('photos')", env,
                                             folder / "bare-s3.log", workers)
            processes.append(bare_s3)
            run_bare_s3(bare_s3_port, workers, 2, photo, Recorder())
            bare_s3_seconds = run_bare_s3(bare_s3_port, args.tablets, args.photos, photo, rec)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=60)
    report(args, workers, len(photo), phases, (bare_seconds, bare_s3_seconds), scale, rec)


def report(args, workers, size, phases, bare_seconds, scale, rec: Recorder) -> None:
    bare_seconds, bare_s3_seconds = bare_seconds
    photos = args.tablets * args.photos
    print(f"{args.tablets} tablets at once, each 1 visit + {args.photos} photos of "
          f"{size / 1e6:.1f} MB (12 MP){'' if args.no_reports else ' + its PDF report'}; "
          f"gunicorn {workers} processes; {os.cpu_count()} CPUs; worker "
          f"{'started after the uploads' if args.worker_elsewhere else 'running throughout'}")
    for kind, values in rec.latency.items():
        print(line(kind, values))
    print("phases: " + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items()))
    ours, bare = photos / phases["photos"], photos / bare_seconds
    print(f"throughput: {args.tablets / sum(phases.values()):.2f} visits/s end to end, "
          f"{ours:.2f} photos/s acknowledged ({ours * size / 1e6:.0f} MB/s)")
    print(f"bare streaming to disk with fsync: {bare:.2f} photos/s")
    print(f"ratio photos/s (app ÷ bare): {ours / bare:.2f}")
    bare_s3 = photos / bare_s3_seconds
    print(f"bare streaming to the same object store: {bare_s3:.2f} photos/s; "
          f"ratio photos/s (app ÷ bare S3): {ours / bare_s3:.2f}")
    app_sync = pct(rec.latency["whole sync (visit+photos+submit)"], 95)
    bare_sync = pct(rec.latency["bare whole sync (visit+photos)"], 95)
    print(f"p95 of a whole sync: app {app_sync:.2f} s, bare endpoints {bare_sync:.2f} s "
          f"(target < 2 s with 32 tablets); ratio {app_sync / bare_sync:.2f}")
    if not args.no_reports:
        first, cached = (pct(rec.latency[kind], 95) for kind in (FIRST_DOWNLOAD, CACHED_DOWNLOAD))
        print(f"p95 of a manager's first download of a visit's report, asked once its submit "
              f"was answered: {first * 1000:.0f} ms; of a report already in the cache, at the "
              f"same moments: {cached * 1000:.0f} ms; ratio {first / cached:.2f} (target ≤ 2)")
        rendered, again = (pct(rec.latency[kind], 95)
                           for kind in (RENDERED_DOWNLOAD, RENDERED_AGAIN))
        print(f"p95 of a first download asked once the visit's background render is done: "
              f"{rendered * 1000:.0f} ms; of the same report asked again: {again * 1000:.0f} ms; "
              f"ratio {rendered / again:.2f}")
    counts = sorted(scale)
    if len(counts) == 2:
        low, high = (pct(scale[c], 99) for c in counts)
        print(f"p99 of visit PUT at {counts[1]} clients ÷ at {counts[0]}: {high / low:.2f}")
    print(f"errors: {len(rec.errors)}")
    for error in rec.errors[:10]:
        print("  ", error)


if __name__ == "__main__":
    main()
