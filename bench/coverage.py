"""The coverage of a region of 500 stores with a year of due visits: the app against bare SQL.

    .venv/bin/python bench/coverage.py [--stores 500] [--postgres]

Two regions of `--stores` stores each (the other region's rows are there to be left out). Each
store has a year of due visits of two plans (weekly, and Mondays and Thursdays) in every state,
twelve monthly wave assignments and a visit a week. Timed, each the median of 7 runs after one
warm-up: `coverage()` over the year and over one month, and GET /api/v1/coverage for the year as
its manager (login by token, checks, JSON). The baseline, in the same run on the same database,
runs the same three GROUP BY statements as bare SQL text on a raw connection, without the app's
query building, rows or dict making. Target: under 300 ms for the API's answer over the year.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from supervision import create_app  # noqa: E402
from supervision.accounts.models import User  # noqa: E402
from supervision.accounts.tokens import issue_token  # noqa: E402
from supervision.checklists.models import Checklist, ChecklistVersion  # noqa: E402
from supervision.checklists.services import add_version  # noqa: E402
from supervision.db import db  # noqa: E402
from supervision.followup.models import Assignment  # noqa: E402
from supervision.plans.coverage import coverage  # noqa: E402
from supervision.plans.models import AuditPlan, DueVisit, Wave  # noqa: E402
from supervision.stores.models import Region, Store  # noqa: E402
from supervision.visits.models import Visit  # noqa: E402

TARGET_MS = 300
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
MONTH = (date(2026, 6, 1), date(2026, 6, 30))
NOW = datetime(2026, 7, 1, 4, tzinfo=UTC)  # mid-year: every state is there
RUNS = 7

BARE = [
    """SELECT d.store_id, d.kind, d.plan_id, p.name, d.status, count(*) FROM due_visits d
       LEFT JOIN audit_plans p ON p.id = d.plan_id
       WHERE d.store_id IN (SELECT id FROM stores WHERE region_id = :region)
       AND d.due_from >= :start AND d.due_from <= :end
       AND d.status IN ('due', 'done', 'overdue', 'missed')
       GROUP BY d.store_id, d.kind, d.plan_id, p.name, d.status""",
    """SELECT a.store_id, w.id, w.name, a.status, count(*),
       sum(CASE WHEN a.window_end < :now THEN 1 ELSE 0 END) FROM assignments a
       JOIN waves w ON w.id = a.wave_id
       WHERE a.store_id IN (SELECT id FROM stores WHERE region_id = :region)
       AND a.status IN ('planned', 'done') AND a.window_start >= :begins
       AND a.window_start < :ends GROUP BY a.store_id, w.id, w.name, a.status""",
    """SELECT store_id, max(started_at) FROM visits
       WHERE store_id IN (SELECT id FROM stores WHERE region_id = :region)
       AND status IN ('submitted', 'published') AND excluded IS NULL GROUP BY store_id""",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-coverage-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        url = f"sqlite:///{workdir / 'bench.db'}"
        if args.postgres:
            from tests.servers import postgres_server

            url = stack.enter_context(postgres_server()).replace("postgresql://",
                                                                 "postgresql+psycopg://")
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "ACTION_SWEEP_SECONDS": 0,
                          "PHOTO_DIR": str(workdir / "photos"), "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            region_id, headers, counts = build(args.stores)
            built = time.perf_counter() - started
            if args.postgres:  # what autovacuum does after a bulk load, at once
                with db.engine.connect().execution_options(
                        isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE"))
            year = timed(lambda: coverage(region_id, *YEAR, 30, now=NOW))
            month = timed(lambda: coverage(region_id, *MONTH, 30, now=NOW))
            bare = timed(lambda: bare_queries(region_id, YEAR))
            result = coverage(region_id, *YEAR, 30, now=NOW)
        client = app.test_client()
        path = f"/api/v1/coverage?region_id={region_id}&from=2026-01-01&to=2026-12-31"
        api = timed(lambda: ok(client.get(path, headers=headers)))
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.stores} stores in the region (and as many in another), {database}: "
          f"{counts['dues']:,} due visits, {counts['assignments']:,} wave assignments, "
          f"{counts['visits']:,} visits (built in {built:.1f} s)")
    print(f"  year figures: {result['totals']}, {len(result['not_visited'])} not visited in 30 d")
    print(f"  coverage(), a year     {year:7.1f} ms")
    print(f"  coverage(), a month    {month:7.1f} ms")
    print(f"  GET /coverage, a year  {api:7.1f} ms")
    print(f"  bare SQL, a year       {bare:7.1f} ms")
    print(f"  ratio coverage()/bare  {year / bare:7.2f}   ratio API/bare {api / bare:7.2f}")
    verdict = "meets" if api < TARGET_MS else "MISSES"
    print(f"  target < {TARGET_MS} ms: {verdict} ({api:.0f} ms)")


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


def bare_queries(region_id: int, period: tuple[date, date]) -> None:
    begins = datetime(period[0].year, period[0].month, period[0].day, tzinfo=UTC)
    ends = datetime(period[1].year, period[1].month, period[1].day, tzinfo=UTC)
    with db.engine.connect() as connection:
        for statement in BARE:
            connection.execute(text(statement), {
                "region": region_id, "start": period[0], "end": period[1], "now": NOW,
                "begins": begins, "ends": ends + timedelta(days=1)}).all()


def build(count: int) -> tuple[int, dict, dict]:
    for path in sorted((ROOT / "checklists").glob("*.yaml")):
        add_version(path.read_text(encoding="utf-8"), path.name)
    regions = [Region(code="BENCH", name="基准区", name_en="Bench"),
               Region(code="OTHER", name="他区", name_en="Other")]
    manager = User(email="mgr@example.com", name="周经理", role="manager", regions=regions[:1])
    shopper = User(email="shop@example.com", name="暗访员", role="shopper", regions=regions[:1])
    for user in (manager, shopper):
        user.set_password("bench-pw")
    db.session.add_all([*regions, manager, shopper])
    db.session.flush()
    audit, mystery = (db.session.scalars(select(Checklist).where(Checklist.slug == slug)).one()
                      for slug in ("storefront-audit", "mystery-visit"))
    version = db.session.scalars(select(ChecklistVersion.id).where(
        ChecklistVersion.checklist_id == audit.id)).first()
    counts = {"dues": 0, "assignments": 0, "visits": 0}
    for region in regions:
        db.session.execute(insert(Store), [
            {"code": f"{region.code}{k:04d}", "name": f"基准第{k}营业厅", "region_id": region.id,
             "timezone": "Asia/Shanghai", "geofence_m": 300, "active": True, "tags": []}
            for k in range(count)])
        store_ids = db.session.scalars(select(Store.id).where(
            Store.region_id == region.id)).all()
        fill_region(region, store_ids, manager, shopper, audit.id, mystery.id, version, counts)
    db.session.commit()
    return regions[0].id, {"Authorization": f"Bearer {issue_token(manager)}"}, counts


def fill_region(region, store_ids, manager, shopper, audit_id, mystery_id, version_id, counts):
    plans = []
    for name, days in (("weekly", (0,)), ("twice a week", (0, 3))):
        plan = AuditPlan(name=name, region_id=region.id, checklist_id=audit_id,
                         recurrence={"weekdays": list(days)}, window_days=2,
                         starts_on=YEAR[0], created_by_id=manager.id)
        db.session.add(plan)
        db.session.flush()
        plans.append((plan.id, days))
    dues = []
    for plan_id, weekdays in plans:
        day = YEAR[0]
        while day <= YEAR[1]:
            if day.weekday() in weekdays:
                for k, store_id in enumerate(store_ids):
                    dues.append({"kind": "plan", "plan_id": plan_id, "store_id": store_id,
                                 "checklist_id": audit_id, "due_from": day,
                                 "due_until": day + timedelta(days=1),
                                 "status": state(day, k)})
            day += timedelta(days=1)
    db.session.execute(insert(DueVisit), dues)
    waves = []
    for month in range(1, 13):
        wave = Wave(name=f"{month}月暗访", region_id=region.id, checklist_id=mystery_id,
                    starts_on=date(2026, month, 1), ends_on=date(2026, month, 28),
                    status="confirmed", created_by_id=manager.id)
        db.session.add(wave)
        db.session.flush()
        waves.append(wave.id)
    assignments = [
        {"store_id": store_id, "checklist_id": mystery_id, "shopper_id": shopper.id,
         "window_start": at, "window_end": at + timedelta(hours=2),
         "status": "done" if at < NOW and k % 5 else "planned", "wave_id": wave_id,
         "slot": "peak", "created_by_id": manager.id}
        for month, wave_id in enumerate(waves, 1) for k, store_id in enumerate(store_ids)
        for at in [datetime(2026, month, 1 + k % 28, 3, tzinfo=UTC)]]
    db.session.execute(insert(Assignment), assignments)
    visits = [
        {"id": uuid.uuid4(), "store_id": store_id, "checklist_version_id": version_id,
         "kind": "audit", "status": "published", "author_id": manager.id, "started_at": at,
         "submitted_at": at, "published_at": at}
        for k, store_id in enumerate(store_ids) if k % 10
        for week in range(26) for at in [datetime(2026, 1, 5, 2, tzinfo=UTC)
                                          + timedelta(weeks=week, days=k % 5)]]
    db.session.execute(insert(Visit), visits)
    counts["dues"] += len(dues)
    counts["assignments"] += len(assignments)
    counts["visits"] += len(visits)


def state(day: date, k: int) -> str:
    """Past: mostly done, some missed, a few still overdue; to come: due."""
    if day >= NOW.date():
        return "due"
    return ("missed", "overdue", "done", "done", "done", "done")[(day.toordinal() + k) % 6]


if __name__ == "__main__":
    main()
