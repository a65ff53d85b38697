"""Request and response shapes of the admin API, and the row models of imports."""

from zoneinfo import available_timezones

import marshmallow as ma
from flask import current_app
from flask_smorest.fields import Upload
from marshmallow import validate

from supervision.accounts.models import ROLES
from supervision.pagination import PageQueryArgsSchema, limit_field
from supervision.schemas import INT_MAX, LocalDay, Name, identifier, integer

CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$",
    error="Must be a code of letters, digits, '.', '-' and '_' (no spaces).",
)
TIMEZONES = frozenset(available_timezones())
LOCALES = ("zh", "en")
ROLE_ERROR = f"Must be one of: {', '.join(ROLES)}."


def _timezone(value: str) -> None:
    if value not in TIMEZONES:
        raise ma.ValidationError(
            f"Unknown time zone; use a name like {current_app.config['TIMEZONE']}.")


def _user_filter(value: str) -> None:
    """A user by id or e-mail: digits are an id, and an id is at most 2³¹ − 1."""
    if value.strip().isdigit() and not (value.isascii() and int(value) <= INT_MAX):
        raise ma.ValidationError("Not a valid id.")


def optional(max_length: int) -> ma.fields.String:
    return ma.fields.String(allow_none=True, validate=validate.Length(max=max_length))


class RegionCreateSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=[validate.Length(min=1, max=32), CODE])
    name = Name(120, required=True)
    name_en = optional(120)


class RegionUpdateSchema(RegionCreateSchema):
    code = ma.fields.String(validate=[validate.Length(min=1, max=32), CODE])
    name = Name(120)


class Tags(ma.fields.Field):
    """A store's tags (such as its class A, B or C): a list, or one text with the tags separated
    by commas, spaces or 、 (an import cell); each 1–32 printable characters, at most 20."""

    def _deserialize(self, value, attr, data, **kwargs) -> list[str]:
        import re

        if isinstance(value, str):
            value = [tag for tag in re.split(r"[;,，；、\s]+", value) if tag]
        if not isinstance(value, list) or len(value) > 20 or any(
                not isinstance(tag, str) or not 1 <= len(tag.strip()) <= 32 for tag in value):
            raise ma.ValidationError("Up to 20 tags of 1–32 characters.")
        return sorted({tag.strip() for tag in value})


class StoreFieldsSchema(ma.Schema):
    """Every store field but its code and region, shared by the API and the import rows."""

    name = Name(160, required=True)
    name_en = optional(160)
    address = optional(500)
    lat = ma.fields.Float(allow_none=True, validate=validate.Range(-90, 90), allow_nan=False)
    lon = ma.fields.Float(allow_none=True, validate=validate.Range(-180, 180), allow_nan=False)
    geofence_m = integer(10, 10_000, error="Must be 10–10000 m.")
    timezone = ma.fields.String(validate=_timezone)
    manager_name = optional(120)
    tags = Tags(allow_none=True, metadata={"description": "Labels plans select stores by, "
                                                           "such as the store class (A, B, C)."})
    active = ma.fields.Boolean()


class StoreCreateSchema(StoreFieldsSchema):
    code = ma.fields.String(required=True, validate=[validate.Length(min=1, max=32), CODE])
    region_id = identifier(required=True)


class StoreUpdateSchema(StoreCreateSchema):
    code = ma.fields.String(validate=[validate.Length(min=1, max=32), CODE])
    name = Name(160)
    region_id = identifier()


class StoreQueryArgsSchema(ma.Schema):
    q = ma.fields.String(load_default=None,
                         metadata={"description": "Part of a code, name or address."})
    region_id = identifier(load_default=None)


class UserFieldsSchema(ma.Schema):
    name = Name(120, required=True)
    role = ma.fields.String(required=True, validate=validate.OneOf(ROLES, error=ROLE_ERROR))
    locale = ma.fields.String(allow_none=True, validate=validate.OneOf(
        LOCALES, error="Must be zh or en."))
    phone = optional(32)
    active = ma.fields.Boolean()


class UserCreateSchema(UserFieldsSchema):
    email = ma.fields.Email(required=True, validate=validate.Length(max=254))
    password = ma.fields.String(required=True, load_only=True,
                                validate=validate.Length(min=8, max=200))
    region_ids = ma.fields.List(identifier(), load_default=list, metadata={
        "description": "The regions of a manager, supervisor or shopper."})
    store_ids = ma.fields.List(identifier(), load_default=list, metadata={
        "description": "A store manager's stores (at least one); no other role has any."})


