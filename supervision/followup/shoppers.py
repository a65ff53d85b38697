"""The mystery shoppers' track record: the reviewer's grade of each shop (1–10, with a comment)
and, for managers choosing whom to send, each shopper's average grade and flag history.

Grades are the reviewer's word on the shopper, never the store's business: the store version
of a visit leaves them out (visits/api.py STORE_VERSION_BLANKS)."""

from collections import Counter

import marshmallow as ma
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import validate
from sqlalchemy import Select, or_, select

from supervision.accounts.models import User
from supervision.audit.services import record
from supervision.db import db
from supervision.errors import Conflict
from supervision.followup.models import Assignment
from supervision.schemas import identifier, integer
from supervision.scoping import get_visit, region_ids, roles_required, scoped_stores, scoped_visits
from supervision.stores.models import Region, Store
from supervision.transitions import locked
from supervision.visits.models import Visit
from supervision.visits.schemas import NOTE_MAX

blp = Blueprint("shoppers", __name__, url_prefix="/api/v1",
                description="Mystery shoppers' grades and flag history")

REVIEWERS = ("admin", "manager")
# A shop is graded once the shopper sent it: while it waits for review, and after.
GRADED = ("submitted", "published", "rejected")
# How many of a shopper's latest flags the record lists.
RECENT_FLAGS = 10


# Schemas --------------------------------------------------------------------------------------


class GradeSchema(ma.Schema):
    grade = integer(1, 10, required=True, strict=True,
                    error="Must be a whole number from 1 to 10.",
                    metadata={"description": "The reviewer's grade of the shop, 1 (poor) to 10."})
    comment = ma.fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(max=NOTE_MAX))


class GradeResultSchema(ma.Schema):
    grade = ma.fields.Integer()
    comment = ma.fields.String(allow_none=True)


class ShopperQueryArgsSchema(ma.Schema):
    shopper_id = identifier(metadata={"description": "Only this shopper."})


class RecentFlagSchema(ma.Schema):
    visit_id = ma.fields.UUID()
    code = ma.fields.String()
    message = ma.fields.String(allow_none=True)
    submitted_at = ma.fields.AwareDateTime(allow_none=True)


class ShopperRecordSchema(ma.Schema):
    id = ma.fields.Integer()
    name = ma.fields.String()
    visits = ma.fields.Integer(metadata={"description": "Mystery visits sent (not drafts)."})
    graded_visits = ma.fields.Integer()
    average_grade = ma.fields.Float(allow_none=True, metadata={
        "description": "The mean of the reviewer's grades (1–10), one decimal; null: none yet."})
    flags = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), metadata={
        "description": "How many times each reviewer flag was raised on the shopper's visits."})
    recent_flags = ma.fields.List(ma.fields.Nested(RecentFlagSchema), metadata={
        "description": f"The latest {RECENT_FLAGS} flags, newest first."})


# Services -------------------------------------------------------------------------------------


def grade_visit(user: User, visit_id, grade: int, comment: str | None) -> Visit:
    """Set the reviewer's grade of a sent mystery visit; the same grade again changes nothing."""
    visit = locked(get_visit(user, visit_id))
    if visit.kind != "mystery":
        raise Conflict("Only mystery visits are graded.",
                       {"json": {"grade": ["Only mystery visits are graded."]}})
    if visit.status not in GRADED:
        raise Conflict("Only a sent visit is graded.",
                       {"json": {"grade": ["Only a sent visit is graded."]}})
    comment = (comment or "").strip() or None
    if (visit.review_grade, visit.review_grade_comment) != (grade, comment):
        visit.review_grade, visit.review_grade_comment = grade, comment
        record(user, "grade", "visit", visit.id, grade=grade, comment=comment)
    return visit


def scoped_shoppers(user: User) -> Select:
    """The shoppers a manager may send: those of its regions, and those with an assignment in
    them; an administrator's: all of them."""
    query = select(User).where(User.role == "shopper").order_by(User.name, User.id)
    if user.role == "admin":
        return query
    in_stores = scoped_stores(user).with_only_columns(Store.id)
    assigned = select(Assignment.shopper_id).where(Assignment.store_id.in_(in_stores))
    return query.where(or_(User.regions.any(Region.id.in_(region_ids(user))),
                           User.id.in_(assigned)))


def shopper_records(user: User, args: dict) -> list[dict]:
    """Each shopper's record over the visits `user` may see."""
    query = scoped_shoppers(user)
    if args.get("shopper_id") is not None:
        query = query.where(User.id == args["shopper_id"])
    shoppers = db.session.scalars(query).all()
    visits = db.session.execute(
        scoped_visits(user).with_only_columns(
            Visit.author_id, Visit.id, Visit.flags, Visit.review_grade, Visit.submitted_at)
        .where(Visit.author_id.in_([s.id for s in shoppers]), Visit.kind == "mystery",
               Visit.status.in_(GRADED))
        .order_by(Visit.submitted_at.desc(), Visit.id)).all()
    return [_record(shopper, [v for v in visits if v.author_id == shopper.id])
            for shopper in shoppers]


def _record(shopper: User, visits: list) -> dict:
    grades = [v.review_grade for v in visits if v.review_grade is not None]
    flags = [{"visit_id": v.id, "code": f.get("code"), "message": f.get("message"),
              "submitted_at": v.submitted_at} for v in visits for f in v.flags or []]
    return {
        "id": shopper.id, "name": shopper.name, "visits": len(visits),
        "graded_visits": len(grades),
        "average_grade": round(sum(grades) / len(grades), 1) if grades else None,
        "flags": dict(Counter(f["code"] for f in flags)),
        "recent_flags": flags[:RECENT_FLAGS],
    }


# Endpoints ------------------------------------------------------------------------------------


@blp.route("/visits/<uuid:visit_id>/grade")
class GradeView(MethodView):
    @roles_required(*REVIEWERS)
    @blp.arguments(GradeSchema)
    @blp.response(200, GradeResultSchema)
    @blp.alt_response(409, response="CONFLICT")
    def put(self, data, visit_id):
        """The reviewer's grade of a shop (1–10) and a comment: the shopper's track record."""
        visit = grade_visit(current_user, visit_id, data["grade"], data["comment"])
        db.session.commit()
        return {"grade": visit.review_grade, "comment": visit.review_grade_comment}


@blp.route("/shoppers")
class ShoppersView(MethodView):
    @roles_required(*REVIEWERS)
    @blp.arguments(ShopperQueryArgsSchema, location="query")
    @blp.response(200, ShopperRecordSchema(many=True))
    def get(self, args):
        """Each shopper's visits, average grade and flag history, for managers assigning."""
        return shopper_records(current_user, args)
