"""Audit plans: create and edit them, generate their due visits, fulfil those with visits, and
mark the ones not done overdue, then missed.

Every date here is a store's local calendar day: a plan's occurrences are the same days for all
its stores, and each store's own time zone says when "today" is there."""

from collections import defaultdict
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import aliased, selectinload

from supervision.accounts.models import User, user_regions
from supervision.audit.services import record
from supervision.checklists.models import Checklist
from supervision.db import db, utcnow
from supervision.errors import Invalid
from supervision.followup.duedates import local_date
from supervision.plans import recurrence as recurrences
from supervision.plans.models import DUE_OPEN, AuditPlan, DueVisit
from supervision.scoping import get_plan, get_region, scoped_due_visits, scoped_plans
from supervision.stores.models import Store
from supervision.transitions import locked
from supervision.visits.models import Visit

# Editing these changes which visits fall due; the name alone does not.
SCHEDULE_FIELDS = ("store_ids", "tag", "recurrence", "window_days", "supervisor_id",
                   "starts_on", "ends_on", "active")
_CHUNK = 900  # ids per IN (…): under SQLite's limit of bound parameters


def horizon(now: datetime) -> date:
    """Due visits are generated this far ahead (PLAN_HORIZON_DAYS), so that a supervisor's
    device holds its coming audits before it goes offline."""
    return now.date() + timedelta(days=int(current_app.config["PLAN_HORIZON_DAYS"]))


# Plans ---------------------------------------------------------------------------------------

def list_plans(user: User, filters: dict) -> list[AuditPlan]:
    query = scoped_plans(user)
    if "region_id" in filters:
        query = query.where(AuditPlan.region_id == filters["region_id"])
    plans = db.session.scalars(query).all()
    figures = plan_figures([plan.id for plan in plans])
    for plan in plans:
        plan.figures = figures[plan.id]
    return plans


def plan_figures(plan_ids: list[int]) -> dict[int, dict[str, int]]:
    """Each plan's due visits by status, in one query."""
    figures = {plan_id: dict.fromkeys(("due", "done", "overdue", "missed"), 0)
               for plan_id in plan_ids}
    if plan_ids:
        rows = db.session.execute(
            select(DueVisit.plan_id, DueVisit.status, func.count())
            .where(DueVisit.plan_id.in_(plan_ids)).group_by(DueVisit.plan_id, DueVisit.status))
        for plan_id, status, count in rows:
            if status in figures[plan_id]:
                figures[plan_id][status] = count
    return figures


def create_plan(user: User, data: dict, now: datetime | None = None) -> AuditPlan:
    """A manager (or admin) plans recurring audits of stores of one of its regions."""
    region = get_region(user, data["region_id"])
    plan = AuditPlan(name=data["name"], region_id=region.id,
                     checklist_id=_audit_checklist(data["checklist"]).id,
                     window_days=data.get("window_days", 1), created_by_id=user.id)
    _apply(plan, data)
    db.session.add(plan)
    db.session.flush()
    count = generate_due_visits(plan, horizon(now or utcnow()), from_today=True, now=now)
    record(user, "create", "plan", plan.id, region_id=region.id, due_visits=count)
    plan.figures = plan_figures([plan.id])[plan.id]
    return plan


def update_plan(user: User, plan_id: int, data: dict, now: datetime | None = None) -> AuditPlan:
    """Change a plan from its next occurrence on: the due visits still to come are made again;
    today's and the past ones (done, overdue, missed) stay as they are."""
    plan = locked(get_plan(user, plan_id))
    if "checklist" in data:
        plan.checklist_id = _audit_checklist(data["checklist"]).id
    for name in ("name", "window_days"):
        if name in data:
            setattr(plan, name, data[name])
    if set(data) & set(_current(plan)):  # ending a plan checks nothing (its stores may be gone)
        _apply(plan, {**_current(plan), **data})
    if "active" in data:
        plan.active = data["active"]
    if any(name in data for name in (*SCHEDULE_FIELDS, "checklist")):
        now = now or utcnow()
        removed = _drop_coming(plan, now)
        added = generate_due_visits(plan, horizon(now), now=now) if plan.active else 0
        record(user, "update", "plan", plan.id, removed=removed, added=added,
               fields=sorted(data))
    plan.figures = plan_figures([plan.id])[plan.id]
    return plan


