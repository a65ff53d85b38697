"""Notifications over HTTP: the caller's own, and marking them read."""

from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.db import db
from supervision.notifications import services
from supervision.notifications.schemas import (
    NotificationQueryArgsSchema,
    NotificationSchema,
    NotificationUpdateSchema,
    ReadAllResultSchema,
)
from supervision.pagination import total_header, with_total

blp = Blueprint("notifications", __name__, url_prefix="/api/v1",
                description="The caller's notifications")


@blp.route("/notifications")
class NotificationsView(MethodView):
    @blp.arguments(NotificationQueryArgsSchema, location="query")
    @blp.response(200, NotificationSchema(many=True),
                  headers=total_header("Notifications matching the filter"))
    def get(self, args):
        """The caller's notifications, newest first; unread=true lists the unread ones."""
        return with_total(*services.list_notifications(current_user, args))


@blp.route("/notifications/<int:notification_id>")
class NotificationView(MethodView):
    @blp.arguments(NotificationUpdateSchema)
    @blp.response(200, NotificationSchema)
    def patch(self, data, notification_id):
        """Mark one of the caller's notifications read (or unread again)."""
        notification = services.mark_read(current_user, notification_id, data["read"])
        db.session.commit()
        return notification


@blp.route("/notifications/read")
class ReadAllView(MethodView):
    @blp.response(200, ReadAllResultSchema)
    def post(self):
        """Mark every notification of the caller read."""
        marked = services.mark_all_read(current_user)
        db.session.commit()
        return {"marked": marked}
