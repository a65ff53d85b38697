"""The store's sign-off of a visit: signed with a finger on the supervisor's tablet (a PNG of the
signature, kept by content hash like a photo) or acknowledged by the store manager in their own
app. The same body again changes nothing (a replay from the tablet's outbox); a different one
once signed is refused. A signed visit is locked (see visits.services)."""

import base64
import binascii
import hashlib
from pathlib import Path

from PIL import Image

from supervision.audit.services import record
from supervision.db import db
from supervision.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from supervision.scoping import get_own_visit, get_visit
from supervision.storage import get_storage
from supervision.transitions import locked
from supervision.visits import photos as pipeline
from supervision.visits.models import Signoff, Visit
from supervision.visits.queries import signoff_document
from supervision.visits.services import body_hash, utc

DATA_URL = "data:image/png;base64,"
# A finger's signature on a tablet (3× pixel ratio, full width) is a few hundred kB at most.
MAX_BYTES = 1024 * 1024
MAX_PIXELS = 8_000_000
SIGNABLE = ("submitted", "published")


def sign(user, visit_id, body: dict) -> tuple[Signoff, bool]:
    """Record the sign-off of a visit; returns (sign-off, recorded now). The visit's author (its
    tablet) sends the store manager's signature; a store manager of the store may acknowledge a
    published visit in their own app, signature optional. 409 for a different second one."""
    visit = _signable(user, visit_id)
    digest = body_hash(body)
    if visit.signoff is not None:
        return _replayed(visit.signoff, digest), False
    if body["signature"] is None and user.role != "store_manager":
        raise Invalid("The store manager signs on the screen: send the signature.",
                      {"json": {"signature": ["Missing."]}})
    # Stored (fsync) before the visit is locked, which on SQLite locks the whole database.
    signature = store_signature(body["signature"]) if body["signature"] else None
    visit = locked(visit)
    existing = db.session.get(Signoff, visit.id, populate_existing=True)
    if existing is not None:  # a twin request committed first
        return _replayed(existing, digest), False
    if visit.status not in SIGNABLE:
        raise Conflict(f"Visit {visit.id} is {visit.status}: submit it before it is signed off.",
                       {"json": {"signoff": [f"The visit is {visit.status}."]}})
    location = body["location"] or {}
    signoff = Signoff(visit_id=visit.id, name=body["name"], comment=body["comment"],
                      signed_at=utc(body["signed_at"]), lat=location.get("lat"),
                      lon=location.get("lon"), accuracy_m=location.get("accuracy_m"),
                      signature_hash=signature,
                      signer_id=user.id if user.role == "store_manager" else None,
                      recorded_by_id=user.id, body_hash=digest)
    db.session.add(signoff)
    db.session.flush()
    record(user, "signoff", "visit", visit.id, method=_method(signoff), name=signoff.name)
    return signoff, True


def _signable(user, visit_id) -> Visit:
    """The visit a user may sign off: a store manager, a published visit of its stores (404
    otherwise); anyone else, an audit they recorded (403 for someone else's, 404 unseen)."""
    if user.role == "store_manager":
        return get_visit(user, visit_id)
    visit = get_own_visit(user, visit_id)
    if visit.kind != "audit":
        raise Forbidden("A mystery visit is not signed off at the store: its store manager "
                        "acknowledges it once it is published.")
    return visit


def _replayed(signoff: Signoff, digest: str) -> Signoff:
    if signoff.body_hash != digest:
        raise Conflict(f"Visit {signoff.visit_id} was already signed off by {signoff.name}; a "
                       "sign-off cannot change.", {"json": {"signoff": ["Already signed off."]}})
    return signoff


def store_signature(data_url: str) -> str:
    """Check the signature (a real PNG within the limits, decoded whole), keep its bytes under
    their hash and a clean copy (no metadata) to serve; returns the hash."""
    raw = _png_bytes(data_url)
    digest = hashlib.sha256(raw).hexdigest()
    storage = get_storage()
    received, clean = storage.spool_file(), storage.spool_file()
    try:
        received.write_bytes(raw)
        _clean_copy(received, clean)
        storage.put_file(pipeline.original_key(digest), received)
        storage.put_file(pipeline.derived_key(digest, "original", "image/png"), clean)
    finally:
        received.unlink(missing_ok=True)
        clean.unlink(missing_ok=True)
    return digest


def _png_bytes(data_url: str) -> bytes:
    if data_url[:len(DATA_URL)].lower() != DATA_URL:
        raise _bad_signature(f"Send the signature as a data URL: {DATA_URL}…")
    encoded = data_url[len(DATA_URL):]
    if len(encoded) > (MAX_BYTES + 2) // 3 * 4:
        raise _bad_signature(f"The signature is larger than {MAX_BYTES // 1024} kB.")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as error:
        raise _bad_signature("The signature is not valid base64.") from error


def _clean_copy(received: Path, clean: Path) -> None:
    """Identify and decode the PNG fully (a damaged one is refused), then write it again without
    its metadata."""
    try:
        pipeline.inspect(received, "image/png", MAX_PIXELS)  # a PNG, complete, not too large
        with Image.open(received) as image:
            image.load()
            pixels = image if image.mode in ("RGB", "RGBA", "L", "LA") else image.convert("RGBA")
            pixels.save(clean, "PNG")
    except DomainError as error:
        raise _bad_signature(f"The signature is not a usable PNG: {error.message}") from error
    except Exception as error:  # a decoder given damaged data raises anything
        raise _bad_signature(f"The signature PNG is damaged ({error}).") from error


def _bad_signature(message: str) -> Invalid:
    return Invalid(message, {"json": {"signature": [message]}})


def signature_file(user, visit_id) -> tuple[str, str, str]:
    """(storage key, media type, ETag) of the signature PNG of a visit the user may see."""
    visit = get_visit(user, visit_id)
    signoff = visit.signoff
    if signoff is None or signoff.signature_hash is None:
        raise NotFound(f"Visit {visit_id} has no signature.")
    key = pipeline.derived_key(signoff.signature_hash, "original", "image/png")
    return key, "image/png", f"{signoff.signature_hash[:32]}-signature"


def _method(signoff: Signoff) -> str:
    return signoff_document(signoff)["method"]
