"""Calibration over HTTP: one pair compared item by item, and the per-item disagreement table
of a period (supervision/reports/calibration.py says what "disagree" means). For managers and
administrators: it rates the raters, not the store."""

from zoneinfo import ZoneInfo

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from sqlalchemy import select

from supervision.checklists.models import Checklist
from supervision.db import db, utcnow
from supervision.errors import Invalid, NotFound
from supervision.localtime import local_zone
from supervision.reports import calibration
from supervision.reports.period import period_of
from supervision.reports.schemas import PeriodQueryArgsSchema
from supervision.schemas import identifier
from supervision.scoping import get_region, get_visit, roles_required, scoped_stores
from supervision.stores.models import Store

blp = Blueprint("calibration", __name__, url_prefix="/api/v1",
                description="Calibration: two raters of the same visit, item by item")

READERS = ("admin", "manager")


class RatingSchema(ma.Schema):
    status = ma.fields.String(allow_none=True, metadata={
        "description": "met, partial, failed, red_line, no_bonus or na; null: not rated (its "
                       "condition left it out, or unanswered)."})
    value = ma.fields.Raw(allow_none=True)
    na = ma.fields.Boolean()


class ComparedItemSchema(ma.Schema):
    item = ma.fields.String()
    text = ma.fields.Dict(metadata={"description": "{zh, en}"})
    a = ma.fields.Nested(RatingSchema, metadata={"description": "The visit's rating."})
    b = ma.fields.Nested(RatingSchema, metadata={"description": "The calibration's rating."})
    agree = ma.fields.Boolean()


class PairSideSchema(ma.Schema):
    id = ma.fields.UUID()
    author_id = ma.fields.Integer()
    started_at = ma.fields.AwareDateTime()
    total = ma.fields.Float(allow_none=True)
    grade = ma.fields.String(allow_none=True)


class CalibrationPairSchema(ma.Schema):
    visit = ma.fields.Nested(PairSideSchema, metadata={"description": "The visit scored."})
    calibration = ma.fields.Nested(PairSideSchema, metadata={
        "description": "The second rating of it (for a visit scored again several times: "
                       "the first)."})
    items = ma.fields.List(ma.fields.Nested(ComparedItemSchema), metadata={
        "description": "The compared items in checklist order (unscored items, and items "
                       "neither rated, are left out)."})


class DisagreementSchema(ma.Schema):
    checklist = ma.fields.String(metadata={"description": "The checklist's slug."})
    item = ma.fields.String()
    text = ma.fields.Dict(metadata={"description": "{zh, en}, as the newest pair's version."})
    pairs = ma.fields.Integer(metadata={"description": "Pairs that compared the item."})
    disagreements = ma.fields.Integer()
    rate = ma.fields.Float(metadata={"description": "disagreements ÷ pairs, 0 to 1."})


class CalibrationQueryArgsSchema(PeriodQueryArgsSchema):
    region_id = identifier(metadata={"description": "Only this region's stores."})
    checklist = ma.fields.String(load_default=None, validate=ma.validate.Length(min=1, max=64),
                                 metadata={"description": "Only this checklist (its slug)."})


@blp.route("/visits/<uuid:visit_id>/calibration")
class VisitCalibrationView(MethodView):
    @roles_required(*READERS)
    @blp.response(200, CalibrationPairSchema)
    def get(self, visit_id):
        """A visit and its calibration visit (or a calibration visit and the visit it scores
        again), item by item; 404 when it has none."""
        visit = get_visit(current_user, visit_id)
        pair = calibration.original_of(visit)
        if pair is None or pair[1].status != "published" or pair[0] is None:
            raise NotFound("This visit has no calibration visit.")
        return calibration.pair_document(*pair)


@blp.route("/calibration")
class CalibrationTableView(MethodView):
    @roles_required(*READERS)
    @blp.arguments(CalibrationQueryArgsSchema, location="query")
    @blp.response(200, DisagreementSchema(many=True))
    def get(self, args):
        """Per item, how often two raters of the same visit scored it differently over the
        period (by the day the visit scored again started), the highest rate first."""
        stores = scoped_stores(current_user).with_only_columns(Store.id)
        if args.get("region_id") is not None:
            stores = stores.where(Store.region_id == get_region(current_user,
                                                                 args["region_id"]).id)
        checklist_id = None
        if args["checklist"] is not None:
            checklist_id = db.session.scalar(
                select(Checklist.id).where(Checklist.slug == args["checklist"]))
            if checklist_id is None:
                raise Invalid("Unknown checklist.",
                              {"query": {"checklist": ["Unknown checklist."]}})
        tz = local_zone()
        period = period_of(args.get("start"), args.get("end"), tz,
                           utcnow().astimezone(ZoneInfo(tz)).date())
        pairs = calibration.pairs_of(list(db.session.scalars(stores)), period.begins,
                                     period.ends, checklist_id)
        return [{**row, "text": {"zh": row["text"].zh, "en": row["text"].en}}
                for row in calibration.disagreements(pairs)]
