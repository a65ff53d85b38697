"""Dispute records (争议记录单): record, call back, close; due times from the seeds' limits."""

import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from supervision.accounts.models import User
from supervision.audit.services import record
from supervision.db import db, utcnow
from supervision.errors import Conflict, Invalid
from supervision.followup.duedates import dispute_due, end_of_day, local_date, start_of_day
from supervision.followup.models import Dispute
from supervision.localtime import day_begins, day_ends, local_zone
from supervision.scoping import get_dispute, get_store, scoped_disputes
from supervision.transitions import locked
from supervision.visits.models import Visit

# Clocks of phones and tablets drift: a time this far ahead of the server is still "now".
CLOCK_SKEW = timedelta(minutes=5)
EDITABLE = ("promised_reply_at", "customer_request", "store_opinion", "result")


def list_disputes(user: User, filters: dict) -> list[Dispute]:
    query = scoped_disputes(user)
    for name in ("store_id", "visit_id", "status", "category"):
        if name in filters:
            query = query.where(getattr(Dispute, name) == filters[name])
    if filters.get("from_") is not None:
        query = query.where(Dispute.received_at >= day_begins(filters["from_"], local_zone()))
    if filters.get("to") is not None:
        query = query.where(Dispute.received_at < day_ends(filters["to"], local_zone()))
    if filters.get("overdue") is True:
        query = query.where(Dispute.status == "open", Dispute.due_at < utcnow())
    elif filters.get("overdue") is False:
        query = query.where((Dispute.status != "open") | (Dispute.due_at >= utcnow()))
    return db.session.scalars(query.options(selectinload(Dispute.store))).all()


def create_dispute(user: User, data: dict) -> Dispute:
    """Record a customer dispute; its due time follows from its category and the store's zone."""
    store = get_store(user, data["store_id"])
    _check_not_future(data["received_at"], "received_at")
    _check_after(data.get("promised_reply_at"), data["received_at"], "promised_reply_at")
    due_at = _due_at(data, store.timezone)
    dispute = Dispute(**data, due_at=due_at, status="open",
                      callbacks=[], created_by_id=user.id, reference=uuid.uuid4().hex)
    db.session.add(dispute)
    db.session.flush()
    day = local_date(dispute.received_at, store.timezone)
    dispute.reference = f"ZY-{day:%Y%m%d}-{dispute.id:05d}"
    record(user, "create", "dispute", dispute.id, store_id=store.id, reference=dispute.reference,
           category=dispute.category, due_at=dispute.due_at.isoformat())
    return dispute


def _due_at(data: dict, tz: str) -> datetime:
    computed = dispute_due(data["category"], data["received_at"], tz)
    given = data.pop("due_at", None)
    if computed is not None:
        if given is not None:
            raise Invalid("The due time of this category follows from the time limits.",
                          {"json": {"due_at": ["Only emergencies take a due time; "
                                               "it is computed for the other categories."]}})
        return computed
    if given is None:
        raise Invalid("An emergency is handled case by case: state its due time.",
                      {"json": {"due_at": ["Required for an emergency."]}})
    _check_after(given, data["received_at"], "due_at")
    return given


def update_dispute(user: User, dispute_id: int, data: dict) -> Dispute:
    """Add a callback, edit the promised reply or the store's opinion, or close with a result."""
    dispute = locked(get_dispute(user, dispute_id))
    if dispute.status == "closed":
        if _replays_close(dispute, data):
            return dispute
        raise Conflict(f"Dispute {dispute.reference} is closed; it can no longer change.",
                       {"json": {"status": ["The dispute is closed."]}})
    edits = {k: data[k] for k in EDITABLE if k in data and data[k] != getattr(dispute, k)}
    _check_after(edits.get("promised_reply_at"), dispute.received_at, "promised_reply_at")
    for name, value in edits.items():
        setattr(dispute, name, value)
    if "callback" in data:
        _add_callback(user, dispute, data["callback"])
    closing = data.get("status") == "closed"
    logged = {k: v for k, v in edits.items() if not (closing and k == "result")}
    if logged:
        record(user, "update", "dispute", dispute.id,
               **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in logged.items()})
    if closing:
        _close(user, dispute)
    return dispute


def _replays_close(dispute: Dispute, data: dict) -> bool:
    """The close of a closed dispute again, changing nothing (a retry, or a twin)."""
    return (data.get("status") == "closed" and "callback" not in data
            and all(data[k] == getattr(dispute, k) for k in EDITABLE if k in data))


def _add_callback(user: User, dispute: Dispute, callback: dict) -> None:
    _check_not_future(callback["at"], "callback.at")
    _check_after(callback["at"], dispute.received_at, "callback.at")
    entry = {**callback, "at": callback["at"].isoformat()}
    dispute.callbacks = [*dispute.callbacks, entry]  # a new list: JSON columns see no mutation
    record(user, "callback", "dispute", dispute.id, **entry)


def _close(user: User, dispute: Dispute) -> None:
    if not dispute.result:
        raise Invalid("Closing a dispute needs its result.", {"json": {"result": ["Missing."]}})
    dispute.status, dispute.closed_at = "closed", utcnow()
    record(user, "close", "dispute", dispute.id, result=dispute.result,
           overdue=dispute.closed_at > dispute.due_at)


def _check_not_future(moment: datetime, field: str) -> None:
    if moment > utcnow() + CLOCK_SKEW:
        raise Invalid(f"{field} is in the future.",
                      _field_error(field, "Must not be in the future."))


def _check_after(moment: datetime | None, start: datetime, field: str) -> None:
    if moment is not None and moment < start:
        raise Invalid(f"{field} is before the dispute was received.",
                      _field_error(field, "Must not be before received_at."))


def _field_error(field: str, message: str) -> dict:
    node: dict = {}
    errors = {"json": node}
    *parents, last = field.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = [message]
    return errors


def dispute_record_for(visit: Visit) -> Dispute | None:
    """The store's not yet linked dispute record of the visit's local day, nearest in time to
    the visit: the record a mystery shopper's dispute scenario should have produced."""
    tz = visit.store.timezone
    day = local_date(visit.started_at, tz)
    candidates = db.session.scalars(select(Dispute).where(
        Dispute.store_id == visit.store_id, Dispute.visit_id.is_(None),
        Dispute.received_at >= start_of_day(day, tz),
        Dispute.received_at <= end_of_day(day, tz))).all()
    return min(candidates, key=lambda d: abs(d.received_at - visit.started_at), default=None)
