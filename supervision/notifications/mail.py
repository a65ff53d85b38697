"""Emailing notifications over SMTP, once the transaction that made them has committed.

`email_after_commit` hands the notifications to the task module (supervision/tasks.py): a
`flask jobs worker` or a thread of this process sends them once the transaction commits, and a
rollback drops them: an email goes neither before its notification is committed nor when the
commit fails.

`flask notifications resend` hands over again the emails that failed or stayed pending (a queue
lost with its Redis); each sender first claims its email with a conditional update, so that an
email handed over twice still goes once.
"""

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from flask import current_app
from sqlalchemy import or_, select, update

from supervision import tasks
from supervision.db import db, utcnow
from supervision.notifications.links import email_text
from supervision.notifications.models import Notification

# A mail server that does not answer must not hold a worker or a thread for ever.
TIMEOUT_SECONDS = 20


def email_after_commit(notifications: list[Notification]) -> None:
    """Email these flushed notifications once the current transaction commits."""
    for notification in notifications:
        tasks.after_commit("notifications", f"{__name__}:email_task", notification.id)


def email_task(notification_id: int) -> str | None:
    """The task that emails one notification. A failure raises, so that the Redis queue tries
    once more; the notification keeps the error either way."""
    status = send(notification_id)
    if status == "failed":
        raise RuntimeError(f"notification {notification_id} not emailed; see its email_error")
    return status


def resend(older_than: timedelta) -> int:
    """Email again, the way any email goes, every notification whose email failed or has been
    pending for longer than `older_than` (lost with its queue, say); returns how many."""
    stuck = or_(Notification.email_status == "failed",
                (Notification.email_status == "pending")
                & (Notification.created_at < utcnow() - older_than))
    stuck = db.session.scalars(select(Notification).where(stuck).order_by(Notification.id)).all()
    email_after_commit(stuck)
    return len(stuck)


def send(notification_id: int) -> str | None:
    """Email one notification unless it went already or is being sent; records and commits the
    outcome, and returns the email status."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.email_status not in ("pending", "failed"):
        return notification and notification.email_status
    message = _message(notification)  # before the claim: a mistake here leaves it to resend
    if not _claim(notification_id):
        return notification.email_status  # another sender's (reloaded: the claim committed)
    try:
        _deliver(message)
    except (smtplib.SMTPException, OSError) as error:
        current_app.logger.warning("notification %s not emailed: %s", notification_id, error)
        status, problem = "failed", f"{type(error).__name__}: {error}"
    else:
        status, problem = "sent", None
        notification.emailed_at = utcnow()
    notification.email_status, notification.email_error = status, problem
    db.session.commit()
    return status


def _claim(notification_id: int) -> bool:
    """Mark the email `sending` if it is still to be sent, and commit. A conditional update:
    when a resend and the first job run at once, only one of them sends."""
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.id == notification_id,
               Notification.email_status.in_(("pending", "failed")))
        .values(email_status="sending")).rowcount
    db.session.commit()
    return claimed == 1


def _message(notification: Notification) -> EmailMessage:
    user = notification.user
    message = EmailMessage()  # the default policy encodes non-ASCII headers and bodies as UTF-8
    message["Subject"] = notification.subject
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = formataddr((user.name, user.email))
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid()
    message.set_content(email_text(notification))
    return message


def _deliver(message: EmailMessage) -> None:
    config = current_app.config
    if not config.get("MAIL_SERVER"):
        raise smtplib.SMTPException("MAIL_SERVER is not set in this process.")
    with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]),
                      timeout=TIMEOUT_SECONDS) as smtp:
        if config.get("MAIL_USE_TLS"):
            smtp.starttls()
        if config.get("MAIL_USERNAME"):
            smtp.login(config["MAIL_USERNAME"], config.get("MAIL_PASSWORD") or "")
        smtp.send_message(message)
