"""Shapes of regions and stores in the API."""

import marshmallow as ma


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
    active = ma.fields.Boolean()
