"""The incremental feed: what changed after a cursor, in commit order (feed/changes.py), in
pages. Each row has the columns of the matching export (admin/exports.py), as the caller may
read it, then `changed_at`, `removed`, `removed_reason` and `cursor`. A record the caller may
not read (any more) is a tombstone: its id, `removed` true and the reason, the rest empty —
a visit excluded from the results, or one the store's side may not read, an action of such a
visit. A record changed twice shows once, as it is now, at its last change."""

import uuid
from datetime import datetime

from sqlalchemy import case, false, literal, true, tuple_

from supervision.admin import exports
from supervision.db import db
from supervision.errors import Invalid
from supervision.followup.models import Action, Dispute
from supervision.scoping import feed_rows, scoped_actions, scoped_disputes, scoped_visits
from supervision.visits.models import Visit

TRAILER = ("changed_at", "removed", "removed_reason", "cursor")
KINDS = ("visits", "answers", "actions", "disputes")
_MODEL = {"visits": Visit, "answers": Visit, "actions": Action, "disputes": Dispute}
_SCOPED = {Visit: scoped_visits, Action: scoped_actions, Dispute: scoped_disputes}
_COLUMNS = {"visits": exports.VISIT_COLUMNS, "answers": exports.ANSWER_COLUMNS,
            "actions": exports.ACTION_COLUMNS, "disputes": exports.DISPUTE_COLUMNS}


def columns(kind: str) -> tuple[str, ...]:
    """The feed's columns, the same on every page and in every version (JSON keys, CSV)."""
    return (*_COLUMNS[kind], *TRAILER)


def parse_cursor(kind: str, cursor: str | None) -> tuple | None:
    if not cursor:
        return None
    seq, _, row_id = cursor.partition(".")
    try:
        return int(seq), (uuid.UUID if _MODEL[kind] is Visit else int)(row_id)
    except ValueError:
        raise Invalid("The cursor is not one this feed gave.", {"query": {"cursor": [
            "Not a cursor of this feed: send the next_cursor of the page before."]}}) from None


def page(user, kind: str, since: datetime | None, after: tuple | None,
         limit: int) -> tuple[list[tuple], str | None, bool]:
    """The rows of up to `limit` records changed after the cursor `after` (and at or after
    `since`), the cursor to ask with next (the one given when nothing changed), and whether
    more are waiting."""
    model = _MODEL[kind]
    visible, reason = _visibility(user, model)
    query = (_select(user, kind)
             .add_columns(model.changed_at, visible.label("feed_visible"),
                          reason.label("feed_reason"), model.change_seq.label("feed_seq"),
                          model.id.label("feed_id"))
             .where(model.id.in_(feed_rows(user, model)), model.change_seq.is_not(None))
             .order_by(model.change_seq, model.id).limit(limit + 1))
    if after is not None:
        seq, row_id = after
        query = query.where(tuple_(model.change_seq, model.id) > tuple_(
            literal(seq, model.change_seq.type), literal(row_id, model.id.type)))
    if since is not None:
        query = query.where(model.changed_at >= since)
    found = db.session.execute(query).all()
    more, found = len(found) > limit, found[:limit]
    next_cursor = _cursor(found[-1]) if found else (after and f"{after[0]}.{after[1]}")
    if kind == "answers":
        return list(_answer_rows(found)), next_cursor, more
    width = len(_COLUMNS[kind])
    return [_row(record, tuple(record)[:width]) for record in found], next_cursor, more


def _select(user, kind: str):
    if kind == "visits":
        return exports.visits_select(user)
    if kind == "answers":
        return exports.visits_select(user).add_columns(*exports.ANSWER_SOURCE)
    return exports.actions_select() if kind == "actions" else exports.disputes_select()


def _visibility(user, model) -> tuple:
    """Whether the caller reads a record (else it is a tombstone), and if not, why."""
    readable = model.id.in_(_SCOPED[model](user).with_only_columns(model.id).order_by(None))
    if model is not Visit:
        return case((readable, true()), else_=false()), case((readable, None),
                                                             else_="not_visible")
    excluded = Visit.excluded.is_not(None)
    return (case((excluded, false()), (readable, true()), else_=false()),
            case((excluded, "excluded_" + Visit.excluded), (readable, None),
                 else_="not_visible"))


def _cursor(record) -> str:
    return f"{record.feed_seq}.{record.feed_id}"


def _row(record, values: tuple) -> tuple:
    trailer = (record.changed_at, not record.feed_visible, record.feed_reason, _cursor(record))
    if not record.feed_visible:  # a tombstone: the id and nothing else
        return (record.feed_id, *(None,) * (len(values) - 1), *trailer)
    return (*values, *trailer)


def _answer_rows(found):
    """Each visit's answers (the rows of the answers export); one tombstone row for a visit
    removed."""
    answers: dict = {}
    for answer in exports.answers_of([record for record in found if record.feed_visible]):
        answers.setdefault(answer[0], []).append(answer)
    blank = (None,) * len(exports.ANSWER_COLUMNS)
    for record in found:
        for answer in answers.get(record.feed_id, ()) if record.feed_visible else (blank,):
            yield _row(record, answer)
