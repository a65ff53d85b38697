"""Request and response shapes of assignments, reviews, corrective actions and dispute records."""


import marshmallow as ma
from marshmallow import validate

from supervision.followup.actions import OUTCOMES
from supervision.followup.models import (
    ACTION_STATUSES,
    ASSIGNMENT_STATUSES,
    DISPUTE_CATEGORIES,
    DISPUTE_STATUSES,
)
from supervision.followup.review import linked_dispute_ids
from supervision.schemas import LocalDay, Name, day, identifier, instant


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error=f"Must be one of: {', '.join(choices)}.")


def _text(max_length: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


_NOTE = 4000
PHOTO_SIZES = ("thumb", "display", "original")


def _id(**kwargs) -> ma.fields.Integer:
    return identifier(strict=True, **kwargs)


class StoreRefSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    timezone = ma.fields.String()


# Assignments ---------------------------------------------------------------------------------

class AssignmentCreateSchema(ma.Schema):
    store_id = _id(required=True)
    checklist = ma.fields.String(required=True, metadata={"description": "Checklist slug."})
    shopper_id = _id(required=True)
    window_start = instant(required=True)
    window_end = instant(required=True)
    scenario = _text(_NOTE, allow_none=True, load_default=None, metadata={
        "description": "What to play, e.g. 'ask to switch plan, then dispute the last bill'."})


class AssignmentUpdateSchema(ma.Schema):
    window_start = instant()
    window_end = instant()
    scenario = _text(_NOTE, allow_none=True)
    shopper_id = _id()
    status = ma.fields.String(validate=_one_of(("cancelled",)),
                              metadata={"description": "Send 'cancelled' to cancel."})
    reason = _text(_NOTE, metadata={"description": "Why it was rescheduled or cancelled."})


class AssignmentQueryArgsSchema(ma.Schema):
    store_id = identifier()
    shopper_id = identifier()
    status = ma.fields.String(validate=_one_of(ASSIGNMENT_STATUSES))


class AssignmentSchema(ma.Schema):
    id = ma.fields.Integer()
    store_id = ma.fields.Integer()
    store = ma.fields.Nested(StoreRefSchema)
    checklist = ma.fields.Function(lambda a: a.checklist.slug, metadata={"type": "string"})
    shopper_id = ma.fields.Integer()
    shopper_name = ma.fields.Function(lambda a: a.shopper.name, metadata={"type": "string"})
    window_start = ma.fields.AwareDateTime()
    window_end = ma.fields.AwareDateTime()
    scenario = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    visit_ids = ma.fields.Function(lambda a: [str(v.id) for v in a.visits], metadata={
        "type": "array", "items": {"type": "string", "format": "uuid"},
        "description": "The visits made for it."})
    wave_id = ma.fields.Integer(allow_none=True)
    slot = ma.fields.String(allow_none=True, metadata={"description": "A wave's peak or offpeak."})
    created_by_id = ma.fields.Integer()
    created_at = ma.fields.AwareDateTime()


# Review --------------------------------------------------------------------------------------

class ReviewEditSchema(ma.Schema):
    item = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    value = ma.fields.Raw(allow_none=True, load_default=None)
    na = ma.fields.Boolean(load_default=False, metadata={"description": "Not applicable."})
    reason = Name(_NOTE, required=True, metadata={
        "description": "Why the answer changes: kept in the visit's change record."})


class ReviewSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=_one_of(("publish", "reject")))
    comment = ma.fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(max=_NOTE),
                               metadata={"description": "Required to reject: what to fix."})
    edits = ma.fields.List(ma.fields.Nested(ReviewEditSchema), load_default=list,
                           validate=validate.Length(max=100), metadata={
        "description": "Publishing only: the reviewer's corrections of answers, each with its "
                       "reason; the visit is scored again and each change kept "
                       "(GET /api/v1/visits/{visit_id}/history)."})


class ReviewResultSchema(ma.Schema):
    id = ma.fields.UUID()
    kind = ma.fields.String()
    status = ma.fields.String()
    store_id = ma.fields.Integer()
    assignment_id = ma.fields.Integer(allow_none=True)
    flags = ma.fields.List(ma.fields.Dict())
    reviewed_by_id = ma.fields.Integer(allow_none=True)
    review_comment = ma.fields.String(allow_none=True)
    published_at = ma.fields.AwareDateTime(allow_none=True)
    total = ma.fields.Float(allow_none=True)
    grade = ma.fields.String(allow_none=True)
    dispute_ids = ma.fields.Function(linked_dispute_ids, metadata={
        "type": "array", "items": {"type": "integer"},
        "description": "The store's dispute records linked to this visit."})