def _current(plan: AuditPlan) -> dict:
    return {"store_ids": plan.store_ids, "tag": plan.tag, "recurrence": plan.recurrence,
            "supervisor_id": plan.supervisor_id, "starts_on": plan.starts_on,
            "ends_on": plan.ends_on}


def _apply(plan: AuditPlan, data: dict) -> None:
    """Check and set the schedule fields (stores, recurrence, supervisor, dates)."""
    if problems := recurrences.problems(data.get("recurrence")):
        raise Invalid("The recurrence is not right.", {"json": {"recurrence": problems}})
    if data.get("ends_on") and data["ends_on"] < data["starts_on"]:
        raise Invalid("The plan must end after it starts.",
                      {"json": {"ends_on": ["Must not be before starts_on."]}})
    plan.recurrence, plan.starts_on, plan.ends_on = (data["recurrence"], data["starts_on"],
                                                     data.get("ends_on"))
    plan.store_ids = sorted(set(data["store_ids"])) if data.get("store_ids") else None
    plan.tag = None if plan.store_ids else data.get("tag")
    plan.supervisor_id = data.get("supervisor_id")
    stores = plan_stores(plan)
    if plan.store_ids and len(stores) != len(plan.store_ids):
        raise Invalid("Some stores are not active stores of the plan's region.",
                      {"json": {"store_ids": ["Each must be an active store of the region."]}})
    if not stores:
        field = "tag" if plan.tag else "region_id"
        raise Invalid("No active store of the region fits the plan.",
                      {"json": {field: ["No active store of the region fits."]}})
    if plan.supervisor_id is not None and not _region_supervisor(plan.supervisor_id,
                                                                 plan.region_id):
        raise Invalid("", {"json": {"supervisor_id": ["Not a supervisor of the region."]}})


def _audit_checklist(slug: str) -> Checklist:
    checklist = db.session.scalars(select(Checklist).where(Checklist.slug == slug)).first()
    if checklist is None or checklist.kind != "audit" or checklist.retired_at is not None:
        raise Invalid(f"{slug} is not a current audit checklist.",
                      {"json": {"checklist": ["Not a current audit checklist."]}})
    return checklist


def _region_supervisor(user_id: int, region_id: int) -> bool:
    return db.session.scalars(
        select(User.id).join(user_regions, user_regions.c.user_id == User.id)
        .where(User.id == user_id, User.role == "supervisor", User.active,
               user_regions.c.region_id == region_id)).first() is not None


def plan_stores(plan: AuditPlan) -> list[Store]:
    """The plan's stores: its list, else the region's active stores with its tag, else all the
    region's active stores."""
    query = select(Store).where(Store.region_id == plan.region_id, Store.active)
    if plan.store_ids:
        query = query.where(Store.id.in_(plan.store_ids))
    stores = db.session.scalars(query.order_by(Store.id)).all()
    if plan.tag and not plan.store_ids:
        stores = [store for store in stores if plan.tag in (store.tags or [])]
    return stores


# Generation ----------------------------------------------------------------------------------

