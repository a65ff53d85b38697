"""Follow-up over HTTP: assignments, review of mystery visits, corrective actions, disputes."""

from flask import request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.followup import actions, assignments, disputes, evidence, review
from supervision.followup.schemas import (
    ActionCreateSchema,
    ActionDecisionSchema,
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
    EvidenceQueryArgsSchema,
    EvidenceSizeQueryArgsSchema,
    EvidenceUploadSchema,
    ReviewResultSchema,
    ReviewSchema,
)
from supervision.scoping import get_action, get_assignment, get_dispute, roles_required
from supervision.storage import get_storage
from supervision.visits import signoff
from supervision.visits.api import IMAGE_BODY, committed, send_photo, upload_limits
from supervision.visits.schemas import SignoffBodySchema, SignoffSchema

blp = Blueprint("followup", __name__, url_prefix="/api/v1",
                description="Mystery-shop assignments, review, corrective actions, disputes")

PLANNERS = ("admin", "manager")
STORE_SIDE = ("admin", "manager", "supervisor")
# The store's own side too: its store manager agrees, dismisses, shows the fix (never approves).
WITH_STORE = (*STORE_SIDE, "store_manager")
SIGNERS = ("admin", "supervisor", "store_manager")


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
        visit = review.review_visit(current_user, visit_id, data["decision"], data["comment"],
                                    data["edits"])
        db.session.commit()
        return visit


@blp.route("/visits/<uuid:visit_id>/signoff")
class SignoffView(MethodView):
    @roles_required(*SIGNERS)
    @blp.arguments(SignoffBodySchema)
    @blp.response(200, SignoffSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body, visit_id):
        """The store's sign-off: signed on the author's tablet, or acknowledged by the store
        manager in their app. The same body again → 200; a different one once signed → 409."""
        found, _ = committed(signoff.sign, current_user, visit_id, body)
        return signoff.signoff_document(found)


@blp.route("/visits/<uuid:visit_id>/signoff/signature")
class SignatureView(MethodView):
    @blp.response(200, description="The signature PNG", content_type="image/png")
    def get(self, visit_id):
        """The signature drawn at the sign-off, as a PNG."""
        return get_storage().send(*signoff.signature_file(current_user, visit_id))


@blp.route("/actions")
class ActionsView(MethodView):
    @roles_required(*WITH_STORE)
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
    @roles_required(*WITH_STORE)
    @blp.response(200, ActionSchema)
    def get(self, action_id):
        """One corrective action."""
        return get_action(current_user, action_id)

    @roles_required(*WITH_STORE)
    @blp.arguments(ActionUpdateSchema)
    @blp.response(200, ActionSchema)
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data, action_id):
        """Edit; agree (owner from the roster, due date), dismiss (reason) or mark done (note
        and photos of the fix)."""
        action = actions.update_action(current_user, action_id, data)
        db.session.commit()
        return action


@blp.route("/actions/<int:action_id>/decision")
class DecisionView(MethodView):
    @roles_required(*STORE_SIDE)
    @blp.arguments(ActionDecisionSchema)
    @blp.response(200, ActionSchema)
    @blp.alt_response(409, response="CONFLICT")
    def post(self, data, action_id):
        """Approve a done action (verified) or reject it with the reason (reopened)."""
        action = actions.decide(current_user, action_id, data)
        db.session.commit()
        return action


@blp.route("/actions/<int:action_id>/evidence/<uuid:photo_id>")
class EvidenceView(MethodView):
    @roles_required(*WITH_STORE)
    @blp.arguments(EvidenceSizeQueryArgsSchema, location="query")
    @blp.response(200, description="The image, without EXIF or location data",
                  content_type="image/jpeg")
    def get(self, args, action_id, photo_id):
        """A photo of the fix: size thumb (≈320 px), display (≈1600 px) or original."""
        return send_photo(
            evidence.evidence_file(current_user, action_id, photo_id, args["size"]), photo_id)

    @roles_required(*WITH_STORE)
    @blp.arguments(EvidenceQueryArgsSchema, location="query")
    @blp.doc(requestBody=IMAGE_BODY)
    @blp.response(200, EvidenceUploadSchema)
    @blp.alt_response(201, schema=EvidenceUploadSchema, description="Stored")
    @blp.alt_response(409, response="CONFLICT")
    def put(self, args, action_id, photo_id):
        """Upload a photo of the fix as the raw body (201 stored, 200 the same bytes again)."""
        found, stored = evidence.receive_evidence(
            current_user, action_id, photo_id, args["taken_at"], request.stream,
            request.content_type or "", upload_limits())
        if stored:
            evidence.process_after_commit(found)
        db.session.commit()
        return found, 201 if stored else 200


@blp.route("/disputes")
class DisputesView(MethodView):
    @roles_required(*WITH_STORE)
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
    @roles_required(*WITH_STORE)
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
