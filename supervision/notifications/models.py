"""Notifications kept for their recipient, with how their email went."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from supervision.db import JSONType, UTCDateTime, db, utcnow

# pending → sending → sent or failed (a worker or thread emails it after the commit; `flask
# notifications resend` hands failed and long-pending ones over again); skipped: no mail server
# configured, or a recipient without an address or no longer active. One whose sender died while
# `sending` stays so: it may have gone, and an email is never sent twice.
EMAIL_STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    # What the text is made from, so that it is rendered again in the reader's language of the
    # moment it is read (subject and body keep the text as first sent, for the email).
    params: Mapped[dict | None] = mapped_column(JSONType)
    link: Mapped[str | None] = mapped_column(String(255))  # a path of the app or the API
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_status: Mapped[str] = mapped_column(String(16), default="pending")
    email_error: Mapped[str | None] = mapped_column(Text)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A step notified once only (an action's reminder, its escalation): "kind:object:step:user".
    # Unique, so a sweep run twice or after a worker restart sends nothing twice.
    once_key: Mapped[str | None] = mapped_column(String(120), unique=True)

    user: Mapped["User"] = relationship()  # noqa: F821
