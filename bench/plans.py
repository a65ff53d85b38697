"""A year of audit plans for 5,000 stores: the app's generation against a bare bulk insert.

    .venv/bin/python bench/plans.py [--stores 5000] [--days 365] [--postgres]

Two plans over the whole region — weekly (every 7 days) and twice a week (Mondays and
Thursdays) — are generated for a year ahead by `generate_due_visits` (the plan's stores, the
occurrences, each window, the check for existing rows, the bulk insert and the commit). The
baseline, in the same run on the same database, inserts the same number of rows into a bare
table of the same columns with one executemany and commits. Target: under 30 s for the app.
"""

import argparse
import shutil
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import Column, Date, Integer, MetaData, String, Table, insert, select  # noqa: E402
from sqlalchemy import func as sql  # noqa: E402

from supervision import create_app  # noqa: E402
from supervision.accounts.models import User  # noqa: E402
from supervision.checklists.models import Checklist  # noqa: E402
from supervision.checklists.services import add_version  # noqa: E402
from supervision.db import db  # noqa: E402
from supervision.plans.models import AuditPlan, DueVisit  # noqa: E402
from supervision.plans.services import generate_due_visits  # noqa: E402
from supervision.stores.models import Region, Store  # noqa: E402

TARGET_SECONDS = 30
START = date(2027, 1, 4)  # a Monday
NOW = datetime(2027, 1, 4, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=5000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-plans-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        url = f"sqlite:///{workdir / 'bench.db'}"
        if args.postgres:
            from tests.servers import postgres_server

            url = stack.enter_context(postgres_server()).replace("postgresql://", "postgresql+psycopg://")
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "ACTION_SWEEP_SECONDS": 0,
                          "PHOTO_DIR": str(workdir / "photos"), "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            manager, checklist_id, region_id = build(args.stores)
            until = START + timedelta(days=args.days - 1)
            app_seconds, rows = generate(manager, checklist_id, region_id, until)
            bare_seconds = bare_insert(rows, checklist_id)
            stored = db.session.scalar(select(sql.count(DueVisit.id)))
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"{args.stores} stores, {args.days} days, two plans, {database}: {rows} due visits")
    print(f"  app generation   {app_seconds:7.2f} s  ({rows / app_seconds:,.0f} rows/s)")
    print(f"  bare executemany {bare_seconds:7.2f} s  ({rows / bare_seconds:,.0f} rows/s)")
    print(f"  ratio app/bare   {app_seconds / bare_seconds:7.2f}")
    verdict = "meets" if app_seconds < TARGET_SECONDS else "MISSES"
    print(f"  target < {TARGET_SECONDS} s: {verdict} ({app_seconds:.1f} s)")
    assert stored == rows, (stored, rows)


def build(count: int) -> tuple[User, int, int]:
    for path in sorted((ROOT / "checklists").glob("*.yaml")):
        add_version(path.read_text(encoding="utf-8"), path.name)
    region = Region(code="BENCH", name="基准区", name_en="Bench")
    manager = User(email="mgr@example.com", name="周经理", role="manager", regions=[region])
    manager.set_password("bench-pw")
    db.session.add_all([region, manager])
    db.session.flush()
    db.session.execute(insert(Store), [
        {"code": f"B{n:05d}", "name": f"基准第{n}营业厅", "region_id": region.id,
         "timezone": "Asia/Shanghai", "geofence_m": 300, "active": True, "tags": ["A"]}
        for n in range(1, count + 1)])
    db.session.commit()
    checklist = db.session.scalars(select(Checklist).where(
        Checklist.slug == "storefront-audit")).one()
    return manager, checklist.id, region.id


def generate(manager: User, checklist_id: int, region_id: int, until: date) -> tuple[float, int]:
    started = time.perf_counter()
    rows = 0
    for name, recurrence in (("weekly", {"every_days": 7}), ("twice a week", {"weekdays": [0, 3]})):
        plan = AuditPlan(name=name, region_id=region_id, checklist_id=checklist_id,
                         recurrence=recurrence, window_days=2, starts_on=START,
                         created_by_id=manager.id)
        db.session.add(plan)
        db.session.flush()
        rows += generate_due_visits(plan, until, from_today=True, now=NOW)
    db.session.commit()
    return time.perf_counter() - started, rows


def bare_insert(rows: int, checklist_id: int) -> float:
    """The same number of rows of the same columns, one executemany, no app logic."""
    bare = Table("bare_due", MetaData(), Column("id", Integer, primary_key=True),
                 Column("kind", String(16)), Column("plan_id", Integer),
                 Column("store_id", Integer), Column("checklist_id", Integer),
                 Column("supervisor_id", Integer), Column("due_from", Date),
                 Column("due_until", Date), Column("status", String(16)))
    bare.create(db.engine)
    values = [{"kind": "plan", "plan_id": 1, "store_id": n % 5000 + 1,
               "checklist_id": checklist_id, "supervisor_id": None,
               "due_from": START + timedelta(days=n // 5000),
               "due_until": START + timedelta(days=n // 5000 + 1), "status": "due"}
              for n in range(rows)]
    started = time.perf_counter()
    with db.engine.begin() as connection:
        connection.execute(insert(bare), values)
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
