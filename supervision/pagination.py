"""The one way lists are paged: `limit` and `offset` query arguments, the total alongside."""

import marshmallow as ma
from marshmallow import validate
from sqlalchemy import Select, func, select

from supervision.db import db
from supervision.schemas import integer

TOTAL_HEADER = "X-Total-Count"


def limit_field(default: int = 50, maximum: int = 200) -> ma.fields.Integer:
    return ma.fields.Integer(load_default=default, validate=validate.Range(min=1, max=maximum),
                             metadata={"description": f"At most this many (1–{maximum})."})


class PageQueryArgsSchema(ma.Schema):
    """`limit` and `offset`; a list with other bounds overrides `limit` with `limit_field`."""

    limit = limit_field()
    offset = integer(load_default=0, metadata={"description": "How many to skip from the first."})


def paginate(query: Select, limit: int, offset: int, rows: bool = False) -> tuple[list, int]:
    """One page of an ordered query, and how many the whole query finds. `rows`: the result
    rows (for a query of several columns) rather than the first column's values."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    window = query.limit(limit).offset(offset)
    found = db.session.execute(window).all() if rows else db.session.scalars(window).all()
    return list(found), total


def total_header(description: str) -> dict:
    """The OpenAPI description of the X-Total-Count header of a list answered as a JSON array."""
    return {TOTAL_HEADER: {"description": description, "schema": {"type": "integer"}}}


def with_total(page: list, total: int) -> tuple[list, int, dict]:
    """A view's answer: the page as the body, the total in the X-Total-Count header."""
    return page, 200, {TOTAL_HEADER: str(total)}
