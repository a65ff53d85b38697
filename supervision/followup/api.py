"""Follow-up over HTTP: assignments, review of mystery visits, corrective actions, disputes."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.followup import actions, assignments, disputes, review
from supervision.followup.schemas import (
    ActionCreateSchema,
    ActionQueryArgsSchema,
    ActionSchema,
    ActionUpdateSchema,
    AssignmentCreateSchema,
    AssignmentQueryArgsSchema,
    AssignmentSchema,
    AssignmentUpdateSchema,
    DisputeCreateSchema,
    DisputeQueryArgsSchema,
    DisputeSchema,
    DisputeUpdateSchema,
    ReviewResultSchema,
    ReviewSchema,
)
from supervision.scoping import get_action, get_assignment, get_dispute, roles_required

blp = Blueprint("followup", __name__, url_prefix="/api/v1",
                description="Mystery-shop assignments, review, corrective actions, disputes")

PLANNERS = ("admin", "manager")
STORE_SIDE = ("admin", "manager", "supervisor")


@blp.route("/assignments")
class AssignmentsView(MethodView):
    @roles_required("admin", "manager", "shopper")
    @blp.arguments(AssignmentQueryArgsSchema, location="query")
    @blp.response(200, AssignmentSchema(many=True))
    def get(self, filters):
        """Mystery-shop assignments: a shopper's own, or those of the manager's regions."""
        return assignments.list_assignments(current_user, filters)

    @roles_required(*PLANNERS)
    @blp.arguments(AssignmentCreateSchema)
    @blp.response(201, AssignmentSchema)
    def post(self, data):
        """Plan a mystery visit: store, checklist, a shopper of its region, window, scenario."""
        assignment = assignments.create_assignment(current_user, data)
        db.session.commit()
        return assignment


@blp.route("/assignments/<int:assignment_id>")
class AssignmentView(MethodView):
    @roles_required("admin", "manager", "shopper")
    @blp.response(200, AssignmentSchema)
    def get(self, assignment_id):
        """One assignment."""
        return get_assignment(current_user, assignment_id)

    @roles_required(*PLANNERS)
    @blp.arguments(AssignmentUpdateSchema)
    @blp.response(200, AssignmentSchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, assignment_id):
        """Reschedule (window, shopper, scenario) or cancel a planned assignment."""
        assignment = assignments.update_assignment(current_user, assignment_id, data)
        db.session.commit()
        return assignment


@blp.route("/visits/<uuid:visit_id>/review")
class ReviewView(MethodView):
    @roles_required(*PLANNERS)
    @blp.arguments(ReviewSchema)
    @blp.response(200, ReviewResultSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, visit_id):
        """Publish a submitted mystery visit, or reject it (409 when the other decision won)."""
        visit = review.review_visit(current_user, visit_id, data["decision"], data["comment"])
        db.session.commit()
        return visit


@blp.route("/actions")
class ActionsView(MethodView):
    @roles_required(*STORE_SIDE)
    @blp.arguments(ActionQueryArgsSchema, location="query")
    @blp.response(200, ActionSchema(many=True))
    def get(self, filters):
        """Corrective actions; overdue=true lists agreed ones past their due date."""
        return actions.list_actions(current_user, filters)

    @roles_required(*STORE_SIDE)
    @blp.arguments(ActionCreateSchema)
    @blp.response(201, ActionSchema)
    def post(self, data):
        """Add an action agreed with the store (open at once)."""
        action = actions.create_action(current_user, data)
        db.session.commit()
        return action


@blp.route("/actions/<int:action_id>")
class ActionView(MethodView):
    @roles_required(*STORE_SIDE)
    @blp.response(200, ActionSchema)
    def get(self, action_id):
        """One corrective action."""
        return get_action(current_user, action_id)

    @roles_required(*STORE_SIDE)
    @blp.arguments(ActionUpdateSchema)
    @blp.response(200, ActionSchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, action_id):
        """Edit, confirm, dismiss, mark done (note + evidence photo) or verify an action."""
        action = actions.update_action(current_user, action_id, data)
        db.session.commit()
        return action


@blp.route("/disputes")
class DisputesView(MethodView):
    @roles_required(*STORE_SIDE)
    @blp.arguments(DisputeQueryArgsSchema, location="query")
    @blp.response(200, DisputeSchema(many=True))
    def get(self, filters):
        """Dispute records (争议记录单); overdue=true lists open ones past their due time."""
        return disputes.list_disputes(current_user, filters)

    @roles_required(*STORE_SIDE)
    @blp.arguments(DisputeCreateSchema)
    @blp.response(201, DisputeSchema)
    def post(self, data):
        """Record a customer dispute; its due time follows from its category."""
        dispute = disputes.create_dispute(current_user, data)
        db.session.commit()
        return dispute


@blp.route("/disputes/<int:dispute_id>")
class DisputeView(MethodView):
    @roles_required(*STORE_SIDE)
    @blp.response(200, DisputeSchema)
    def get(self, dispute_id):
        """One dispute record."""
        return get_dispute(current_user, dispute_id)

    @roles_required(*STORE_SIDE)
    @blp.arguments(DisputeUpdateSchema)
    @blp.response(200, DisputeSchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, dispute_id):
        """Add a callback, edit the promised reply, or close with the result."""
        dispute = disputes.update_dispute(current_user, dispute_id, data)
        db.session.commit()
        return dispute
