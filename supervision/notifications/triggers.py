"""The events that notify someone, and what each notification says. Each is called by the
code of its event, in the event's transaction.

A notification keeps what its text is made from (`params`: the ids of what it is about, and the
values of the moment it was written, such as a reviewer's comment); `wording` makes its subject
and body from them in the current language: the recipient's when it is written (the email
keeps that text), the reader's each time it is read."""

import uuid
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from supervision.accounts.models import User
from supervision.checklists.services import definition_of
from supervision.db import db
from supervision.followup.models import Action, Assignment, Query
from supervision.i18n import current_language
from supervision.notifications.models import Notification
from supervision.notifications.services import notify, region_managers, store_managers
from supervision.reports.labels import is_zh, minute, number, pick
from supervision.stores.models import Region, Store
from supervision.visits.models import Visit


def visit_published(visit) -> None:
    """The managers of the store's region learn the score of a visit that reached the store's
    side (an audit on submission, a mystery visit once published: never before)."""
    _notify(region_managers(visit.store.region_id), "visit_published", {"visit": str(visit.id)},
            f"/api/v1/visits/{visit.id}")


def visit_rejected(visit) -> None:
    """The shopper learns what the reviewer wants fixed in its visit."""
    _notify([visit.author], "visit_rejected",
            {"visit": str(visit.id), "comment": visit.review_comment},
            f"/api/v1/visits/{visit.id}")


def assignment_created(assignment) -> None:
    """The shopper learns of a new mystery visit to make."""
    _notify([assignment.shopper], "assignment_created", {"assignment": assignment.id},
            f"/api/v1/assignments/{assignment.id}")


def job_finished(job) -> None:
    """Whoever asked for a region report learns that it is ready, or why it failed."""
    if job.created_by_id is None:
        return
    kind = "report_ready" if job.status == "done" else "report_failed"
    params = {"job": job.id, "region": job.params["region_id"], "from": job.params["from"],
              "to": job.params["to"], "error": job.error}
    _notify([db.session.get(User, job.created_by_id)], kind, params, f"/api/v1/jobs/{job.id}")


def fix_rejected(action) -> None:
    """The store's managers learn why the fix of an action was rejected, and when it is due."""
    _notify(store_managers(action.store_id), "action_rejected",
            {"action": action.id, "comment": action.decision_comment,
             "due": action.due_date.isoformat()}, f"/api/v1/actions/{action.id}")


def action_due(action) -> list:
    """The store's managers are reminded of an action on its due day, once for each due date
    (a new one after a rejection is reminded again)."""
    return _notify(store_managers(action.store_id), "action_due",
                   {"action": action.id, "due": action.due_date.isoformat()},
                   f"/api/v1/actions/{action.id}",
                   once_key=f"action:{action.id}:due-{action.due_date.isoformat()}")


def action_escalated(action, days_late: int) -> list:
    """The region's managers learn of an action still not done days after its due date, once
    for each due date."""
    return _notify(region_managers(action.store.region_id), "action_escalated",
                   {"action": action.id, "due": action.due_date.isoformat(), "days": days_late},
                   f"/api/v1/actions/{action.id}",
                   once_key=f"action:{action.id}:escalated-{action.due_date.isoformat()}")


def results_open_to_query(visit) -> None:
    """The store's managers learn that a mystery result was published, and until when they may
    query it (never who made the visit)."""
    _notify(store_managers(visit.store_id), "query_window",
            {"visit": str(visit.id), "closes": visit.queries_close_at.isoformat()},
            f"/api/v1/visits/{visit.id}")


def query_raised(query, visit) -> None:
    """The region's managers (the reviewers) learn of a query to rule on (the link opens the
    visit, where the query is ruled)."""
    _notify(region_managers(visit.store.region_id), "query_raised",
            {"query": query.id, "visit": str(visit.id)}, f"/api/v1/visits/{visit.id}")


def query_ruled(query, visit) -> None:
    """The store's managers learn the ruling on their query and its reason."""
    _notify(store_managers(visit.store_id), "query_ruled",
            {"query": query.id, "visit": str(visit.id), "status": query.status,
             "comment": query.ruling_comment}, f"/api/v1/visits/{visit.id}")


