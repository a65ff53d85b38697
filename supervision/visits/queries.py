"""Reading visits: the scoped list and its filters, and the document the API shows."""

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from supervision.scoping import scoped_visits
from supervision.checklists.models import ChecklistVersion
from supervision.db import db
from supervision.errors import Invalid
from supervision.visits.models import Photo, Visit

# What visit_document reads, loaded for a whole page at once (no query per visit).
DOCUMENT_LOADS = (selectinload(Visit.responses), selectinload(Visit.photos),
                  joinedload(Visit.checklist_version).joinedload(ChecklistVersion.checklist))
# The mystery checklist's timestamped moments that bound the wait in the queue.
WAIT_FROM, WAIT_TO = "ticket_taken", "called"


def missing_photos(visit: Visit) -> list[Photo]:
    """Announced photos still to come, and corrupt ones the client must send again."""
    return [p for p in visit.photos if p.status in ("announced", "corrupt")]


def list_visits(user, args: dict) -> tuple[list[Visit], int]:
    """The caller's visible visits, newest first, filtered; returns (page, total)."""
    query = scoped_visits(user)
    for key in ("store_id", "status", "kind"):
        if args.get(key) is not None:
            query = query.where(getattr(Visit, key) == args[key])
    if args.get("start"):
        query = query.where(Visit.started_at >= _moment(args["start"], "from", end=False))
    if args.get("end"):
        query = query.where(Visit.started_at < _moment(args["end"], "to", end=True))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = db.session.scalars(query.order_by(Visit.started_at.desc(), Visit.id)
                              .limit(args["limit"]).offset(args["offset"])
                              .options(*DOCUMENT_LOADS)).all()
    return list(page), total


def _moment(text: str, name: str, end: bool) -> datetime:
    """A date (UTC; `to` includes the whole day) or an ISO time with its offset."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time(), UTC)
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise Invalid("", {"query": {name: ["Not a date or a time (ISO 8601)."]}}) from error
    if moment.tzinfo is None:
        raise Invalid("", {"query": {name: ["Give the time with its offset."]}})
    return moment


def wait_minutes(visit: Visit) -> float | None:
    """Minutes between taking a ticket and being called, when both moments were recorded."""
    at = {m["moment"]: datetime.fromisoformat(m["at"]) for m in visit.moments or ()}
    if WAIT_FROM not in at or WAIT_TO not in at:
        return None
    return round((at[WAIT_TO] - at[WAIT_FROM]).total_seconds() / 60, 1)


def visit_document(visit: Visit) -> dict:
    """The visit as the API shows it (VisitSchema)."""
    version = visit.checklist_version
    location = None if visit.lat is None else {
        "lat": visit.lat, "lon": visit.lon, "accuracy_m": visit.accuracy_m}
    return {
        **{c.key: getattr(visit, c.key) for c in Visit.__table__.columns},
        "checklist": {"slug": version.checklist.slug, "version": version.version},
        "location": location,
        "moments": [{"moment": m["moment"], "at": datetime.fromisoformat(m["at"])}
                    for m in visit.moments or ()],
        "wait_minutes": wait_minutes(visit),
        "responses": [{"item": r.item_id, "value": r.value, "na": r.na, "note": r.note,
                       "staff": r.staff, "received_at": r.received_at} for r in visit.responses],
        "photos": [{**{c.key: getattr(p, c.key) for c in Photo.__table__.columns},
                    "item": p.item_id} for p in visit.photos],
        "missing_photos": [p.id for p in missing_photos(visit)],
    }
