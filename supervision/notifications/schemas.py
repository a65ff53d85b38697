"""Shapes of notifications in the API."""

import marshmallow as ma
from marshmallow import validate

from supervision.notifications.models import EMAIL_STATUSES
from supervision.notifications.triggers import wording
from supervision.pagination import PageQueryArgsSchema


class Worded(ma.fields.String):
    """The subject (0) or body (1) of a notification, made from its params in the current
    language (supervision/notifications/triggers.py)."""

    def __init__(self, part: int, **kwargs):
        super().__init__(dump_only=True, **kwargs)
        self.part = part

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return wording(obj)[self.part]


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String(metadata={"description": (
        "visit_published, visit_rejected, assignment_created, report_ready, report_failed, "
        "action_due (a store's action on its due day), action_escalated (3 days overdue, to the "
        "region's managers) or action_rejected (a fix sent back to the store)")})
    subject = Worded(0, metadata={"description": (
        "In the reader's language of the moment (the email keeps the recipient's language "
        "of when it was written).")})
    body = Worded(1)
    link = ma.fields.String(allow_none=True, metadata={
        "description": "A path of the app or the API to open, e.g. /api/v1/jobs/{id}."})
    created_at = ma.fields.AwareDateTime()
    read = ma.fields.Function(lambda notification: notification.read_at is not None)
    read_at = ma.fields.AwareDateTime(allow_none=True)
    email_status = ma.fields.String(validate=validate.OneOf(EMAIL_STATUSES))


class NotificationQueryArgsSchema(PageQueryArgsSchema):
    unread = ma.fields.Boolean(metadata={
        "description": "true: only the unread ones; false: only those already read."})


class NotificationUpdateSchema(ma.Schema):
    read = ma.fields.Boolean(required=True)


class ReadAllResultSchema(ma.Schema):
    marked = ma.fields.Integer(metadata={"description": "How many were unread."})

