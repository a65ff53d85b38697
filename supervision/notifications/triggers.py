"""The events that notify someone, and what each notification says. Each is called by the
code of its event, in the event's transaction."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from supervision.accounts.models import User
from supervision.db import db
from supervision.i18n import current_language
from supervision.notifications.services import notify, region_managers, store_managers
from supervision.reports.labels import is_zh, minute, number, pick
from supervision.stores.models import Region, Store


def visit_published(visit) -> None:
    """The managers of the store's region learn the score of a visit that reached the store's
    side (an audit on submission, a mystery visit once published: never before)."""
    notify(region_managers(visit.store.region_id), "visit_published",
           lambda: _published(visit), f"/api/v1/visits/{visit.id}")


def visit_rejected(visit) -> None:
    """The shopper learns what the reviewer wants fixed in its visit."""
    notify([visit.author], "visit_rejected", lambda: _rejected(visit),
           f"/api/v1/visits/{visit.id}")


def assignment_created(assignment) -> None:
    """The shopper learns of a new mystery visit to make."""
    notify([assignment.shopper], "assignment_created", lambda: _assigned(assignment),
           f"/api/v1/assignments/{assignment.id}")


def job_finished(job) -> None:
    """Whoever asked for a region report learns that it is ready, or why it failed."""
    if job.created_by_id is None:
        return
    region = db.session.get(Region, job.params["region_id"])
    kind = "report_ready" if job.status == "done" else "report_failed"
    notify([db.session.get(User, job.created_by_id)], kind, lambda: _report(job, region),
           f"/api/v1/jobs/{job.id}")


def fix_rejected(action) -> None:
    """The store's managers learn why the fix of an action was rejected, and when it is due."""
    notify(store_managers(action.store_id), "action_rejected", lambda: _fix_rejected(action),
           f"/api/v1/actions/{action.id}")


def action_due(action) -> list:
    """The store's managers are reminded of an action on its due day, once for each due date
    (a new one after a rejection is reminded again)."""
    return notify(store_managers(action.store_id), "action_due", lambda: _due(action),
                  f"/api/v1/actions/{action.id}",
                  once_key=f"action:{action.id}:due-{action.due_date.isoformat()}")


def action_escalated(action, days_late: int) -> list:
    """The region's managers learn of an action still not done days after its due date, once
    for each due date."""
    return notify(region_managers(action.store.region_id), "action_escalated",
                  lambda: _escalated(action, days_late), f"/api/v1/actions/{action.id}",
                  once_key=f"action:{action.id}:escalated-{action.due_date.isoformat()}")


def _fix_rejected(action) -> tuple[str, str]:
    store = _store_name(action.store)
    subject = _("Fix rejected: %(store)s, %(title)s", store=store, title=_title(action))
    lines = [_("Reason: %(comment)s", comment=action.decision_comment),
             _("Due: %(date)s", date=action.due_date.isoformat()),
             _("Put it right, then mark the action done again with new photos.")]
    return subject, "\n".join(lines)


def _due(action) -> tuple[str, str]:
    store = _store_name(action.store)
    subject = _("Action due: %(store)s, %(title)s", store=store, title=_title(action))
    lines = [_("Owner: %(owner)s", owner=action.owner or "–"),
             _("Due: %(date)s", date=action.due_date.isoformat()),
             _("Mark it done with a note and a photo of the fix.")]
    return subject, "\n".join(lines)


def _escalated(action, days_late: int) -> tuple[str, str]:
    store = _store_name(action.store)
    subject = _("Action overdue %(days)s days: %(store)s, %(title)s", days=days_late,
                store=store, title=_title(action))
    lines = [_("Store: %(store)s (%(code)s)", store=store, code=action.store.code),
             _("Owner: %(owner)s", owner=action.owner or "–"),
             _("Due: %(date)s", date=action.due_date.isoformat())]
    return subject, "\n".join(lines)


def _title(action) -> str:
    return action.title_in(current_language())


def _published(visit) -> tuple[str, str]:
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


def _rejected(visit) -> tuple[str, str]:
    store, time = _store_name(visit.store), _local(visit.started_at, visit.store)
    subject = _("Visit returned for correction: %(store)s, %(time)s", store=store, time=time)
    lines = [_("Reviewer's comment: %(comment)s", comment=visit.review_comment),
             _("Correct the visit as asked and submit it again.")]
    return subject, "\n".join(lines)


def _assigned(assignment) -> tuple[str, str]:
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


def _report(job, region: Region | None) -> tuple[str, str]:
    params = job.params
    values = {"region": _region_name(region, params["region_id"]), "start": params["from"],
              "end": params["to"]}
    if job.status == "done":
        return (_("Region report ready: %(region)s, %(start)s to %(end)s", **values),
                _("The report is ready to download."))
    return (_("Region report failed: %(region)s, %(start)s to %(end)s", **values),
            _("Reason: %(error)s", error=job.error))


def _store_name(store: Store) -> str:
    return store.name if is_zh(current_language()) else store.name_en or store.name


def _region_name(region: Region | None, region_id: int) -> str:
    if region is None:
        return f"#{region_id}"
    return region.name if is_zh(current_language()) else region.name_en or region.name


def _local(moment: datetime, store: Store) -> str:
    """A time as the store's clock shows it."""
    return minute(moment.astimezone(ZoneInfo(store.timezone)))
