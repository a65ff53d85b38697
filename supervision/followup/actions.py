"""Corrective actions: agree or dismiss a proposal, add one, mark done with a note and photos,
approve or reject the fix, list overdue."""

from datetime import timedelta

from sqlalchemy.orm import selectinload

from supervision.accounts.models import User
from supervision.audit.services import record
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid
from supervision.followup.models import ACTION_PENDING, Action, ActionEvidence
from supervision.notifications import triggers as notifications
from supervision.scoping import (
    get_action,
    get_store,
    get_visit,
    scoped_actions,
    scoped_visits,
)
from supervision.stores.models import Staff
from supervision.transitions import locked
from supervision.visits.models import Photo, Visit

# Which status may follow which through PATCH. A done action is approved (verified) or rejected
# (reopened) through `decide`; a later visit that meets the item verifies it too (see
# services.verify_actions).
TRANSITIONS = {
    "proposed": ("agreed", "dismissed"),
    "agreed": ("done",),
    "reopened": ("done",),
    "done": (),
    "verified": (),
    "dismissed": (),
}
EDITABLE = ("title", "coaching_question", "owner_staff_id", "due_date")
# Where an action's wording, owner and due date may still change.
OPEN_TO_EDITS = ("proposed", "agreed", "reopened")
# The column a person edits → its entry of Action.texts (both languages of a proposal).
GENERATED = {"title": "title", "coaching_question": "question"}
PHOTO_RECEIVED = ("received", "processed")
# A decision on a done action → the status it leads to.
OUTCOMES = {"approve": "verified", "reject": "reopened"}


# What ActionSchema reads, loaded for a whole list at once.
ACTION_LOADS = (selectinload(Action.store), selectinload(Action.owner_staff),
                selectinload(Action.evidence))


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
    actions = db.session.scalars(query.options(*ACTION_LOADS)).all()
    if "overdue" in filters:
        actions = [a for a in actions if a.overdue == filters["overdue"]]
    return actions


def create_action(user: User, data: dict) -> Action:
    """An action the supervisor adds by hand: agreed with the store, so open at once. Its owner
    is a person of the store's roster (owner_staff_id), or a name (owner) for a store whose
    roster is not kept yet."""
    store = get_store(user, data["store_id"])
    if data.get("visit_id") is not None:
        visit = get_visit(user, data["visit_id"])
        if visit.store_id != store.id:
            raise Invalid("The visit is of another store.",
                          {"json": {"visit_id": ["Not a visit of this store."]}})
    if data.get("owner_staff_id") is not None:
        data["owner"] = roster_member(store.id, data["owner_staff_id"]).name
    elif not data.get("owner"):
        raise Invalid("An action needs an owner: a person of the store's roster.",
                      {"json": {"owner_staff_id": ["Missing."]}})
    action = Action(status="agreed", agreed_at=utcnow(), created_by_id=user.id, **data)
    db.session.add(action)
    db.session.flush()
    record(user, "create", "action", action.id, store_id=store.id, title=action.title,
           due_date=action.due_date.isoformat())
    return action


def update_action(user: User, action_id: int, data: dict) -> Action:
    """Edit; agree (owner from the roster, due date), dismiss (with a reason), or mark done
    (a note and the photos of the fix)."""
    action = locked(get_action(user, action_id))
    status = data.get("status", action.status)
    if status != action.status and status not in TRANSITIONS[action.status]:
        allowed = ", ".join(TRANSITIONS[action.status]) or "nothing"
        raise Conflict(f"An action that is {action.status} cannot become {status}; "
                       f"it can become: {allowed}.",
                       {"json": {"status": [f"The action is {action.status}."]}})
    edits = {k: data[k] for k in EDITABLE if k in data and data[k] != getattr(action, k)}
    if edits and (status not in OPEN_TO_EDITS or action.status not in OPEN_TO_EDITS):
        raise Conflict(f"An action that is {status} can no longer be edited.",
                       {"json": {k: ["Cannot change now."] for k in edits}})
    if "owner_staff_id" in edits:
        action.owner = roster_member(action.store_id, edits["owner_staff_id"]).name
    for name, value in edits.items():
        setattr(action, name, value)
    _drop_generated(action, edits)
    if status != action.status:
        _STEPS[status](user, action, data)
    if edits or status != action.status:
        record(user, "update", "action", action.id, status=status, **_plain(edits))
        action.status = status
    return action


