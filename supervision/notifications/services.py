"""Notifying users (one row per recipient, written in the event's transaction and in the
recipient's language, which its email keeps), and the recipients' reading of them (in the
reader's language of the moment, when the notification keeps its params)."""

from collections.abc import Callable, Iterable

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from supervision.accounts.models import User, user_regions, user_stores
from supervision.db import db, utcnow
from supervision.errors import NotFound
from supervision.i18n import language_of
from supervision.notifications import mail
from supervision.notifications.models import Notification
from supervision.pagination import paginate


def notify(users: Iterable[User], kind: str, message: Callable[[], tuple[str, str]],
           link: str | None = None, once_key: str | None = None,
           params: dict | None = None) -> list[Notification]:
    """A notification for each user; `message()` gives its (subject, body) and is called in
    the user's language. Emailed once the caller commits, when a mail server is configured
    and the user is active with an address. Flushes, never commits. `params` (JSON) is what
    the message is made from: with them the text is made again, in the reader's language of
    the moment, each time it is read (supervision/notifications/triggers.py).

    With `once_key` ("kind:object:step"), each user gets it once only, ever: the key made
    "kind:object:step:user" is unique, and a user who already has it gets nothing (a sweep run
    twice, or by two workers at once). Returns the notifications made now."""
    mailing = bool(current_app.config.get("MAIL_SERVER"))
    worded: dict[str, tuple[str, str]] = {}
    rows = []
    for user in users:
        language = language_of(user)
        if language not in worded:
            with force_locale(language):
                worded[language] = message()
        subject, body = worded[language]
        emailed = mailing and user.active and bool(user.email)
        rows.append({"user_id": user.id, "kind": kind, "subject": subject, "body": body,
                     "params": params, "link": link,
                     "email_status": "pending" if emailed else "skipped",
                     "once_key": f"{once_key}:{user.id}" if once_key else None})
    made = _insert_once(rows) if once_key else _insert(rows)
    mail.email_after_commit([n for n in made if n.email_status == "pending"])
    return made


def _insert(rows: list[dict]) -> list[Notification]:
    made = [Notification(**row) for row in rows]
    db.session.add_all(made)
    db.session.flush()
    return made


def _insert_once(rows: list[dict]) -> list[Notification]:
    """Insert the rows whose once_key no row holds yet (INSERT … ON CONFLICT DO NOTHING: a
    twin sweep committing the same key meanwhile makes this one skip it, not fail)."""
    if not rows:
        return []
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = (dialect.insert(Notification).values(rows)
                 .on_conflict_do_nothing(index_elements=["once_key"])
                 .returning(Notification.id))
    ids = db.session.scalars(statement).all()
    return list(db.session.scalars(select(Notification).where(Notification.id.in_(ids))
                                   .order_by(Notification.id))) if ids else []


def region_managers(region_id: int) -> list[User]:
    return db.session.scalars(
        select(User).join(user_regions, user_regions.c.user_id == User.id)
        .where(user_regions.c.region_id == region_id, User.role == "manager")
        .order_by(User.id)).all()


def store_managers(store_id: int) -> list[User]:
    """The store managers (厅主任/店长) linked to the store."""
    return db.session.scalars(
        select(User).join(user_stores, user_stores.c.user_id == User.id)
        .where(user_stores.c.store_id == store_id, User.role == "store_manager")
        .order_by(User.id)).all()


def list_notifications(user: User, args: dict) -> tuple[list[Notification], int]:
    """The user's own notifications, newest first; returns (page, total)."""
    query = select(Notification).where(Notification.user_id == user.id)
    if args.get("unread") is not None:
        read_at = Notification.read_at
        query = query.where(read_at.is_(None) if args["unread"] else read_at.is_not(None))
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc())
    return paginate(query, args["limit"], args["offset"])


def mark_read(user: User, notification_id: int, read: bool) -> Notification:
    """Mark one of the user's notifications read or unread; anyone else's is not found."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != user.id:
        raise NotFound(f"Notification {notification_id} not found.")
    if read != (notification.read_at is not None):
        notification.read_at = utcnow() if read else None
    return notification


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())).rowcount
