"""Coverage: visits due, done, overdue and missed per store."""

import calendar
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.localtime import local_zone
from supervision.plans.coverage import coverage
from supervision.reports.schemas import PeriodQueryArgsSchema
from supervision.schemas import identifier, integer
from supervision.scoping import get_region, roles_required

blp = Blueprint("coverage", __name__, url_prefix="/api/v1",
                description="Coverage: visits due, done, overdue and missed per store.")


class CoverageQueryArgsSchema(PeriodQueryArgsSchema):
    region_id = identifier(required=True)
    days = integer(1, 3660, load_default=30, metadata={
        "description": "List the stores not visited for more than this many days."})


class FiguresSchema(ma.Schema):
    due = ma.fields.Integer(metadata={"description": "Still to do: window open or to come."})
    done = ma.fields.Integer()
    overdue = ma.fields.Integer(metadata={"description": "Window passed, not done yet."})
    missed = ma.fields.Integer(metadata={"description": "Never done; no longer expected."})


class CoverageStoreSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)
    active = ma.fields.Boolean()
    figures = ma.fields.Nested(FiguresSchema)
    last_visit = ma.fields.String(allow_none=True, metadata={
        "description": "YYYY-MM-DD in the store's time zone; null: never visited."})
    days_since = ma.fields.Integer(allow_none=True)


class CoveragePlanSchema(ma.Schema):
    id = ma.fields.Integer(allow_none=True, metadata={"description": "null: follow-ups."})
    name = ma.fields.String(allow_none=True)
    kind = ma.fields.String(metadata={"description": "plan or followup"})
    figures = ma.fields.Nested(FiguresSchema)


class CoverageWaveSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    starts_on = ma.fields.String()
    figures = ma.fields.Nested(FiguresSchema)


class CoverageRegionSchema(ma.Schema):
    id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    name_en = ma.fields.String(allow_none=True)


class CoverageSchema(ma.Schema):
    region = ma.fields.Nested(CoverageRegionSchema)
    from_ = ma.fields.String(data_key="from", attribute="from")
    to = ma.fields.String()
    days = ma.fields.Integer()
    as_of = ma.fields.String()
    totals = ma.fields.Nested(FiguresSchema)
    stores = ma.fields.List(ma.fields.Nested(CoverageStoreSchema))
    plans = ma.fields.List(ma.fields.Nested(CoveragePlanSchema))
    waves = ma.fields.List(ma.fields.Nested(CoverageWaveSchema))
    not_visited = ma.fields.List(ma.fields.Nested(CoverageStoreSchema))


@blp.route("/coverage")
class CoverageView(MethodView):
    @roles_required("admin", "manager")
    @blp.arguments(CoverageQueryArgsSchema, location="query")
    @blp.response(200, CoverageSchema)
    def get(self, args):
        """A region's coverage over a period (by default the current month, in the TIMEZONE
        setting's days): per store, plan and wave, the visits due, done, overdue and missed;
        each store's last visit; the stores not visited for more than `days` days."""
        region = get_region(current_user, args["region_id"])
        start, end = default_period(args.get("start"), args.get("end"))
        return coverage(region.id, start, end, args["days"])


def default_period(start, end):
    """The month of the day given (or of today) for a bound left out."""
    anchor = start or end or datetime.now(UTC).astimezone(ZoneInfo(local_zone())).date()
    start = start or anchor.replace(day=1)
    end = end or anchor.replace(day=calendar.monthrange(anchor.year, anchor.month)[1])
    return start, end
