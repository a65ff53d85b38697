"""Follow-up of a submitted visit: its assignment, reviewer flags, proposed and verified actions.

The visits service calls `on_visit_submitted` once a visit is submitted; the review calls
`on_visit_published` when a manager publishes a mystery visit.
"""

import math
from datetime import datetime

from sqlalchemy import delete, select

from supervision.audit.services import record
from supervision.checklists.definition import ChecklistDefinition, Item, Text
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid
from supervision.followup.duedates import action_due
from supervision.followup.models import Action, Assignment
from supervision.notifications import triggers as notifications
from supervision.transitions import locked
from supervision.visits.models import Visit

# Mean Earth radius (IUGG), for the haversine distance.
EARTH_RADIUS_M = 6_371_008.8
# The flags this module sets; others' flags on the visit are left alone.
OWN_FLAGS = ("outside_window", "far_from_store", "assignment_cancelled")
UNFINISHED = ("proposed", "open")


def on_visit_submitted(visit: Visit, definition: ChecklistDefinition,
                       score: dict | None = None) -> None:
    """Follow up a visit that was just submitted; call it in the submitting transaction, after
    the visit's status is set (audit → published, mystery → submitted) and its score frozen.

    1. ties the visit to its assignment (the one named by `visit.assignment_id`, or else the
       author's only open one for this store and checklist), marking it done; raises Invalid
       (422) or Conflict (409) when the named assignment does not fit;
    2. flags it for the reviewer (never refuses it): started outside the assignment window,
       sent from farther from the store than its geofence, or made for a cancelled assignment;
    3. for a visit published at once (an audit), does what publication does (see below).

    Safe to call again when a rejected visit is submitted anew: the flags are computed afresh.
    """
    tie_assignment(visit)
    set_flags(visit)
    if visit.status == "published":
        on_visit_published(visit, definition, visit.score if score is None else score)


def on_visit_published(visit: Visit, definition: ChecklistDefinition,
                       score: dict | None = None) -> None:
    """The visit reached the store's side (an audit on submission, a mystery visit once a
    manager publishes it): propose an action for each failed red line and must-be item,
    verify the store's earlier actions whose item this visit shows met, and notify the
    region's managers. Mystery visits get all this only now, so that nothing about an
    unpublished one reaches the store."""
    propose_actions(visit, definition, visit.score if score is None else score)
    verify_actions(visit)
    notifications.visit_published(visit)


def tie_assignment(visit: Visit) -> None:
    if visit.assignment_id is None and visit.kind == "mystery":
        visit.assignment_id = _matching_assignment(visit)
    if visit.assignment_id is None:
        return
    assignment = db.session.get(Assignment, visit.assignment_id)
    if assignment is not None:  # a cancel or another visit crossing this one: one of them wins
        locked(assignment)
    check_assignment(assignment, visit)
    if assignment.status == "planned":
        assignment.status = "done"
        record(visit.author, "complete", "assignment", assignment.id, visit_id=str(visit.id))


def check_assignment(assignment: Assignment | None, visit: Visit) -> None:
    """Raise unless `visit` may be made for `assignment` (also usable when a draft is saved).
    A cancelled assignment does not block: the visit may already have been made; it is
    flagged for the reviewer instead."""
    field = "assignment_id"
    # An administrator may stand in for the shopper (the visits API lets it record any visit).
    if assignment is None or (assignment.shopper_id != visit.author_id
                              and visit.author.role != "admin"):
        raise Invalid(f"Assignment {visit.assignment_id} is not one of your assignments.",
                      {"json": {field: ["Not one of your assignments."]}})
    if assignment.store_id != visit.store_id:
        raise Invalid(f"Assignment {assignment.id} is for another store.",
                      {"json": {"store_id": ["Not the store of the assignment."]}})
    if assignment.checklist_id != visit.checklist_version.checklist_id:
        raise Invalid(f"Assignment {assignment.id} uses another checklist.",
                      {"json": {"checklist": ["Not the checklist of the assignment."]}})
    if _taken(assignment, visit):
        raise Conflict(f"Assignment {assignment.id} already has a submitted visit.",
                       {"json": {field: ["Another visit was already submitted for it."]}})


def _matching_assignment(visit: Visit) -> int | None:
    """The author's assignment for this store and checklist that no other visit carried out,
    when there is one only (or only one whose window holds the visit's start). A done one
    counts: a rejected visit sent again without its assignment id is still its visit."""
    candidates = [a for a in db.session.scalars(select(Assignment).where(
        Assignment.shopper_id == visit.author_id, Assignment.store_id == visit.store_id,
        Assignment.checklist_id == visit.checklist_version.checklist_id,
        Assignment.status != "cancelled")) if not _taken(a, visit)]
    if len(candidates) > 1:
        candidates = [a for a in candidates if _in_window(a, visit.started_at)]
    return candidates[0].id if len(candidates) == 1 else None


def _taken(assignment: Assignment, visit: Visit) -> bool:
    """Another visit was submitted for the assignment."""
    return any(v.id != visit.id and v.status != "draft" for v in assignment.visits)


def _in_window(assignment: Assignment, moment: datetime) -> bool:
    return assignment.window_start <= moment <= assignment.window_end


