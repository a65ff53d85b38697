"""Request and response shapes of mystery waves."""

import marshmallow as ma
from marshmallow import validate

from supervision.followup.schemas import AssignmentSchema
from supervision.schemas import Name, day, identifier, integer


class WaveRulesSchema(ma.Schema):
    lockout_days = integer(0, 365, metadata={
        "description": "A shopper returns to a store only this many days later (default 30)."})
    peak_percent = ma.fields.Float(validate=validate.Range(min=0, max=100), metadata={
        "description": "Share of visits at peak time (default 50)."})
    shopper_ids = ma.fields.List(identifier(strict=True), allow_none=True,
                                 validate=validate.Length(max=1000),
                                 metadata={"description": "None: the region's shoppers."})


class WaveCreateSchema(ma.Schema):
    name = Name(160, required=True)
    region_id = identifier(strict=True, required=True)
    checklist = ma.fields.String(required=True, metadata={"description": "Mystery checklist slug."})
    starts_on = day(required=True)
    ends_on = day(required=True)
    scenario_mix = ma.fields.Dict(
        keys=ma.fields.String(validate=validate.Length(min=1, max=200)),
        values=ma.fields.Float(validate=validate.Range(min=0, max=100)),
        validate=validate.Length(max=20), load_default=dict,
        metadata={"description": "{scenario: percent}, adding up to 100.",
                  "example": {"咨询 / consultation": 60, "争议 / dispute": 40}})
    store_ids = ma.fields.List(identifier(strict=True), allow_none=True,
                               validate=validate.Length(max=10_000),
                               metadata={"description": "None: the region's active stores."})
    rules = ma.fields.Nested(WaveRulesSchema, load_default=dict)
    note = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))


class WaveQueryArgsSchema(ma.Schema):
    region_id = identifier()


class UnfilledSchema(ma.Schema):
    store_id = ma.fields.Integer()
    slot = ma.fields.String()
    reason = ma.fields.String(metadata={"description": "no_shopper | no_day | lockout"})


class WaveSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    region_id = ma.fields.Integer()
    checklist = ma.fields.Function(lambda w: w.checklist.slug, metadata={"type": "string"})
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date()
    scenario_mix = ma.fields.Dict()
    store_ids = ma.fields.List(ma.fields.Integer(), allow_none=True)
    rules = ma.fields.Dict()
    status = ma.fields.String()
    note = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    confirmed_at = ma.fields.AwareDateTime(allow_none=True)


class WaveDetailSchema(WaveSchema):
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema), attribute="visits")
    unfilled = ma.fields.List(ma.fields.Nested(UnfilledSchema))
