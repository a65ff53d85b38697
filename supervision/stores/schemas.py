"""Shapes of regions and stores in the API."""

import marshmallow as ma

from supervision.schemas import Name


class RegionSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)


class StoreSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    address = ma.fields.String(allow_none=True)
    region_id = ma.fields.Integer()
    lat = ma.fields.Float(allow_none=True)
    lon = ma.fields.Float(allow_none=True)
    geofence_m = ma.fields.Integer()
    timezone = ma.fields.String()
    manager_name = ma.fields.String(allow_none=True)
    tags = ma.fields.List(ma.fields.String(), allow_none=True)
    active = ma.fields.Boolean()


class StaffSchema(ma.Schema):
    id = ma.fields.Integer()
    store_id = ma.fields.Integer()
    name = ma.fields.String()
    badge = ma.fields.String(allow_none=True, metadata={"description": "Badge number (工号)."})
    position = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean(metadata={
        "description": "False: left the store; kept for the actions that name them."})


class StaffCreateSchema(ma.Schema):
    name = Name(120, required=True)
    badge = Name(32, allow_none=True, load_default=None)
    position = Name(64, allow_none=True, load_default=None)


class StaffUpdateSchema(ma.Schema):
    name = Name(120)
    badge = Name(32, allow_none=True)
    position = Name(64, allow_none=True)
    active = ma.fields.Boolean()


class StaffQueryArgsSchema(ma.Schema):
    active = ma.fields.Boolean(metadata={
        "description": "true: only those still at the store; false: only those who left."})
