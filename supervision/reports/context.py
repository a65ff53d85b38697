"""A visit → the plain dict its coaching report is rendered from (Jinja never sees the ORM)."""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from supervision.checklists.definition import (
    FUNCTION_LABELS,
    FUNCTIONS,
    MOMENT_LABELS,
    MOMENTS,
    PEAK_END_MOMENTS,
)
from supervision.checklists.services import definition_of
from supervision.db import db, utcnow
from supervision.followup.duedates import is_overdue_date
from supervision.followup.models import Action
from supervision.reports import labels
from supervision.reports.charts import heat_color
from supervision.reports.items import item_rows, photo_refs
from supervision.scoring import score_visit
from supervision.visits.models import Visit
from supervision.visits.snapshot import answers_of

TOP = 3
GAP_STATUSES = ("red_line", "failed", "partial", "unanswered")


def visit_context(visit: Visit, lang: str, audience: str) -> dict:
    """Everything the visit report shows, already in `lang`; the 'store' audience hides the
    mystery shopper."""
    definition = definition_of(visit.checklist_version)
    score = visit.score or score_visit(definition, answers_of(visit)).to_dict()  # a draft
    tz = ZoneInfo(visit.store.timezone)
    times = _moment_times(visit, tz)
    items = item_rows(definition, score, visit, lang, _phase_times(times, definition))
    return {
        "kind": "visit",
        "lang": lang,
        "audience": audience,
        "visit": _header(visit, definition, tz, lang, audience),
        "store": store_dict(visit.store, lang),
        "score": _score_block(score, items, lang),
        "strengths": _strengths(items),
        "gaps": _gaps(items),
        "actions": _actions(visit.id, definition, lang, visit.store.timezone),
        "grid": _grid(score, lang),
        "timeline": _timeline(times, definition, lang),
        "sections": _sections(definition, score, items, lang),
        "explanation": _explanation(score, items),
        "photos": photo_refs(visit),
    }


def store_dict(store, lang: str) -> dict:
    region = store.region
    return {
        "id": store.id, "code": store.code,
        "name": store.name if labels.is_zh(lang) else (store.name_en or store.name),
        "name_zh": store.name,
        "region": region.name if labels.is_zh(lang) else (region.name_en or region.name),
        "address": store.address, "manager": store.manager_name,
    }


def _header(visit: Visit, definition, tz: ZoneInfo, lang: str, audience: str) -> dict:
    mystery = visit.kind == "mystery"
    show_author = not mystery or audience == "internal"
    ended = visit.ended_at
    header = {
        "id": str(visit.id), "kind": visit.kind, "status": visit.status,
        "started": labels.minute(visit.started_at.astimezone(tz)),
        "duration": labels.duration((ended - visit.started_at).total_seconds(), lang)
        if ended and ended > visit.started_at else None,
        "checklist": labels.pick(definition.title, lang),
        "version": visit.checklist_version.version,
        "author_role": "shopper" if mystery else "supervisor",
        "author": visit.author.name if show_author else None,
        "notes": visit.notes,
    }
    if audience == "internal":
        header["internal"] = {
            "author_email": visit.author.email, "flags": list(visit.flags or []),
            "review_comment": visit.review_comment,
            "location": [visit.lat, visit.lon] if visit.lat is not None else None,
        }
    return header


def _moment_times(visit: Visit, tz: ZoneInfo) -> list[tuple[str, datetime]]:
    """The pressed moments in time order, as aware local times (bad entries are skipped)."""
    found = []
    for entry in visit.moments or []:
        try:
            at = datetime.fromisoformat(str(entry["at"]))
        except (KeyError, TypeError, ValueError):
            continue
        if at.tzinfo is not None:
            found.append((str(entry.get("moment")), at.astimezone(tz)))
    return sorted(found, key=lambda pair: pair[1])


def _phase_of(moment_id: str, definition) -> str | None:
    """The key moment a timed moment belongs to; versions stored before timed moments named
    one fall back on an id that starts with it."""
    named = next((m.moment for m in definition.moments if m.id == moment_id), None)
    return named or next((m for m in MOMENTS if moment_id.startswith(m)), None)


def _phase_times(times: list[tuple[str, datetime]], definition) -> dict[str, str]:
    """The first pressed time of each key moment, 'HH:MM:SS', to date the facts of its items."""
    first: dict[str, str] = {}
    for moment_id, at in times:
        phase = _phase_of(moment_id, definition)
        if phase:
            first.setdefault(phase, at.strftime("%H:%M:%S"))
    return first


def _score_block(score: dict, items: dict, lang: str) -> dict:
    explanation = score.get("explanation", {})
    possible = explanation.get("possible") or 0
    points = explanation.get("earned", 0) + explanation.get("bonus", 0)
    raw = min(100.0, 100 * points / possible) if possible else 100.0
    return {
        "total": labels.number(score["total"]),
        "value": score["total"],
        "grade": labels.pick(score["grade"]["label"], lang),
        "grade_id": score["grade"]["id"],
        "color": heat_color(score["total"]),
        "raw": labels.number(raw),
        "red_lines": [items[r["item"]] for r in score.get("red_lines", []) if r["item"] in items],
    }


