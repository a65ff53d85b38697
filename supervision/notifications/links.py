"""The link an email ends with: where, under PUBLIC_URL, the reader finds what the notification
is about. Emails go from workers and threads, outside any request, so paths come from the URL
map itself rather than `url_for`."""

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from supervision.db import db
from supervision.i18n import language_of
from supervision.jobs.models import Job
from supervision.notifications.models import Notification


def email_text(notification: Notification) -> str:
    """The notification's body, then, when PUBLIC_URL is set, a link in the reader's language."""
    if not current_app.config.get("PUBLIC_URL") or not notification.link:
        return notification.body
    with force_locale(language_of(notification.user)):
        return f"{notification.body}\n\n{_link_line(notification)}"


def _link_line(notification: Notification) -> str:
    """The pages are those the app's notifications page opens (static/js/pages/notifications.js);
    a ready report's link is its PDF, a failed one's the job with its error."""
    kind, key = notification.kind, notification.link.rsplit("/", 1)[-1]  # the id ends the link
    if kind in ("visit_published", "visit_rejected"):
        return _("See the visit: %(url)s", url=_public(_path("pwa.visit", id=key)))
    if kind == "assignment_created":  # no page shows one assignment: the shopper's list does
        return _("Your assignments: %(url)s", url=_public(_path("pwa.home")))
    job = db.session.get(Job, key) if kind == "report_ready" else None
    if job is not None and job.params.get("url"):
        return _("Download the report: %(url)s", url=_public(job.params["url"]))
    return _("Details: %(url)s", url=_public(notification.link))  # a failed report's job


def _path(endpoint: str, **values) -> str:
    return current_app.url_map.bind("").build(endpoint, values)  # a path needs no host


def _public(path: str) -> str:
    return current_app.config["PUBLIC_URL"].rstrip("/") + path
