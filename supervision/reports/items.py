"""One row per checklist item of a visit: the item as the store reads it, the answer, points,
facts (time, staff, note), photos. Collector guidance never enters a row."""

from datetime import datetime
from types import SimpleNamespace

from supervision.checklists.definition import FUNCTION_LABELS, MOMENT_LABELS, PEAK_END_MOMENTS
from supervision.reports import labels
from supervision.visits.timers import timer_mismatch, whole_minutes

# Photos whose display derivative exists (the report service processes received ones first).
SHOWN_PHOTO_STATUSES = ("processed",)
# An answer further than this from its timer (in minutes) is shown as contradicting it.


def photo_refs(visit, tz=None, order: dict[str | None, int] | None = None) -> list[dict]:
    """Every shown photo of the visit, numbered in the order of the items they belong to
    (overall photos last); the content hash makes a changed photo a changed report."""
    order = order or {}
    shown = [p for p in visit.photos if p.status in SHOWN_PHOTO_STATUSES and p.content_hash]
    shown.sort(key=lambda p: (order.get(p.item_id, len(order)), p.taken_at or p.announced_at,
                              str(p.id)))
    return [
        {"id": str(photo.id), "hash": photo.content_hash, "item": photo.item_id,
         "visit": str(visit.id), "n": n,
         "taken": photo.taken_at.astimezone(tz).strftime("%H:%M")
         if tz and photo.taken_at else None}
        for n, photo in enumerate(shown, 1)
    ]


def item_rows(definition, score: dict, visit, lang: str, facts: dict) -> dict:
    """item id → row, in document order (`order`). `facts`: tz, phase_times (key moment →
    'HH:MM:SS'), intervals (interval id → seconds), photos (photo_refs)."""
    scored = {row["item"]: row for row in score.get("items", [])}
    responses = {r.item_id: r for r in visit.responses}
    photos: dict[str | None, list[dict]] = {}
    for ref in facts["photos"]:
        photos.setdefault(ref["item"], []).append(ref)
    rows = {}
    for order, (section, item) in enumerate(definition.items()):
        response = responses.get(item.id)
        row = _row(order, section, item, scored.get(item.id), response, lang)
        row["photos"] = photos.get(item.id, [])
        row["time"] = _time(response, facts) or facts["phase_times"].get(item.moment)
        row["evidence"] = bool(row["photos"] or row["note"] or row["staff"])
        if item.interval and item.interval in facts["intervals"]:
            _timer(row, item, response, facts["intervals"][item.interval], lang)
        rows[item.id] = row
    return rows


def _row(order, section, item, scored, response, lang) -> dict:
    scored = scored or {"status": "unanswered", "earned": 0.0, "possible": 0.0, "bonus": 0.0}
    possible, earned, bonus = scored["possible"], scored["earned"], scored["bonus"]
    status = _status(item, scored)
    return {
        "id": item.id,
        "order": order,
        "text": labels.pick(item.report_text or item.text, lang),
        "section": labels.pick(section.title, lang),
        "function": labels.pick(FUNCTION_LABELS[item.function], lang),
        "moment": labels.pick(MOMENT_LABELS[item.moment], lang),
        "moment_id": item.moment,
        "kano": item.kano,
        "red_line": item.red_line,
        "role": item.role,
        "status": status,
        "answer": answer_text(item, response, lang),
        "value": response.value if response and not response.na else None,
        "free_text": item.type == "text",
        "note": response.note if response else None,
        "staff": response.staff if response else None,
        "flagged": bool(response and response.flagged),
        "points": _points(item, status, scored),
        "standard": labels.pick(item.standard, lang),
        "question": labels.pick(item.coaching_question, lang),
        "script": labels.pick(item.script, lang),
        "stake": possible + bonus,
        "lost": max(0.0, possible - earned),
        "peak_end": item.moment in PEAK_END_MOMENTS,
        # Praise is for what a person did: not for an item met by not doing something wrong.
        "praisable": status == "met" and not item.red_line and not item.inverse
        and item.type != "text" and possible + bonus > 0,
        "timer": None,
        "changes": [],  # after submission (change_rows): what, when, who and why
    }


def _status(item, scored: dict) -> str:
    """A delighter that did not fully add is neutral ('no bonus'), never 'not met'."""
    if item.kano == "delighter" and scored["status"] in ("failed", "partial", "no_bonus"):
        return "no_bonus"
    return scored["status"]


def _time(response, facts) -> str | None:
    at = response.at if response is not None else None
    return at.astimezone(facts["tz"]).strftime("%H:%M") if at else None


def _timer(row: dict, item, response, seconds: float, lang: str) -> None:
    """A number item stating an interval's duration: the timer is the truth. The answer shows
    the timer, and the recorded number beside it when the two disagree."""
    row["timer"] = labels.duration(seconds, lang)
    recorded = row["value"]
    t = labels.translator(lang)
    row["answer"] = t("timer_value", value=row["timer"])
    if isinstance(recorded, int | float) and timer_mismatch(recorded, whole_minutes(seconds)):
        row["answer"] += " · " + t("timer_conflict", recorded=answer_text(item, response, lang))


