"""Shapes of background jobs in the API."""

import marshmallow as ma


class JobSchema(ma.Schema):
    id = ma.fields.String()
    kind = ma.fields.String()
    status = ma.fields.String(metadata={"description": "queued, running, done or failed"})
    progress = ma.fields.Integer(metadata={"description": "0–100"})
    error = ma.fields.String(allow_none=True)
    result_url = ma.fields.String(
        allow_none=True, metadata={"description": "Where the result is downloaded, once done."})
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
