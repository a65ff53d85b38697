"""Changes to a store's staff roster (kept by its store manager, or the managers above it)."""

from sqlalchemy import select

from supervision.accounts.models import User
from supervision.audit.services import record
from supervision.db import db
from supervision.scoping import get_staff, get_store
from supervision.stores.models import Staff

FIELDS = ("name", "badge", "position", "active")


def list_staff(user: User, store_id: int, filters: dict) -> list[Staff]:
    store = get_store(user, store_id)
    query = select(Staff).where(Staff.store_id == store.id).order_by(Staff.name, Staff.id)
    if filters.get("active") is not None:
        query = query.where(Staff.active == filters["active"])
    return list(db.session.scalars(query))


def add_staff(user: User, store_id: int, data: dict) -> Staff:
    store = get_store(user, store_id)
    staff = Staff(store_id=store.id, active=True, **data)
    db.session.add(staff)
    db.session.flush()
    record(user, "create", "staff", staff.id, store_id=store.id, **data)
    return staff


def update_staff(user: User, staff_id: int, data: dict) -> Staff:
    """Rename, renumber, move to another position, or mark someone as gone (active: false; the
    actions that name them keep their name)."""
    staff = get_staff(user, staff_id)
    changes = {k: data[k] for k in FIELDS if k in data and data[k] != getattr(staff, k)}
    for name, value in changes.items():
        setattr(staff, name, value)
    if changes:
        record(user, "update", "staff", staff.id, store_id=staff.store_id, **changes)
    return staff
