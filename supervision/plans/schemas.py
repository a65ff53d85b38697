"""Request and response shapes of audit plans and due visits."""

import marshmallow as ma
from marshmallow import validate

from supervision.followup.schemas import StoreRefSchema
from supervision.plans.models import DUE_KINDS, DUE_STATUSES
from supervision.schemas import LocalDay, Name, day, identifier, integer


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error=f"Must be one of: {', '.join(choices)}.")


RECURRENCE = {"description": 'One of {"every_days": N}, {"per_month": N} (N days spread evenly '
                             'through each month) or {"weekdays": [0..6]} (Monday 0).',
              "example": {"weekdays": [0, 3]}}


class PlanFieldsSchema(ma.Schema):
    name = Name(160)
    checklist = ma.fields.String(metadata={"description": "Audit checklist slug."})
    store_ids = ma.fields.List(identifier(strict=True), allow_none=True,
                               validate=validate.Length(max=10_000), metadata={
                                   "description": "These stores; else `tag`; else the region."})
    tag = ma.fields.String(allow_none=True, validate=validate.Length(min=1, max=32),
                           metadata={"description": "The region's stores carrying this tag."})
    recurrence = ma.fields.Dict(metadata=RECURRENCE)
    window_days = integer(1, 31, metadata={"description": "Days to do each one in."})
    supervisor_id = identifier(strict=True, allow_none=True,
                               metadata={"description": "None: any supervisor of the region."})
    starts_on = day()
    ends_on = day(allow_none=True)


class PlanCreateSchema(PlanFieldsSchema):
    region_id = identifier(strict=True, required=True)
    name = Name(160, required=True)
    checklist = ma.fields.String(required=True, metadata={"description": "Audit checklist slug."})
    recurrence = ma.fields.Dict(required=True, metadata=RECURRENCE)
    starts_on = day(required=True)


class PlanUpdateSchema(PlanFieldsSchema):
    active = ma.fields.Boolean(metadata={"description": "false: the plan ends today."})


class PlanQueryArgsSchema(ma.Schema):
    region_id = identifier()


class DueFiguresSchema(ma.Schema):
    due = ma.fields.Integer()
    done = ma.fields.Integer()
    overdue = ma.fields.Integer()
    missed = ma.fields.Integer()


class PlanSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    region_id = ma.fields.Integer()
    checklist = ma.fields.Function(lambda p: p.checklist.slug, metadata={"type": "string"})
    store_ids = ma.fields.List(ma.fields.Integer(), allow_none=True)
    tag = ma.fields.String(allow_none=True)
    recurrence = ma.fields.Dict()
    window_days = ma.fields.Integer()
    supervisor_id = ma.fields.Integer(allow_none=True)
    supervisor_name = ma.fields.Function(lambda p: p.supervisor.name if p.supervisor else None,
                                         metadata={"type": "string"})
    starts_on = ma.fields.Date()
    ends_on = ma.fields.Date(allow_none=True)
    active = ma.fields.Boolean()
    generated_until = ma.fields.Date(allow_none=True)
    figures = ma.fields.Nested(DueFiguresSchema)


class DueQueryArgsSchema(ma.Schema):
    status = ma.fields.List(ma.fields.String(validate=_one_of(DUE_STATUSES)),
                            metadata={"description": "Repeat: ?status=due&status=overdue"})
    kind = ma.fields.String(validate=_one_of(DUE_KINDS))
    store_id = identifier()
    plan_id = identifier()
    from_ = LocalDay(data_key="from", metadata={"description": "Due visits open on or after."})
    to = LocalDay(metadata={"description": "Due visits opening on or before."})
    limit = integer(1, 2000, load_default=500)


class PlanRefSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()


class DueVisitSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    status = ma.fields.String()
    due_from = ma.fields.Date()
    due_until = ma.fields.Date()
    store = ma.fields.Nested(StoreRefSchema)
    checklist = ma.fields.Function(lambda d: d.checklist.slug, metadata={"type": "string"})
    plan = ma.fields.Nested(PlanRefSchema, allow_none=True)
    supervisor_id = ma.fields.Integer(allow_none=True)
    items = ma.fields.List(ma.fields.String(), allow_none=True)
    source_visit_id = ma.fields.UUID(allow_none=True)
    visit_id = ma.fields.UUID(allow_none=True)
    done_at = ma.fields.AwareDateTime(allow_none=True)


class SupervisorQueryArgsSchema(ma.Schema):
    region_id = identifier()


class SupervisorSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    region_ids = ma.fields.Function(lambda u: [r.id for r in u.regions],
                                    metadata={"type": "array", "items": {"type": "integer"}})
