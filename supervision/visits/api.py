"""Visits over HTTP: drafts and photos by client-made ids, submission, reading — all replayable."""

from flask import current_app, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from supervision.db import db
from supervision.errors import NotFound
from supervision.pagination import total_header, with_total
from supervision.scoping import get_visit, reads_store_version, roles_required
from supervision.storage import get_storage
from supervision.visits import photos as pipeline
from supervision.visits import queries, services, submissions
from supervision.visits.changes import STORE_SIDE_KINDS, changed_items_of
from supervision.visits.schemas import (
    PhotoQueryArgsSchema,
    PhotoSchema,
    PhotoSizeQueryArgsSchema,
    SubmissionSchema,
    SubmitResultSchema,
    VisitChangeSchema,
    VisitDraftSchema,
    VisitQueryArgsSchema,
    VisitSchema,
)

blp = Blueprint("visits", __name__, url_prefix="/api/v1", description="Visits and photos")

CAPTURERS = ("admin", "supervisor", "shopper")
IMAGE_BODY = {"content": {t: {"schema": {"type": "string", "format": "binary"}}
                          for t in ("image/jpeg", "image/png", "image/heic", "image/webp")}}


def committed(action, *args):
    """Run a service and commit. A concurrent twin that won a unique-key race makes this one
    fail on commit: roll back and run it again, when it finds the twin's row — a replay."""
    try:
        result = action(*args)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        current_app.logger.info("%s lost a unique-key race; run again as a replay",
                                action.__name__)
        result = action(*args)
        db.session.commit()
    return result


def upload_limits() -> tuple[int, int]:
    config = current_app.config
    return config["PHOTO_MAX_BYTES"], config["PHOTO_MAX_PIXELS"]


def send_photo(found, photo_id):
    """Answer with a stored photo's file; commit first what was done on the way (the photo
    processed now, or found corrupt)."""
    db.session.commit()
    if found is None:
        raise NotFound(f"Photo {photo_id} could not be decoded; it has to be sent again.")
    return get_storage().send(*found)


# What the store version of a mystery visit leaves out: who made it and for which assignment,
# where the device was, the reviewer's flags, who reviewed it and what they said, and the
# reviewer's grade of the shop (the shopper's track record).
STORE_VERSION_BLANKS = {"author_id": None, "assignment_id": None, "location": None, "flags": [],
                        "reviewed_by_id": None, "review_comment": None,
                        "review_grade": None, "review_grade_comment": None}


def _document(visit, changed: dict | None = None):
    document = queries.visit_document(visit, changed)
    if reads_store_version(current_user, visit):
        document.update(STORE_VERSION_BLANKS)
        document["photos"] = [{**photo, "location": None} for photo in document["photos"]]
        document["responses"] = [
            {**row, "changes": [k for k in row["changes"] if k in STORE_SIDE_KINDS]}
            for row in document["responses"]]
    return document


def _saved_draft(user, visit_id, body) -> tuple[dict, bool]:
    """save_draft, and the document built from what it flushed: the commit would expire it all
    and the answer would read the visit, its answers and photos back."""
    visit, created = services.save_draft(user, visit_id, body)
    db.session.flush()
    return _document(visit), created


@blp.route("/visits")
class VisitsView(MethodView):
    @blp.arguments(VisitQueryArgsSchema, location="query")
    @blp.response(200, VisitSchema(many=True), headers=total_header("Visits matching the filters"))
    def get(self, args):
        """Visits the caller may see, newest first; filters: store_id, from, to, status, kind."""
        page, total = queries.list_visits(current_user, args)
        changed = changed_items_of([v.id for v in page])
        return with_total([_document(v, changed[v.id]) for v in page], total)


@blp.route("/visits/<uuid:visit_id>")
class VisitView(MethodView):
    @blp.response(200, VisitSchema)
    def get(self, visit_id):
        """One visit, with missing_photos and the frozen score."""
        return _document(get_visit(current_user, visit_id))

    @roles_required(*CAPTURERS)
    @blp.arguments(VisitDraftSchema)
    @blp.response(200, VisitSchema)
    @blp.alt_response(201, schema=VisitSchema, description="Created")
    @blp.alt_response(409, response="CONFLICT")
    def put(self, body, visit_id):
        """Create or update a draft (201 created, 200 updated or replayed)."""
        document, created = committed(_saved_draft, current_user, visit_id, body)
        return document, 201 if created else 200


@blp.route("/visits/<uuid:visit_id>/submit")
class SubmitView(MethodView):
    @roles_required(*CAPTURERS)
    @blp.response(200, SubmitResultSchema)
    def post(self, visit_id):
        """Submit: 422 listing each gap; freezes the score; repeated → the same answer."""
        visit = committed(services.submit, current_user, visit_id)
        return {"status": visit.status, "score": visit.score}


@blp.route("/visits/<uuid:visit_id>/submissions")
class SubmissionsView(MethodView):
    @blp.response(200, SubmissionSchema(many=True))
    def get(self, visit_id):
        """Each submission of the visit, first to last, with what changed since the one before:
        for its author and its reviewers (the store's side: 404)."""
        return [{"number": s.number, "submitted_at": s.submitted_at,
                 "submitted_by_id": s.submitted_by_id, "answers_comment": s.answers_comment,
                 "total": s.snapshot.get("total"), "changes": s.changes}
                for s in submissions.submissions_of(current_user, visit_id)]


@blp.route("/visits/<uuid:visit_id>/history")
class HistoryView(MethodView):
    @blp.response(200, VisitChangeSchema(many=True))
    def get(self, visit_id):
        """Every change after submission, oldest first: who, when, why, the old and new answers,
        the total before and after. The store's side: only answers corrected on its queries."""
        return submissions.history_of(current_user, visit_id)


@blp.route("/visits/<uuid:visit_id>/photos/<uuid:photo_id>")
class PhotoView(MethodView):
    @blp.arguments(PhotoSizeQueryArgsSchema, location="query")
    @blp.response(200, description="The image, without EXIF or location data",
                  content_type="image/jpeg")
    def get(self, args, visit_id, photo_id):
        """A photo: size thumb (≈320 px), display (≈1600 px) or original (full size, stripped)."""
        return send_photo(services.photo_file(current_user, visit_id, photo_id, args["size"]),
                          photo_id)

    @roles_required(*CAPTURERS)
    @blp.arguments(PhotoQueryArgsSchema, location="query")
    @blp.doc(requestBody=IMAGE_BODY)
    @blp.response(200, PhotoSchema)
    @blp.alt_response(201, schema=PhotoSchema, description="Stored")
    def put(self, args, visit_id, photo_id):
        """Upload a photo as the raw body (201 stored, 200 the same bytes again)."""
        photo, stored = services.receive_photo(
            current_user, visit_id, photo_id, args["item"], request.stream,
            request.content_type or "", upload_limits())
        if stored:
            pipeline.process_after_commit(photo)
        db.session.commit()
        return _photo_document(photo), 201 if stored else 200


def _photo_document(photo) -> dict:
    return {**{c.key: getattr(photo, c.key) for c in type(photo).__table__.columns},
            "item": photo.item_id}

