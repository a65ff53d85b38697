"""Query arguments of the report endpoints."""

import marshmallow as ma
from marshmallow.validate import OneOf

from supervision.schemas import LocalDay

LANGUAGES = ("zh", "en")
FORMATS = ("pdf", "html")
MAX_PERIOD_DAYS = 366


class ReportQueryArgsSchema(ma.Schema):
    lang = ma.fields.String(
        validate=OneOf(LANGUAGES), load_default=None,
        metadata={"description": "zh or en; by default the user's language"})
    format = ma.fields.String(
        validate=OneOf(FORMATS), load_default="pdf",
        metadata={"description": "pdf, or html for a preview in the browser"})


class VisitReportQueryArgsSchema(ReportQueryArgsSchema):
    audience = ma.fields.String(
        validate=OneOf(("store", "internal")), load_default="store",
        metadata={"description": "store (never names the mystery shopper) or internal "
                                 "(admins and managers)"})


class PeriodQueryArgsSchema(ma.Schema):
    start = LocalDay(data_key="from", metadata={
        "description": "first day, YYYY-MM-DD (default: 90 days ago); days are the store's "
                       "own, or the TIMEZONE setting's for a region"})
    end = LocalDay(data_key="to", metadata={"description": "last day, included (default: today)"})

    @ma.validates_schema
    def _check_period(self, data, **_kwargs):
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            raise ma.ValidationError("Must not be after 'to'.", "from")
        if start and end and (end - start).days >= MAX_PERIOD_DAYS:
            raise ma.ValidationError(f"The period may span at most {MAX_PERIOD_DAYS} days.", "from")


class ReportPeriodQueryArgsSchema(ReportQueryArgsSchema, PeriodQueryArgsSchema):
    pass
