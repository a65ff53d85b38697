"""Query arguments of the report endpoints."""

import marshmallow as ma
from marshmallow.validate import OneOf

LANGUAGES = ("zh", "en")
FORMATS = ("pdf", "html")
MAX_PERIOD_DAYS = 366


class ReportQuerySchema(ma.Schema):
    lang = ma.fields.String(
        validate=OneOf(LANGUAGES), load_default=None,
        metadata={"description": "zh or en; by default the user's language"})
    format = ma.fields.String(
        validate=OneOf(FORMATS), load_default="pdf",
        metadata={"description": "pdf, or html for a preview in the browser"})


class VisitReportQuerySchema(ReportQuerySchema):
    audience = ma.fields.String(
        validate=OneOf(("store", "internal")), load_default="store",
        metadata={"description": "store (never names the mystery shopper) or internal "
                                 "(admins and managers)"})


class PeriodQuerySchema(ReportQuerySchema):
    start = ma.fields.Date(data_key="from", load_default=None,
                           metadata={"description": "first day, YYYY-MM-DD (default: 90 days ago)"})
    end = ma.fields.Date(data_key="to", load_default=None,
                         metadata={"description": "last day, included (default: today)"})

    @ma.validates_schema
    def _check_period(self, data, **_kwargs):
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ma.ValidationError("Must not be after 'to'.", "from")
        if start and end and (end - start).days >= MAX_PERIOD_DAYS:
            raise ma.ValidationError(f"The period may span at most {MAX_PERIOD_DAYS} days.", "from")
