"""The change record of submitted visits: every change after submission — a reviewer's edit,
an answer amended on the store's query, a resubmission after the visit was returned — kept with
who, when, why, the old and new values and the total before and after. The visit page and the
reports mark the changed items from it."""

from sqlalchemy import select

from supervision.db import db, utcnow
from supervision.visits.models import Visit, VisitChange

# Seen from the store's side: only what was corrected on its own query (the rest happened
# before the store saw the result, or would show the shopper's edits).
STORE_SIDE_KINDS = ("query_amend",)


def record_change(visit: Visit, kind: str, by, changes: list[dict], total_before: float | None,
                  reason: str | None = None, query_id: int | None = None) -> VisitChange:
    """Keep one change of `visit` (call it after the visit was scored again: `visit.total` is
    the total after). `changes` is [{item, field, old, new}]; `by` is a user or None (the
    system)."""
    change = VisitChange(visit_id=visit.id, kind=kind, at=utcnow(),
                         by_id=by.id if by is not None else None, reason=reason,
                         query_id=query_id, changes=changes, total_before=total_before,
                         total_after=visit.total)
    db.session.add(change)
    return change


def changes_of(visit_id, kinds: tuple[str, ...] | None = None) -> list[VisitChange]:
    """The visit's changes, oldest first (only those of `kinds` when given)."""
    query = select(VisitChange).where(VisitChange.visit_id == visit_id)
    if kinds is not None:
        query = query.where(VisitChange.kind.in_(kinds))
    return list(db.session.scalars(query.order_by(VisitChange.at, VisitChange.id)))


def changed_items(visit_id, kinds: tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """{checklist item id: [kinds of change, oldest first]} of the items whose answer changed."""
    return changed_items_of([visit_id], kinds)[visit_id]


def changed_items_of(visit_ids: list, kinds: tuple[str, ...] | None = None) -> dict:
    """changed_items of several visits in one query: {visit id: {item: [kinds]}}."""
    found: dict = {visit_id: {} for visit_id in visit_ids}
    if not found:
        return found
    query = select(VisitChange).where(VisitChange.visit_id.in_(found))
    if kinds is not None:
        query = query.where(VisitChange.kind.in_(kinds))
    for change in db.session.scalars(query.order_by(VisitChange.at, VisitChange.id)):
        for row in change.changes:
            kinds_of_item = found[change.visit_id].setdefault(_item_of(row), [])
            if change.kind not in kinds_of_item:
                kinds_of_item.append(change.kind)
    return found


def _item_of(row: dict) -> str:
    """The checklist item a change row is about (a photo row names its item in `field`)."""
    return row["field"] if row["item"] == "photo" else row["item"]
