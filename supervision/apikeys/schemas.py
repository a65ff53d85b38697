"""Request and response shapes of API keys and their uses."""

import marshmallow as ma
from marshmallow import validate

from supervision.accounts.schemas import RegionRefSchema
from supervision.apikeys.models import KEY_ACCESS
from supervision.pagination import PageQueryArgsSchema, limit_field
from supervision.schemas import Name, identifier, instant

ACCESS = {"description": '"store": the store version (published visits, never a mystery '
                         'shopper\'s identity, no customer contact); "internal": what a regional '
                         'manager reads.'}


class ApiKeyCreateSchema(ma.Schema):
    name = Name(120, required=True, metadata={"description": "What the key is for."})
    access = ma.fields.String(load_default="store", metadata=ACCESS, validate=validate.OneOf(
        KEY_ACCESS, error=f"Must be one of: {', '.join(KEY_ACCESS)}."))
    region_ids = ma.fields.List(identifier(strict=True), required=True,
                                validate=validate.Length(min=1, max=1000))
    expires_at = instant(metadata={"description": "Default: a year from now; at most three."})


class ApiKeySchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "The secret's start, to recognise it."})
    access = ma.fields.String(metadata=ACCESS)
    regions = ma.fields.List(ma.fields.Nested(RegionRefSchema))
    expires_at = ma.fields.DateTime()
    revoked_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    created_by = ma.fields.Function(lambda key: key.created_by.name if key.created_by else None)
    last_used_at = ma.fields.DateTime(allow_none=True)
    status = ma.fields.Method("_status", metadata={"description": "active, expired or revoked"})

    def _status(self, key) -> str:
        from supervision.db import utcnow

        if key.revoked_at is not None:
            return "revoked"
        return "active" if key.usable(utcnow()) else "expired"


class NewApiKeySchema(ApiKeySchema):
    secret = ma.fields.String(metadata={
        "description": "Send it as `Authorization: Bearer <secret>`. Shown this once only."})


class ApiKeyUseQueryArgsSchema(PageQueryArgsSchema):
    limit = limit_field(100, 1000)


class ApiKeyUseSchema(ma.Schema):
    at = ma.fields.DateTime()
    method = ma.fields.String()
    path = ma.fields.String()
    status = ma.fields.Integer()
    address = ma.fields.String(allow_none=True)
