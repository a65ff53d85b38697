"""What store and region reports share: the published visits of a period, item failures,
actions and disputes, reduced to plain rows."""

import gc
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from supervision.checklists.definition import FUNCTIONS
from supervision.checklists.models import ChecklistVersion
from supervision.checklists.services import definition_of
from supervision.db import db
from supervision.followup.duedates import is_overdue_date
from supervision.followup.models import ACTION_PENDING, QUERY_STATUSES, Action, Dispute, Query
from supervision.localtime import day_begins, day_ends
from supervision.plans.coverage import coverage
from supervision.reports import labels
from supervision.scoring.rules import FULL_MARKS, LOST_CEILING
from supervision.visits.models import Visit

# A proposal is not an agreement: it is listed apart, never open and never overdue.
OPEN_ACTIONS = ACTION_PENDING
# Done by the store, waiting for the supervisor's or the manager's approval.
TO_APPROVE = ("done",)
DAY_SECONDS = 86400
DEFAULT_DAYS = 90
LIST_LIMIT = 12
# An average of fewer visits than this is shown with its n, and its store is not ranked.
SMALL_N = 3


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    tz: str

    @property
    def begins(self) -> datetime:
        return day_begins(self.start, self.tz)

    @property
    def ends(self) -> datetime:
        """The first instant after the period (the end day is included)."""
        return day_ends(self.end, self.tz)

    def as_dict(self) -> dict:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def period_of(start: date | None, end: date | None, tz: str, today: date) -> Period:
    """The period asked for; by default the 90 days up to today."""
    end = end or today
    return Period(start or end - timedelta(days=DEFAULT_DAYS - 1), end, tz)


