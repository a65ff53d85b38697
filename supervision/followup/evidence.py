"""Photos the store takes in its app — of a fix, or sent with a query of a mystery result:
received by client-made id (the same bytes again are harmless), checked, kept and shrunk by the
visit photo pipeline, by content hash."""

import uuid
from collections.abc import Callable

from flask import current_app
from sqlalchemy import select

from supervision import tasks
from supervision.audit.services import record
from supervision.db import db, utcnow
from supervision.errors import Conflict, DomainError, NotFound
from supervision.followup.models import ACTION_PENDING, Action, ActionEvidence, QueryEvidence
from supervision.scoping import get_action
from supervision.storage import get_storage
from supervision.transitions import locked
from supervision.visits import photos as pipeline

EVIDENCE_MODELS = (ActionEvidence, QueryEvidence)


def receive_evidence(user, action_id: int, evidence_id: uuid.UUID, taken_at, stream,
                     declared_type: str, limits: tuple[int, int]) -> tuple[ActionEvidence, bool]:
    """Take a photo's bytes for an agreed (or reopened) action; returns (evidence, stored now).
    The same bytes under the same id again store nothing; other bytes under it are a 409."""
    action = get_action(user, action_id)
    return receive(user, action, ActionEvidence, "action_id", _check_open, evidence_id,
                   taken_at, stream, declared_type, limits)


def receive(user, owner, model, owner_field: str, check_open: Callable, evidence_id, taken_at,
            stream, declared_type: str, limits: tuple[int, int]):
    """Store a photo for `owner` (an action, a query) as a `model` row whose `owner_field`
    names it; `check_open(owner)` raises when the owner takes no photo any more."""
    evidence = _target(owner, model, owner_field, check_open, evidence_id)
    storage, (max_bytes, max_pixels) = get_storage(), limits
    upload = pipeline.spool(stream, storage, max_bytes)
    try:
        info = pipeline.inspect(upload.path, declared_type, max_pixels)
        if _replayed(evidence, upload):
            return evidence, False
        # Stored before the owner is locked (on SQLite, the whole database): a request losing
        # the race below leaves content no row names, which `flask photos cleanup` removes.
        storage.put_file(pipeline.original_key(upload.sha256), upload.path)
        owner = locked(owner)
        evidence = db.session.get(model, evidence_id, populate_existing=True)
        if _replayed(evidence, upload):  # a twin request committed first
            return evidence, False
        check_open(owner)
        evidence = model(
            id=evidence_id, status="received", content_hash=upload.sha256,
            content_type=info.content_type, width=info.width, height=info.height,
            size_bytes=upload.size, taken_at=taken_at, uploaded_by_id=user.id,
            received_at=utcnow(), **{owner_field: owner.id})
        db.session.add(evidence)
        db.session.flush()
    finally:
        upload.path.unlink(missing_ok=True)
    record(user, "receive", "evidence", evidence_id, **{owner_field: owner.id},
           bytes=upload.size, content_type=info.content_type, sha256=upload.sha256)
    return evidence, True


def _target(owner, model, owner_field: str, check_open: Callable, evidence_id):
    """Fail fast, before the body is read: an id of another owner, or a closed one."""
    evidence = db.session.get(model, evidence_id)
    if evidence is not None and getattr(evidence, owner_field) != owner.id:
        raise Conflict(f"Photo id {evidence_id} belongs to something else.",
                       {"photo_id": ["Used elsewhere."]})
    if evidence is None:
        check_open(owner)
    return evidence


def _check_open(action: Action) -> None:
    if action.status not in ACTION_PENDING:
        raise Conflict(f"Action {action.id} is {action.status}: photos of the fix are taken "
                       "while it is agreed or reopened.",
                       {"status": [f"The action is {action.status}."]})


def _replayed(evidence, upload: pipeline.Upload) -> bool:
    if evidence is None:
        return False
    if evidence.content_hash != upload.sha256:
        raise Conflict(f"Photo {evidence.id} was already received with other content; give a "
                       "new photo a new id.", {"photo_id": ["Already received, other content."]})
    return True


def process(evidence) -> str:
    """Make the served versions of a received photo (processed), or mark it corrupt; flushes."""
    if evidence.status != "received":
        return evidence.status
    storage = get_storage()
    try:
        if not all(storage.exists(pipeline.derived_key(evidence.content_hash, size,
                                                       evidence.content_type))
                   for size in pipeline.PROCESSED_SIZES):
            evidence.width, evidence.height = pipeline.make_derivatives(
                storage, evidence.content_hash, evidence.content_type,
                current_app.config["PHOTO_MAX_PIXELS"])
        evidence.status = "processed"
    except (DomainError, MemoryError):  # the storage is unavailable: not the photo's fault
        raise
    except Exception as error:  # a decoder given damaged data raises anything
        current_app.logger.warning("evidence photo %s is corrupt: %s", evidence.id, error)
        evidence.status = "corrupt"
    db.session.flush()
    return evidence.status


def pending_evidence() -> list:
    """The store's photos received but not processed yet (the process died, or no worker ran)."""
    return [row for model in EVIDENCE_MODELS
            for row in db.session.scalars(select(model).where(model.status == "received"))]


def process_task(evidence_id: str) -> str:
    """The task that processes a received photo of the store after its upload committed;
    commits."""
    key = uuid.UUID(evidence_id)
    evidence = next((found for model in EVIDENCE_MODELS
                     if (found := db.session.get(model, key)) is not None), None)
    status = process(evidence) if evidence is not None else "missing"
    db.session.commit()
    return status


def process_after_commit(evidence) -> None:
    tasks.after_commit("photos", f"{__name__}:process_task", str(evidence.id))


def evidence_file(user, action_id: int, evidence_id, size: str) -> tuple[str, str, str] | None:
    """(storage key, media type, ETag) of a photo of the fix, processed on demand; None when it
    was found corrupt (the caller commits that, then answers 404)."""
    action = get_action(user, action_id)
    evidence = next((e for e in action.evidence if e.id == evidence_id), None)
    if evidence is None:
        raise NotFound(f"Action {action_id} has no photo {evidence_id}.")
    return stored_file(evidence, size)


def stored_file(evidence, size: str) -> tuple[str, str, str] | None:
    """(storage key, media type, ETag) of the display-ready photo, processed on demand; None
    when it was found corrupt."""
    if process(evidence) == "corrupt":
        return None
    key = pipeline.derived_key(evidence.content_hash, size, evidence.content_type)
    return (key, pipeline.derived_type(size, evidence.content_type),
            f"{evidence.content_hash[:32]}-{size}")
