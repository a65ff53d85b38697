"""Reading visits: the scoped list and its filters, and the document the API shows."""

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from supervision.checklists.models import ChecklistVersion
from supervision.checklists.services import definition_of
from supervision.db import db
from supervision.localtime import day_begins, day_ends, local_zone
from supervision.scoping import scoped_visits
from supervision.visits.changes import changed_items
from supervision.visits.models import Photo, Signoff, Visit

# What visit_document reads, loaded for a whole page at once (no query per visit).
DOCUMENT_LOADS = (selectinload(Visit.responses), selectinload(Visit.photos),
                  selectinload(Visit.signoff),
                  joinedload(Visit.checklist_version).joinedload(ChecklistVersion.checklist))


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
        query = query.where(Visit.started_at >= day_begins(args["start"], local_zone()))
    if args.get("end"):
        query = query.where(Visit.started_at < day_ends(args["end"], local_zone()))
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    page = db.session.scalars(query.order_by(Visit.started_at.desc(), Visit.id)
                              .limit(args["limit"]).offset(args["offset"])
                              .options(*DOCUMENT_LOADS)).all()
    return list(page), total


def _wait(visit: Visit) -> float | None:
    """Seconds of the checklist's queue_wait interval, when both its moments were recorded."""
    wait = definition_of(visit.checklist_version).interval_for("queue_wait")
    at = {m["moment"]: datetime.fromisoformat(m["at"]) for m in visit.moments or ()}
    if wait is None or wait.start not in at or wait.end not in at:
        return None
    return (at[wait.end] - at[wait.start]).total_seconds()


def wait_minutes(visit: Visit) -> float | None:
    seconds = _wait(visit)
    return None if seconds is None else round(seconds / 60, 1)


def wait_seconds(visit: Visit) -> int | None:
    seconds = _wait(visit)
    return None if seconds is None else round(seconds)


def visit_document(visit: Visit, changed: dict | None = None) -> dict:
    """The visit as the API shows it (VisitSchema); `changed` is the visit's changed_items
    (read here when not given)."""
    changed = changed_items(visit.id) if changed is None else changed
    version = visit.checklist_version
    return {
        **{c.key: getattr(visit, c.key) for c in Visit.__table__.columns},
        "checklist": {"slug": version.checklist.slug, "version": version.version},
        "calibrates": visit.calibrates_id,
        "location": _place(visit),
        "moments": [{"moment": m["moment"], "at": datetime.fromisoformat(m["at"])}
                    for m in visit.moments or ()],
        "wait_minutes": wait_minutes(visit),
        "wait_seconds": wait_seconds(visit),
        "responses": [{"item": r.item_id, "value": r.value, "na": r.na, "note": r.note,
                       "staff": r.staff, "at": r.at, "flagged": r.flagged,
                       "received_at": r.received_at, "changes": changed.get(r.item_id, [])}
                      for r in visit.responses],
        "photos": [{**{c.key: getattr(p, c.key) for c in Photo.__table__.columns},
                    "item": p.item_id, "location": _place(p)} for p in visit.photos],
        "missing_photos": [p.id for p in missing_photos(visit)],
        "signoff": signoff_document(visit.signoff),
    }


def _place(row) -> dict | None:
    return None if row.lat is None else {
        "lat": row.lat, "lon": row.lon, "accuracy_m": row.accuracy_m}


def signoff_document(signoff: Signoff | None) -> dict | None:
    """The store's sign-off as the API shows it (SignoffSchema); who recorded it is not shown."""
    if signoff is None:
        return None
    return {"visit_id": signoff.visit_id, "name": signoff.name, "comment": signoff.comment,
            "signed_at": signoff.signed_at,
            "method": "signature" if signoff.signature_hash else "acknowledgement",
            "signer_id": signoff.signer_id, "has_signature": signoff.signature_hash is not None,
            "received_at": signoff.received_at}
