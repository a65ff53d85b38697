"""Changes to visits — drafts by client-made id, photos, submission — each one safe to replay."""

import hashlib
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm.attributes import set_committed_value

from supervision.audit.services import record
from supervision.checklists.definition import ChecklistDefinition, applies, missing_required
from supervision.checklists.models import Checklist, ChecklistVersion
from supervision.checklists.services import definition_of
from supervision.db import db, utcnow
from supervision.errors import Conflict, Forbidden, Invalid, NotFound
from supervision.followup.services import on_visit_submitted
from supervision.reports import prerender
from supervision.scoping import get_own_visit, get_visit, scoped_stores, scoped_visits
from supervision.scoring import item_fraction
from supervision.storage import get_storage
from supervision.stores.models import Store
from supervision.transitions import lock
from supervision.visits import photos as pipeline
from supervision.visits.models import Photo, Response, Signoff, Visit
from supervision.visits.queries import missing_photos
from supervision.visits.snapshot import answers_of, freeze_score
from supervision.visits.submissions import record_submission
from supervision.visits.validation import body_errors

EDITABLE = ("draft", "rejected")
# Who may capture which kind of visit.
CAPTURE_ROLES = {"audit": ("admin", "supervisor"), "mystery": ("admin", "shopper")}
RECEIVED = ("received", "processed")
ANSWER_FIELDS = ("value", "na", "note", "staff", "at", "flagged")
# A calibration visit starts at most this long before or after the visit it scores again.
CALIBRATION_WINDOW = timedelta(hours=4)


def body_hash(body: dict) -> str:
    """The identity of a parsed body: the same content hashes the same, however it was written."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _locked(visit_id) -> Visit | None:
    """The visit, re-read under a write lock held until commit (see transitions.lock): two
    requests for the same visit run one after the other, the second seeing the first's."""
    lock(Visit, visit_id)
    query = select(Visit).where(Visit.id == visit_id).execution_options(populate_existing=True)
    return db.session.scalars(query).first()


# ------------------------------------------------------------------------------ drafts


def save_draft(user, visit_id: uuid.UUID, body: dict) -> tuple[Visit, bool]:
    """Create or update a draft from the client's whole body; returns (visit, created).

    The same body again changes nothing; so does a body with a lower revision (an old edit
    arriving late). A different store or checklist, or a change after submission: 409. Someone
    else's visit: 403 if the user may see it, 404 (as an unknown one) if not."""
    digest = body_hash(body)
    if db.session.get(Visit, visit_id) is None:
        # A new visit takes no lock before its INSERT (on SQLite, one writer at a time): a twin
        # racing it fails there on the primary key, and `committed` replays it as an update.
        return _create(user, visit_id, body, digest), True
    get_own_visit(user, visit_id)
    visit = _locked(visit_id)
    _check_same_target(visit, body)
    if visit.body_hash == digest or body["revision"] < visit.revision:
        return visit, False
    check_unsigned(visit)
    if visit.status not in EDITABLE:
        raise Conflict(f"Visit {visit_id} is {visit.status}: it can no longer change.")
    _validate(user, definition_of(visit.checklist_version), body)
    _apply(visit, body, digest)
    _announce(visit, body["photos"])
    _apply_responses(visit, body["responses"])
    record(user, "update", "visit", visit.id, revision=body["revision"])
    return visit, False


def _create(user, visit_id, body: dict, digest: str) -> Visit:
    version = _checklist_version(body)
    if version.checklist.retired_at is not None:  # retired (admin): old visits keep theirs
        raise Conflict(f"Checklist {version.checklist.slug} is retired: no new visit may use it.")
    _check_capture(user, body, version)
    _validate(user, definition_of(version), body)
    visit = Visit(id=visit_id, store_id=body["store_id"], checklist_version=version,
                  kind=body["kind"], status="draft", author_id=user.id, moments=[], flags=[],
                  photos=[])
    _apply(visit, body, digest)
    db.session.add(visit)
    # A concurrent twin fails here on the primary key, and is replayed: before its photo ids,
    # which the winner's committed photos would otherwise make look taken by "another visit".
    db.session.flush()
    _announce(visit, body["photos"])
    _insert_responses(visit, body["responses"])
    record(user, "create", "visit", visit.id, store_id=visit.store_id, kind=visit.kind,
           checklist=body["checklist"])
    return visit


