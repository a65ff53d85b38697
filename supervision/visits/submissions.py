"""Each submission of a visit, kept as it was sent: the first, and each one after a reviewer
returned the visit, with what changed since the one before — so that the reviewer sees what the
shopper fixed, and no answer changes without a trace."""

from sqlalchemy import select

from supervision.db import db, utcnow
from supervision.scoping import get_visit, get_visit_history, sees_store_version
from supervision.visits.changes import STORE_SIDE_KINDS, changes_of, record_change
from supervision.visits.models import Submission, Visit

# The fields of an answer compared between submissions (not `at`: re-answering moves it).
COMPARED = ("value", "na", "note", "staff", "flagged")
BLANK = {"value": None, "na": False, "note": None, "staff": None, "flagged": False}


def record_submission(user, visit: Visit) -> Submission:
    """Keep the visit as it is submitted now, numbered after the submissions before; a
    returned visit's submission answers the reviewer's comment, and goes into the visit's
    change record (call it once the visit was scored: its total is the total after)."""
    previous = db.session.scalars(
        select(Submission).where(Submission.visit_id == visit.id)
        .order_by(Submission.number.desc()).limit(1)).first()
    snapshot = snapshot_of(visit)
    submission = Submission(
        visit_id=visit.id, number=previous.number + 1 if previous else 1,
        submitted_at=utcnow(), submitted_by_id=user.id,
        answers_comment=visit.review_comment if visit.status == "rejected" else None,
        snapshot=snapshot, changes=changes_between(previous.snapshot, snapshot) if previous else [])
    db.session.add(submission)
    if previous is not None:
        record_change(visit, "resubmission", user, submission.changes,
                      previous.snapshot.get("total"), reason=submission.answers_comment)
    return submission


def snapshot_of(visit: Visit) -> dict:
    """The visit's content as JSON: answers, received photos, moments, notes and the total."""
    return {
        "responses": [{"item": r.item_id, **{key: getattr(r, key) for key in COMPARED},
                       "at": r.at.isoformat() if r.at else None}
                      for r in sorted(visit.responses, key=lambda r: r.item_id)],
        "photos": [{"id": str(p.id), "item": p.item_id, "content_hash": p.content_hash}
                   for p in visit.photos],
        "moments": [dict(m) for m in visit.moments or ()],
        "notes": visit.notes,
        "total": visit.total,
    }


def changes_between(before: dict, after: dict) -> list[dict]:
    """[{item, field, old, new}]: each answer field that changed (item = the checklist item),
    the photos of an item (item "photo", field = the checklist item, old/new = photo ids), a
    moment (item "moment", field = the moment) and the notes (item "notes")."""
    changes = []
    old_answers, new_answers = _by_item(before["responses"]), _by_item(after["responses"])
    for item in sorted(old_answers.keys() | new_answers.keys()):
        old, new = old_answers.get(item, BLANK), new_answers.get(item, BLANK)
        changes += [{"item": item, "field": key, "old": old.get(key), "new": new.get(key)}
                    for key in COMPARED if old.get(key) != new.get(key)]
    old_photos, new_photos = _photos(before["photos"]), _photos(after["photos"])
    for item in sorted(old_photos.keys() | new_photos.keys()):
        old, new = old_photos.get(item, []), new_photos.get(item, [])
        if old != new:
            changes.append({"item": "photo", "field": item, "old": old, "new": new})
    old_moments, new_moments = _moments(before["moments"]), _moments(after["moments"])
    for moment in sorted(old_moments.keys() | new_moments.keys()):
        if old_moments.get(moment) != new_moments.get(moment):
            changes.append({"item": "moment", "field": moment, "old": old_moments.get(moment),
                            "new": new_moments.get(moment)})
    if (before["notes"] or None) != (after["notes"] or None):
        changes.append({"item": "notes", "field": "notes", "old": before["notes"],
                        "new": after["notes"]})
    return changes


def _by_item(responses: list[dict]) -> dict:
    return {r["item"]: r for r in responses}


def _photos(photos: list[dict]) -> dict:
    by_item = {}
    for photo in photos:
        by_item.setdefault(photo["item"], []).append(photo["id"])
    return {item: sorted(ids) for item, ids in by_item.items()}


def _moments(moments: list[dict]) -> dict:
    return {m["moment"]: m["at"] for m in moments}


def submissions_of(user, visit_id) -> list[Submission]:
    """A visit's submissions, first to last, for its author and its reviewers (404 otherwise)."""
    visit = get_visit_history(user, visit_id)
    return list(db.session.scalars(select(Submission).where(Submission.visit_id == visit.id)
                                   .order_by(Submission.number)))


def history_of(user, visit_id) -> list[dict]:
    """The visit's change record, oldest first, for whoever may see the visit: its author and
    its reviewers read every change; the store's side only the answers corrected on its
    queries, and not who corrected them."""
    visit = get_visit(user, visit_id)
    store_side = sees_store_version(user) and visit.author_id != user.id
    return [{"kind": c.kind, "at": c.at, "by_id": None if store_side else c.by_id,
             "reason": c.reason, "query_id": c.query_id, "changes": c.changes,
             "total_before": c.total_before, "total_after": c.total_after}
            for c in changes_of(visit.id, STORE_SIDE_KINDS if store_side else None)]
