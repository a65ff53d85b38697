"""A visit → the plain dict its coaching report is rendered from (Jinja never sees the ORM)."""

from zoneinfo import ZoneInfo

from supervision.accounts.models import User
from supervision.checklists.definition import (
    FUNCTION_LABELS,
    FUNCTIONS,
    MOMENT_LABELS,
    MOMENTS,
    PEAK_END_MOMENTS,
)
from supervision.checklists.services import definition_of
from supervision.db import db
from supervision.followup.coaching import coached_gaps
from supervision.followup.models import Assignment
from supervision.reports import labels
from supervision.reports import moments as timers
from supervision.reports.charts import heat_color
from supervision.reports.figures import SCORED, group, shown, tally, total_parts
from supervision.reports.history import comparison, earlier_actions, visit_actions
from supervision.reports.items import change_rows, item_rows, photo_refs
from supervision.scoring import score_visit
from supervision.visits.changes import STORE_SIDE_KINDS, changes_of
from supervision.visits.models import Visit
from supervision.visits.snapshot import answers_of
from supervision.visits.timers import interval_seconds, moment_times

# Praise for at most this many items (the best moment and the visit notes come before them).
TOP = 3
KANO_RANK = {"delighter": 0, "performance": 1, "must_be": 2}
UNREVIEWED = ("draft", "submitted")
# Items of a peak or end moment listed on page one (problems first).
MOMENT_ITEMS = 5
MOMENT_ORDER = {"red_line": 0, "met": 2, "no_bonus": 3}  # other gaps 1, neutral ones last
# How the report names the signature PNG to its fetcher (photo:signature/signature).
SIGNATURE_ID = "signature"


def visit_context(visit: Visit, lang: str, audience: str) -> dict:
    """Everything the visit report shows, already in `lang`; the 'store' audience hides the
    mystery shopper."""
    definition = definition_of(visit.checklist_version)
    score = visit.score or score_visit(definition, answers_of(visit)).to_dict()  # a draft
    tz = ZoneInfo(visit.store.timezone)
    times = moment_times(visit, tz)
    order = {item.id: n for n, (_, item) in enumerate(definition.items())}
    photos = photo_refs(visit, tz, order)
    facts = {"tz": tz, "phase_times": timers.phase_times(times, definition),
             "intervals": interval_seconds(times, definition), "photos": photos}
    items = item_rows(definition, score, visit, lang, facts)
    changes = _changes(visit, definition, items, lang, audience, tz)
    timeline = timers.timeline(times, definition, lang)
    return {
        "kind": "visit",
        "lang": lang,
        "audience": audience,
        "visit": _header(visit, definition, tz, lang, audience, times),
        "store": store_dict(visit.store, lang),
        "score": _score_block(score, items, lang),
        "story": _story(visit, definition, items, timeline, times, lang),
        "peak_end": _peak_end(score, items, timeline, lang),
        # Items the collector marked "needs attention": the first of the findings.
        "flagged": [row for row in items.values() if row["flagged"]],
        "strengths": _strengths(visit, definition, items, lang),
        "red_lines_kept": _red_lines_kept(items),
        "gaps": [items[row["item"]] for row in coached_gaps(score) if row["item"] in items],
        "actions": visit_actions(visit, definition, lang),
        "signoff": signoff_block(visit.signoff, tz),
        "earlier_actions": earlier_actions(visit, definition, lang),
        "comparison": comparison(visit, score, lang),
        "changes": changes,
        "grid": _grid(score, lang),
        "timeline": timeline,
        "sections": _sections(definition, score, items, lang),
        "evidence": _overall_photos(definition, photos),
        "explanation": _explanation(score, items),
        "photos": photos,
    }


def _changes(visit: Visit, definition, items: dict, lang: str, audience: str, tz) -> list[dict]:
    """The change record (marking the changed items): the internal version has every change
    and who made it; the store version only the answers corrected on the store's queries."""
    if audience == "store":
        return change_rows(definition, changes_of(visit.id, STORE_SIDE_KINDS), items, lang, tz,
                           None)
    changes = changes_of(visit.id)
    names = {user_id: db.session.get(User, user_id).name
             for user_id in {c.by_id for c in changes if c.by_id is not None}}
    return change_rows(definition, changes, items, lang, tz, names)