def _strengths(items: dict) -> list[dict]:
    """Met items with the most at stake, those with evidence (photo, note, staff) first."""
    met = [row for row in items.values() if row["status"] == "met" and row["stake"] > 0]
    met.sort(key=lambda r: (not r["evidence"], not r["peak_end"], -r["stake"], r["order"]))
    return met[:TOP]


def _gaps(items: dict) -> list[dict]:
    """Red lines first, then the items that lost the most points (peak and end before others)."""
    open_items = [row for row in items.values()
                  if row["status"] in GAP_STATUSES
                  and (row["lost"] > 0 or row["status"] == "red_line")]
    open_items.sort(key=lambda r: (r["status"] != "red_line", -r["lost"], not r["peak_end"],
                                   r["order"]))
    return open_items[:TOP]


def _actions(visit_id, definition, lang: str, tz: str) -> list[dict]:
    """The actions agreed for this visit (dismissed proposals left out)."""
    actions = db.session.scalars(
        select(Action).where(Action.visit_id == visit_id, Action.status != "dismissed")
        .order_by(Action.due_date, Action.id)
    ).all()
    now = utcnow()
    return [{
        "title": action.title,
        "item": _item_text(definition, action.item_id, lang),
        "question": action.coaching_question,
        "owner": action.owner,
        "due": labels.day(action.due_date),
        "status": "overdue" if action.status in ("proposed", "open")
        and is_overdue_date(action.due_date, now, tz) else action.status,
    } for action in actions]


def _item_text(definition, item_id: str | None, lang: str) -> str | None:
    try:
        return labels.pick(definition.item(item_id).text, lang) if item_id else None
    except KeyError:
        return None


def _grid(score: dict, lang: str) -> dict:
    cells = {(c["function"], c["moment"]): c for c in score.get("grid", [])}
    used = [m for m in MOMENTS if any(m == moment for _, moment in cells)]
    return {
        "moments": [{"id": m, "label": labels.pick(MOMENT_LABELS[m], lang),
                     "peak_end": m in PEAK_END_MOMENTS} for m in used],
        "rows": [{
            "label": labels.pick(FUNCTION_LABELS[f], lang),
            "cells": [_cell(cells.get((f, m))) for m in used],
        } for f in FUNCTIONS],
    }


def _cell(cell: dict | None) -> dict:
    if cell is None or cell.get("percent") is None:
        return {"text": "", "color": heat_color(None)}
    return {"text": labels.number(cell["percent"], 0), "color": heat_color(cell["percent"])}


def _timeline(times: list[tuple[str, datetime]], definition, lang: str) -> dict | None:
    if not times:
        return None
    titles = {m.id: labels.pick(m.title, lang) for m in definition.moments}
    entries, previous = [], None
    for moment_id, at in times:
        phase = _phase_of(moment_id, definition)
        entries.append({
            "label": titles.get(moment_id, moment_id),
            "phase": labels.pick(MOMENT_LABELS[phase], lang) if phase else "",
            "time": at.strftime("%H:%M:%S"),
            "since": labels.duration((at - previous).total_seconds(), lang) if previous else "",
            "mark": {"dispute": "peak", "departure": "end"}.get(phase),
        })
        previous = at
    return {"entries": entries, "intervals": _intervals(times, definition, lang)}


def _intervals(times: list[tuple[str, datetime]], definition, lang: str) -> list[dict]:
    """The checklist's intervals whose two moments were both pressed (the first press counts)."""
    first_times: dict[str, datetime] = {}
    for moment_id, at in times:
        first_times.setdefault(moment_id, at)
    found = []
    for interval in definition.intervals:
        if interval.start in first_times and interval.end in first_times:
            seconds = (first_times[interval.end] - first_times[interval.start]).total_seconds()
            found.append({"key": interval.id, "label": labels.pick(interval.label, lang),
                          "value": labels.duration(seconds, lang),
                          "mark": "peak" if interval.peak else None})
    return found


def _sections(definition, score: dict, items: dict, lang: str) -> list[dict]:
    subtotals = {row["id"]: row for row in score.get("sections", [])}
    return [{
        "id": section.id,
        "title": labels.pick(section.title, lang),
        "percent": labels.number((subtotals.get(section.id) or {}).get("percent")),
        "color": heat_color((subtotals.get(section.id) or {}).get("percent")),
        "score": labels.number((subtotals.get(section.id) or {}).get("score"), 2),
        "max": labels.number((subtotals.get(section.id) or {}).get("max"), 2),
        "items": [items[item.id] for item in section.items],
    } for section in definition.sections]


def _explanation(score: dict, items: dict) -> dict:
    explanation = score.get("explanation", {})
    statuses = [row["status"] for row in items.values()]
    return {
        "earned": labels.number(explanation.get("earned"), 2),
        "bonus": labels.number(explanation.get("bonus"), 2),
        "possible": labels.number(explanation.get("possible"), 2),
        "must_be": labels.number(explanation.get("must_be_factor"), 2),
        "peak_end": labels.number(explanation.get("peak_end_factor"), 2),
        "scored": sum(s in ("met", "partial", "failed", "red_line") for s in statuses),
        "na": statuses.count("na"),
        "off": statuses.count("not_applicable"),
        "unanswered": statuses.count("unanswered"),
        "red": statuses.count("red_line"),
    }