def _checklist_version(body: dict) -> ChecklistVersion:
    slug, number = body["checklist"]["slug"], body["checklist"]["version"]
    version = db.session.scalars(
        select(ChecklistVersion).join(Checklist)
        .where(Checklist.slug == slug, ChecklistVersion.version == number)
    ).first()
    if version is None:
        raise Invalid(f"Checklist {slug} has no version {number}.",
                      {"json": {"checklist": {"version": [f"Unknown version of {slug}."]}}})
    return version


def _check_capture(user, body: dict, version: ChecklistVersion) -> None:
    if version.checklist.kind != body["kind"]:
        raise Invalid(f"Checklist {version.checklist.slug} is for {version.checklist.kind} visits.",
                      {"json": {"kind": [f"Must be {version.checklist.kind}."]}})
    if user.role not in CAPTURE_ROLES[body["kind"]]:
        raise Forbidden(f"A {user.role} cannot record {body['kind']} visits.")
    store = scoped_stores(user).where(Store.id == body["store_id"])
    if db.session.scalars(store).first() is None:
        raise Invalid(f"Store {body['store_id']} is unknown or outside your regions.",
                      {"json": {"store_id": ["Unknown store."]}})


def check_unsigned(visit: Visit) -> None:
    """A visit the store signed off is locked: 409 naming the sign-off."""
    if visit.signoff is not None:
        raise Conflict(f"Visit {visit.id} was signed off by the store ({visit.signoff.name}): "
                       "it can no longer change.",
                       {"signoff": ["Signed off: the visit is locked."]})


def _check_same_target(visit: Visit, body: dict) -> None:
    version = visit.checklist_version
    given = (body["store_id"], body["checklist"]["slug"], body["checklist"]["version"])
    if given != (visit.store_id, version.checklist.slug, version.version):
        raise Conflict(f"Visit {visit.id} was recorded for store {visit.store_id} with "
                       f"{version.checklist.slug} v{version.version}; its store and checklist "
                       "cannot change.")
    if body["kind"] != visit.kind:
        raise Conflict(f"Visit {visit.id} is a {visit.kind} visit.")


def _validate(user, definition: ChecklistDefinition, body: dict) -> None:
    """422 naming each field that does not fit the checklist version (nothing is changed)."""
    errors = body_errors(definition, body)
    if body["assignment_id"] is not None and not _assignment_fits(user, body["assignment_id"]):
        errors["assignment_id"] = ["Unknown assignment, or not yours."]
    if problem := _calibration_problem(user, body):
        errors["calibrates"] = [problem]
    if errors:
        raise Invalid("", {"json": errors})


def _calibration_problem(user, body: dict) -> str | None:
    """Why `calibrates` cannot name its visit: a calibration visit scores a published audit of
    the same store and checklist a second time, by another author, started near the same time
    (supervision/reports/calibration.py)."""
    if body.get("calibrates") is None:
        return None
    target = db.session.scalars(
        scoped_visits(user).where(Visit.id == body["calibrates"])).first()
    if target is None or target.kind != "audit" or target.status != "published":
        return "Not a published audit you may see."
    if target.calibrates_id is not None:
        return "A calibration visit cannot itself be calibrated."
    if target.store_id != body["store_id"]:
        return "That visit is of another store."
    if target.checklist_version.checklist.slug != body["checklist"]["slug"]:
        return "That visit uses another checklist."
    if target.author_id == user.id:
        return "Your own visit: another supervisor scores the calibration."
    if abs(utc(body["started_at"]) - target.started_at) > CALIBRATION_WINDOW:
        return "Started more than 4 hours apart from that visit."
    return None


def _apply(visit: Visit, body: dict, digest: str) -> None:
    """The body's fields; its photos and answers are the caller's (a new visit's go in once
    it is inserted, a draft's change one by one)."""
    location = body["location"] or {}
    visit.started_at, visit.ended_at = utc(body["started_at"]), utc(body["ended_at"])
    visit.lat, visit.lon = location.get("lat"), location.get("lon")
    visit.accuracy_m = location.get("accuracy_m")
    visit.moments = [{"moment": m["moment"], "at": m["at"].isoformat()} for m in body["moments"]]
    visit.notes, visit.assignment_id = body["notes"], body["assignment_id"]
    visit.calibrates_id = body.get("calibrates")
    if visit.calibrates_id is not None or visit.excluded == "calibration":  # never a re-shop's
        visit.excluded = "calibration" if visit.calibrates_id is not None else None
    visit.revision, visit.body_hash, visit.updated_at = body["revision"], digest, utcnow()