# Corrective actions --------------------------------------------------------------------------

class ActionCreateSchema(ma.Schema):
    store_id = _id(required=True)
    visit_id = ma.fields.UUID(load_default=None, allow_none=True)
    item_id = ma.fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(max=64))
    title = _text(_NOTE, required=True)
    coaching_question = _text(_NOTE, load_default=None, allow_none=True)
    owner_staff_id = _id(metadata={"description": "The owner: an active person of the store's "
                                                  "roster (GET /api/v1/stores/{id}/staff)."})
    owner = _text(120, metadata={
        "description": "The owner's name, for a store whose roster is not kept yet "
                       "(owner_staff_id wins when both are given)."})
    due_date = day(required=True)


class ActionUpdateSchema(ma.Schema):
    status = ma.fields.String(validate=_one_of(("agreed", "done", "dismissed")), metadata={
        "description": "agreed (needs owner_staff_id; due_date stays the proposal's unless "
                       "given), dismissed (needs reason) or done (needs note and a photo of the "
                       "fix). Approval and rejection: POST /api/v1/actions/{id}/decision."})
    title = _text(_NOTE)
    coaching_question = _text(_NOTE, allow_none=True)
    owner_staff_id = _id(metadata={"description": "An active person of the store's roster."})
    due_date = day()
    reason = _text(_NOTE, metadata={"description": "Why a proposal is dismissed."})
    note = _text(_NOTE, metadata={"description": "What was done (needed for status done)."})
    evidence_photo_id = ma.fields.UUID(metadata={
        "description": "Instead of a photo of the fix: a photo uploaded to a visit of the same "
                       "store."})


class ActionDecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=_one_of(tuple(OUTCOMES)), metadata={
        "description": "approve: the fix is verified; reject: the action is reopened."})
    comment = ma.fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(max=_NOTE),
                               metadata={"description": "Required to reject: what is wrong."})
    due_date = day(load_default=None, allow_none=True, metadata={
        "description": "On rejection, a new due date (else it stays as it was)."})


class EvidenceQueryArgsSchema(ma.Schema):
    taken_at = instant(load_default=None, metadata={
        "description": "When the photo was taken, by the device's clock."})


class EvidenceSizeQueryArgsSchema(ma.Schema):
    size = ma.fields.String(load_default="display", validate=_one_of(PHOTO_SIZES))


class EvidenceSchema(ma.Schema):
    id = ma.fields.UUID()
    status = ma.fields.String(metadata={
        "description": "received → processed, or corrupt: send the photo again."})
    taken_at = ma.fields.AwareDateTime(allow_none=True)
    received_at = ma.fields.AwareDateTime()


class EvidenceUploadSchema(EvidenceSchema):
    action_id = ma.fields.Integer()
    content_type = ma.fields.String()
    width = ma.fields.Integer(allow_none=True)
    height = ma.fields.Integer(allow_none=True)
    size_bytes = ma.fields.Integer(allow_none=True)


class ActionQueryArgsSchema(ma.Schema):
    store_id = identifier()
    visit_id = ma.fields.UUID()
    status = ma.fields.String(validate=_one_of(ACTION_STATUSES))
    overdue = ma.fields.Boolean(metadata={
        "description": "Only agreed (open) actions past their due date (a proposal never is)."})


class StaffRefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    badge = ma.fields.String(allow_none=True)
    position = ma.fields.String(allow_none=True)


class BilingualSchema(ma.Schema):
    zh = ma.fields.String()
    en = ma.fields.String()


class ActionTextsSchema(ma.Schema):
    title = ma.fields.Nested(BilingualSchema, metadata={
        "description": "The generated title; `title` holds its Chinese."})
    question = ma.fields.Nested(BilingualSchema, metadata={
        "description": "The item's coaching question; `coaching_question` holds its Chinese."})


