"""The store's queries of a published mystery result over HTTP, and the reviewer's rulings."""

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate

from supervision.db import db
from supervision.followup import evidence, queries
from supervision.followup.models import QUERY_RULINGS, QUERY_STATUSES
from supervision.followup.schemas import (
    EvidenceQueryArgsSchema,
    EvidenceSchema,
    EvidenceSizeQueryArgsSchema,
)
from supervision.schemas import Name, identifier, instant
from supervision.scoping import roles_required
from supervision.visits.api import IMAGE_BODY, committed, send_photo, upload_limits

blp = Blueprint("queries", __name__, url_prefix="/api/v1",
                description="The store's queries of mystery results, and the rulings")

_NOTE = 2000


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error=f"Must be one of: {', '.join(choices)}.")


class QueryBodySchema(ma.Schema):
    item = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    reason = Name(_NOTE, required=True, metadata={
        "description": "The facts that contradict the result (what happened, when, who)."})
    evidence = ma.fields.List(ma.fields.UUID(), load_default=list,
                              validate=validate.Length(max=10), metadata={
        "description": "Ids of the photos that will be sent with it "
                       "(PUT /api/v1/queries/{id}/evidence/{photo_id})."})


class RulingSchema(ma.Schema):
    ruling = ma.fields.String(required=True, validate=_one_of(tuple(QUERY_RULINGS)))
    comment = ma.fields.String(required=True, validate=validate.Length(max=_NOTE), metadata={
        "description": "The reason the store reads with the ruling."})
    value = ma.fields.Raw(allow_none=True, metadata={"description": "amend: the new answer."})
    na = ma.fields.Boolean(load_default=False, metadata={"description": "amend: not applicable."})
    shopper_id = identifier(metadata={
        "description": "reshop: the shopper (default: the region's least busy other one)."})
    window_start = instant()
    window_end = instant()


class QueryArgsSchema(ma.Schema):
    status = ma.fields.String(validate=_one_of(QUERY_STATUSES))
    store_id = identifier()


class QueryEvidenceUploadSchema(EvidenceSchema):
    query_id = ma.fields.Integer()
    content_type = ma.fields.String()


class QueryPhotoSchema(ma.Schema):
    id = ma.fields.UUID()
    received_at = ma.fields.AwareDateTime()


class AnswerSchema(ma.Schema):
    value = ma.fields.Raw(allow_none=True)
    na = ma.fields.Boolean()


class QuerySchema(ma.Schema):
    id = ma.fields.Integer()
    visit_id = ma.fields.UUID()
    item = ma.fields.String()
    reason = ma.fields.String()
    status = ma.fields.String(metadata={"description": "open, upheld, amended or reshop."})
    raised_at = ma.fields.AwareDateTime()
    evidence = ma.fields.List(ma.fields.Nested(QueryPhotoSchema))
    ruling_comment = ma.fields.String(allow_none=True)
    ruled_at = ma.fields.AwareDateTime(allow_none=True)
    ruled_by_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "Null for the store's side."})
    old_value = ma.fields.Nested(AnswerSchema, allow_none=True)
    new_value = ma.fields.Nested(AnswerSchema, allow_none=True)
    reshop_assignment_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "Null for the store's side."})
    closes_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "When the store's query window closes (closed: no new query)."})


def _documents(found) -> list[dict]:
    return [queries.query_document(current_user, q) for q in found]


@blp.route("/queries")
class QueriesView(MethodView):
    @blp.arguments(QueryArgsSchema, location="query")
    @blp.response(200, QuerySchema(many=True))
    def get(self, filters):
        """The queries of the visits the caller may see, newest first (shoppers: none)."""
        return _documents(queries.list_queries(current_user, filters))


@blp.route("/visits/<uuid:visit_id>/queries")
class VisitQueriesView(MethodView):
    @blp.response(200, QuerySchema(many=True))
    def get(self, visit_id):
        """The store's queries of this visit, with their rulings."""
        return _documents(queries.queries_of(current_user, visit_id))

    @roles_required(*queries.RAISERS)
    @blp.arguments(QueryBodySchema)
    @blp.response(200, QuerySchema)
    @blp.alt_response(201, schema=QuerySchema, description="Created")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, visit_id):
        """Query an item of the store's published mystery result, within the window (201; the
        same body again 200; another query of the same item or a closed window 409)."""
        query, created = committed(queries.raise_query, current_user, visit_id, body)
        return queries.query_document(current_user, query), 201 if created else 200


@blp.route("/queries/<int:query_id>")
class QueryView(MethodView):
    @blp.response(200, QuerySchema)
    def get(self, query_id):
        """One query."""
        return queries.query_document(current_user, queries.get_query(current_user, query_id))

    @roles_required(*queries.RULERS)
    @blp.arguments(RulingSchema)
    @blp.response(200, QuerySchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, body, query_id):
        """Rule: uphold, amend (with the new answer: the visit is scored again) or reshop (a new
        assignment for another shopper; the visit leaves the averages)."""
        query = queries.rule(current_user, query_id, body)
        db.session.commit()
        return queries.query_document(current_user, query)


@blp.route("/queries/<int:query_id>/evidence/<uuid:photo_id>")
class QueryEvidenceView(MethodView):
    @blp.arguments(EvidenceSizeQueryArgsSchema, location="query")
    @blp.response(200, description="The image, without EXIF or location data",
                  content_type="image/jpeg")
    def get(self, args, query_id, photo_id):
        """A photo sent with the query: size thumb (≈320 px), display (≈1600 px) or original."""
        return send_photo(queries.evidence_file(current_user, query_id, photo_id, args["size"]),
                          photo_id)

    @roles_required(*queries.RAISERS)
    @blp.arguments(EvidenceQueryArgsSchema, location="query")
    @blp.doc(requestBody=IMAGE_BODY)
    @blp.response(200, QueryEvidenceUploadSchema)
    @blp.alt_response(201, schema=QueryEvidenceUploadSchema, description="Stored")
    @blp.alt_response(409, response="CONFLICT")
    def put(self, args, query_id, photo_id):
        """Send a photo with an open query as the raw body (201 stored, 200 the same bytes)."""
        found, stored = queries.receive_evidence(
            current_user, query_id, photo_id, args["taken_at"], request.stream,
            request.content_type or "", upload_limits())
        if stored:
            evidence.process_after_commit(found)
        db.session.commit()
        return found, 201 if stored else 200