def generate_due_visits(plan: AuditPlan, until: date, from_today: bool = False,
                        now: datetime | None = None) -> int:
    """Insert the due visits of `plan` up to `until` that do not exist yet, in bulk; returns how
    many. The occurrences generated are those after the plan's `generated_until` and after each
    store's local today; with `from_today` (a new plan), also those whose window still holds
    the store's today: a plan started on the manager's today, when it is already tomorrow in
    the store, keeps its first audit."""
    now = now or utcnow()
    by_zone = defaultdict(list)
    for store in plan_stores(plan):
        by_zone[store.timezone].append(store.id)
    count = 0
    for zone, store_ids in by_zone.items():
        today = local_date(now, zone)
        after = today - timedelta(days=plan.window_days) if from_today else today
        if plan.generated_until and not from_today:
            after = max(after, plan.generated_until)
        count += _insert(plan, store_ids, after, until, open_on=today)
    plan.generated_until = max(until, plan.generated_until or until)
    return count


def _insert(plan: AuditPlan, store_ids: list[int], after: date, until: date,
            open_on: date) -> int:
    """The occurrences after `after` up to `until` whose window has not ended before
    `open_on`."""
    days = recurrences.occurrences(plan.recurrence, plan.starts_on, plan.ends_on, after, until)
    if not days:
        return 0
    following = [*days[1:], recurrences.next_after(plan.recurrence, plan.starts_on, days[-1])]
    windows = [(day, end) for day, later in zip(days, following, strict=True)
               for end in [min(day + timedelta(days=plan.window_days - 1),
                               later - timedelta(days=1))] if end >= open_on]
    if not windows:
        return 0
    days = [day for day, _ in windows]
    existing = set(db.session.execute(
        select(DueVisit.store_id, DueVisit.due_from)
        .where(DueVisit.plan_id == plan.id, DueVisit.due_from >= days[0],
               DueVisit.due_from <= days[-1])).all())
    created = utcnow()
    rows = [{"kind": "plan", "plan_id": plan.id, "store_id": store_id,
             "checklist_id": plan.checklist_id, "supervisor_id": plan.supervisor_id,
             "due_from": start, "due_until": end, "status": "due", "created_at": created}
            for store_id in store_ids for start, end in windows
            if (store_id, start) not in existing]
    for chunk in range(0, len(rows), 10_000):
        db.session.execute(insert(DueVisit), rows[chunk:chunk + 10_000])
    return len(rows)


def _drop_coming(plan: AuditPlan, now: datetime) -> int:
    """Delete the plan's due visits that start after their store's local today and were not
    done; returns how many. The plan is generated again from there."""
    rows = db.session.execute(
        select(DueVisit.id, DueVisit.due_from, Store.timezone).join(Store)
        .where(DueVisit.plan_id == plan.id, DueVisit.status == "due",
               DueVisit.due_from > now.date() - timedelta(days=1))).all()
    ids = [row.id for row in rows if row.due_from > local_date(now, row.timezone)]
    for chunk in range(0, len(ids), _CHUNK):
        db.session.execute(delete(DueVisit).where(DueVisit.id.in_(ids[chunk:chunk + _CHUNK])))
    plan.generated_until = None
    return len(ids)


def extend_horizon(now: datetime) -> int:
    """Generate the active plans' due visits up to the horizon; returns how many were added."""
    until = horizon(now)
    plans = db.session.scalars(select(AuditPlan).where(
        AuditPlan.active, or_(AuditPlan.generated_until.is_(None),
                              AuditPlan.generated_until < until))).all()
    return sum(generate_due_visits(plan, until, now=now) for plan in plans)


# Fulfilment and lateness ---------------------------------------------------------------------

def fulfil_due_visits(visit: Visit) -> DueVisit | None:
    """A submitted visit fulfils one open due visit (of a plan, or a follow-up) of its store and
    checklist that its author may do: the one whose window holds the visit's local day, else
    the earliest late one. A calibration or excluded visit fulfils none."""
    if visit.calibrates_id is not None or visit.excluded is not None:
        return None
    day = local_date(visit.started_at, visit.store.timezone)
    candidates = db.session.scalars(
        select(DueVisit).where(
            DueVisit.store_id == visit.store_id,
            DueVisit.checklist_id == visit.checklist_version.checklist_id,
            DueVisit.status.in_(DUE_OPEN), DueVisit.due_from <= day,
            or_(DueVisit.supervisor_id.is_(None), DueVisit.supervisor_id == visit.author_id))
        .order_by(DueVisit.due_from, DueVisit.id).with_for_update()).all()
    if not candidates:
        return None
    due = next((d for d in candidates if d.due_until >= day), candidates[0])
    due.status, due.visit_id, due.done_at = "done", visit.id, utcnow()
    return due