def _points(item, status: str, scored: dict) -> str:
    if status in ("na", "not_applicable", "unscored"):
        return ""
    if item.kano == "delighter":
        return f"+{labels.number(scored['bonus'], 2)}"
    return f"{labels.number(scored['earned'], 2)} / {labels.number(scored['possible'], 2)}"


def change_rows(definition, changes, rows: dict, lang: str, tz, names: dict | None) -> list[dict]:
    """The visit's change record as the report lists it, oldest first: kind, time, who (names:
    user id → name; None in the store version, which does not say who), why, what changed
    (old → new) and the totals. Each changed item's row gets its part in row["changes"]."""
    t = labels.translator(lang)
    record = []
    for change in changes:
        entry = {"kind": change.kind, "label": t("change_" + change.kind),
                 "time": labels.minute(change.at.astimezone(tz)),
                 "by": names.get(change.by_id) if names is not None else None,
                 "reason": change.reason,
                 "total_before": labels.number(change.total_before),
                 "total_after": labels.number(change.total_after),
                 "lines": _change_lines(definition, change.changes, rows, lang, tz)}
        record.append(entry)
        for line in entry["lines"]:
            if line["item"] in rows:
                rows[line["item"]]["changes"].append({**entry, "diff": line["diff"]})
    return record


def _change_lines(definition, changed: list[dict], rows: dict, lang: str, tz) -> list[dict]:
    """[{item, text, diff}]: one line per checklist item (its answer, photos, note…), then a
    line per moment, then the visit notes."""
    t = labels.translator(lang)
    by_item: dict[str, list[dict]] = {}
    for row in changed:
        by_item.setdefault(row["field"] if row["item"] == "photo" else row["item"], []).append(row)
    lines = [{"item": item_id, "text": rows[item_id]["text"],
              "diff": " · ".join(_item_diff(definition.item(item_id), fields, rows[item_id], t,
                                            lang))}
             for item_id, fields in by_item.items() if item_id in rows]
    moments = {m.id: labels.pick(m.title, lang) for m in definition.moments}
    for row in by_item.get("moment", []):
        lines.append({"item": "moment",
                      "text": f"{t('moment_changed')} · {moments.get(row['field'], row['field'])}",
                      "diff": f"{_clock(row['old'], tz)} → {_clock(row['new'], tz)}"})
    if "notes" in by_item:
        lines.append({"item": "notes", "text": t("visit_notes_changed"), "diff": t("changed")})
    return lines


def _item_diff(item, fields: list[dict], row: dict, t, lang: str) -> list[str]:
    """What changed of one item's answer, as the reader says it (Yes → No, photos 1 → 2)."""
    by_field = {f["item"] if f["item"] == "photo" else f["field"]: f for f in fields}
    parts = []
    if "value" in by_field or "na" in by_field:
        sides = []
        for side in ("old", "new"):
            value = by_field["value"][side] if "value" in by_field else row["value"]
            na = by_field["na"][side] if "na" in by_field else False
            sides.append(answer_text(item, SimpleNamespace(value=value, na=bool(na)), lang))
        parts.append(" → ".join(sides))
    if "photo" in by_field:
        old, new = by_field["photo"]["old"] or [], by_field["photo"]["new"] or []
        parts.append(t("photos_changed", old=len(old), new=len(new)))
    if "staff" in by_field:
        staff = by_field["staff"]
        parts.append(t("staff_changed", old=staff["old"] or "–", new=staff["new"] or "–"))
    if "note" in by_field:
        parts.append(t("note_changed"))
    if "flagged" in by_field:
        parts.append(t("flag_changed"))
    return parts


def _clock(at: str | None, tz) -> str:
    return datetime.fromisoformat(at).astimezone(tz).strftime("%H:%M:%S") if at else "–"


def answer_text(item, response, lang: str) -> str:
    """The answer as a reader says it: 是/Yes, 4/5 通常/usually, 12 分钟, the option's label."""
    t = labels.translator(lang)
    if response is None:
        return t("unanswered")
    if response.na:
        return t("na")
    value = response.value
    if item.type == "yes_no" and isinstance(value, bool):
        return t("yes") if value else t("no")
    if item.type == "scale" and value in labels.FREQUENCY:
        word = labels.FREQUENCY[value][0 if labels.is_zh(lang) else 1]
        return f"{value}/5 · {word}"
    if item.type == "number" and isinstance(value, int | float):
        unit = labels.pick(item.unit, lang) or ""
        return f"{labels.number(value, 2)} {unit}".strip()
    if item.type == "choice":
        option = next((o for o in item.options if o.id == value), None)
        return labels.pick(option.label, lang) if option else str(value)
    return "" if value is None else str(value)