@contextmanager
def many_objects():
    """Python's cyclic collector rescans every row made so far, again and again, while tens of
    thousands are read: 4× the time of the read itself. The rows hold no cycles."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def visit_rows(store_ids: list[int], period: Period) -> list[dict]:
    """Published visits of the stores in the period, oldest first, as plain rows."""
    if not store_ids:
        return []
    with many_objects():
        return _visit_rows(store_ids, period)


def _visit_rows(store_ids: list[int], period: Period) -> list[dict]:
    found = db.session.execute(
        select(Visit.id, Visit.store_id, Visit.kind, Visit.started_at, Visit.total,
               Visit.score_digest,
               Visit.checklist_version_id, ChecklistVersion.checklist_id)
        .join(ChecklistVersion, Visit.checklist_version_id == ChecklistVersion.id)
        .where(Visit.store_id.in_(store_ids), Visit.status == "published",
               Visit.excluded.is_(None),  # a re-shop pending, a calibration rating
               Visit.started_at >= period.begins, Visit.started_at < period.ends,
               Visit.total.is_not(None))
        .order_by(Visit.started_at, Visit.id)
    ).all()
    zone = ZoneInfo(period.tz)
    return [_visit_row(row, row.score_digest or {}, zone) for row in found]


def _visit_row(row, digest: dict, zone: ZoneInfo) -> dict:
    return {
        "id": str(row.id), "store_id": row.store_id, "kind": row.kind,
        "date": row.started_at.astimezone(zone).date(), "total": row.total,
        "functions": digest.get("functions", {}), "moments": digest.get("moments", {}),
        "grid": {(f, m): percent for f, m, percent in digest.get("grid", ())},
        "scored": digest.get("scored", []),
        # (item, function, moment) of each item not met
        "missed": digest.get("missed", []),
        "red_lines": digest.get("red_lines", []), "grade": digest.get("grade"),
        "version_id": row.checklist_version_id, "checklist_id": row.checklist_id,
    }


def total_rows(store_ids: list[int], checklist_id: int, period: Period) -> list[dict]:
    """What visit_rows gives of the published visits of one checklist, only their totals and
    moments: the period before a dashboard's, compared (the scores' JSON is not read whole)."""
    if not store_ids:
        return []
    found = db.session.execute(
        select(Visit.store_id, Visit.total, Visit.score["moments"].label("moments"))
        .join(ChecklistVersion, Visit.checklist_version_id == ChecklistVersion.id)
        .where(Visit.store_id.in_(store_ids), Visit.status == "published",
               Visit.excluded.is_(None), ChecklistVersion.checklist_id == checklist_id,
               Visit.started_at >= period.begins, Visit.started_at < period.ends,
               Visit.total.is_not(None))
        .order_by(Visit.started_at, Visit.id)).all()
    return [{"store_id": row.store_id, "total": row.total,
             "moments": {m["id"]: m["percent"] for m in row.moments or ()}} for row in found]


def by_checklist(visits: list[dict], lang: str) -> list[dict]:
    """The visits split by checklist (all versions of one checklist together): an average never
    mixes checklists. Most visited first; each with its title from its newest version."""
    groups: dict[int, list[dict]] = defaultdict(list)
    for visit in visits:
        groups[visit["checklist_id"]].append(visit)
    newest = {checklist: max(v["version_id"] for v in rows) for checklist, rows in groups.items()}
    versions = {v.id: v for v in db.session.scalars(
        select(ChecklistVersion).where(ChecklistVersion.id.in_(newest.values())))}
    found = [{"id": checklist, "title": labels.pick(definition_of(versions[newest[checklist]])
                                                     .title, lang), "visits": rows}
             for checklist, rows in groups.items()]
    return sorted(found, key=lambda c: (-len(c["visits"]), c["title"]))


def by_store(visits: list[dict]) -> dict[int, list[dict]]:
    """The visits of each store, in their order."""
    found = defaultdict(list)
    for visit in visits:
        found[visit["store_id"]].append(visit)
    return found


def average(values) -> float | None:
    """The mean to one decimal; visits that lost a point never average a perfect 100."""
    values = [v for v in values if v is not None]
    if not values:
        return None
    mean = round(sum(values) / len(values), 1)
    return min(mean, LOST_CEILING) if min(values) < FULL_MARKS else mean


def function_averages(visits: list[dict]) -> dict[str, float | None]:
    return {f: average(v["functions"].get(f) for v in visits) for f in FUNCTIONS}


def item_texts(visits: list[dict], lang: str) -> dict[tuple[int, str], str]:
    """(checklist id, item id) → the item as the store reads it, from the definitions the
    visits were scored against (newest version wins). Checklists share item ids, so the
    checklist is part of the key."""
    version_ids = sorted({v["version_id"] for v in visits})
    versions = db.session.scalars(
        select(ChecklistVersion).where(ChecklistVersion.id.in_(version_ids))
        .order_by(ChecklistVersion.id)
    ).all() if version_ids else []
    texts = {}
    for version in versions:
        for _, item in definition_of(version).items():
            texts[version.checklist_id, item.id] = labels.pick(item.report_text or item.text,
                                                                lang)
    return texts


def text_of(texts: dict, checklist_id: int, item: str) -> str:
    return texts.get((checklist_id, item), item)


def item_failures(visits: list[dict]) -> list[dict]:
    """Per item: visits where it was scored, those where it was not met (and which), the last
    miss."""
    scored, last = Counter(), {}
    stores, misses = defaultdict(set), defaultdict(list)
    for visit in visits:
        scored.update(visit["scored"])
        for item, _, _ in visit["missed"]:
            misses[item].append(visit["id"])
            last[item] = visit["date"]
            stores[item].add(visit["store_id"])
    return sorted(({
        "item": item, "missed": len(ids), "scored": max(scored[item], len(ids)),
        "rate": round(100 * len(ids) / max(scored[item], len(ids))),
        "last": labels.day(last[item]), "stores": len(stores[item]), "visit_ids": ids,
    } for item, ids in misses.items()), key=lambda r: (-r["missed"], -r["rate"], r["item"]))


def action_rows(store_ids: list[int], period: Period, now: datetime, lang: str) -> list[dict]:
    """Actions raised in the period, and older ones still open or to confirm; dismissed ones are
    left out. Only an agreed (open) action can be overdue."""
    if not store_ids:
        return []
    found = db.session.scalars(
        select(Action).where(
            Action.store_id.in_(store_ids), Action.status != "dismissed",
            Action.created_at < period.ends,
            # An action of a mystery visit still under review must not reveal the visit.
            Action.visit_id.is_(None) | Action.visit_id.in_(
                select(Visit.id).where(Visit.status == "published")),
            (Action.created_at >= period.begins)
            | Action.status.in_((*OPEN_ACTIONS, *TO_APPROVE, "proposed")),
        ).options(selectinload(Action.owner_staff)).order_by(Action.due_date, Action.id)
    ).all()
    return [{
        "store_id": a.store_id, "title": a.title_in(lang),
        "owner": a.owner_staff.name if a.owner_staff else a.owner,
        "due": labels.day(a.due_date),
        "status": a.status,
        "overdue": a.status in OPEN_ACTIONS and is_overdue_date(a.due_date, now, period.tz),
    } for a in found]


def action_counts(actions: list[dict]) -> dict:
    """Where the store's agreed actions stand now (proposals are not counted: see closure)."""
    return {
        "open": sum(a["status"] in OPEN_ACTIONS and not a["overdue"] for a in actions),
        "overdue": sum(a["overdue"] for a in actions),
        "to_approve": sum(a["status"] in TO_APPROVE for a in actions),
    }


