"""Coverage of a region over a period: per store, plan and wave, the visits due, done, overdue and
missed, each store's last visit, and the stores not visited for N days.

The four figures count what was expected in the period:
- due visits (of plans, and follow-ups) whose `due_from` falls in the period, by their status:
  due (still to do: its window is open or to come), done, overdue (window passed, can still be
  done late), missed (never done, the next one opened or the plan ended);
- the confirmed assignments of mystery waves whose window starts in the period (in the TIMEZONE
  setting's days, like every region figure): done, overdue (planned and its window has ended),
  due (planned, window not ended). A wave assignment is never missed; proposals and cancelled
  ones are not counted.

The last visit is the latest start of a submitted or published visit of the store, at any time
up to now, that is not left out of counts (calibrations, re-shops); "days since" counts the
store's own local days. A store is "not visited in N days" when its last visit is more than N
days ago, or it has none. Five SQL statements whatever the number of stores (GROUP BY)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from supervision.db import db
from supervision.followup.models import Assignment
from supervision.localtime import day_begins, day_ends, local_zone
from supervision.plans.models import AuditPlan, DueVisit, Wave
from supervision.stores.models import Region, Store
from supervision.visits.models import Visit

FIGURES = ("due", "done", "overdue", "missed")
COUNTED_VISITS = ("submitted", "published")


def zero() -> dict[str, int]:
    return dict.fromkeys(FIGURES, 0)


def coverage(region_id: int, start: date, end: date, not_visited_days: int = 30,
             now: datetime | None = None) -> dict:
    """The region's coverage from `start` to `end` (both included) as a plain dict."""
    now = now or datetime.now(UTC)
    region = db.session.get(Region, region_id)
    stores = db.session.execute(
        select(Store.id, Store.code, Store.name, Store.name_en, Store.timezone, Store.active)
        .where(Store.region_id == region_id).order_by(Store.code)).all()
    in_region = select(Store.id).where(Store.region_id == region_id).scalar_subquery()
    per_store = {s.id: zero() for s in stores}
    plans = _add_due_visits(per_store, in_region, start, end)
    waves = _add_wave_assignments(per_store, in_region, start, end, now)
    last = _last_visits(in_region)
    rows = [_store_row(s, per_store[s.id], last.get(s.id), now) for s in stores
            if s.active or any(per_store[s.id].values())]
    not_visited = [r for r in rows if r["active"] and
                   (r["days_since"] is None or r["days_since"] > not_visited_days)]
    not_visited.sort(key=lambda r: (r["days_since"] is not None, -(r["days_since"] or 0),
                                    r["code"]))
    return {
        "region": {"id": region.id, "code": region.code, "name": region.name,
                   "name_en": region.name_en},
        "from": start.isoformat(), "to": end.isoformat(), "days": not_visited_days,
        "as_of": now.isoformat(),
        "totals": _sum(r["figures"] for r in rows),
        "stores": rows,
        "plans": sorted(plans.values(), key=lambda p: (p["kind"] != "plan", p["name"] or "")),
        "waves": sorted(waves.values(), key=lambda w: (w["starts_on"], w["id"])),
        "not_visited": not_visited,
    }


def _add_due_visits(per_store: dict, in_region, start: date, end: date) -> dict:
    """Due visits of the period by store, plan (follow-ups apart) and status: one statement."""
    rows = db.session.execute(
        select(DueVisit.store_id, DueVisit.kind, DueVisit.plan_id, AuditPlan.name,
               DueVisit.status, func.count())
        .outerjoin(AuditPlan, AuditPlan.id == DueVisit.plan_id)
        .where(DueVisit.store_id.in_(in_region), DueVisit.due_from >= start,
               DueVisit.due_from <= end, DueVisit.status.in_(FIGURES))
        .group_by(DueVisit.store_id, DueVisit.kind, DueVisit.plan_id, AuditPlan.name,
                  DueVisit.status))
    plans: dict = {}
    for store_id, kind, plan_id, name, status, count in rows:
        key = (kind, plan_id)
        plan = plans.setdefault(key, {"id": plan_id, "name": name, "kind": kind,
                                      "figures": zero()})
        plan["figures"][status] += count
        per_store[store_id][status] += count
    return plans


def _add_wave_assignments(per_store: dict, in_region, start: date, end: date,
                          now: datetime) -> dict:
    """Confirmed wave assignments starting in the period, by store, wave and status (late:
    planned with its window ended): one statement."""
    tz = local_zone()
    late = func.sum(case((Assignment.window_end < now, 1), else_=0))
    rows = db.session.execute(
        select(Assignment.store_id, Wave.id, Wave.name, Wave.starts_on, Assignment.status,
               func.count(), late)
        .join(Wave, Wave.id == Assignment.wave_id)
        .where(Assignment.store_id.in_(in_region), Assignment.status.in_(("planned", "done")),
               Assignment.window_start >= day_begins(start, tz),
               Assignment.window_start < day_ends(end, tz))
        .group_by(Assignment.store_id, Wave.id, Wave.name, Wave.starts_on, Assignment.status))
    waves: dict = {}
    for store_id, wave_id, name, starts_on, status, count, overdue in rows:
        wave = waves.setdefault(wave_id, {"id": wave_id, "name": name,
                                          "starts_on": starts_on.isoformat(),
                                          "figures": zero()})
        overdue = int(overdue or 0)
        split = ({"done": count} if status == "done"
                 else {"due": count - overdue, "overdue": overdue})
        for figure, value in split.items():
            wave["figures"][figure] += value
            per_store[store_id][figure] += value
    return waves


def _last_visits(in_region) -> dict[int, datetime]:
    """Each store's latest counted visit (submitted or published, not left out): one statement."""
    return dict(db.session.execute(
        select(Visit.store_id, func.max(Visit.started_at))
        .where(Visit.store_id.in_(in_region), Visit.status.in_(COUNTED_VISITS),
               Visit.excluded.is_(None))
        .group_by(Visit.store_id)).all())


def _store_row(store, figures: dict, last: datetime | None, now: datetime) -> dict:
    zone = ZoneInfo(store.timezone)
    last_day = last.astimezone(zone).date() if last else None
    today = now.astimezone(zone).date()
    return {
        "id": store.id, "code": store.code, "name": store.name, "name_en": store.name_en,
        "active": store.active, "figures": figures,
        "last_visit": last_day.isoformat() if last_day else None,
        "days_since": max(0, (today - last_day).days) if last_day else None,
    }


def _sum(all_figures) -> dict[str, int]:
    total = zero()
    for figures in all_figures:
        for key, value in figures.items():
            total[key] += value
    return total