def set_flags(visit: Visit) -> None:
    """Flag (never reject) what the reviewer should look at; the shopper may have had reasons."""
    flags = [f for f in visit.flags or [] if f.get("code") not in OWN_FLAGS]
    assignment = db.session.get(Assignment, visit.assignment_id) if visit.assignment_id else None
    if assignment is not None and not _in_window(assignment, visit.started_at):
        flags.append({
            "code": "outside_window",
            "message": "访问不在任务时间窗内 / The visit started outside the assignment window.",
            "started_at": visit.started_at.isoformat(),
            "window_start": assignment.window_start.isoformat(),
            "window_end": assignment.window_end.isoformat(),
        })
    if assignment is not None and assignment.status == "cancelled":
        flags.append({
            "code": "assignment_cancelled",
            "message": "任务已取消 / The assignment was cancelled before the visit was sent.",
        })
    distance = store_distance_m(visit)
    if distance is not None and distance > visit.store.geofence_m:
        flags.append({
            "code": "far_from_store",
            "message": "定位离门店较远 / The visit was sent far from the store.",
            "distance_m": round(distance),
            "geofence_m": visit.store.geofence_m,
            "accuracy_m": visit.accuracy_m,
        })
    visit.flags = flags


def store_distance_m(visit: Visit) -> float | None:
    """Metres between the visit's location and its store, when both are known."""
    store = visit.store
    if None in (visit.lat, visit.lon, store.lat, store.lon):
        return None
    return haversine_m(visit.lat, visit.lon, store.lat, store.lon)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (ample precision for a geofence of a few hundred metres)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def failed_kind(row: dict) -> str | None:
    """'red_line' or 'must_be' for a score row that needs an action, None otherwise."""
    if row["status"] == "red_line":
        return "red_line"
    if row["status"] == "failed" and row.get("kano") == "must_be":
        return "must_be"
    return None


def propose_actions(visit: Visit, definition: ChecklistDefinition, score: dict) -> list[Action]:
    """One proposed action per failed red line and must-be item, unless the store already has
    an unfinished action for that item. Replaces the visit's own earlier proposals."""
    withdraw_proposals(visit)
    proposed = []
    for row in score.get("items", []):
        kind = failed_kind(row)
        if kind and not unfinished_exists(visit.store_id, row["item"]):
            proposed.append(propose_action(visit, definition.item(row["item"]), kind))
    return proposed


def propose_action(visit: Visit, item: Item, kind: str) -> Action:
    action = Action(
        store_id=visit.store_id, visit_id=visit.id, item_id=item.id, status="proposed",
        title=action_title(item), coaching_question=_both(item.coaching_question),
        owner=visit.store.manager_name,
        due_date=action_due(kind, visit.started_at, visit.store.timezone),
    )
    db.session.add(action)
    db.session.flush()
    record(None, "propose", "action", action.id, visit_id=str(visit.id), item=item.id,
           kind=kind, due_date=action.due_date.isoformat())
    return action


def withdraw_proposals(visit: Visit) -> None:
    """Drop the unconfirmed proposals of a visit, so that following it up again (the hook run
    twice) proposes each action once."""
    ids = db.session.scalars(select(Action.id).where(
        Action.visit_id == visit.id, Action.status == "proposed")).all()
    if ids:
        db.session.execute(delete(Action).where(Action.id.in_(ids)))
    for action_id in ids:
        record(None, "withdraw", "action", action_id, visit_id=str(visit.id))


def unfinished_exists(store_id: int, item_id: str) -> bool:
    return db.session.scalar(select(Action.id).where(
        Action.store_id == store_id, Action.item_id == item_id,
        Action.status.in_(UNFINISHED)).limit(1)) is not None


def action_title(item: Item) -> str:
    """A red line stated as a bad behaviour (inverse) is to stop; any other item to fix."""
    zh, en = ("杜绝", "Stop") if item.inverse else ("整改", "Fix")
    return f"{zh}：{item.text.zh} / {en}: {item.text.en}"


def _both(text: Text | None) -> str | None:
    return None if text is None else f"{text.zh} / {text.en}"


def verify_actions(visit: Visit) -> list[Action]:
    """Open or done actions of the store whose item this later visit shows met are verified."""
    met = [row["item"] for row in (visit.score or {}).get("items", []) if row["status"] == "met"]
    if not met:
        return []
    candidates = db.session.scalars(select(Action).where(
        Action.store_id == visit.store_id, Action.item_id.in_(met),
        Action.status.in_(("open", "done"))).order_by(Action.id)).all()
    # Locked in id order (no deadlock between two publications), then decided on the state
    # that holds: an action marked done or dismissed meanwhile is seen as it is now.
    verified = [a for a in candidates
                if _is_later(visit, a) and locked(a).status in ("open", "done")]
    for action in verified:
        action.status, action.verified_at = "verified", utcnow()
        action.verified_visit_id = visit.id
        record(None, "verify", "action", action.id, visit_id=str(visit.id))
    return verified


def _is_later(visit: Visit, action: Action) -> bool:
    """Whether `visit` took place after the visit (or the creation) that gave the action."""
    if action.visit_id == visit.id:
        return False
    source = db.session.get(Visit, action.visit_id) if action.visit_id else None
    return visit.started_at > (source.started_at if source else action.created_at)