def agreed_rows(store_ids: list[int], period: Period) -> list[dict]:
    """The actions agreed in the period (by when they were agreed), dismissed ones left out, as
    (store, verified, days from agreement to verification) — the closure figures' rows."""
    if not store_ids:
        return []
    found = db.session.execute(
        select(Action.store_id, Action.status, Action.agreed_at, Action.verified_at).where(
            Action.store_id.in_(store_ids), Action.status != "dismissed",
            Action.agreed_at >= period.begins, Action.agreed_at < period.ends,
            Action.visit_id.is_(None) | Action.visit_id.in_(
                select(Visit.id).where(Visit.status == "published")))
    ).all()
    return [{
        "store_id": row.store_id, "verified": row.status == "verified",
        "days": max(0.0, (row.verified_at - row.agreed_at).total_seconds() / DAY_SECONDS)
        if row.status == "verified" and row.verified_at else None,
    } for row in found]


def closure(rows: list[dict]) -> dict:
    """Closure rate = verified ÷ agreed; median days to close over the verified ones."""
    agreed = len(rows)
    verified = sum(r["verified"] for r in rows)
    days = [r["days"] for r in rows if r["days"] is not None]
    rate = round(100 * verified / agreed) if agreed else None
    middle = round(median(days), 1) if days else None
    return {
        "agreed": agreed, "verified": verified,
        "rate": f"{rate}%" if agreed else "–", "rate_value": rate,
        "median_days": labels.number(middle) if days else "–", "median_value": middle,
        "timed": len(days),
    }


def dispute_rows(store_ids: list[int], period: Period, now: datetime) -> list[dict]:
    """Disputes received in the period, each with how timely it was handled."""
    if not store_ids:
        return []
    found = db.session.scalars(
        select(Dispute).where(
            Dispute.store_id.in_(store_ids), Dispute.received_at >= period.begins,
            Dispute.received_at < period.ends,
        ).order_by(Dispute.received_at, Dispute.id)
    ).all()
    zone = ZoneInfo(period.tz)
    return [{
        "store_id": d.store_id, "reference": d.reference, "category": d.category,
        "matter": d.matter, "received": labels.minute(d.received_at.astimezone(zone)),
        "due": labels.minute(d.due_at.astimezone(zone)), "timeliness": _timeliness(d, now),
    } for d in found]


def _timeliness(dispute, now: datetime) -> str:
    if dispute.status == "closed" and dispute.closed_at is not None:
        return "on_time" if dispute.closed_at <= dispute.due_at else "late"
    return "open_overdue" if dispute.due_at < now else "open_in_time"


def dispute_counts(disputes: list[dict]) -> dict:
    counts = Counter(d["timeliness"] for d in disputes)
    return {key: counts.get(key, 0) for key in ("on_time", "late", "open_overdue", "open_in_time")}