def webhook_disabled(hook) -> None:
    """The admins learn that a webhook was turned off after its deliveries kept failing."""
    admins = db.session.scalars(select(User).where(User.role == "admin", User.active)
                                .order_by(User.id)).all()
    _notify(admins, "webhook_disabled",
            {"webhook": hook.id, "name": hook.name, "failures": hook.failures_in_a_row},
            f"/api/v1/webhooks/{hook.id}/deliveries")


def _notify(users, kind: str, params: dict, link: str, once_key: str | None = None) -> list:
    return notify(users, kind, lambda: WORDING[kind](params), link, once_key, params=params)


def wording(notification: Notification) -> tuple[str, str]:
    """The notification's (subject, body) in the current language, made again from its params;
    as stored when it has none (written before they were kept, or by hand) or what it is about
    is gone."""
    made = WORDING.get(notification.kind)
    if notification.params is None or made is None:
        return notification.subject, notification.body
    try:
        return made(notification.params)
    except LookupError:  # the visit, assignment or action is no more; a param is missing
        return notification.subject, notification.body


def _get(model, key):
    found = db.session.get(model, key)
    if found is None:
        raise LookupError(f"{model.__name__} {key} not found")
    return found


def _visit(params: dict) -> Visit:
    return _get(Visit, uuid.UUID(params["visit"]))


def _action(params: dict) -> Action:
    return _get(Action, params["action"])


def _assignment(params: dict) -> Assignment:
    return _get(Assignment, params["assignment"])


def _fix_rejected(params: dict) -> tuple[str, str]:
    action = _action(params)
    store = _store_name(action.store)
    subject = _("Fix rejected: %(store)s, %(title)s", store=store, title=_title(action))
    lines = [_("Reason: %(comment)s", comment=params["comment"]),
             _("Due: %(date)s", date=params["due"]),
             _("Put it right, then mark the action done again with new photos.")]
    return subject, "\n".join(lines)


def _due(params: dict) -> tuple[str, str]:
    action = _action(params)
    store = _store_name(action.store)
    subject = _("Action due: %(store)s, %(title)s", store=store, title=_title(action))
    lines = [_("Owner: %(owner)s", owner=action.owner or "–"),
             _("Due: %(date)s", date=params["due"]),
             _("Mark it done with a note and a photo of the fix.")]
    return subject, "\n".join(lines)


def _escalated(params: dict) -> tuple[str, str]:
    action = _action(params)
    store = _store_name(action.store)
    subject = _("Action overdue %(days)s days: %(store)s, %(title)s", days=params["days"],
                store=store, title=_title(action))
    lines = [_("Store: %(store)s (%(code)s)", store=store, code=action.store.code),
             _("Owner: %(owner)s", owner=action.owner or "–"),
             _("Due: %(date)s", date=params["due"])]
    return subject, "\n".join(lines)


def _query_window(params: dict) -> tuple[str, str]:
    visit = _visit(params)
    store = _store_name(visit.store)
    closes = _local(datetime.fromisoformat(params["closes"]), visit.store)
    subject = _("Mystery result published: %(store)s, scored %(score)s", store=store,
                score=number(visit.total))
    lines = [_("Visited: %(time)s (store time)", time=_local(visit.started_at, visit.store)),
             _("You may query an item with facts until %(time)s (store time).", time=closes)]
    return subject, "\n".join(lines)


def _item_words(visit, item_id: str) -> str:
    try:
        item = definition_of(visit.checklist_version).item(item_id)
    except KeyError:
        return item_id
    return pick(item.report_text or item.text, current_language())


def _query_raised(params: dict) -> tuple[str, str]:
    visit = _visit(params)
    query = _get(Query, params["query"])
    store = _store_name(visit.store)
    subject = _("Query to rule: %(store)s, %(item)s", store=store,
                item=_item_words(visit, query.item_id))
    lines = [_("Store: %(store)s (%(code)s)", store=store, code=visit.store.code),
             _("The store's facts: %(reason)s", reason=query.reason)]
    return subject, "\n".join(lines)


def _query_ruled(params: dict) -> tuple[str, str]:
    visit = _visit(params)
    query = _get(Query, params["query"])
    item = _item_words(visit, query.item_id)
    outcome = {"upheld": _("upheld"), "amended": _("amended"),
               "reshop": _("re-shop ordered")}[params["status"]]
    subject = _("Your query was ruled: %(item)s, %(outcome)s", item=item, outcome=outcome)
    lines = [_("Reason for the ruling: %(comment)s", comment=params["comment"])]
    if params["status"] == "amended":
        lines.append(_("The answer was corrected and the visit scored again: %(score)s.",
                       score=number(visit.total)))
    return subject, "\n".join(lines)


