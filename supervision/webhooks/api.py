"""Webhooks (admins only): register endpoints, read the delivery log, redeliver."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.pagination import total_header, with_total
from supervision.scoping import get_webhook, roles_required
from supervision.webhooks import services
from supervision.webhooks.schemas import (
    DeliveryQueryArgsSchema,
    DeliverySchema,
    NewWebhookSchema,
    WebhookCreateSchema,
    WebhookSchema,
    WebhookUpdateSchema,
)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1",
                description="Signed events sent to the endpoints admins register.")
ADMIN = [roles_required("admin")]


@blp.route("/webhooks")
class WebhooksView(MethodView):
    decorators = ADMIN

    @blp.response(200, WebhookSchema(many=True))
    def get(self):
        """Every webhook."""
        return services.list_webhooks(current_user)

    @blp.arguments(WebhookCreateSchema)
    @blp.response(201, NewWebhookSchema)
    def post(self, data):
        """Register an endpoint for some events; the answer holds the signing secret."""
        hook = services.create_webhook(current_user, data)
        db.session.commit()
        return hook


@blp.route("/webhooks/<int:hook_id>")
class WebhookView(MethodView):
    decorators = ADMIN

    @blp.response(200, NewWebhookSchema)
    def get(self, hook_id):
        """One webhook, with its secret."""
        return get_webhook(current_user, hook_id)

    @blp.arguments(WebhookUpdateSchema)
    @blp.response(200, NewWebhookSchema)
    def patch(self, data, hook_id):
        """Change a webhook; `active: true` turns a disabled one on again."""
        hook = services.update_webhook(current_user, hook_id, data)
        db.session.commit()
        return hook

    @blp.response(204)
    def delete(self, hook_id):
        """Remove a webhook and its delivery log."""
        services.delete_webhook(current_user, hook_id)
        db.session.commit()


@blp.route("/webhooks/<int:hook_id>/deliveries")
class DeliveriesView(MethodView):
    decorators = ADMIN

    @blp.arguments(DeliveryQueryArgsSchema, location="query")
    @blp.response(200, DeliverySchema(many=True), headers=total_header("Deliveries"))
    def get(self, args, hook_id):
        """The delivery log, newest first: status, attempts, response status and time."""
        return with_total(*services.list_deliveries(current_user, hook_id, args))


@blp.route("/webhooks/<int:hook_id>/deliveries/<int:delivery_id>/redeliver")
class RedeliverView(MethodView):
    decorators = ADMIN

    @blp.response(202, DeliverySchema)
    def post(self, hook_id, delivery_id):
        """Send a delivery again, now."""
        delivery = services.redeliver(current_user, hook_id, delivery_id)
        db.session.commit()
        return delivery
