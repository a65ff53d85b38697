"""Follow-up of a submitted visit: its assignment, reviewer flags, proposed and verified actions.

The visits service calls `on_visit_submitted` once a visit is submitted; the review calls
`on_visit_published` when a manager publishes a mystery visit.
"""

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from supervision.audit.services import record
from supervision.checklists.definition import ChecklistDefinition
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid
from supervision.followup.models import Action, Assignment
from supervision.followup.proposals import propose_actions
from supervision.notifications import triggers as notifications
from supervision.plans.followups import propose_followup
from supervision.plans.services import fulfil_due_visits
from supervision.transitions import locked
from supervision.visits import integrity
from supervision.visits.models import Visit
from supervision.visits.timers import (
    interval_seconds,
    moment_times,
    timer_mismatch,
    whole_minutes,
)
from supervision.webhooks import events as webhook_events

# Mean Earth radius (IUGG), for the haversine distance.
EARTH_RADIUS_M = 6_371_008.8
# The flags this module sets; others' flags on the visit are left alone.
OWN_FLAGS = ("outside_window", "far_from_store", "assignment_cancelled", "timer_mismatch",
             *integrity.CODES)


def on_visit_submitted(visit: Visit, definition: ChecklistDefinition,
                       score: dict | None = None) -> None:
    """Follow up a visit that was just submitted; call it in the submitting transaction, after
    the visit's status is set (audit → published, mystery → submitted) and its score frozen.

    1. ties the visit to its assignment (the one named by `visit.assignment_id`, or else the
       author's only open one for this store and checklist), marking it done; raises Invalid
       (422) or Conflict (409) when the named assignment does not fit;
    2. flags it for the reviewer (never refuses it): started outside the assignment window,
       sent from farther from the store than its geofence, made for a cancelled assignment,
       or stating a duration its timers contradict, and the evidence integrity signals
       (supervision/visits/integrity.py: reused photos and text, photo times, dwell, totals);
    3. for a visit published at once (an audit), does what publication does (see below) —
       unless it is a calibration visit (supervision/reports/calibration.py).

    Safe to call again when a rejected visit is submitted anew: the flags are computed afresh.
    """
    tie_assignment(visit)
    fulfil_due_visits(visit)
    set_flags(visit, definition)
    webhook_events.visit_submitted(visit)
    # A calibration visit is a second rating of another visit: no actions, no one told.
    if visit.status == "published" and visit.calibrates_id is None:
        on_visit_published(visit, definition, visit.score if score is None else score)


def on_visit_published(visit: Visit, definition: ChecklistDefinition,
                       score: dict | None = None) -> None:
    """The visit reached the store's side (an audit on submission, a mystery visit once a
    manager publishes it): propose an action for each coached gap (with its coaching question),
    verify the store's earlier actions whose item this visit shows met, and notify the
    region's managers. Mystery visits get all this only now, so that nothing about an
    unpublished one reaches the store."""
    propose_actions(visit, definition, visit.score if score is None else score)
    propose_followup(visit, definition, visit.score if score is None else score)
    verify_actions(visit)
    notifications.visit_published(visit)
    webhook_events.visit_published(visit)


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


def set_flags(visit: Visit, definition: ChecklistDefinition) -> None:
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
    flags.extend(timer_flags(visit, definition))
    flags.extend(integrity.integrity_flags(visit, definition, assignment))
    visit.flags = flags


def timer_flags(visit: Visit, definition: ChecklistDefinition) -> list[dict]:
    """A number item stating an interval's duration (minutes) that its timers contradict. The
    durations are the report's own (first press of start → first press of end)."""
    seconds = interval_seconds(moment_times(visit, ZoneInfo(visit.store.timezone)), definition)
    answers = {r.item_id: r.value for r in visit.responses if not r.na}
    flags = []
    for _, item in definition.items():
        answer = answers.get(item.id)
        if item.interval not in seconds or isinstance(answer, bool) \
                or not isinstance(answer, int | float):
            continue
        timer, text = whole_minutes(seconds[item.interval]), item.report_text or item.text
        if timer_mismatch(answer, timer):
            flags.append({
                "code": "timer_mismatch",
                "message": f"{text.zh}：回答 {answer:g} 分钟，计时为 {timer} 分钟 / "
                           f"{text.en}: answered {answer:g} min, the timers say {timer} min.",
                "item": item.id, "answer": answer, "timer_minutes": timer,
            })
    return flags


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


def verify_actions(visit: Visit) -> list[Action]:
    """Open or done actions of the store whose item this later visit shows met are verified."""
    met = [row["item"] for row in (visit.score or {}).get("items", []) if row["status"] == "met"]
    if not met:
        return []
    candidates = db.session.scalars(select(Action).where(
        Action.store_id == visit.store_id, Action.item_id.in_(met),
        Action.status.in_(("agreed", "reopened", "done"))).order_by(Action.id)).all()
    # Locked in id order (no deadlock between two publications), then decided on the state
    # that holds: an action marked done or dismissed meanwhile is seen as it is now.
    verified = [a for a in candidates
                if _is_later(visit, a) and locked(a).status in ("agreed", "reopened", "done")]
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
