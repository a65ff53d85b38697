"""Shapes of checklists in the HTTP API (the YAML document itself is checked in schemas.py)."""

import marshmallow as ma
from marshmallow import validate


class ChecklistSummarySchema(ma.Schema):
    slug = ma.fields.String()
    version = ma.fields.Integer()
    title = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    kind = ma.fields.String()
    retired = ma.fields.Boolean()
    scoring_version = ma.fields.String(metadata={
        "description": "Version of the scoring rules; a kept version document with other "
                       "rules is fetched again."})


class ChecklistVersionSchema(ma.Schema):
    slug = ma.fields.String()
    version = ma.fields.Integer()
    content_hash = ma.fields.String()
    kind = ma.fields.String()
    retired = ma.fields.Boolean()
    created_at = ma.fields.AwareDateTime()
    definition = ma.fields.Dict(metadata={"description": "Sections and items, both languages."})
    scoring = ma.fields.Dict(metadata={
        "description": "The scoring rules of the engine (supervision/scoring/rules.py): Kano "
                       "factors and points, peak-end, scale, red-line percent, rounding, version."})


class ChecklistUploadSchema(ma.Schema):
    yaml = ma.fields.String(required=True, validate=validate.Length(min=1, max=2_000_000))
    source = ma.fields.String(load_default="upload.yaml", validate=validate.Length(max=255))