def store_dict(store, lang: str) -> dict:
    region = store.region
    return {
        "id": store.id, "code": store.code,
        "name": store.name if labels.is_zh(lang) else (store.name_en or store.name),
        "name_zh": store.name,
        "region": region.name if labels.is_zh(lang) else (region.name_en or region.name),
        "address": store.address, "manager": store.manager_name,
    }


def signoff_block(signoff, tz: ZoneInfo) -> dict | None:
    """Who signed the visit off and when (in the store's time), their comment, and the
    signature PNG by content hash (fetched for the PDF through the report's own fetcher); no
    signature when the store manager acknowledged in their app."""
    if signoff is None:
        return None
    return {
        "name": signoff.name,
        "time": labels.minute(signoff.signed_at.astimezone(tz)),
        "comment": signoff.comment,
        "signature": {"id": SIGNATURE_ID, "hash": signoff.signature_hash}
        if signoff.signature_hash else None,
    }


def _header(visit: Visit, definition, tz: ZoneInfo, lang: str, audience: str, times) -> dict:
    mystery = visit.kind == "mystery"
    show_author = not mystery or audience == "internal"
    header = {
        "id": str(visit.id), "kind": visit.kind, "status": visit.status,
        "unreviewed": visit.status in UNREVIEWED,
        "started": labels.minute(visit.started_at.astimezone(tz)),
        "duration": labels.duration(_duration(visit, times), lang),
        "timed": bool(timers.timed_span(times)),
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


def _duration(visit: Visit, times) -> float | None:
    """The timed visit (first press to last) when the collector used the timers — the same
    figure as the timeline; otherwise the time the visit was open on the tablet."""
    span = timers.timed_span(times)
    if span:
        return span
    ended = visit.ended_at
    return (ended - visit.started_at).total_seconds() if ended and ended > visit.started_at \
        else None


def _score_block(score: dict, items: dict, lang: str) -> dict:
    explanation = score.get("explanation", {})
    possible = explanation.get("possible") or 0
    parts = total_parts(score)
    raw = min(100.0, (parts["base"] or 0) + parts["bonus_points"]) if possible else 100.0
    return {
        "total": labels.number(score["total"]),
        "value": score["total"],
        "grade": labels.pick(score["grade"]["label"], lang),
        "grade_id": score["grade"]["id"],
        "color": heat_color(score["total"]),
        "base": labels.number(parts["base"]),
        "bonus": labels.number(parts["bonus_points"]) if parts["bonus_points"] else None,
        "raw": labels.number(raw),
        "red_lines": [items[r["item"]] for r in score.get("red_lines", []) if r["item"] in items],
    }


def _story(visit, definition, items: dict, timeline, times, lang: str) -> dict | None:
    """A mystery visit's page-one story: the scenario, the shopper's narrative, the key
    durations (from the timers only)."""
    if visit.kind != "mystery":
        return None
    assignment = db.session.get(Assignment, visit.assignment_id) if visit.assignment_id else None
    impression = definition.item_for("impression")
    narrative = items[impression.id]["value"] if impression else None
    span = timers.timed_span(times)
    return {
        "scenario": assignment.scenario if assignment else None,
        "narrative": narrative if isinstance(narrative, str) and narrative.strip() else None,
        "durations": (timeline or {}).get("intervals", []),
        "span": labels.duration(span, lang) if span else None,
    }


def _peak_end(score: dict, items: dict, timeline, lang: str) -> list[dict]:
    """The dispute (the peak) and the departure (the end), when the visit had them: their
    figure, the pressed times, and what happened item by item, problems first."""
    figures = group(score.get("items", []), lambda r: r.get("moment"))
    blocks = []
    for moment in PEAK_END_MOMENTS:
        rows = [r for r in items.values() if r["moment_id"] == moment and r["status"] in SCORED
                and (r["status"] != "met" or r["praisable"])]  # a kept red line is no news
        entries = [e for e in (timeline or {}).get("entries", []) if e["phase_id"] == moment]
        if not rows and not entries:
            continue
        rows.sort(key=lambda r: (MOMENT_ORDER.get(r["status"], 1), -r["lost"], r["order"]))
        blocks.append({
            "moment": moment, "label": labels.pick(MOMENT_LABELS[moment], lang),
            "mark": timers.MARKS[moment], "figure": shown(figures.get(moment)),
            "entries": entries, "items": rows[:MOMENT_ITEMS],
            "more": max(0, len(rows) - MOMENT_ITEMS),
        })
    return blocks


def _strengths(visit, definition, items: dict, lang: str) -> list[dict]:
    """What a person can be praised for: the shopper's best moment and the visit notes first,
    then met items — never a red line or an inverse item — those with evidence first."""
    t = labels.translator(lang)
    found = []
    best = definition.item_for("best_moment")
    if best and isinstance(items[best.id]["value"], str) and items[best.id]["value"].strip():
        found.append({"kind": "quote", "title": t("best_moment"), "text": items[best.id]["value"],
                      "photos": items[best.id]["photos"]})
    if visit.notes and visit.notes.strip():
        role = "shopper" if visit.kind == "mystery" else "supervisor"
        found.append({"kind": "quote", "title": t("notes_" + role), "text": visit.notes,
                      "photos": []})
    met = [row for row in items.values() if row["praisable"]]
    met.sort(key=lambda r: (not r["evidence"], KANO_RANK.get(r["kano"], 3), not r["peak_end"],
                            -r["stake"], r["order"]))
    return found + [{"kind": "item", **row} for row in met[:TOP]]


def _red_lines_kept(items: dict) -> int:
    """How many red lines were checked and kept — 0 when any failed (the red box says it)."""
    rows = [r for r in items.values() if r["red_line"]]
    if any(r["status"] == "red_line" for r in rows):
        return 0
    return sum(r["status"] == "met" for r in rows)


def _grid(score: dict, lang: str) -> dict:
    rows = score.get("items", [])
    cells = group(rows, lambda r: (r.get("function"), r.get("moment")))
    used = [m for m in MOMENTS if any(m == moment for _, moment in cells)]
    return {
        "moments": [{"id": m, "label": labels.pick(MOMENT_LABELS[m], lang),
                     "peak_end": m in PEAK_END_MOMENTS} for m in used],
        "rows": [{
            "label": labels.pick(FUNCTION_LABELS[f], lang),
            "cells": [shown(cells.get((f, m))) for m in used],
        } for f in FUNCTIONS if any((f, m) in cells for m in used)],
    }


def _sections(definition, score: dict, items: dict, lang: str) -> list[dict]:
    figures = group(score.get("items", []), lambda r: r.get("section"))
    return [{
        "id": section.id,
        "title": labels.pick(section.title, lang),
        "figure": shown(figures.get(section.id)),
        "items": [items[item.id] for item in section.items],
    } for section in definition.sections]


def _overall_photos(definition, photos: list[dict]) -> list[dict]:
    """Photos of no item in particular (or of the overall impression): the evidence block."""
    impression = definition.item_for("impression")
    known = {item.id for _, item in definition.items()}
    return [p for p in photos if p["item"] is None or p["item"] not in known
            or (impression and p["item"] == impression.id)]


def _explanation(score: dict, items: dict) -> dict:
    explanation = score.get("explanation", {})
    statuses = [row["status"] for row in items.values()]
    parts = total_parts(score)
    overall = tally(score.get("items", []))
    return {
        "earned": labels.number(explanation.get("earned", overall["earned"]), 2),
        "bonus": labels.number(explanation.get("bonus", overall["bonus"]), 2),
        "possible": labels.number(explanation.get("possible", overall["possible"]), 2),
        "base": labels.number(parts["base"]),
        "bonus_points": labels.number(parts["bonus_points"]),
        "must_be": labels.number(explanation.get("must_be_factor"), 2),
        "peak_end": labels.number(explanation.get("peak_end_factor"), 2),
        "scored": sum(s in ("met", "partial", "failed", "red_line") for s in statuses),
        "no_bonus": statuses.count("no_bonus"),
        "na": statuses.count("na"),
        "off": statuses.count("not_applicable"),
        "unanswered": statuses.count("unanswered"),
        "red": statuses.count("red_line"),
    }
