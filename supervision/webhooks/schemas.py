"""Request and response shapes of webhooks and their deliveries."""

import marshmallow as ma
from marshmallow import validate

from supervision.pagination import PageQueryArgsSchema
from supervision.schemas import Name
from supervision.webhooks.models import DELIVERY_STATUSES, EVENTS, PRESETS


def _one_of(choices) -> validate.OneOf:
    return validate.OneOf(choices, error=f"Must be one of: {', '.join(choices)}.")


PRESET = {"description": "json: our signed JSON; wecom / dingtalk: a Markdown message for a "
                         "WeCom or DingTalk group robot (DingTalk's 加签 uses `secret`)."}


class WebhookFieldsSchema(ma.Schema):
    name = Name(120)
    url = ma.fields.Url(schemes={"https", "http"}, validate=validate.Length(max=2000),
                        metadata={"description": "https://…; a private address only when the "
                                                 "operator allows its network."})
    events = ma.fields.List(ma.fields.String(validate=_one_of(EVENTS)),
                            validate=validate.Length(min=1, max=len(EVENTS)))
    preset = ma.fields.String(validate=_one_of(PRESETS), metadata=PRESET)
    secret = ma.fields.String(validate=validate.Length(min=16, max=200), metadata={
        "description": "Default: made for you (a DingTalk robot's secret for that preset)."})


class WebhookCreateSchema(WebhookFieldsSchema):
    name = Name(120, required=True)
    url = ma.fields.Url(schemes={"https", "http"}, required=True,
                        validate=validate.Length(max=2000))
    events = ma.fields.List(ma.fields.String(validate=_one_of(EVENTS)), required=True,
                            validate=validate.Length(min=1, max=len(EVENTS)))


class WebhookUpdateSchema(WebhookFieldsSchema):
    active = ma.fields.Boolean(metadata={"description": "true turns a disabled hook on again."})
    rotate_secret = ma.fields.Boolean(metadata={"description": "true: a new secret."})


class WebhookSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    url = ma.fields.String()
    events = ma.fields.List(ma.fields.String())
    preset = ma.fields.String()
    active = ma.fields.Boolean()
    disabled_reason = ma.fields.String(allow_none=True)
    failures_in_a_row = ma.fields.Integer()
    created_at = ma.fields.DateTime()


class NewWebhookSchema(WebhookSchema):
    secret = ma.fields.String(metadata={"description": "Verify signatures with it."})


class DeliveryQueryArgsSchema(PageQueryArgsSchema):
    status = ma.fields.String(validate=_one_of(DELIVERY_STATUSES))


class AttemptSchema(ma.Schema):
    at = ma.fields.String()
    status = ma.fields.Integer(allow_none=True)
    ms = ma.fields.Integer()
    error = ma.fields.String(allow_none=True)


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer()
    event = ma.fields.String()
    status = ma.fields.String()
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    response_status = ma.fields.Integer(allow_none=True)
    response_ms = ma.fields.Integer(allow_none=True)
    error = ma.fields.String(allow_none=True)
    log = ma.fields.List(ma.fields.Nested(AttemptSchema))
    payload = ma.fields.Dict()
    created_at = ma.fields.DateTime()
    delivered_at = ma.fields.DateTime(allow_none=True)
