"""State changes that cannot cross: a row is locked before the state it changes from is read."""

from sqlalchemy import update

from supervision.db import db
from supervision.errors import NotFound


def lock(model, object_id) -> bool:
    """Hold the row's write lock until the commit; False when there is no such row.

    An UPDATE that changes nothing takes the row lock on PostgreSQL and the write lock on
    SQLite (whose transactions otherwise begin at the first write): two requests changing the
    same row then run one after the other, the second seeing what the first committed. A
    column stamped on update (`onupdate`) keeps its value too: nothing changed."""
    same = {column: column for column in model.__table__.columns
            if column.key == "status" or column.onupdate is not None}
    return db.session.execute(update(model).where(model.id == object_id).values(same)
                              .execution_options(synchronize_session=False)).rowcount > 0


def locked(row):
    """`row` read again under its write lock: a decision taken on its state is then taken on
    the state that holds at the commit (of two crossing decisions, the second sees the first's
    and replays it, or refuses with 409)."""
    if not lock(type(row), row.id):  # deleted since it was read
        raise NotFound(f"{type(row).__name__} {row.id} not found.")
    db.session.refresh(row)
    return row
