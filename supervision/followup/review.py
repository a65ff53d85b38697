"""Review of submitted mystery visits: publish to the store's side, or reject to the shopper.

A mystery visit that played the dispute scenario is checked against the store's dispute records
when it is published. The record found is linked to the visit. When the store made none, the
visit gets the reviewer flag `no_dispute_record`, and its item of role `dispute_record` (the
checklist's "dispute record" item), if the shopper answered it as met, is set to failed and the
visit is scored again. That changes a score frozen at submission, on purpose: the shopper
cannot see whether the store wrote the record down, the store's records can; the issue requires
that a store that made none has failed the item. The score stays what `score_visit` gives for
the stored answers against the visit's own checklist version (it is never patched by hand), and
the audit log keeps the old and the new total; so does the visit's change record (a
"review_edit" by the reviewer).

Publishing may carry the reviewer's own corrections (`edits`: item, new answer, reason): they
are applied first, the visit is scored again after each, and each is kept in the change record
with the old and the new answer and the totals before and after.
"""

from sqlalchemy import select

from supervision.accounts.models import User
from supervision.audit.services import record
from supervision.checklists.definition import (
    Answer,
    ChecklistDefinition,
    applies,
    validate_answer,
)
from supervision.checklists.services import definition_of
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid
from supervision.followup.disputes import dispute_record_for
from supervision.followup.models import Dispute
from supervision.followup.services import on_visit_published
from supervision.notifications import triggers as notifications
from supervision.reports import prerender
from supervision.scoping import get_visit
from supervision.transitions import locked
from supervision.visits.changes import record_change
from supervision.visits.models import Response, Visit
from supervision.visits.snapshot import answers_of, freeze_score
from supervision.webhooks import events as webhook_events

# Item statuses that show the dispute moment was played (not N/A, not switched off).
PLAYED = ("met", "partial", "failed", "red_line", "no_bonus")
NOTE_NO_RECORD = "复核：门店无争议记录单 / Review: the store has no dispute record of this visit."
# The fields of an answer a correction is compared on (as a resubmission's changes are).
ANSWER_FIELDS = ("value", "na", "note")


def review_visit(user: User, visit_id, decision: str, comment: str | None,
                 edits: list[dict] = ()) -> Visit:
    """Publish (after the reviewer's `edits`, if any) or reject a submitted mystery visit; the
    same decision again changes nothing. Of two decisions crossing, the second waits for the
    first: the same one is a replay, the other one a 409 naming the state that won."""
    visit = locked(get_visit(user, visit_id))
    if visit.kind != "mystery":
        raise Conflict("Audits are published on submission; only mystery visits are reviewed.")
    target = "published" if decision == "publish" else "rejected"
    if visit.status == target:
        return visit
    if visit.status != "submitted":
        raise Conflict(f"Visit {visit.id} is {visit.status}; only a submitted visit is reviewed.",
                       {"json": {"decision": [f"The visit is {visit.status}."]}})
    if edits and decision == "reject":
        raise Invalid("A returned visit is corrected by its shopper; edits go with publishing.",
                      {"json": {"edits": ["Only when publishing."]}})
    comment = (comment or "").strip() or None
    visit.reviewed_by_id, visit.review_comment = user.id, comment
    if decision == "reject":
        _reject(user, visit)
    else:
        _apply_edits(user, visit, edits)
        _publish(user, visit)
    return visit


def _apply_edits(user: User, visit: Visit, edits: list[dict]) -> None:
    """The reviewer's corrections, one after the other, each scored and kept with its reason;
    an edit that changes nothing leaves no trace."""
    definition = definition_of(visit.checklist_version)
    check_edits(visit, definition, edits)
    for edit in edits:
        correct_answer(user, visit, definition, edit, edit["reason"])


def correct_answer(user: User, visit: Visit, definition: ChecklistDefinition, edit: dict,
                   reason: str, kind: str = "review_edit", query_id: int | None = None
                   ) -> tuple[dict, dict]:
    """Give the edit's item its new answer (checked by check_edits), score the visit again and
    keep the change (`kind`, `reason`); returns the answer before and after."""
    response = _response_of(visit, edit["item"])
    before = _answer(response)
    response.value, response.na = (None, True) if edit["na"] else (edit["value"], False)
    _rescore(user, visit, definition, edit["item"], before, reason, kind, kind, query_id)
    return before, _answer(response)