def _announce(visit: Visit, announced: list[dict]) -> None:
    with db.session.no_autoflush:
        _apply_announcements(visit, announced)


def utc(moment: datetime | None) -> datetime | None:
    """As the database gives it back, so that the answer built before the commit is the same."""
    return moment.astimezone(UTC) if moment is not None else None


def _assignment_fits(user, assignment_id: int) -> bool:
    from supervision.followup.models import Assignment

    assignment = db.session.get(Assignment, assignment_id)
    return assignment is not None and (assignment.shopper_id == user.id or user.role == "admin")


def _insert_responses(visit: Visit, responses: list[dict]) -> None:
    """A new visit's answers in one executemany: the unit of work would send one INSERT per
    answer on SQLite, where it needs each new id back."""
    now = utcnow()
    rows = [{"visit_id": visit.id, "item_id": given["item"], "received_at": now,
             **_answer_values(given)} for given in responses]
    if rows:
        db.session.execute(insert(Response), rows)


def _apply_responses(visit: Visit, responses: list[dict]) -> None:
    """Change only what changed, so each answer keeps the time it was received."""
    wanted = {r["item"]: r for r in responses}
    for row in [r for r in visit.responses if r.item_id not in wanted]:
        visit.responses.remove(row)
    current = {r.item_id: r for r in visit.responses}
    for item_id, given in wanted.items():
        values = _answer_values(given)
        row = current.get(item_id)
        if row is None:
            visit.responses.append(Response(item_id=item_id, received_at=utcnow(), **values))
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            row.received_at = utcnow()


def _answer_values(given: dict) -> dict:
    return {**{key: given[key] for key in ANSWER_FIELDS}, "at": utc(given["at"])}


def _apply_announcements(visit: Visit, announced: list[dict]) -> None:
    """Announced photos follow the body; received ones are data and stay whatever it says
    (but for when and where it was taken, which only the device knows) — except in a visit the
    reviewer returned, which its author reopened on the device with all its photos: there a
    received photo left out was removed, one under another item was moved."""
    wanted = {a["id"]: a["item"] for a in announced}
    taken = {a["id"]: utc(a["taken_at"]) for a in announced}
    where = {a["id"]: _photo_place(a.get("location")) for a in announced}
    returned = visit.status == "rejected"
    for row in [p for p in visit.photos
                if p.id not in wanted and (p.status == "announced" or returned)]:
        visit.photos.remove(row)
    current = {p.id: p for p in visit.photos}
    _check_photo_ids_free([photo_id for photo_id in wanted if photo_id not in current])
    for photo_id, item_id in wanted.items():
        row = current.get(photo_id)
        if row is None:
            visit.photos.append(Photo(id=photo_id, item_id=item_id, status="announced",
                                      announced_at=utcnow(), taken_at=taken[photo_id],
                                      **where[photo_id]))
            continue
        if taken[photo_id] is not None and row.taken_at != taken[photo_id]:
            row.taken_at = taken[photo_id]
        for key, value in where[photo_id].items():
            if value is not None and getattr(row, key) != value:
                setattr(row, key, value)
        if row.item_id != item_id:
            if row.status != "announced" and not returned:
                raise Conflict(f"Photo {photo_id} was received for item {row.item_id}; it "
                               f"cannot move to {item_id}.")
            row.item_id = item_id


def _photo_place(location: dict | None) -> dict:
    location = location or {}
    return {key: location.get(key) for key in ("lat", "lon", "accuracy_m")}


def _check_photo_ids_free(photo_ids: list) -> None:
    """One query for all the newly announced ids (a visit may announce dozens)."""
    if not photo_ids:
        return
    taken = db.session.scalars(select(Photo.id).where(Photo.id.in_(photo_ids)).limit(1))
    if (photo_id := taken.first()) is not None:
        raise Conflict(f"Photo id {photo_id} belongs to another visit.")


# ------------------------------------------------------------------------------ submission


