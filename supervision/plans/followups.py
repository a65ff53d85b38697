"""Follow-up re-visits: a visit that failed (a red line, or a total in the checklist's lowest
grade band) proposes a visit of the same checklist at the same store within the checklist's
`followup_days` (default 15), for the items that failed. The visit that fulfils it
(plans.services.fulfil_due_visits) compares those items before and after in its report."""

from datetime import timedelta

from sqlalchemy import select

from supervision.audit.services import record
from supervision.checklists.definition import ChecklistDefinition
from supervision.db import db
from supervision.followup.duedates import local_date
from supervision.plans.models import DueVisit
from supervision.visits.models import Visit

# The statuses of an item that did not meet its standard (an unanswered one is no finding).
FAILED = ("red_line", "failed", "partial")


def failed_items(score: dict) -> list[str]:
    """The items of a score that lost points or crossed a red line, in checklist order."""
    return [row["item"] for row in score.get("items", [])
            if row["status"] == "red_line"
            or (row["status"] in FAILED and row["possible"] - row["earned"] > 0)]


def failed(visit: Visit, definition: ChecklistDefinition) -> bool:
    return bool(visit.red_line) or visit.grade == definition.grades[-1].id


def propose_followup(visit: Visit, definition: ChecklistDefinition,
                     score: dict) -> DueVisit | None:
    """The follow-up of a published visit that failed: one per visit (a second publication of
    the same visit changes nothing); none for a calibration or excluded visit."""
    if visit.calibrates_id is not None or visit.excluded is not None:
        return None
    if not failed(visit, definition):
        return None
    existing = db.session.scalars(select(DueVisit).where(
        DueVisit.source_visit_id == visit.id, DueVisit.kind == "followup")).first()
    if existing is not None:
        return existing
    published = local_date(visit.published_at or visit.submitted_at or visit.started_at,
                           visit.store.timezone)
    due = DueVisit(
        kind="followup", store_id=visit.store_id,
        checklist_id=visit.checklist_version.checklist_id,
        supervisor_id=visit.author_id if visit.kind == "audit" else None,
        due_from=published + timedelta(days=1),
        due_until=published + timedelta(days=definition.followup_delay_days),
        status="due", source_visit_id=visit.id, items=failed_items(score))
    db.session.add(due)
    db.session.flush()
    record(None, "propose", "followup", due.id, visit_id=str(visit.id), items=due.items,
           due_until=due.due_until.isoformat())
    return due
