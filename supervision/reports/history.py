"""What the visit report sets the visit beside: its actions as they really stand, the actions of
earlier visits (checked at this one), the previous comparable visit and the region's average."""

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

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
# With the owner and the photos of the fix each action shows.
LOADED = (selectinload(Action.owner_staff), selectinload(Action.evidence))
# Agreed actions: a proposal nobody confirmed, or a dismissed one, is not followed up.
AGREED = ("agreed", "reopened", "done", "verified")
EARLIER_SHOWN = 8


def visit_actions(visit, definition, lang: str) -> list[dict]:
    """The action plan of this visit: proposals still to confirm first, then the agreed actions
    as they stand, and last the proposals dismissed (with their reason)."""
    actions = db.session.scalars(
        select(Action).where(Action.visit_id == visit.id).options(*LOADED)
        .order_by(Action.status == "dismissed", Action.status != "proposed", Action.due_date,
                  Action.id)).all()
    return [_action(a, definition, lang) for a in actions]


def earlier_actions(visit, definition, lang: str) -> list[dict]:
    """Actions agreed before this visit for the same store, as they stand now: those still
    open (overdue first), and those done or verified since the store's previous visit."""
    since = _previous_start(visit)
    actions = db.session.scalars(
        select(Action).outerjoin(Visit, Action.visit_id == Visit.id).options(*LOADED).where(
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
    """An action as the store reads it: the owner from the roster (a proposal has none until it
    is agreed), what was said when it was dismissed, done or sent back."""
    title, item = action.title_in(lang), _item_text(definition, action.item_id, lang)
    return {
        "title": title,
        "item": None if _repeats(title, item) else item,
        "question": action.question_in(lang),
        **_owner(action, lang),
        "due": labels.day(action.due_date),
        "done": labels.day(action.verified_at or action.done_at),
        "status": action.status, "overdue": action.overdue,
        "said": _said(action),
        "photos": sum(e.status != "corrupt" for e in action.evidence),
    }


def _repeats(title: str, item: str | None) -> bool:
    """Whether a title made from the item ("确保…", "Make sure …") already says it."""
    return bool(item) and item.rstrip("。.").lower() in title.lower()


def _owner(action: Action, lang: str) -> dict:
    if action.status in ("proposed", "dismissed"):
        return {"owner": None, "owner_detail": []}
    staff = action.owner_staff
    if staff is None:
        return {"owner": action.owner, "owner_detail": []}
    badge = labels.translator(lang)("badge_no", badge=staff.badge) if staff.badge else None
    return {"owner": staff.name, "owner_detail": [part for part in (badge, staff.position) if part]}


def _said(action: Action) -> dict | None:
    """(label key, text) of the words that explain the action's state, if any."""
    key, text = {
        "dismissed": ("dismiss_reason", action.dismiss_reason),
        "reopened": ("reject_reason", action.decision_comment),
        "done": ("fix_note", action.done_note),
        "verified": ("fix_note", action.done_note),
    }.get(action.status, (None, None))
    return {"key": key, "text": text} if text else None


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
                                       Visit.excluded.is_(None),
                                       Visit.started_at < visit.started_at)
        .order_by(Visit.started_at.desc()).limit(1))


def _comparable(visit, *columns):
    """Published visits of the same checklist (any version) that started before this one."""
    return (select(*(columns or (Visit,)))
            .join(ChecklistVersion, Visit.checklist_version_id == ChecklistVersion.id)
            .where(ChecklistVersion.checklist_id == visit.checklist_version.checklist_id,
                   Visit.status == "published", Visit.excluded.is_(None),
                   Visit.started_at < visit.started_at,
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