def submit(user, visit_id) -> Visit:
    """Check completeness, freeze the score and submit; a repeated submit answers the same."""
    visit = _own_visit(user, visit_id, lock=True)
    check_unsigned(visit)
    if visit.status not in EDITABLE:
        return visit
    definition = definition_of(visit.checklist_version)
    _check_complete(visit, definition, answers_of(visit))
    score = freeze_score(visit, definition)
    record_submission(user, visit)  # before the status: a returned visit answers its comment
    visit.submitted_at = visit.updated_at = utcnow()
    # An audit is the supervisor's own finding; a mystery visit waits for a reviewer.
    visit.status = "published" if visit.kind == "audit" else "submitted"
    if visit.status == "published":
        visit.published_at = visit.submitted_at
    on_visit_submitted(visit, definition, score)  # assignment, reviewer flags, actions
    prerender.after_commit(visit)
    record(user, "submit", "visit", visit.id, total=visit.total, grade=visit.grade,
           red_line=visit.red_line, status=visit.status)
    return visit


def _check_complete(visit: Visit, definition: ChecklistDefinition, answers: dict) -> None:
    responses = {item.id: ["Required."] for item in missing_required(definition, answers)}
    unexplained = _red_lines_without_note(visit, definition, answers)
    received = Counter(p.item_id for p in visit.photos if p.status in RECEIVED)
    photos = {}
    for _, item in definition.items():
        answer = answers.get(item.id)
        wanted = item.photo.rule == "required" and (item.required or answer is not None)
        if wanted and not (answer and answer.na) and applies(definition, item, answers) \
                and received[item.id] < item.photo.min:
            photos[item.id] = [f"{item.photo.min} required, {received[item.id]} received."]
    missing = [str(p.id) for p in missing_photos(visit)]
    errors = {k: v for k, v in {"responses": {**responses, **unexplained}, "photos": photos,
                                "missing_photos": missing}.items() if v}
    if errors:
        notes = f", {len(unexplained)} red-line finding(s) without a note" if unexplained else ""
        raise Invalid(
            f"The visit is incomplete: {len(responses)} required answer(s) missing, "
            f"{len(photos)} item(s) short of photos, {len(missing)} announced photo(s) "
            f"not received{notes}.", errors)


def _red_lines_without_note(visit: Visit, definition: ChecklistDefinition,
                            answers: dict) -> dict:
    """{item id: {"note": [...]}} of each red-line finding with no note (keyed like the
    missing answers): what happened has to be written."""
    errors = {}
    for response in visit.responses:
        item = definition.item(response.item_id)
        if item.red_line and _is_finding(definition, item, answers) \
                and not (response.note or "").strip():
            errors[item.id] = {"note": [
                f"Red-line finding ({item.id}): say what happened in the note."]}
    return errors


def _is_finding(definition: ChecklistDefinition, item, answers: dict) -> bool:
    answer = answers[item.id]
    return (not answer.na and answer.value is not None and item.type != "text"
            and applies(definition, item, answers) and item_fraction(item, answer.value) < 1)


def _own_visit(user, visit_id, lock: bool = False) -> Visit:
    visit = get_own_visit(user, visit_id)
    return _locked(visit_id) if lock else visit


# ------------------------------------------------------------------------------ photos


def receive_photo(user, visit_id, photo_id, item_id: str | None, stream, declared_type: str,
                  limits: tuple[int, int]) -> tuple[Photo, bool]:
    """Take a photo's bytes; returns (photo, stored now). The same bytes again store nothing."""
    visit, photo = _photo_target(user, visit_id, photo_id, item_id)
    storage, (max_bytes, max_pixels) = get_storage(), limits
    upload = pipeline.spool(stream, storage, max_bytes)
    try:
        info = pipeline.inspect(upload.path, declared_type, max_pixels)
        if _already_received(photo, photo_id, upload):
            return photo, False
        # Stored (fsync) before the row changes, which on SQLite locks the whole database; a
        # request that loses a race below leaves content no row names, which cleanup removes.
        _store_original(storage, upload)
        values = {"status": "received", "error": None, "content_hash": upload.sha256,
                  "content_type": info.content_type, "size_bytes": upload.size,
                  "width": info.width, "height": info.height, "received_at": utcnow()}
        if photo is None or not _marked_received(photo, values):
            visit = _locked(visit.id)
            photo = db.session.get(Photo, photo_id, populate_existing=True)
            if _already_received(photo, photo_id, upload):
                return photo, False
            check_unsigned(visit)
            if visit.status not in EDITABLE:
                raise Conflict(f"Visit {visit_id} is {visit.status}: no new photos.")
            photo = _received(visit, photo, photo_id, item_id, values)
    finally:
        upload.path.unlink(missing_ok=True)
    record(user, "receive", "photo", photo_id, visit_id=str(visit_id), item=photo.item_id,
           bytes=upload.size, content_type=info.content_type, sha256=upload.sha256)
    return photo, True