class UserUpdateSchema(UserFieldsSchema):
    email = ma.fields.Email(validate=validate.Length(max=254))
    name = Name(120)
    role = ma.fields.String(validate=validate.OneOf(ROLES, error=ROLE_ERROR))
    region_ids = ma.fields.List(identifier())
    store_ids = ma.fields.List(identifier())


class PasswordResetSchema(ma.Schema):
    password = ma.fields.String(load_default=None, validate=validate.Length(min=8, max=200),
                                metadata={"description": "Leave out to get a random one back."})


class PasswordResetResultSchema(ma.Schema):
    password = ma.fields.String(metadata={"description": "Shown once; tell it to the user."})


class AdminRegionSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)


class AdminStoreSchema(StoreFieldsSchema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    region_id = ma.fields.Integer()
    region = ma.fields.Nested(AdminRegionSchema)


class AdminStoreRefSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    region_id = ma.fields.Integer()


class AdminUserSchema(ma.Schema):
    id = ma.fields.Integer()
    email = ma.fields.String()
    name = ma.fields.String()
    role = ma.fields.String()
    locale = ma.fields.String(allow_none=True)
    phone = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    regions = ma.fields.List(ma.fields.Nested(AdminRegionSchema))
    stores = ma.fields.List(ma.fields.Nested(AdminStoreRefSchema), metadata={
        "description": "A store manager's stores."})
    created_at = ma.fields.AwareDateTime()


class ImportQueryArgsSchema(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=False, metadata={
        "description": "Check the file and report what would change; apply nothing."})


class ProblemSchema(ma.Schema):
    line = ma.fields.Integer()
    column = ma.fields.String(allow_none=True)
    message = ma.fields.String()


class ImportReportSchema(ma.Schema):
    kind = ma.fields.String()
    format = ma.fields.String(metadata={"description": "csv or xlsx"})
    encoding = ma.fields.String(allow_none=True)
    dry_run = ma.fields.Boolean()
    applied = ma.fields.Boolean()
    rows = ma.fields.Integer()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    ignored_columns = ma.fields.List(ma.fields.String())
    problems = ma.fields.List(ma.fields.Nested(ProblemSchema))


class PeriodQueryArgsSchema(ma.Schema):
    from_ = LocalDay(data_key="from", metadata={
        "description": "First day, YYYY-MM-DD, in the TIMEZONE setting."})
    to = LocalDay(metadata={"description": "Last day, included, YYYY-MM-DD."})


class AuditQueryArgsSchema(PeriodQueryArgsSchema, PageQueryArgsSchema):
    user = ma.fields.String(load_default=None, validate=_user_filter,
                            metadata={"description": "User id or e-mail."})
    entity = ma.fields.String(load_default=None)
    action = ma.fields.String(load_default=None)
    limit = limit_field(default=100, maximum=1000)


class AuditEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    at = ma.fields.AwareDateTime()
    user_id = ma.fields.Integer(allow_none=True)
    user_email = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    entity = ma.fields.String()
    entity_id = ma.fields.String()
    details = ma.fields.Dict()


class AuditPageSchema(ma.Schema):
    total = ma.fields.Integer()
    entries = ma.fields.List(ma.fields.Nested(AuditEntrySchema))


class VersionSummarySchema(ma.Schema):
    version = ma.fields.Integer()
    content_hash = ma.fields.String()
    source_name = ma.fields.String()
    created_at = ma.fields.AwareDateTime()
    created_by = ma.fields.String(allow_none=True)
    items = ma.fields.Integer()


class DiffQueryArgsSchema(ma.Schema):
    from_ = integer(1, data_key="from", required=True)
    to = integer(1, required=True)


class ItemChangeSchema(ma.Schema):
    id = ma.fields.String()
    fields = ma.fields.List(ma.fields.String())


class VersionDiffSchema(ma.Schema):
    slug = ma.fields.String()
    from_ = ma.fields.Integer(data_key="from")
    to = ma.fields.Integer()
    unified = ma.fields.String(metadata={"description": "difflib unified diff of the YAML."})
    added = ma.fields.List(ma.fields.String())
    removed = ma.fields.List(ma.fields.String())
    changed = ma.fields.List(ma.fields.Nested(ItemChangeSchema))


class ChecklistStateSchema(ma.Schema):
    slug = ma.fields.String()
    retired = ma.fields.Boolean()
    retired_at = ma.fields.AwareDateTime(allow_none=True)


class ImportFileSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "A CSV (UTF-8 or GBK) or XLSX file."})
