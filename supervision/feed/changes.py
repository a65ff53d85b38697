"""The change sequence the feed pages by: every commit that changes a visit (its answers,
photos, sign-off or change record included), an action (its evidence included) or a dispute
stamps those rows with the next number of one counter, taken as the commit's last step.

The counter's row stays locked from that step to the commit's end, so numbers become visible
in the order they were given: a reader who has seen number N will never later find a smaller
one committed (the guarantee the feed's cursor rests on; no row is skipped). A transaction
locks the rows it stamps when it first writes them (a change to a child updates its parent's
`changed_at` there and then), so a transaction holding the counter never waits on a row
another holds: no deadlock."""

from datetime import datetime

from sqlalchemy import BigInteger, Integer, event, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from supervision.db import UTCDateTime, db, utcnow

PENDING = "feed_changed"  # the key in session.info: {model: {ids}}


class FeedCounter(db.Model):
    """One row: the last number given."""

    __tablename__ = "feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Changes:
    """The columns of a row the feed follows."""

    change_seq: Mapped[int | None] = mapped_column(BigInteger, index=True)
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def _followed(obj):
    """The followed row a changed object belongs to (itself, its visit or action), if any."""
    from supervision.followup.models import Action, ActionEvidence, Dispute
    from supervision.visits.models import Photo, Response, Signoff, Visit, VisitChange

    if isinstance(obj, (Visit, Action, Dispute)):
        return obj
    if isinstance(obj, (Response, Photo, Signoff, VisitChange)):
        return getattr(obj, "visit", None) or db.session.get(Visit, obj.visit_id)
    if isinstance(obj, ActionEvidence):
        return obj.action or db.session.get(Action, obj.action_id)
    return None


def _columns_changed(obj) -> bool:
    """Whether the flush writes the object (a replay that sets the same values does not)."""
    state = inspect(obj)
    return any(state.attrs[column.key].history.has_changes()
               for column in state.mapper.column_attrs)


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context, _instances) -> None:
    changed = [obj for obj in session.dirty if _columns_changed(obj)]
    with session.no_autoflush:
        for obj in (*session.new, *changed, *session.deleted):
            row = _followed(obj)
            if row is None or row in session.deleted:
                continue
            row.changed_at = utcnow()  # writes (and so locks) the row in this flush
            session.info.setdefault(PENDING, set()).add(row)


@event.listens_for(Session, "before_commit")
def _stamp(session: Session) -> None:
    session.flush()
    rows = session.info.pop(PENDING, None)
    if not rows:
        return
    connection = session.connection()
    seq, now = _next_number(connection), utcnow()
    by_model: dict = {}
    for row in rows:
        by_model.setdefault(type(row), []).append(row.id)
    for model, ids in by_model.items():
        untouched = {column.key: column for column in model.__table__.columns
                     if column.onupdate is not None}  # the stamp is no update of the record
        connection.execute(update(model).where(model.id.in_(ids))
                           .values(change_seq=seq, changed_at=now, **untouched))
    for row in rows:  # what the session holds agrees with the database
        session.expire(row, ["change_seq", "changed_at"])


def _next_number(connection) -> int:
    bump = update(FeedCounter).where(FeedCounter.id == 1).values(value=FeedCounter.value + 1)
    if not connection.execute(bump).rowcount:  # an empty database: its first number
        insert = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
        connection.execute(insert(FeedCounter).values(id=1, value=0).on_conflict_do_nothing())
        connection.execute(bump)
    return connection.scalar(select(FeedCounter.value).where(FeedCounter.id == 1))


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    if transaction.parent is None:  # committed (stamped above), rolled back or closed
        session.info.pop(PENDING, None)