def check_edits(visit: Visit, definition: ChecklistDefinition, edits: list[dict]) -> None:
    """422 naming each edit's problem: an unknown item, one edited twice, an answer the item
    does not take, an item the answers after the edits switch off."""
    known = {item.id for _, item in definition.items()}
    answers, errors, seen = answers_of(visit), {}, set()
    for index, edit in enumerate(edits):
        item_id = edit["item"]
        if item_id not in known:
            errors[index] = {"item": [f"Unknown item '{item_id}' in {definition.slug}."]}
        elif item_id in seen:
            errors[index] = {"item": ["Edited twice."]}
        elif problem := validate_answer(definition.item(item_id), edit["value"], edit["na"]):
            errors[index] = {"value": [problem]}
        else:
            answers[item_id] = Answer(None if edit["na"] else edit["value"], edit["na"])
        seen.add(item_id)
    for index, edit in enumerate(edits):
        if index not in errors and not applies(definition, definition.item(edit["item"]),
                                               answers):
            errors[index] = {"item": ["Does not apply with the answers after the edits."]}
    if errors:
        raise Invalid(f"{len(errors)} edit(s) cannot be applied.", {"json": {"edits": errors}})


def _response_of(visit: Visit, item_id: str) -> Response:
    response = next((r for r in visit.responses if r.item_id == item_id), None)
    if response is None:
        response = Response(item_id=item_id)
        visit.responses.append(response)
    return response


def _answer(response: Response) -> dict:
    return {"value": response.value, "na": bool(response.na), "note": response.note}


def _reject(user: User, visit: Visit) -> None:
    if not visit.review_comment:
        raise Invalid("Say what the shopper should fix.",
                      {"json": {"comment": ["Required to reject a visit."]}})
    visit.status = "rejected"
    record(user, "reject", "visit", visit.id, comment=visit.review_comment)
    notifications.visit_rejected(visit)
    webhook_events.visit_returned(visit)


def _publish(user: User, visit: Visit) -> None:
    visit.status, visit.published_at = "published", utcnow()
    definition = definition_of(visit.checklist_version)
    visit.queries_close_at = visit.published_at + definition.query_window
    notifications.results_open_to_query(visit)
    dispute_id = check_dispute_record(user, visit, definition)
    on_visit_published(visit, definition)
    prerender.after_commit(visit)
    record(user, "publish", "visit", visit.id, comment=visit.review_comment,
           dispute_id=dispute_id, total=visit.total)


def linked_dispute_ids(visit: Visit) -> list[int]:
    return db.session.scalars(select(Dispute.id).where(Dispute.visit_id == visit.id)).all()


def played_dispute(visit: Visit) -> bool:
    return any(row["moment"] == "dispute" and row["status"] in PLAYED
               for row in (visit.score or {}).get("items", []))


def check_dispute_record(user: User, visit: Visit, definition: ChecklistDefinition) -> int | None:
    """Link the store's record of the played dispute; without one, fail the record item."""
    if not played_dispute(visit):
        return None
    dispute = dispute_record_for(visit)
    while dispute is not None and locked(dispute).visit_id is not None:
        dispute = dispute_record_for(visit)  # linked meanwhile, to a visit published with it
    if dispute is not None:
        dispute.visit_id = visit.id
        record(user, "link", "dispute", dispute.id, visit_id=str(visit.id))
        return dispute.id
    visit.flags = [*(f for f in visit.flags or [] if f.get("code") != "no_dispute_record"), {
        "code": "no_dispute_record",
        "message": "门店没有这次争议的记录单 / The store made no dispute record of this visit.",
    }]
    item = definition.item_for("dispute_record")  # "staff filled in a dispute record" (争议记录单)
    if item is not None:
        _fail_item(user, visit, definition, item.id)
    return None


def _fail_item(user: User, visit: Visit, definition: ChecklistDefinition, item_id: str) -> None:
    item = definition.item(item_id)
    answers = answers_of(visit)
    failing = bool(item.inverse)
    if item.type != "yes_no" or not applies(definition, item, answers):
        return
    if answers.get(item_id) == Answer(failing, False):
        return
    response = _response_of(visit, item_id)
    before = _answer(response)
    response.value, response.na = failing, False
    response.note = f"{response.note}\n{NOTE_NO_RECORD}" if response.note else NOTE_NO_RECORD
    _rescore(user, visit, definition, item_id, before, NOTE_NO_RECORD, "no_dispute_record",
             "review_edit")


def _rescore(user: User, visit: Visit, definition: ChecklistDefinition, item_id: str,
             before: dict, reason: str, cause: str, kind: str, query_id: int | None = None
             ) -> None:
    """Score the visit again after its answer to `item_id` changed from `before`; the audit
    log and the change record keep the old and the new answer and total."""
    after = _answer(_response_of(visit, item_id))
    rows = [{"item": item_id, "field": key, "old": before[key], "new": after[key]}
            for key in ANSWER_FIELDS if before[key] != after[key]]
    if not rows:
        return
    old_total = visit.total
    freeze_score(visit, definition)
    record(user, "rescore", "visit", visit.id, item=item_id, reason=cause,
           old_total=old_total, new_total=visit.total)
    visit.updated_at = utcnow()
    record_change(visit, kind, user, rows, old_total, reason=reason, query_id=query_id)