def query_rows(store_ids: list[int], period: Period) -> list[dict]:
    """The published mystery visits of the period (a re-shopped one too: it was queried), one
    row per query of each, or one row with no query: (store, visit, query status or None)."""
    if not store_ids:
        return []
    found = db.session.execute(
        select(Visit.store_id, Visit.id, Query.status)
        .outerjoin(Query, Query.visit_id == Visit.id)
        .where(Visit.store_id.in_(store_ids), Visit.kind == "mystery",
               Visit.status == "published", Visit.started_at >= period.begins,
               Visit.started_at < period.ends))
    return [{"store_id": row.store_id, "visit_id": row.id, "status": row.status}
            for row in found]


def query_summary(rows: list[dict]) -> dict:
    """Query rate = published mystery results queried at least once ÷ published mystery
    results; the outcome of each query (open, upheld, amended, re-shop)."""
    published = len({r["visit_id"] for r in rows})
    queried = len({r["visit_id"] for r in rows if r["status"] is not None})
    outcomes = Counter(r["status"] for r in rows if r["status"] is not None)
    return {"published": published, "queried": queried,
            "rate": round(100 * queried / published) if published else None,
            **{status: outcomes[status] for status in QUERY_STATUSES}}


def query_counts(rows: list[dict]) -> dict[int, dict]:
    """query_summary per store (the stores with a published mystery result in the period)."""
    by_store = defaultdict(list)
    for row in rows:
        by_store[row["store_id"]].append(row)
    return {store_id: query_summary(found) for store_id, found in by_store.items()}


# Coverage (supervision/plans/coverage.py) in the region report -------------------------------

COVERAGE_LABELS = {
    "title": ("巡访覆盖", "Coverage"),
    "due": ("待完成", "Due"), "done": ("已完成", "Done"),
    "overdue": ("已逾期", "Overdue"), "missed": ("漏访", "Missed"),
    "plan": ("计划 / 波次", "Plan / wave"), "followups": ("复访", "Follow-up visits"),
    "wave": ("暗访波次", "Mystery wave"), "last_visit": ("最近到访", "Last visit"),
    "days_since": ("间隔天数", "Days since"), "never": ("从未到访", "never"),
    "not_visited": ("超过 {n} 天未到访的门店", "Stores not visited for more than {n} days"),
    "quiet": ("另有 {n} 家门店本期无应访且 {days} 天内到访过。",
              "{n} more stores had nothing due in the period and were visited within {days} days."),
    "footnote": ("应访：本期开始的计划巡店、复访与已确认的暗访任务。"
                 "待完成：仍在完成期限内或尚未开始；已逾期：期限已过、仍可补做；漏访：未完成且已不再补做。",
                 "Counted: the plans' audits, follow-up visits and confirmed mystery-wave visits "
                 "whose window opens in the period. Due: window open or to come; overdue: window "
                 "passed, can still be done; missed: never done, no longer expected."),
}


def coverage_section(region_id: int, period: Period, now: datetime, lang: str,
                     days: int = 30) -> dict:
    """The region's coverage over the report's period: totals, by plan and wave, the stores with
    something due or not visited for `days` days, in the report's language."""
    result = coverage(region_id, period.start, period.end, days, now=now)
    index = 0 if labels.is_zh(lang) else 1
    texts = {key: pair[index] for key, pair in COVERAGE_LABELS.items()}

    def name(row):
        return row["name"] if index == 0 else (row["name_en"] or row["name"])

    late = {row["id"] for row in result["not_visited"]}
    stores = [{**row, "name": name(row), "late": row["id"] in late} for row in result["stores"]
              if any(row["figures"].values()) or row["id"] in late]
    groups = [{"name": g["name"] if g["kind"] == "plan" else texts["followups"],
               "figures": g["figures"]} for g in result["plans"]]
    groups += [{"name": f"{texts['wave']} · {w['name']}", "figures": w["figures"]}
               for w in result["waves"]]
    return {"t": texts, "days": days, "totals": result["totals"], "groups": groups,
            "stores": stores, "quiet": len(result["stores"]) - len(stores),
            "not_visited": [{**row, "name": name(row)} for row in result["not_visited"]]}
