"""What the visit report sets the visit beside: its actions as they really stand, the actions of
earlier visits (checked at this one), the previous comparable visit and the region's average."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select

from supervision.checklists.definition import FUNCTION_LABELS, FUNCTIONS
from supervision.checklists.models import ChecklistVersion
from supervision.db import db
from supervision.followup.models import ACTION_PENDING, Action
from supervision.reports import labels
from supervision.reports.figures import function_percents, stored_function_percents
from supervision.stores.models import Store
from supervision.visits.models import Visit

# The region average covers the published visits of this many days before the visit.
REGION_DAYS = 90
# Agreed actions: a proposal nobody confirmed, or a dismissed one, is not followed up.
AGREED = ("agreed", "reopened", "done", "verified")
EARLIER_SHOWN = 8


def visit_actions(visit, definition, lang: str) -> list[dict]:
    """The actions raised at this visit, proposals included (shown as 'to confirm')."""
    actions = db.session.scalars(
        select(Action).where(Action.visit_id == visit.id, Action.status != "dismissed")
        .order_by(Action.status != "proposed", Action.due_date, Action.id)).all()
    return [_action(a, definition, lang) for a in actions]


def earlier_actions(visit, definition, lang: str) -> list[dict]:
    """Actions agreed before this visit for the same store, as they stand now: those still
    open (overdue first), and those done or verified since the store's previous visit."""
    since = _previous_start(visit)
    actions = db.session.scalars(
        select(Action).outerjoin(Visit, Action.visit_id == Visit.id).where(
            Action.store_id == visit.store_id, Action.status.in_(AGREED),
            Action.created_at < visit.started_at,
            or_(Action.visit_id.is_(None), Visit.status == "published"),
            or_(Action.visit_id.is_(None), Action.visit_id != visit.id))
        .order_by(Action.due_date, Action.id)).all()
    kept = [a for a in actions if a.status in ACTION_PENDING or since is None
            or (a.verified_at or a.done_at or a.created_at) >= since
            or a.verified_visit_id == visit.id]
    kept.sort(key=lambda a: (not a.overdue, a.status not in ACTION_PENDING, a.due_date is None))
    return [_action(a, definition, lang) for a in kept[:EARLIER_SHOWN]]


def _action(action: Action, definition, lang: str) -> dict:
    return {
        "title": action.title_in(lang),
        "item": _item_text(definition, action.item_id, lang),
        "question": action.question_in(lang),
        "owner": action.owner,
        "due": labels.day(action.due_date),
        "done": labels.day(action.verified_at or action.done_at),
        "status": "overdue" if action.overdue else action.status,
    }


def _item_text(definition, item_id: str | None, lang: str) -> str | None:
    try:
        item = definition.item(item_id) if item_id else None
    except KeyError:
        return None
    return labels.pick(item.report_text or item.text, lang) if item else None


def _previous_start(visit):
    return db.session.scalar(
        select(Visit.started_at).where(Visit.store_id == visit.store_id,
                                       Visit.status == "published",
                                       Visit.started_at < visit.started_at)
        .order_by(Visit.started_at.desc()).limit(1))


def _comparable(visit, *columns):
    """Published visits of the same checklist (any version) that started before this one."""
    return (select(*(columns or (Visit,)))
            .join(ChecklistVersion, Visit.checklist_version_id == ChecklistVersion.id)
            .where(ChecklistVersion.checklist_id == visit.checklist_version.checklist_id,
                   Visit.status == "published", Visit.started_at < visit.started_at,
                   Visit.id != visit.id, Visit.score.is_not(None)))


def comparison(visit, score: dict, lang: str) -> dict:
    """This visit against the previous comparable visit of the store and the region's average
    of the last REGION_DAYS days (same checklist, published, this visit left out), in total
    and per function, with the number of visits behind each figure."""
    previous = db.session.scalars(_comparable(visit).where(Visit.store_id == visit.store_id)
                                  .order_by(Visit.started_at.desc()).limit(1)).first()
    region = db.session.execute(
        _comparable(visit, Visit.total, Visit.score["functions"].label("functions"))
        .join(Store, Visit.store_id == Store.id)
        .where(Store.region_id == visit.store.region_id,
               Visit.started_at >= visit.started_at - timedelta(days=REGION_DAYS))).all()
    mine = {"total": score["total"], **function_percents(score)}
    before = {"total": previous.total, **function_percents(previous.score)} if previous else {}
    others = [{"total": v.total, **stored_function_percents(v.functions)} for v in region]
    keys = ["total", *[f for f in FUNCTIONS if f in mine]]
    rows = [_compare_row(key, mine, before, others, lang) for key in keys]
    return {
        "previous": labels.day(previous.started_at.astimezone(ZoneInfo(visit.store.timezone)))
        if previous else None,
        "region_n": len(others), "days": REGION_DAYS, "rows": rows, "total": rows[0],
    }


def _compare_row(key: str, mine: dict, before: dict, others: list[dict], lang: str) -> dict:
    value = mine.get(key)
    last = before.get(key)
    found = [o[key] for o in others if o.get(key) is not None]
    average = sum(found) / len(found) if found else None
    return {
        "label": labels.translator(lang)("total_score") if key == "total"
        else labels.pick(FUNCTION_LABELS[key], lang),
        "value": labels.number(value), "previous": labels.number(last),
        "delta_previous": _delta(value, last), "region": labels.number(average),
        "delta_region": _delta(value, average), "n": len(found),
    }


def _delta(value: float | None, other: float | None) -> dict | None:
    if value is None or other is None:
        return None
    diff = round(value - other, 1)
    return {"text": f"{diff:+.1f}".replace("+0.0", "±0").replace("-0.0", "±0"),
            "direction": "up" if diff > 0 else "down" if diff < 0 else "flat"}
