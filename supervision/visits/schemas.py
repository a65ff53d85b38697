"""Shapes of visits and photos in the API: the body a client PUTs, and what the server answers."""

import marshmallow as ma
from marshmallow import validate

from supervision.pagination import PageQueryArgsSchema
from supervision.schemas import LocalDay, identifier, instant, integer
from supervision.visits.models import PHOTO_STATUSES, VISIT_KINDS, VISIT_STATUSES

ITEM_ID = validate.Length(min=1, max=64)
PHOTO_SIZES = ("original", "display", "thumb")
# Generous for a field note, far below a pasted document: a note is read on a tablet.
NOTE_MAX = 4000
VISIT_NOTES_MAX = 20000


class LocationSchema(ma.Schema):
    lat = ma.fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = ma.fields.Float(required=True, validate=validate.Range(min=-180, max=180))
    accuracy_m = ma.fields.Float(allow_none=True, load_default=None,
                                 validate=validate.Range(min=0))


class MomentSchema(ma.Schema):
    moment = ma.fields.String(required=True, validate=ITEM_ID)
    at = instant(required=True)


class ResponseDraftSchema(ma.Schema):
    item = ma.fields.String(required=True, validate=ITEM_ID)
    value = ma.fields.Raw(allow_none=True, load_default=None)
    na = ma.fields.Boolean(load_default=False)
    note = ma.fields.String(allow_none=True, load_default=None,
                            validate=validate.Length(max=NOTE_MAX))
    staff = ma.fields.String(allow_none=True, load_default=None,
                             validate=validate.Length(max=120))
    at = instant(allow_none=True, load_default=None, metadata={
        "description": "When the answer was given or last changed, by the device's clock: the "
                       "time of a finding."})


class PhotoAnnouncementSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    item = ma.fields.String(required=True, validate=ITEM_ID)
    taken_at = instant(allow_none=True, load_default=None, metadata={
        "description": "When the photo was taken, by the device's clock."})


class ChecklistRefSchema(ma.Schema):
    slug = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    version = integer(1, required=True, strict=True)


class VisitDraftSchema(ma.Schema):
    """The whole draft as the client has it; each PUT replaces the previous one."""

    store_id = identifier(required=True, strict=True)
    checklist = ma.fields.Nested(ChecklistRefSchema, required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(VISIT_KINDS))
    started_at = instant(required=True)
    ended_at = instant(allow_none=True, load_default=None)
    location = ma.fields.Nested(LocationSchema, allow_none=True, load_default=None)
    moments = ma.fields.List(ma.fields.Nested(MomentSchema), load_default=list,
                             validate=validate.Length(max=100))
    responses = ma.fields.List(ma.fields.Nested(ResponseDraftSchema), load_default=list,
                               validate=validate.Length(max=1000))
    photos = ma.fields.List(ma.fields.Nested(PhotoAnnouncementSchema), load_default=list,
                            validate=validate.Length(max=500))
    notes = ma.fields.String(allow_none=True, load_default=None,
                             validate=validate.Length(max=VISIT_NOTES_MAX))
    assignment_id = identifier(strict=True, allow_none=True, load_default=None, metadata={
        "description": "The mystery-shop assignment this visit carries out, when known."})
    revision = integer(
        strict=True, load_default=0,
        metadata={"description": "Optional counter the client raises with each edit: a body "
                                 "with a lower revision than the stored one is an old replay, "
                                 "answered with the current visit and not applied."},
    )

    @ma.validates_schema
    def check_times(self, data, **kwargs):
        if data.get("ended_at") and data["ended_at"] < data["started_at"]:
            raise ma.ValidationError("Must not be before started_at.", "ended_at")


class PhotoQueryArgsSchema(ma.Schema):
    item = ma.fields.String(load_default=None, validate=ITEM_ID,
                            metadata={"description": "The checklist item the photo documents."})


class PhotoSizeQueryArgsSchema(ma.Schema):
    size = ma.fields.String(load_default="original", validate=validate.OneOf(PHOTO_SIZES))


class VisitQueryArgsSchema(PageQueryArgsSchema):
    store_id = identifier()
    start = LocalDay(data_key="from", metadata={
        "description": "Visits started on or after this day (YYYY-MM-DD, TIMEZONE setting)."})
    end = LocalDay(data_key="to", metadata={
        "description": "Visits started on or before this day, included."})
    status = ma.fields.String(validate=validate.OneOf(VISIT_STATUSES))
    kind = ma.fields.String(validate=validate.OneOf(VISIT_KINDS))


class ResponseSchema(ma.Schema):
    item = ma.fields.String()
    value = ma.fields.Raw(allow_none=True)
    na = ma.fields.Boolean()
    note = ma.fields.String(allow_none=True)
    staff = ma.fields.String(allow_none=True)
    at = ma.fields.AwareDateTime(allow_none=True)
    received_at = ma.fields.AwareDateTime()


class PhotoSchema(ma.Schema):
    id = ma.fields.UUID()
    item = ma.fields.String(allow_none=True)
    status = ma.fields.String(validate=validate.OneOf(PHOTO_STATUSES), metadata={
        "description": "announced → received → processed, or corrupt: send the photo again."})
    content_type = ma.fields.String(allow_none=True)
    width = ma.fields.Integer(allow_none=True)
    height = ma.fields.Integer(allow_none=True)
    size_bytes = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    announced_at = ma.fields.AwareDateTime()
    received_at = ma.fields.AwareDateTime(allow_none=True)
    taken_at = ma.fields.AwareDateTime(allow_none=True)


class VisitSchema(ma.Schema):
    id = ma.fields.UUID()
    store_id = ma.fields.Integer()
    checklist = ma.fields.Nested(ChecklistRefSchema)
    kind = ma.fields.String()
    status = ma.fields.String()
    author_id = ma.fields.Integer()
    assignment_id = ma.fields.Integer(allow_none=True)
    started_at = ma.fields.AwareDateTime()
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    moments = ma.fields.List(ma.fields.Nested(MomentSchema))
    wait_minutes = ma.fields.Float(allow_none=True, metadata={
        "description": "Minutes of the checklist's queue_wait interval, when both its moments "
                       "were recorded."})
    notes = ma.fields.String(allow_none=True)
    flags = ma.fields.List(ma.fields.Raw())
    revision = ma.fields.Integer()
    responses = ma.fields.List(ma.fields.Nested(ResponseSchema))
    photos = ma.fields.List(ma.fields.Nested(PhotoSchema))
    missing_photos = ma.fields.List(ma.fields.UUID(), metadata={
        "description": "Announced photos not received yet (or corrupt: send them again)."})
    score = ma.fields.Dict(allow_none=True, metadata={
        "description": "Frozen at submission: total, grade, red_lines, sections, moments, "
                       "functions, items and the explanation of the formula."})
    total = ma.fields.Float(allow_none=True)
    grade = ma.fields.String(allow_none=True)
    red_line = ma.fields.Boolean()
    received_at = ma.fields.AwareDateTime()
    updated_at = ma.fields.AwareDateTime()
    submitted_at = ma.fields.AwareDateTime(allow_none=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    reviewed_by_id = ma.fields.Integer(allow_none=True)
    review_comment = ma.fields.String(allow_none=True, metadata={
        "description": "The reviewer's comment, shown to the shopper when the visit is rejected."})


class SubmitResultSchema(ma.Schema):
    status = ma.fields.String()
    score = ma.fields.Dict()
