"""Plan, reschedule and cancel mystery-shop assignments."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from supervision.accounts.models import User, user_regions
from supervision.audit.services import record
from supervision.checklists.models import Checklist
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid
from supervision.followup.models import Assignment
from supervision.notifications import triggers as notifications
from supervision.scoping import get_assignment, get_store, scoped_assignments
from supervision.stores.models import Store
from supervision.transitions import locked

# The one answer for any shopper_id that does not fit, whoever it names (or nobody).
NOT_A_SHOPPER_HERE = "Not a shopper of this store's region."


def list_assignments(user: User, filters: dict) -> list[Assignment]:
    query = scoped_assignments(user)
    for name in ("store_id", "shopper_id", "status"):
        if name in filters:
            query = query.where(getattr(Assignment, name) == filters[name])
    related = (Assignment.store, Assignment.checklist, Assignment.shopper, Assignment.visits)
    return db.session.scalars(query.options(*(selectinload(r) for r in related))).all()


def create_assignment(user: User, data: dict) -> Assignment:
    """A manager (or admin) plans a mystery visit of a store in its regions."""
    store = get_store(user, data["store_id"])
    assignment = Assignment(
        store_id=store.id,
        checklist_id=mystery_checklist(data["checklist"]).id,
        shopper_id=_shopper(data["shopper_id"], store).id,
        window_start=data["window_start"],
        window_end=data["window_end"],
        scenario=data.get("scenario"),
        status="planned",
        created_by_id=user.id,
    )
    _check_window(assignment)
    db.session.add(assignment)
    db.session.flush()
    record(user, "create", "assignment", assignment.id, store_id=store.id,
           shopper_id=assignment.shopper_id, window_start=assignment.window_start.isoformat(),
           window_end=assignment.window_end.isoformat())
    notifications.assignment_created(assignment)
    return assignment


def update_assignment(user: User, assignment_id: int, data: dict) -> Assignment:
    """Reschedule (window, shopper, scenario) or cancel a planned assignment (or a wave's
    proposal, within the wave's rules); a cancel of a
    cancelled one is a replay. Its state is read under its lock: a change crossing a cancel or
    the visit that completes it is decided on the state that won."""
    assignment = locked(get_assignment(user, assignment_id))
    if data.get("status") == "cancelled" and assignment.status == "cancelled":
        return assignment
    if assignment.status not in ("planned", "proposed"):  # proposed: a wave's, not confirmed
        raise Conflict(f"Assignment {assignment.id} is {assignment.status}; "
                       "only a planned assignment can change.",
                       {"json": {"status": [f"The assignment is {assignment.status}."]}})
    changes = {}
    for name in ("window_start", "window_end", "scenario"):
        if name in data and data[name] != getattr(assignment, name):
            changes[name] = data[name]
    if "shopper_id" in data and data["shopper_id"] != assignment.shopper_id:
        changes["shopper_id"] = _shopper(data["shopper_id"], assignment.store).id
    for name, value in changes.items():
        setattr(assignment, name, value)
    if {"window_start", "window_end"} & changes.keys():
        _check_window(assignment)
    if assignment.wave_id and changes and data.get("status") != "cancelled":
        from supervision.plans.waves import check_wave_change

        check_wave_change(assignment)
    if data.get("status") == "cancelled":
        assignment.status = changes["status"] = "cancelled"
    if changes:
        record(user, "cancel" if "status" in changes else "reschedule", "assignment",
               assignment.id, reason=data.get("reason"),
               **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in changes.items()})
    return assignment


def mystery_checklist(slug: str) -> Checklist:
    """The current mystery-visit checklist of `slug`; 422 naming `checklist` otherwise."""
    checklist = db.session.scalars(select(Checklist).where(Checklist.slug == slug)).first()
    if checklist is None or checklist.kind != "mystery" or checklist.retired_at is not None:
        raise Invalid(f"{slug} is not a current mystery-visit checklist.",
                      {"json": {"checklist": ["Not a current mystery-visit checklist."]}})
    return checklist


def _shopper(user_id: int, store: Store) -> User:
    """An active shopper who works in the store's region: a mystery programme sends a region's
    own shoppers to its stores."""
    shopper = db.session.scalars(
        select(User).join(user_regions, user_regions.c.user_id == User.id)
        .where(User.id == user_id, User.role == "shopper", User.active,
               user_regions.c.region_id == store.region_id)).first()
    if shopper is None:
        raise Invalid("", {"json": {"shopper_id": [NOT_A_SHOPPER_HERE]}})
    return shopper


def _check_window(assignment: Assignment) -> None:
    if assignment.window_end <= assignment.window_start:
        raise Invalid("The window must end after it starts.",
                      {"json": {"window_end": ["Must be after window_start."]}})
    if assignment.window_end <= utcnow():
        raise Invalid("The window is already over.",
                      {"json": {"window_end": ["Must be in the future."]}})
