"""The regional manager's dashboard as one JSON document (the page draws it)."""

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow.validate import OneOf

from supervision.db import utcnow
from supervision.reports.api import report_language
from supervision.reports.dashboard import dashboard
from supervision.reports.schemas import LANGUAGES, PeriodQueryArgsSchema
from supervision.schemas import identifier
from supervision.scoping import roles_required

blp = Blueprint("dashboard", __name__, url_prefix="/api/v1",
                description="The regional manager's dashboard: the region report's figures, live")


class DashboardQueryArgsSchema(PeriodQueryArgsSchema):
    region_id = identifier(required=True)
    checklist = ma.fields.String(metadata={
        "description": "A checklist's slug; default: the most visited in the period."})
    lang = ma.fields.String(validate=OneOf(LANGUAGES), load_default=None,
                            metadata={"description": "zh or en; by default the user's"})


class LinkedSchema(ma.Schema):
    visit_ids = ma.fields.List(ma.fields.String(), metadata={
        "description": "The visits behind the figure, latest first (keys of `visits`)."})
    more = ma.fields.Integer(metadata={"description": "How many more are not listed."})


class LeagueRowSchema(LinkedSchema):
    store_id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()
    rank = ma.fields.Integer(allow_none=True, metadata={
        "description": "None: fewer visits than the report ranks (small), or none."})
    small = ma.fields.Boolean()
    score = ma.fields.Float(allow_none=True)
    previous = ma.fields.Float(allow_none=True)
    change = ma.fields.Float(allow_none=True)
    visits = ma.fields.Integer()
    red_lines = ma.fields.Integer()
    color = ma.fields.String()


class ItemRowSchema(LinkedSchema):
    item = ma.fields.String()
    text = ma.fields.String()
    rate = ma.fields.Integer(metadata={"description": "Percent of the visits rating it."})
    missed = ma.fields.Integer()
    scored = ma.fields.Integer()
    stores = ma.fields.Integer()


class CellSchema(LinkedSchema):
    function = ma.fields.String()
    moment = ma.fields.String()
    percent = ma.fields.Float(allow_none=True)
    color = ma.fields.String()
    rated = ma.fields.Integer()
    missed = ma.fields.Integer()


class TileSchema(LinkedSchema):
    moment = ma.fields.String()
    label = ma.fields.String()
    percent = ma.fields.Float(allow_none=True)
    previous = ma.fields.Float(allow_none=True)
    change = ma.fields.Float(allow_none=True)
    color = ma.fields.String()
    rated = ma.fields.Integer()
    missed = ma.fields.Integer()


class HeatmapSchema(ma.Schema):
    functions = ma.fields.List(ma.fields.Dict())
    moments = ma.fields.List(ma.fields.Dict())
    cells = ma.fields.List(ma.fields.Nested(CellSchema))


class DashboardSchema(ma.Schema):
    region = ma.fields.Dict()
    period = ma.fields.Dict(metadata={"description": "{from, to}"})
    previous = ma.fields.Dict(metadata={"description": "The period before, of the same length."})
    as_of = ma.fields.String()
    checklists = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "The checklists with visits in the period: {slug, title, visits}."})
    checklist = ma.fields.Dict(allow_none=True)
    kpis = ma.fields.Dict()
    league = ma.fields.List(ma.fields.Nested(LeagueRowSchema))
    items = ma.fields.List(ma.fields.Nested(ItemRowSchema))
    heatmap = ma.fields.Nested(HeatmapSchema)
    peak_end = ma.fields.List(ma.fields.Nested(TileSchema))
    actions = ma.fields.Dict(metadata={
        "description": "Actions agreed in the period: agreed, verified, rate (%), median_days "
                       "to verification; overdue now."})
    coverage = ma.fields.Dict(metadata={"description": "due, done, overdue, missed"})
    visits = ma.fields.Dict(metadata={"description": "visit id → {store, date, total, …}"})


@blp.route("/dashboard")
class DashboardView(MethodView):
    @roles_required("admin", "manager")
    @blp.arguments(DashboardQueryArgsSchema, location="query")
    @blp.response(200, DashboardSchema)
    def get(self, args):
        """A region over a period (default the last 90 days), for one checklist: the league
        table with the change since the period before, the items failing most, the functions ×
        moments heat map, the peak and end tiles, action closure and coverage; each figure
        names the visits behind it."""
        return dashboard(current_user, args["region_id"], args.get("start"), args.get("end"),
                         args.get("checklist"), report_language(args), utcnow())
