"""Corrective actions: confirm or add, mark done with a note and a photo, verify, list overdue."""

from datetime import timedelta

from sqlalchemy.orm import selectinload

from supervision.accounts.models import User
from supervision.audit.services import record
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid
from supervision.followup.models import ACTION_PENDING, Action
from supervision.scoping import (
    get_action,
    get_store,
    get_visit,
    scoped_actions,
    scoped_visits,
)
from supervision.transitions import locked
from supervision.visits.models import Photo, Visit

# Which status may follow which, when asked through the API (verification also happens by
# itself at the next visit, see services.verify_actions).
TRANSITIONS = {
    "proposed": ("agreed", "dismissed"),
    "agreed": ("done",),
    "done": ("verified",),
    "verified": (),
    "dismissed": (),
}
EDITABLE = ("title", "coaching_question", "owner", "due_date")
# The column a person edits → its entry of Action.texts (both languages of a proposal).
GENERATED = {"title": "title", "coaching_question": "question"}
PHOTO_RECEIVED = ("received", "processed")


def list_actions(user: User, filters: dict) -> list[Action]:
    query = scoped_actions(user)
    for name in ("store_id", "visit_id", "status"):
        if name in filters:
            query = query.where(getattr(Action, name) == filters[name])
    if filters.get("overdue"):
        # Only an agreed (open) action can be overdue, never a proposal. Due dates are local
        # to each store: narrow in SQL, decide per store's time zone.
        query = query.where(Action.status.in_(ACTION_PENDING),
                            Action.due_date < (utcnow() + timedelta(days=1)).date())
    actions = db.session.scalars(query.options(selectinload(Action.store))).all()
    if "overdue" in filters:
        actions = [a for a in actions if a.overdue == filters["overdue"]]
    return actions


def create_action(user: User, data: dict) -> Action:
    """An action the supervisor adds by hand: agreed with the store, so open at once."""
    store = get_store(user, data["store_id"])
    if data.get("visit_id") is not None:
        visit = get_visit(user, data["visit_id"])
        if visit.store_id != store.id:
            raise Invalid("The visit is of another store.",
                          {"json": {"visit_id": ["Not a visit of this store."]}})
    action = Action(status="agreed", agreed_at=utcnow(), created_by_id=user.id, **data)
    db.session.add(action)
    db.session.flush()
    record(user, "create", "action", action.id, store_id=store.id, title=action.title,
           due_date=action.due_date.isoformat())
    return action


def update_action(user: User, action_id: int, data: dict) -> Action:
    """Edit, confirm (proposed → open), dismiss, mark done (note + photo) or verify."""
    action = locked(get_action(user, action_id))
    status = data.get("status", action.status)
    if status != action.status and status not in TRANSITIONS[action.status]:
        allowed = ", ".join(TRANSITIONS[action.status]) or "nothing"
        raise Conflict(f"An action that is {action.status} cannot become {status}; "
                       f"it can become: {allowed}.",
                       {"json": {"status": [f"The action is {action.status}."]}})
    edits = {k: data[k] for k in EDITABLE if k in data and data[k] != getattr(action, k)}
    if edits and status not in ("proposed", "agreed"):
        raise Conflict(f"An action that is {status} can no longer be edited.",
                       {"json": {k: ["Cannot change now."] for k in edits}})
    for name, value in edits.items():
        setattr(action, name, value)
    _drop_generated(action, edits)
    if status != action.status:
        _STEPS[status](user, action, data)
    if edits or status != action.status:
        record(user, "update", "action", action.id, status=status, **_plain(edits))
        action.status = status
    return action


def _drop_generated(action: Action, edits: dict) -> None:
    """A person's words win: an edited title or question no longer has generated translations,
    so every report prints the words as written."""
    dropped = {GENERATED[name] for name in edits if name in GENERATED}
    if action.texts and dropped & set(action.texts):
        action.texts = {k: v for k, v in action.texts.items() if k not in dropped} or None


def _confirm(user: User, action: Action, data: dict) -> None:
    if not action.owner or action.due_date is None:
        raise Invalid("An open action needs an owner and a due date.",
                      {"json": {"owner" if not action.owner else "due_date": ["Missing."]}})


def _dismiss(user: User, action: Action, data: dict) -> None:
    pass


def _done(user: User, action: Action, data: dict) -> None:
    missing = [name for name in ("note", "evidence_photo_id") if not data.get(name)]
    if missing:
        raise Invalid("Marking an action done needs a note and an evidence photo.",
                      {"json": {name: ["Missing."] for name in missing}})
    action.evidence_photo_id = _evidence_photo(user, action, data["evidence_photo_id"]).id
    action.done_note, action.done_at = data["note"], utcnow()


def _verify(user: User, action: Action, data: dict) -> None:
    action.verified_at = utcnow()
    if data.get("visit_id") is None:
        return
    visit = get_visit(user, data["visit_id"])
    if visit.store_id != action.store_id or visit.status != "published":
        raise Invalid("Verify with a published visit of the action's store.",
                      {"json": {"visit_id": ["Not a published visit of this store."]}})
    action.verified_visit_id = visit.id


_STEPS = {"agreed": _confirm, "dismissed": _dismiss, "done": _done, "verified": _verify}


def _evidence_photo(user: User, action: Action, photo_id) -> Photo:
    """A photo already received for a visit of the same store that the user may see."""
    photo = db.session.get(Photo, photo_id)
    visit = photo and db.session.scalars(
        scoped_visits(user).where(Visit.id == photo.visit_id)).first()
    if not visit or visit.store_id != action.store_id or photo.status not in PHOTO_RECEIVED:
        raise Invalid("The evidence photo must be uploaded to a visit of this store first.",
                      {"json": {"evidence_photo_id": [
                          "No received photo with this id in a visit of this store."]}})
    return photo


def _plain(values: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}