def mark_overdue(now: datetime) -> dict[str, int]:
    """Due visits whose window ended before their store's today become overdue; a plan's
    overdue visit becomes missed once the next one of its plan and store has begun (or the
    plan ended). Follow-ups stay overdue until done. Returns how many changed."""
    late = db.session.execute(
        select(DueVisit.id, DueVisit.due_until, Store.timezone).join(Store)
        .where(DueVisit.status == "due", DueVisit.due_until < now.date() + timedelta(days=1))
    ).all()
    overdue = [row.id for row in late if row.due_until < local_date(now, row.timezone)]
    _set_status(overdue, "overdue")
    later = aliased(DueVisit)
    next_from = (select(func.min(later.due_from))
                 .where(later.plan_id == DueVisit.plan_id, later.store_id == DueVisit.store_id,
                        later.due_from > DueVisit.due_from)
                 .correlate(DueVisit).scalar_subquery())
    missed = [row.id for row in db.session.execute(
        select(DueVisit.id, next_from.label("next_from"), Store.timezone, AuditPlan.active,
               AuditPlan.ends_on)
        .join(Store, Store.id == DueVisit.store_id).join(AuditPlan)
        .where(DueVisit.status == "overdue", DueVisit.kind == "plan")).all()
        if _superseded(row, local_date(now, row.timezone))]
    _set_status(missed, "missed")
    return {"overdue": len(overdue), "missed": len(missed)}


def _superseded(row, today: date) -> bool:
    return (not row.active or (row.ends_on is not None and row.ends_on < today)
            or (row.next_from is not None and row.next_from <= today))


def _set_status(ids: list[int], status: str) -> None:
    for chunk in range(0, len(ids), _CHUNK):
        db.session.execute(update(DueVisit).where(DueVisit.id.in_(ids[chunk:chunk + _CHUNK]))
                           .values(status=status))


def sweep(now: datetime) -> dict[str, int]:
    """What the periodic sweep does for plans: lateness, then the horizon. Flushes only."""
    changed = mark_overdue(now)
    changed["generated"] = extend_horizon(now)
    return changed


# Lists ---------------------------------------------------------------------------------------

def list_supervisors(user: User, region_id: int | None) -> list[User]:
    """The active supervisors of the user's regions (of one region), to name in a plan."""
    regions = [get_region(user, region_id).id] if region_id else None
    query = (select(User).join(user_regions, user_regions.c.user_id == User.id)
             .where(User.role == "supervisor", User.active).order_by(User.name, User.id)
             .distinct())
    if regions is None and user.role != "admin":
        regions = [region.id for region in user.regions]
    if regions is not None:
        query = query.where(user_regions.c.region_id.in_(regions))
    return db.session.scalars(query).all()


def list_due_visits(user: User, filters: dict) -> list[DueVisit]:
    query = scoped_due_visits(user)
    if filters.get("status"):
        query = query.where(DueVisit.status.in_(filters["status"]))
    for name in ("store_id", "plan_id", "kind"):
        if filters.get(name) is not None:
            query = query.where(getattr(DueVisit, name) == filters[name])
    if filters.get("from"):
        query = query.where(DueVisit.due_until >= filters["from"])
    if filters.get("to"):
        query = query.where(DueVisit.due_from <= filters["to"])
    return db.session.scalars(query.limit(filters.get("limit", 500)).options(
        selectinload(DueVisit.store), selectinload(DueVisit.checklist),
        selectinload(DueVisit.plan))).all()
