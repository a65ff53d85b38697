"""Audit plans and their due visits."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.plans import services
from supervision.plans.schemas import (
    DueQueryArgsSchema,
    DueVisitSchema,
    PlanCreateSchema,
    PlanQueryArgsSchema,
    PlanSchema,
    PlanUpdateSchema,
    SupervisorQueryArgsSchema,
    SupervisorSchema,
)
from supervision.scoping import get_plan, roles_required

blp = Blueprint("plans", __name__, url_prefix="/api/v1",
                description="Audit plans and their due visits.")

PLANNERS = ("admin", "manager")
READERS = (*PLANNERS, "supervisor")


@blp.route("/plans")
class PlansView(MethodView):
    @roles_required(*READERS)
    @blp.arguments(PlanQueryArgsSchema, location="query")
    @blp.response(200, PlanSchema(many=True))
    def get(self, filters):
        """The audit plans of the user's regions, with their due visits by status."""
        return services.list_plans(current_user, filters)

    @roles_required(*PLANNERS)
    @blp.arguments(PlanCreateSchema)
    @blp.response(201, PlanSchema)
    def post(self, data):
        """Plan recurring audits: stores (a list, a tag or the region), checklist, recurrence,
        window, supervisor; the due visits of the coming PLAN_HORIZON_DAYS are generated."""
        plan = services.create_plan(current_user, data)
        db.session.commit()
        return plan


@blp.route("/plans/<int:plan_id>")
class PlanView(MethodView):
    @roles_required(*READERS)
    @blp.response(200, PlanSchema)
    def get(self, plan_id):
        """One plan."""
        plan = get_plan(current_user, plan_id)
        plan.figures = services.plan_figures([plan.id])[plan.id]
        return plan

    @roles_required(*PLANNERS)
    @blp.arguments(PlanUpdateSchema)
    @blp.response(200, PlanSchema)
    def patch(self, data, plan_id):
        """Change a plan from its next occurrence on (`active: false` ends it)."""
        plan = services.update_plan(current_user, plan_id, data)
        db.session.commit()
        return plan


@blp.route("/due-visits")
class DueVisitsView(MethodView):
    @roles_required(*READERS)
    @blp.arguments(DueQueryArgsSchema, location="query")
    @blp.response(200, DueVisitSchema(many=True))
    def get(self, filters):
        """Visits that should happen (of plans, and follow-ups of failed visits): a supervisor's
        own and those for any supervisor of its regions; a manager's regions'."""
        filters["from"] = filters.pop("from_", None)
        return services.list_due_visits(current_user, filters)


@blp.route("/supervisors")
class SupervisorsView(MethodView):
    @roles_required(*PLANNERS)
    @blp.arguments(SupervisorQueryArgsSchema, location="query")
    @blp.response(200, SupervisorSchema(many=True))
    def get(self, filters):
        """The active supervisors of the manager's regions, to name in a plan."""
        return services.list_supervisors(current_user, filters.get("region_id"))
