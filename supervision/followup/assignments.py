"""Plan, reschedule and cancel mystery-shop assignments."""

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from supervision.accounts.models import User
from supervision.audit.services import record
from supervision.checklists.models import Checklist
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid
from supervision.followup.models import Assignment
from supervision.notifications import triggers as notifications
from supervision.scoping import get_assignment, get_store, scoped_assignments


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
        checklist_id=_mystery_checklist(data["checklist"]).id,
        shopper_id=_shopper(data["shopper_id"]).id,
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
    """Reschedule (window, shopper, scenario) or cancel a planned assignment."""
    assignment = get_assignment(user, assignment_id)
    if data.get("status") == "cancelled" and assignment.status == "cancelled":
        return assignment
    if assignment.status != "planned":
        raise Conflict(f"Assignment {assignment.id} is {assignment.status}; "
                       "only a planned assignment can change.")
    changes = {}
    for name in ("window_start", "window_end", "scenario"):
        if name in data and data[name] != getattr(assignment, name):
            changes[name] = data[name]
    if "shopper_id" in data and data["shopper_id"] != assignment.shopper_id:
        changes["shopper_id"] = _shopper(data["shopper_id"]).id
    for name, value in changes.items():
        setattr(assignment, name, value)
    if {"window_start", "window_end"} & changes.keys():
        _check_window(assignment)
    if data.get("status") == "cancelled":
        assignment.status = changes["status"] = "cancelled"
    if changes:
        record(user, "cancel" if "status" in changes else "reschedule", "assignment",
               assignment.id, reason=data.get("reason"),
               **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in changes.items()})
    return assignment


def _mystery_checklist(slug: str) -> Checklist:
    checklist = db.session.scalars(select(Checklist).where(Checklist.slug == slug)).first()
    if checklist is None or checklist.kind != "mystery" or checklist.retired_at is not None:
        raise Invalid(f"{slug} is not a current mystery-visit checklist.",
                      {"json": {"checklist": ["Not a current mystery-visit checklist."]}})
    return checklist


def _shopper(user_id: int) -> User:
    shopper = db.session.get(User, user_id)
    if shopper is None or shopper.role != "shopper" or not shopper.active:
        raise Invalid(f"User {user_id} is not an active mystery shopper.",
                      {"json": {"shopper_id": ["Not an active mystery shopper."]}})
    return shopper


def _check_window(assignment: Assignment) -> None:
    if assignment.window_end <= assignment.window_start:
        raise Invalid("The window must end after it starts.",
                      {"json": {"window_end": ["Must be after window_start."]}})
    if assignment.window_end <= utcnow():
        raise Invalid("The window is already over.",
                      {"json": {"window_end": ["Must be in the future."]}})
