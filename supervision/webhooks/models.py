"""Registered endpoints and each event's delivery to them."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.db import JSONType, UTCDateTime, db, utcnow

EVENTS = ("visit.submitted", "visit.published", "visit.returned", "visit.red_line",
          "action.overdue", "dispute.overdue")
# How the body is shaped: our own signed JSON, or a message for a WeCom / DingTalk group robot.
PRESETS = ("json", "wecom", "dingtalk")
# pending: to send (now or at next_attempt_at); sending: a worker has it; delivered; failed
# (for good: a 4xx, a redirect, or no retry left).
DELIVERY_STATUSES = ("pending", "sending", "delivered", "failed")


class Webhook(db.Model):
    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSONType, default=list)
    preset: Mapped[str] = mapped_column(String(16), default="json")
    # Signs each body (HMAC-SHA256); kept as given since signing needs it (DingTalk's robot
    # secret for that preset).
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    failures_in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(db.Model):
    """One event for one hook: made in the transaction that caused the event (so it survives a
    crash once that commits), sent after it. The unique event key makes an event that is
    raised twice (a replayed request, two sweeps) one delivery."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("webhook_id", "event_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"),
                                            index=True)
    event: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    # Every attempt: [{at, status, ms, error}].
    log: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    webhook: Mapped[Webhook] = relationship()
