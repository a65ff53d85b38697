"""One row per checklist item of a visit: the answer as people read it, points, facts, photos."""

from supervision.checklists.definition import FUNCTION_LABELS, MOMENT_LABELS, PEAK_END_MOMENTS
from supervision.reports import labels

# Photos whose display derivative exists (the report service processes received ones first).
SHOWN_PHOTO_STATUSES = ("processed",)


def photo_refs(visit) -> list[dict]:
    """Every shown photo of the visit; its content hash makes a changed photo a changed report."""
    return [
        {"id": str(photo.id), "hash": photo.content_hash, "item": photo.item_id,
         "visit": str(visit.id)}
        for photo in visit.photos
        if photo.status in SHOWN_PHOTO_STATUSES and photo.content_hash
    ]


def item_rows(definition, score: dict, visit, lang: str, phase_times: dict[str, str]) -> dict:
    """item id → row, in document order (`order`)."""
    scored = {row["item"]: row for row in score.get("items", [])}
    responses = {r.item_id: r for r in visit.responses}
    photos: dict[str | None, list[dict]] = {}
    for ref in photo_refs(visit):
        photos.setdefault(ref["item"], []).append(ref)
    rows = {}
    for order, (section, item) in enumerate(definition.items()):
        rows[item.id] = _row(order, section, item, scored.get(item.id), responses.get(item.id),
                             photos.get(item.id, []), lang, phase_times.get(item.moment))
    return rows


def _row(order, section, item, scored, response, photos, lang, time) -> dict:
    scored = scored or {"status": "unanswered", "earned": 0.0, "possible": 0.0, "bonus": 0.0}
    possible, earned, bonus = scored["possible"], scored["earned"], scored["bonus"]
    note = response.note if response else None
    staff = response.staff if response else None
    return {
        "id": item.id,
        "order": order,
        "text": labels.pick(item.text, lang),
        "section": labels.pick(section.title, lang),
        "function": labels.pick(FUNCTION_LABELS[item.function], lang),
        "moment": labels.pick(MOMENT_LABELS[item.moment], lang),
        "kano": item.kano,
        "red_line": item.red_line,
        "status": scored["status"],
        "answer": answer_text(item, response, lang),
        "free_text": item.type == "text",
        "note": note,
        "staff": staff,
        "time": time,
        "points": _points(scored),
        "photos": photos,
        "guidance": labels.pick(item.guidance, lang) or labels.pick(item.text, lang),
        "question": labels.pick(item.coaching_question, lang),
        "script": labels.pick(item.script, lang),
        "stake": possible + bonus,
        "lost": max(0.0, possible - earned),
        "peak_end": item.moment in PEAK_END_MOMENTS,
        "evidence": bool(photos or note or staff),
    }


def _points(scored: dict) -> str:
    if scored["status"] in ("na", "not_applicable", "unscored"):
        return ""
    if scored["bonus"]:
        return f"+{labels.number(scored['bonus'], 2)}"
    return f"{labels.number(scored['earned'], 2)} / {labels.number(scored['possible'], 2)}"


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