def decide(user: User, action_id: int, data: dict) -> Action:
    """Approve a done action (verified) or reject it (reopened, with the reason and perhaps a
    new due date; the store's managers are told why). The same decision again changes nothing."""
    action = locked(get_action(user, action_id))
    decision, comment = data["decision"], data["comment"]
    if _decided_already(user, action, data):
        return action
    if action.status != "done":
        raise Conflict(f"Only a done action is approved or rejected; this one is "
                       f"{action.status}.", {"json": {"decision": [
                           f"The action is {action.status}."]}})
    if decision == "reject" and not comment:
        raise Invalid("Say why the fix is rejected.", {"json": {"comment": ["Missing."]}})
    action.status = OUTCOMES[decision]
    action.decided_by_id, action.decided_at, action.decision_comment = user.id, utcnow(), comment
    if decision == "approve":
        action.verified_at = action.decided_at
    elif data.get("due_date") is not None:
        action.due_date = data["due_date"]
    record(user, decision, "action", action.id, comment=comment,
           due_date=action.due_date.isoformat() if action.due_date else None)
    if decision == "reject":
        notifications.fix_rejected(action)
    return action


def _decided_already(user: User, action: Action, data: dict) -> bool:
    """A replay of the decision that made the action what it is now."""
    return (action.status == OUTCOMES[data["decision"]] and action.decided_by_id == user.id
            and action.decision_comment == data["comment"]
            and data.get("due_date") in (None, action.due_date))


def roster_member(store_id: int, staff_id: int) -> Staff:
    """An active person of the store's roster; 422 naming owner_staff_id otherwise."""
    staff = db.session.get(Staff, staff_id)
    if staff is None or staff.store_id != store_id or not staff.active:
        raise Invalid(f"Staff member {staff_id} is not on this store's roster.",
                      {"json": {"owner_staff_id": ["Not an active member of the store's staff."]}})
    return staff


def _drop_generated(action: Action, edits: dict) -> None:
    """A person's words win: an edited title or question no longer has generated translations,
    so every report prints the words as written."""
    dropped = {GENERATED[name] for name in edits if name in GENERATED}
    if action.texts and dropped & set(action.texts):
        action.texts = {k: v for k, v in action.texts.items() if k not in dropped} or None


def _agree(user: User, action: Action, data: dict) -> None:
    """Owner from the roster (still at the store); the due date stays the proposal's (from the
    item's severity) unless given."""
    if action.owner_staff_id is None:
        raise Invalid("Agreeing an action needs its owner, from the store's roster.",
                      {"json": {"owner_staff_id": ["Missing."]}})
    roster_member(action.store_id, action.owner_staff_id)
    if action.due_date is None:
        raise Invalid("Agreeing an action needs a due date.", {"json": {"due_date": ["Missing."]}})
    action.agreed_at = utcnow()


def _dismiss(user: User, action: Action, data: dict) -> None:
    if not data.get("reason"):
        raise Invalid("Dismissing a proposal needs a reason.", {"json": {"reason": ["Missing."]}})
    action.dismiss_reason = data["reason"]


def _done(user: User, action: Action, data: dict) -> None:
    """A note and at least one photo of the fix received since the action was (re)opened (or a
    photo of a visit of the store, as before the store had its app)."""
    errors = {}
    if not data.get("note"):
        errors["note"] = ["Missing."]
    if not data.get("evidence_photo_id") and not fresh_evidence(action):
        errors["evidence"] = [f"Upload a photo of the fix first: PUT /api/v1/actions/"
                              f"{action.id}/evidence/{{photo_id}}."]
    if errors:
        raise Invalid("Marking an action done needs a note and at least one photo of the fix.",
                      {"json": errors})
    if data.get("evidence_photo_id"):
        action.evidence_photo_id = _evidence_photo(user, action, data["evidence_photo_id"]).id
    action.done_note, action.done_at = data["note"], utcnow()


def fresh_evidence(action: Action) -> list[ActionEvidence]:
    """The photos of the fix received (and not found corrupt) since a rejection reopened it."""
    since = action.decided_at if action.status == "reopened" else None
    return [e for e in action.evidence if e.status in PHOTO_RECEIVED
            and (since is None or e.received_at > since)]


_STEPS = {"agreed": _agree, "dismissed": _dismiss, "done": _done}


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
