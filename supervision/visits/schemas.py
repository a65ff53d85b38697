"""Shapes of visits and photos in the API: the body a client PUTs, and what the server answers."""

import marshmallow as ma
from marshmallow import validate

from supervision.pagination import PageQueryArgsSchema
from supervision.schemas import LocalDay, Name, identifier, instant, integer
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
    flagged = ma.fields.Boolean(load_default=False, metadata={
        "description": "The collector marked the item as needing attention: reports list it "
                       "first."})


class PhotoAnnouncementSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    item = ma.fields.String(required=True, validate=ITEM_ID)
    taken_at = instant(allow_none=True, load_default=None, metadata={
        "description": "When the photo was taken, by the device's clock."})
    location = ma.fields.Nested(LocationSchema, allow_none=True, load_default=None, metadata={
        "description": "Where the device was when the photo was taken."})


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
    calibrates = ma.fields.UUID(allow_none=True, metadata={
        "description": "A calibration visit: the published audit it scores a second time (same "
                       "store and checklist, another author, started within 4 hours of it). "
                       "It is left out of averages and proposes no actions."})
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
    flagged = ma.fields.Boolean()
    received_at = ma.fields.AwareDateTime()
    changes = ma.fields.List(ma.fields.String(), metadata={
        "description": "How the answer changed after submission, oldest first: review_edit, "
                       "query_amend, resubmission (GET /api/v1/visits/{visit_id}/history has "
                       "the detail); the store version lists only query_amend."})


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
    location = ma.fields.Nested(LocationSchema, allow_none=True)


class SignoffSchema(ma.Schema):
    visit_id = ma.fields.UUID()
    name = ma.fields.String(metadata={"description": "Who signed, as they wrote it."})
    comment = ma.fields.String(allow_none=True)
    signed_at = ma.fields.AwareDateTime(metadata={"description": "By the device's clock."})
    method = ma.fields.String(validate=validate.OneOf(("signature", "acknowledgement")), metadata={
        "description": "signature: signed on the supervisor's tablet; acknowledgement: by the "
                       "store manager in their own app."})
    signer_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "The store manager's account, when they acknowledged in their app."})
    has_signature = ma.fields.Boolean(metadata={
        "description": "GET /api/v1/visits/{visit_id}/signoff/signature gives the PNG."})
    received_at = ma.fields.AwareDateTime()


class SignoffBodySchema(ma.Schema):
    """The store's sign-off; the same body again is harmless, a different one is refused."""

    name = Name(120, required=True)
    signature = ma.fields.String(allow_none=True, load_default=None, validate=validate.Length(
        max=1_500_000), metadata={
        "description": "The signature drawn on the screen: data:image/png;base64,… (a PNG of at "
                       "most 1 MB). Required on the supervisor's tablet; a store manager "
                       "acknowledging in their own app may leave it out."})
    comment = ma.fields.String(allow_none=True, load_default=None,
                               validate=validate.Length(max=NOTE_MAX))
    signed_at = instant(required=True, metadata={"description": "By the device's clock."})
    location = ma.fields.Nested(LocationSchema, allow_none=True, load_default=None)


class VisitSchema(ma.Schema):
    id = ma.fields.UUID()
    store_id = ma.fields.Integer()
    checklist = ma.fields.Nested(ChecklistRefSchema)
    kind = ma.fields.String()
    status = ma.fields.String()
    author_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "Null in the store version of a mystery visit (the shopper stays "
                       "unknown to the store's side), as are its assignment, location, flags "
                       "and review."})
    assignment_id = ma.fields.Integer(allow_none=True)
    started_at = ma.fields.AwareDateTime()
    ended_at = ma.fields.AwareDateTime(allow_none=True)
    location = ma.fields.Nested(LocationSchema, allow_none=True)
    moments = ma.fields.List(ma.fields.Nested(MomentSchema))
    wait_minutes = ma.fields.Float(allow_none=True, metadata={
        "description": "Minutes of the checklist's queue_wait interval, when both its moments "
                       "were recorded."})
    wait_seconds = ma.fields.Integer(allow_none=True, metadata={
        "description": "The same wait in whole seconds."})
    notes = ma.fields.String(allow_none=True)
    flags = ma.fields.List(ma.fields.Raw(), metadata={
        "description": "For the reviewer, computed at submission, never refusing the visit: "
                       "each {code, message (中文 / English), …facts}. Codes: outside_window, "
                       "assignment_cancelled, far_from_store, timer_mismatch, duplicate_photo, "
                       "photo_time_outside, short_dwell, duplicate_text, outlier_total, "
                       "no_dispute_record (at publication). Empty in the store version."})
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
    queries_close_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "A published mystery result: until when its store may query an item "
                       "(POST /api/v1/visits/{visit_id}/queries)."})
    excluded = ma.fields.String(allow_none=True, metadata={
        "description": "Why the visit is left out of averages and counts (kept and shown all "
                       "the same): reshop (a query ruled for a re-shop) or calibration (a "
                       "second rating of another visit); null: it counts."})
    calibrates = ma.fields.UUID(allow_none=True, metadata={
        "description": "A calibration visit: the visit it scores a second time "
                       "(GET /api/v1/visits/{visit_id}/calibration compares the two)."})
    review_grade = ma.fields.Integer(allow_none=True, metadata={
        "description": "The reviewer's grade of the shop, 1–10 (PUT /api/v1/visits/{visit_id}/"
                       "grade); null in the store version."})
    review_grade_comment = ma.fields.String(allow_none=True, metadata={
        "description": "The reviewer's comment on the grade; null in the store version."})
    signoff = ma.fields.Nested(SignoffSchema, allow_none=True, metadata={
        "description": "The store's sign-off; a signed visit is locked. null: not signed off."})


class SubmitResultSchema(ma.Schema):
    status = ma.fields.String()
    score = ma.fields.Dict()


class ChangeSchema(ma.Schema):
    item = ma.fields.String(metadata={
        "description": "The checklist item whose answer changed; \"photo\", \"moment\" or "
                       "\"notes\" for those."})
    field = ma.fields.String(metadata={
        "description": "The answer's field (value, na, note, staff, flagged); for a photo the "
                       "checklist item, for a moment the moment."})
    old = ma.fields.Raw(allow_none=True, metadata={"description": "Before (photos: their ids)."})
    new = ma.fields.Raw(allow_none=True, metadata={"description": "After (photos: their ids)."})


class VisitChangeSchema(ma.Schema):
    kind = ma.fields.String(metadata={
        "description": "review_edit (the reviewer corrected an answer), query_amend (an answer "
                       "amended on the store's query) or resubmission (the shopper sent the "
                       "returned visit again)."})
    at = ma.fields.AwareDateTime()
    by_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "Who changed it (null for the system, and on the store's side)."})
    reason = ma.fields.String(allow_none=True, metadata={
        "description": "Why: the reviewer's reason, the ruling's comment, or the comment the "
                       "resubmission answers."})
    query_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "The store's query the amendment rules on."})
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema))
    total_before = ma.fields.Float(allow_none=True)
    total_after = ma.fields.Float(allow_none=True)


class SubmissionSchema(ma.Schema):
    number = ma.fields.Integer(metadata={"description": "1 for the first submission, 2, …"})
    submitted_at = ma.fields.DateTime()
    submitted_by_id = ma.fields.Integer()
    answers_comment = ma.fields.String(allow_none=True, metadata={
        "description": "The reviewer's comment this submission answers (null for the first)."})
    total = ma.fields.Float(allow_none=True)
    changes = ma.fields.List(ma.fields.Nested(ChangeSchema), metadata={
        "description": "What differs from the submission before."})
