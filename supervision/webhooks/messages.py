"""What a group robot (WeCom, DingTalk) posts for an event: Markdown in the app's default
language, with a link to the visit under PUBLIC_URL when it is set."""

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from supervision.reports.labels import pick

KINDS = {"audit": "Audit", "mystery": "Mystery visit"}


def robot_text(payload: dict) -> tuple[str, str]:
    """(title, Markdown text) of an event's payload."""
    with force_locale(current_app.config["LANGUAGES"][0]):
        title, lines = _words(payload)
        link = _link(payload)
        text = "\n\n".join([f"**{title}**", *lines, *([link] if link else [])])
    return title, text


def _words(payload: dict) -> tuple[str, list[str]]:
    event, store = payload["event"], payload["store"]
    where = f"{store['name']} ({store['code']})"
    if event.startswith("visit."):
        visit = payload["visit"]
        score = _("Score %(total)s, %(grade)s", total=_number(visit["total"]),
                  grade=visit["grade"] or "-")
        kind = _(KINDS[visit["kind"]])
        title = {
            "visit.submitted": _("%(kind)s submitted: %(store)s", kind=kind, store=where),
            "visit.published": _("%(kind)s published: %(store)s", kind=kind, store=where),
            "visit.returned": _("%(kind)s returned to its author: %(store)s", kind=kind,
                                store=where),
            "visit.red_line": _("Red line: %(store)s", store=where),
        }[event]
        lines = [score]
        if event == "visit.red_line":
            lines += [f"- {pick(line['text'], get_locale().language)}"
                      for line in visit["red_lines"]]
        if event == "visit.returned" and payload.get("comment"):
            lines.append(_("Reviewer: %(comment)s", comment=payload["comment"]))
        return title, lines
    if event == "action.overdue":
        action = payload["action"]
        return (_("Action overdue: %(store)s", store=where),
                [action["title"], _("Due %(date)s", date=action["due_date"])])
    dispute = payload["dispute"]
    return (_("Dispute overdue: %(store)s", store=where),
            [dispute["reference"], _("Due %(date)s", date=dispute["due_at"][:16])])


def _number(value) -> str:
    return "-" if value is None else f"{value:g}"


def _link(payload: dict) -> str | None:
    base = current_app.config.get("PUBLIC_URL", "").rstrip("/")
    visit_id = (payload.get("visit") or {}).get("id") or (payload.get("action") or {}).get(
        "visit_id")
    if not (base and visit_id):
        return None
    path = current_app.url_map.bind("").build("pwa.visit", {"id": visit_id})
    return f"[{_('Open the visit')}]({base}{path})"