def _title(action) -> str:
    return action.title_in(current_language())


def _published(params: dict) -> tuple[str, str]:
    visit = _visit(params)
    store, score = _store_name(visit.store), number(visit.total)
    kind = _("storefront audit") if visit.kind == "audit" else _("mystery visit")
    if visit.red_line:
        subject = _("Red line failed: %(store)s, %(kind)s scored %(score)s",
                    store=store, kind=kind, score=score)
    else:
        subject = _("%(store)s: %(kind)s scored %(score)s", store=store, kind=kind, score=score)
    grade = pick(visit.score["grade"]["label"], current_language())
    lines = [_("Store: %(store)s (%(code)s)", store=store, code=visit.store.code),
             _("Visited: %(time)s (store time)", time=_local(visit.started_at, visit.store)),
             _("Score: %(score)s, grade: %(grade)s", score=score, grade=grade)]
    lines += [_("Red line failed: %(item)s", item=pick(red_line["text"], current_language()))
              for red_line in visit.score["red_lines"]]
    return subject, "\n".join(lines)


def _rejected(params: dict) -> tuple[str, str]:
    visit = _visit(params)
    store, time = _store_name(visit.store), _local(visit.started_at, visit.store)
    subject = _("Visit returned for correction: %(store)s, %(time)s", store=store, time=time)
    lines = [_("Reviewer's comment: %(comment)s", comment=params["comment"]),
             _("Correct the visit as asked and submit it again.")]
    return subject, "\n".join(lines)


def _assigned(params: dict) -> tuple[str, str]:
    assignment = _assignment(params)
    store = assignment.store
    subject = _("New mystery-shop assignment: %(store)s", store=_store_name(store))
    lines = [_("Store: %(store)s (%(code)s)", store=_store_name(store), code=store.code)]
    if store.address:
        lines.append(_("Address: %(address)s", address=store.address))
    lines.append(_("Window: %(start)s to %(end)s (store time)",
                   start=_local(assignment.window_start, store),
                   end=_local(assignment.window_end, store)))
    if assignment.scenario:
        lines.append(_("Scenario: %(scenario)s", scenario=assignment.scenario))
    return subject, "\n".join(lines)


def _report_ready(params: dict) -> tuple[str, str]:
    return (_("Region report ready: %(region)s, %(start)s to %(end)s", **_period(params)),
            _("The report is ready to download."))


def _report_failed(params: dict) -> tuple[str, str]:
    return (_("Region report failed: %(region)s, %(start)s to %(end)s", **_period(params)),
            _("Reason: %(error)s", error=params["error"]))


def _period(params: dict) -> dict:
    region = db.session.get(Region, params["region"])
    return {"region": _region_name(region, params["region"]), "start": params["from"],
            "end": params["to"]}


def _store_name(store: Store) -> str:
    return store.name if is_zh(current_language()) else store.name_en or store.name


def _region_name(region: Region | None, region_id: int) -> str:
    if region is None:
        return f"#{region_id}"
    return region.name if is_zh(current_language()) else region.name_en or region.name


def _local(moment: datetime, store: Store) -> str:
    """A time as the store's clock shows it."""
    return minute(moment.astimezone(ZoneInfo(store.timezone)))


def _webhook_disabled(params: dict) -> tuple[str, str]:
    return (_("Webhook turned off: %(name)s", name=params["name"]),
            _("Its last %(count)s deliveries failed. Fix the endpoint, then turn the webhook "
              "on again.", count=params["failures"]))


# What each kind of notification says, made from its params.
WORDING: dict[str, Callable[[dict], tuple[str, str]]] = {
    "visit_published": _published, "visit_rejected": _rejected,
    "assignment_created": _assigned, "report_ready": _report_ready,
    "report_failed": _report_failed, "action_rejected": _fix_rejected, "action_due": _due,
    "action_escalated": _escalated, "query_window": _query_window,
    "query_raised": _query_raised, "query_ruled": _query_ruled,
    "webhook_disabled": _webhook_disabled,
}
