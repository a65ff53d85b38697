"""Proposed actions: one per coached gap of a published visit, worded in both languages, due
as field practice says, waiting for the store manager and the supervisor to agree them."""

from datetime import datetime

from sqlalchemy import delete, select

from supervision.audit.services import record
from supervision.checklists.definition import ChecklistDefinition, Item, Text
from supervision.db import db
from supervision.followup.coaching import coached_gaps
from supervision.followup.duedates import action_due
from supervision.followup.models import Action
from supervision.visits.models import Visit

UNFINISHED = ("proposed", "agreed", "reopened")


def propose_actions(visit: Visit, definition: ChecklistDefinition, score: dict) -> list[Action]:
    """One proposed action per coached gap (the gaps the report turns into questions), unless
    the store already has an unfinished action for that item. Replaces the visit's own earlier
    proposals."""
    withdraw_proposals(visit)
    return [propose_action(visit, definition.item(row["item"]), gap_kind(row, definition))
            for row in coached_gaps(score) if not unfinished_exists(visit.store_id, row["item"])]


def gap_kind(row: dict, definition: ChecklistDefinition) -> str:
    """red_line, must_be or other: what sets how soon the gap is to be put right."""
    if row["status"] == "red_line":
        return "red_line"
    return "must_be" if definition.item(row["item"]).kano == "must_be" else "other"


def propose_action(visit: Visit, item: Item, kind: str) -> Action:
    """A proposal to confirm with the store: owner the store manager, due as practice says."""
    texts = action_texts(item)
    action = Action(
        store_id=visit.store_id, visit_id=visit.id, item_id=item.id, status="proposed",
        title=texts["title"]["zh"], coaching_question=texts.get("question", {}).get("zh"),
        texts=texts, owner=visit.store.manager_name,
        due_date=action_due(kind, learned_at(visit), visit.store.timezone),
    )
    db.session.add(action)
    db.session.flush()
    record(None, "propose", "action", action.id, visit_id=str(visit.id), item=item.id,
           kind=kind, due_date=action.due_date.isoformat())
    return action


def learned_at(visit: Visit) -> datetime:
    """When the store learned of the visit's gaps, which starts the time to put them right: at
    an audit itself (the supervisor coaches on the spot), at publication for a mystery visit
    (nothing of it reached the store before)."""
    if visit.kind == "mystery" and visit.published_at is not None:
        return visit.published_at
    return visit.started_at


def withdraw_proposals(visit: Visit) -> None:
    """Drop the unconfirmed proposals of a visit, so that following it up again (the hook run
    twice) proposes each action once."""
    ids = db.session.scalars(select(Action.id).where(
        Action.visit_id == visit.id, Action.status == "proposed")).all()
    if ids:
        db.session.execute(delete(Action).where(Action.id.in_(ids)))
    for action_id in ids:
        record(None, "withdraw", "action", action_id, visit_id=str(visit.id))


def unfinished_exists(store_id: int, item_id: str) -> bool:
    return db.session.scalar(select(Action.id).where(
        Action.store_id == store_id, Action.item_id == item_id,
        Action.status.in_(UNFINISHED)).limit(1)) is not None


def action_texts(item: Item) -> dict:
    """The proposal's title and coaching question in both languages (Action.texts)."""
    texts = {"title": action_title(item)}
    if item.coaching_question is not None:
        texts["question"] = _pair(item.coaching_question)
    return texts


def action_title(item: Item) -> dict:
    """The item as the store reads it, turned into what to do: a bad behaviour (an inverse
    item) is to stop, a measure to lower or raise, any other standard to make sure of."""
    text = item.report_text or item.text
    if item.inverse:
        zh, en = "杜绝", "Stop: "
    elif item.type == "number" and item.thresholds is not None:
        zh, en = ("减少", "Reduce ") if item.thresholds.better == "lower" else ("提高", "Raise ")
    else:
        zh, en = "确保", "Make sure "
    return {"zh": zh + text.zh, "en": en + _lower_first(text.en)}


def _lower_first(text: str) -> str:
    """'Every staff member…' → 'every staff member…', leaving 'ID card…' as it is."""
    first = text.split(" ", 1)[0]
    return text if first.isupper() and len(first) > 1 else text[:1].lower() + text[1:]


def _pair(text: Text) -> dict:
    return {"zh": text.zh, "en": text.en}