def _marked_received(photo: Photo, values: dict) -> bool:
    """The common case in one statement: an announced (or corrupt) photo of an editable visit
    becomes received. Its row lock settles a race with a twin request; a submit cannot slip in
    between, since a visit with a photo still to come is incomplete. False: nothing changed,
    and the caller decides under the visit's lock (a replay, other content, a closed visit)."""
    signed = select(Signoff.visit_id).where(Signoff.visit_id == photo.visit_id)
    editable = select(Visit.id).where(Visit.id == photo.visit_id, Visit.status.in_(EDITABLE),
                                      ~signed.exists())
    changed = db.session.execute(
        update(Photo).where(Photo.id == photo.id, Photo.status.in_(("announced", "corrupt")),
                            editable.exists()).values(values)
        .execution_options(synchronize_session=False)).rowcount
    if changed:
        for key, value in values.items():
            set_committed_value(photo, key, value)
    return bool(changed)


def _photo_target(user, visit_id, photo_id, item_id) -> tuple[Visit, Photo | None]:
    """Fail fast, before the body is read: who, which visit, which item; (visit, photo row)."""
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"Visit {visit_id} is not announced yet: PUT the visit first, then "
                       "its photos.")
    visit = _own_visit(user, visit_id)
    photo = db.session.get(Photo, photo_id)
    if photo is not None and photo.visit_id != visit.id:
        raise Conflict(f"Photo id {photo_id} belongs to another visit.")
    if photo is None:
        check_unsigned(visit)
    if photo is None and visit.status not in EDITABLE:
        raise Conflict(f"Visit {visit_id} is {visit.status}: no new photos.")
    expected = photo.item_id if photo is not None else None
    if item_id is None and expected is None:
        raise Invalid("Name the item the photo is for: ?item=<item id>.",
                      {"query": {"item": ["Missing."]}})
    if item_id is not None and expected is not None and item_id != expected:
        raise Conflict(f"Photo {photo_id} was announced for item {expected}, not {item_id}.")
    if photo is None:  # an announced photo's item was checked with the visit's body
        definition = definition_of(visit.checklist_version)
        if item_id not in {item.id for _, item in definition.items()}:
            raise Invalid(f"Item {item_id} does not exist in this visit's checklist.",
                          {"query": {"item": ["Unknown item."]}})
    return visit, photo


def _already_received(photo, photo_id, upload) -> bool:
    """A replay of the same bytes (True); other bytes under a received id are a 409."""
    if photo is None or photo.status not in RECEIVED:
        return False
    if photo.content_hash != upload.sha256:
        raise Conflict(f"Photo {photo_id} was already received with other content; give a new "
                       "photo a new id.")
    return True


def _store_original(storage, upload) -> None:
    # Stored under its hash without asking first (a round trip to an object store): the same
    # content from another photo id, which is rare, replaces itself atomically.
    storage.put_file(pipeline.original_key(upload.sha256), upload.path)


def _received(visit, photo, photo_id, item_id, values: dict) -> Photo:
    if photo is None:
        photo = Photo(id=photo_id, item_id=item_id, announced_at=utcnow())
        visit.photos.append(photo)
    for key, value in values.items():
        setattr(photo, key, value)
    db.session.flush()
    return photo


def photo_file(user, visit_id, photo_id, size: str) -> tuple[str, str, str] | None:
    """(storage key, media type, ETag) of a photo's stripped version, processed on demand; None
    when processing found the photo corrupt (the caller commits that, then answers 404)."""
    visit = get_visit(user, visit_id)
    photo = next((p for p in visit.photos if p.id == photo_id), None)
    if photo is None or photo.status == "announced":
        raise NotFound(f"Photo {photo_id} of visit {visit_id} has not been received.")
    pipeline.process(photo)
    if photo.status == "corrupt":
        return None
    key = pipeline.derived_key(photo.content_hash, size, photo.content_type)
    storage = get_storage()
    if size == "original" and not storage.exists(key):
        pipeline.make_original(storage, photo.content_hash, photo.content_type)
    return key, pipeline.derived_type(size, photo.content_type), f"{photo.content_hash[:32]}-{size}"
