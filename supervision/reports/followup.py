"""The report of a follow-up visit: the items the earlier visit failed, before and after side by
side with their photos, and the earlier visit's actions on them — put right (verified by this
visit) or not yet. No names: the store version never learns who made either visit."""

from zoneinfo import ZoneInfo

from sqlalchemy import select

from supervision.checklists.services import definition_of
from supervision.db import db
from supervision.followup.models import Action
from supervision.plans.models import DueVisit
from supervision.reports import labels
from supervision.reports.items import answer_text, photo_refs
from supervision.visits.models import Visit

WORDS = {
    "title": ("复访对比：{date} 到访中未达标的项",
              "Follow-up: the items that fell short on {date}"),
    "intro": ("本次为 {date} 那次到访的复访（限 {until} 前完成），逐项对比当时与现在。",
              "This visit follows up the visit of {date} (due by {until}): each item that fell "
              "short then, as it was and as it is now."),
    "summary": ("{improved} 项已改进，{still} 项仍未达标。",
                "{improved} improved, {still} still short."),
    "item": ("检查项", "Item"),
    "before": ("当时", "Then"),
    "after": ("本次", "Now"),
    "improved": ("已改进", "Improved"),
    "still": ("仍未达标", "Still short"),
    "not_checked": ("本次未检查", "Not checked this time"),
    "ask": ("辅导提问", "Coaching question"),
    "actions": ("当时商定的整改", "The actions agreed then"),
    "verified": ("已由本次确认整改到位", "Shown fixed at this visit"),
    "open": ("尚未确认整改到位", "Not yet shown fixed"),
    "due": ("期限", "due"),
}
STATUS = {"met": ("达标", "met"), "partial": ("部分达标", "partly met"),
          "failed": ("未达标", "not met"), "red_line": ("触碰红线", "red line"),
          "na": ("不适用", "N/A"), "unanswered": ("未答", "not answered"),
          "no_bonus": ("未加分", "no bonus")}
FIXED = ("met", "no_bonus", "na")


def followup_block(visit: Visit, lang: str) -> dict | None:
    """The follow-up comparison for a visit that fulfilled a follow-up due visit, else None;
    `photos` lists the earlier visit's photos it shows (the report may fetch them)."""
    due = db.session.scalars(select(DueVisit).where(
        DueVisit.visit_id == visit.id, DueVisit.kind == "followup")).first()
    if due is None or due.source_visit is None:
        return None
    source, zh = due.source_visit, labels.is_zh(lang)
    said = {key: pair[0 if zh else 1] for key, pair in WORDS.items()}
    tz = ZoneInfo(visit.store.timezone)
    definition = definition_of(visit.checklist_version)
    then_photos, now_photos = photo_refs(source, tz), photo_refs(visit, tz)
    sides = [_side(source, then_photos), _side(visit, now_photos)]
    rows = []
    for item_id in due.items or []:
        try:
            item = definition.item(item_id)
        except KeyError:
            continue
        before, after = (_state(side, item, lang, zh) for side in sides)
        improved = after["status"] in FIXED
        rows.append({"text": labels.pick(_text(item.report_text or item.text), lang),
                     "before": before, "after": after, "improved": improved,
                     "checked": after["status"] is not None,
                     "question": labels.pick(_text(item.coaching_question), lang)
                     if not improved else None})
    improved = sum(row["improved"] for row in rows)
    when = labels.day(source.started_at.astimezone(tz))
    return {
        "words": said,
        "title": said["title"].format(date=when),
        "intro": said["intro"].format(date=when, until=labels.day(due.due_until)),
        "summary": said["summary"].format(improved=improved, still=len(rows) - improved),
        "rows": rows,
        "actions": _actions(source, visit, due.items or [], definition, said, lang),
        "photos": [ref for row in rows for ref in row["before"]["photos"]],
    }


def _side(visit: Visit, photos: list[dict]) -> dict:
    by_item: dict[str, list[dict]] = {}
    for ref in photos:
        by_item.setdefault(ref["item"], []).append(ref)
    return {"score": {row["item"]: row for row in (visit.score or {}).get("items", [])},
            "responses": {r.item_id: r for r in visit.responses}, "photos": by_item}


def _state(side: dict, item, lang: str, zh: bool) -> dict:
    row = side["score"].get(item.id)
    status = row["status"] if row else None
    response = side["responses"].get(item.id)
    return {"status": status,
            "label": STATUS.get(status, ("–", "–"))[0 if zh else 1] if status else None,
            "answer": answer_text(item, response, lang) if response is not None else None,
            "note": response.note if response is not None else None,
            "photos": side["photos"].get(item.id, [])[:1]}


def _text(text):
    return {"zh": text.zh, "en": text.en} if text is not None else None


def _actions(source: Visit, visit: Visit, items: list[str], definition, said: dict,
             lang: str) -> list[dict]:
    actions = db.session.scalars(select(Action).where(
        Action.visit_id == source.id, Action.item_id.in_(items),
        Action.status != "dismissed").order_by(Action.id)).all()
    rows = []
    for action in actions:
        texts = action.texts or {}
        title = labels.pick(texts.get("title"), lang) or action.title
        fixed = action.status == "verified" and action.verified_visit_id == visit.id
        rows.append({"title": title, "fixed": fixed,
                     "state": said["verified"] if fixed else said["open"],
                     "due": labels.day(action.due_date) if action.due_date else None})
    return rows