class ActionSchema(ma.Schema):
    id = ma.fields.Integer()
    store_id = ma.fields.Integer()
    store = ma.fields.Nested(StoreRefSchema)
    visit_id = ma.fields.UUID(allow_none=True)
    item_id = ma.fields.String(allow_none=True)
    title = ma.fields.String()
    coaching_question = ma.fields.String(allow_none=True)
    texts = ma.fields.Nested(ActionTextsSchema, allow_none=True, metadata={
        "description": "Both languages of a proposal's generated title and coaching question, "
                       "for a client to show its own language. An entry is gone once a person "
                       "edits that field (then `title` / `coaching_question` speak)."})
    owner = ma.fields.String(allow_none=True, metadata={"description": "The owner's name."})
    owner_staff_id = ma.fields.Integer(allow_none=True)
    owner_staff = ma.fields.Nested(StaffRefSchema, allow_none=True)
    due_date = ma.fields.Date(allow_none=True)
    status = ma.fields.String(metadata={
        "description": "proposed (to agree with the store, never overdue), agreed, done (the "
                       "store's fix, to approve), verified, reopened (the fix was rejected) or "
                       "dismissed."})
    overdue = ma.fields.Boolean(metadata={
        "description": "Agreed or reopened, and past its due date in the store's time zone."})
    agreed_at = ma.fields.AwareDateTime(allow_none=True)
    dismiss_reason = ma.fields.String(allow_none=True)
    done_note = ma.fields.String(allow_none=True)
    done_at = ma.fields.AwareDateTime(allow_none=True)
    evidence = ma.fields.List(ma.fields.Nested(EvidenceSchema), metadata={
        "description": "The photos of the fix: GET /api/v1/actions/{id}/evidence/{photo_id}."})
    evidence_photo_id = ma.fields.UUID(allow_none=True)
    decided_at = ma.fields.AwareDateTime(allow_none=True)
    decision_comment = ma.fields.String(allow_none=True, metadata={
        "description": "The last approval's or rejection's comment."})
    verified_at = ma.fields.AwareDateTime(allow_none=True)
    verified_visit_id = ma.fields.UUID(allow_none=True)
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()


# Dispute records (争议记录单) -----------------------------------------------------------------

class CallbackSchema(ma.Schema):
    at = instant(required=True)
    by = _text(120, required=True)
    outcome = _text(_NOTE, required=True)


class DisputeCreateSchema(ma.Schema):
    store_id = _id(required=True)
    category = ma.fields.String(required=True, validate=_one_of(DISPUTE_CATEGORIES))
    matter = _text(_NOTE, required=True)
    customer_name = _text(120, load_default=None, allow_none=True)
    customer_contact = _text(120, load_default=None, allow_none=True)
    customer_request = _text(_NOTE, load_default=None, allow_none=True)
    first_handler = _text(120, required=True, metadata={"description": "首问负责人."})
    received_at = instant(required=True)
    promised_reply_at = instant(load_default=None, allow_none=True)
    store_opinion = _text(_NOTE, load_default=None, allow_none=True)
    due_at = instant(load_default=None, allow_none=True, metadata={
        "description": "Only for emergencies (case by case); computed for the other classes."})


class DisputeUpdateSchema(ma.Schema):
    callback = ma.fields.Nested(CallbackSchema, metadata={"description": "A callback to add."})
    status = ma.fields.String(validate=_one_of(("closed",)))
    result = _text(_NOTE)
    promised_reply_at = instant()
    customer_request = _text(_NOTE, allow_none=True)
    store_opinion = _text(_NOTE, allow_none=True)


class DisputeQueryArgsSchema(ma.Schema):
    store_id = identifier()
    visit_id = ma.fields.UUID()
    status = ma.fields.String(validate=_one_of(DISPUTE_STATUSES))
    category = ma.fields.String(validate=_one_of(DISPUTE_CATEGORIES))
    overdue = ma.fields.Boolean(metadata={"description": "Only open records past their due time."})
    from_ = LocalDay(data_key="from", metadata={
        "description": "Received on or after this day (YYYY-MM-DD, TIMEZONE setting)."})
    to = LocalDay(metadata={"description": "Received on or before this day, included."})


class DisputeSchema(ma.Schema):
    id = ma.fields.Integer()
    reference = ma.fields.String()
    store_id = ma.fields.Integer()
    store = ma.fields.Nested(StoreRefSchema)
    visit_id = ma.fields.UUID(allow_none=True)
    category = ma.fields.String()
    complaint_class = ma.fields.String()
    matter = ma.fields.String()
    customer_name = ma.fields.String(allow_none=True)
    customer_contact = ma.fields.String(allow_none=True)
    customer_request = ma.fields.String(allow_none=True)
    first_handler = ma.fields.String()
    received_at = ma.fields.AwareDateTime()
    promised_reply_at = ma.fields.AwareDateTime(allow_none=True)
    due_at = ma.fields.AwareDateTime()
    overdue = ma.fields.Boolean()
    reply_overdue = ma.fields.Boolean()
    callbacks = ma.fields.List(ma.fields.Dict())
    store_opinion = ma.fields.String(allow_none=True)
    result = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    closed_at = ma.fields.AwareDateTime(allow_none=True)
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()
