"""The dashboard of a region of 500 stores and 20,000 visits: the app against the bare load.

    .venv/bin/python bench/dashboard.py [--stores 500] [--visits 20000] [--postgres]

One region of `--stores` stores (and another as large, to be left out) with `--visits` published
storefront audits in the default period (the 90 days up to today) and a quarter as many in the
period before, each with a real frozen score (40 answer sets scored by the engine, spread over
the visits), agreed actions and disputes. Timed, the median of 5 runs after one warm-up:
GET /api/v1/dashboard as the region's manager (token check, the region report's figures, the
heat map, JSON). The baseline, in the same run on the same database: the bare SQL that reads
the same visits' rows (id, store, total, score digest) on a raw connection, without computing
anything — the floor any dashboard of these visits stands on. (On PostgreSQL psycopg parses the
JSONB digests; on SQLite they stay text.) Also printed: the
number of SQL statements the answer took (a test, tests/test_query_counts.py, holds it constant).
"""

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, select, text  # noqa: E402

from supervision import create_app  # noqa: E402
from supervision.accounts.models import User  # noqa: E402
from supervision.accounts.tokens import issue_token  # noqa: E402
from supervision.checklists.models import Checklist, ChecklistVersion  # noqa: E402
from supervision.checklists.services import add_version, definition_of  # noqa: E402
from supervision.db import db, utcnow  # noqa: E402
from supervision.followup.models import Action, Dispute  # noqa: E402
from supervision.scoring.digest import digest_of  # noqa: E402
from supervision.scoring.engine import score_visit  # noqa: E402
from supervision.stores.models import Region, Store  # noqa: E402
from supervision.visits.models import Visit  # noqa: E402

RUNS = 5
TEMPLATES = 40

