"""Request and response shapes of the accounts API."""

import marshmallow as ma
from marshmallow import validate


class TokenRequestSchema(ma.Schema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))


class RegionRefSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()


class ManagedStoreSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)


class UserSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    locale = ma.fields.String(allow_none=True)
    regions = ma.fields.List(ma.fields.Nested(RegionRefSchema))
    stores = ma.fields.List(ma.fields.Nested(ManagedStoreSchema), metadata={
        "description": "A store manager's stores (empty for every other role)."})


class TokenSchema(ma.Schema):
    token = ma.fields.String()
    user = ma.fields.Nested(UserSchema)