BARE = """SELECT v.id, v.store_id, v.total, v.score_digest FROM visits v
          JOIN checklist_versions c ON c.id = v.checklist_version_id
          WHERE v.store_id IN (SELECT id FROM stores WHERE region_id = :region)
          AND v.status = 'published' AND v.excluded IS NULL
          AND v.started_at >= :begins AND v.started_at < :ends"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--visits", type=int, default=20_000)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-dashboard-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        url = f"sqlite:///{workdir / 'bench.db'}"
        if args.postgres:
            from tests.servers import postgres_server

            url = stack.enter_context(postgres_server()).replace("postgresql://",
                                                                 "postgresql+psycopg://")
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "ACTION_SWEEP_SECONDS": 0,
                          "WEBHOOK_RETRY_SECONDS": 0, "PHOTO_DIR": str(workdir / "photos"),
                          "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            region_id, headers = build(args.stores, args.visits)
            built = time.perf_counter() - started
            if args.postgres:
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE"))
            now = utcnow()
            bare = timed(lambda: bare_load(region_id, now))
            engine = db.engine
        client = app.test_client()
        path = f"/api/v1/dashboard?region_id={region_id}"
        api = timed(lambda: ok(client.get(path, headers=headers)))
        statements = []
        event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        body = ok(client.get(path, headers=headers))
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.stores} stores in the region (and as many in another), {database}: "
          f"{body['kpis']['visits']:,} visits in the period (built in {built:.1f} s)")
    print(f"  league rows {len(body['league'])}, heat-map cells {len(body['heatmap']['cells'])},"
          f" items {len(body['items'])}, SQL statements {len(statements)}")
    print(f"  GET /dashboard         {api:8.1f} ms")
    print(f"  bare SQL of the visits {bare:8.1f} ms")
    print(f"  ratio API/bare         {api / bare:8.2f}")


def timed(call) -> float:
    """The median of RUNS calls after one warm-up, in milliseconds."""
    call()
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def ok(answer):
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.json


def bare_load(region_id: int, now: datetime) -> None:
    with db.engine.connect() as connection:
        connection.execute(text(BARE), {"region": region_id, "begins": now - timedelta(days=90),
                                        "ends": now}).all()


def build(count: int, visits: int) -> tuple[int, dict]:
    for path in sorted((ROOT / "checklists").glob("*.yaml")):
        add_version(path.read_text(encoding="utf-8"), path.name)
    regions = [Region(code="BENCH", name="基准区", name_en="Bench"),
               Region(code="OTHER", name="他区", name_en="Other")]
    manager = User(email="mgr@example.com", name="周经理", role="manager", regions=regions[:1])
    manager.set_password("bench-pw")
    db.session.add_all([*regions, manager])
    db.session.flush()
    version = db.session.scalars(select(ChecklistVersion).join(Checklist).where(
        Checklist.slug == "storefront-audit")).first()
    scores = templates(definition_of(version))
    digests = [digest_of(score) for score in scores]
    now, rng = utcnow(), random.Random(7)
    for region in regions:
        db.session.execute(insert(Store), [
            {"code": f"{region.code}{k:04d}", "name": f"基准第{k}营业厅", "region_id": region.id,
             "timezone": "Asia/Shanghai", "geofence_m": 300, "active": True, "tags": []}
            for k in range(count)])
        store_ids = db.session.scalars(select(Store.id).where(
            Store.region_id == region.id)).all()
        rows = []
        for n in range(visits + visits // 4):
            at = now - timedelta(days=1 + (n % 89) if n < visits else 91 + n % 88,
                                 minutes=n % 600)
            score = scores[n % TEMPLATES]
            rows.append({"id": uuid.uuid4(), "store_id": store_ids[n % len(store_ids)],
                         "checklist_version_id": version.id, "kind": "audit",
                         "status": "published", "author_id": manager.id, "started_at": at,
                         "submitted_at": at, "published_at": at, "score": score,
                         "score_digest": digests[n % TEMPLATES],
                         "total": score["total"], "grade": score["grade"]["id"],
                         "red_line": bool(score["red_lines"])})
        for chunk in range(0, len(rows), 2000):
            db.session.execute(insert(Visit), rows[chunk:chunk + 2000])
        db.session.execute(insert(Action), [
            {"store_id": store_id, "title": "整改", "status": rng.choice(
                ("agreed", "done", "verified")), "due_date": (now + timedelta(days=k % 20 - 10))
             .date(), "agreed_at": now - timedelta(days=30), "created_at": now - timedelta(days=30),
             "verified_at": now - timedelta(days=k % 20)} for k, store_id in enumerate(store_ids)])
        db.session.execute(insert(Dispute), [
            {"store_id": store_id, "reference": f"{region.code}-{k}", "category": "service",
             "matter": "话费", "first_handler": "王芳", "received_at": now - timedelta(days=5),
             "due_at": now - timedelta(days=k % 3), "status": "open", "callbacks": []}
            for k, store_id in enumerate(store_ids)])
    db.session.commit()
    return regions[0].id, {"Authorization": f"Bearer {issue_token(manager)}"}


def templates(definition) -> list[dict]:
    """TEMPLATES scores of random answers: mostly good, some gaps, now and then a red line."""
    rng = random.Random(11)
    found = []
    for n in range(TEMPLATES):
        answers = {}
        for _, item in definition.items():
            if item.type == "yes_no":
                good = not item.inverse
                answers[item.id] = {"value": good if rng.random() < (0.99 if item.red_line
                                                                     else 0.8) else not good}
            elif item.type == "scale":
                answers[item.id] = {"value": rng.choice((2, 3, 4, 5, 5))}
            elif item.type == "number":
                answers[item.id] = {"value": item.thresholds.good + rng.choice((0, 0, 5, 10))}
            elif item.type == "choice":
                answers[item.id] = {"value": rng.choice(item.options).id}
            else:
                answers[item.id] = {"value": f"备注 {n}"}
        found.append(score_visit(definition, answers).to_dict())
    return found


if __name__ == "__main__":
    main()
