"""Calibration: a second supervisor scores the same store at the same time (a calibration visit,
`Visit.calibrates_id`), left out of averages (`excluded = "calibration"`) and of the follow-up.
The two ratings are compared item by item, and over a period a per-item disagreement table
shows which items two raters score differently — the ones the checklist author should reword.

What "disagree" means, item by item, read from each visit's frozen score:

- A rating is the item's scored status: met, partial, failed, red_line, no_bonus (a delighter
  not delivered), or na (the rater answered N/A). not_applicable (its condition left the item
  out), unanswered and unscored items carry no rating.
- Items neither rater rated are not compared, nor are unscored items (free text, information):
  there is no score to calibrate. Nor are items missing from either visit's checklist version.
- Two ratings agree when their statuses are equal: both N/A agree; one N/A against a score
  disagrees; a rating against none disagrees (one rater found that the item applied, the other
  did not).
- A scale item (1–5) also disagrees when the two values are two or more points apart, though
  both fall under "partial" (a 2 and a 4 say different things about the store).

A pair counts in the table for each item it compares; rate = disagreements ÷ pairs.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import aliased

from supervision.checklists.models import ChecklistVersion
from supervision.checklists.services import definition_of
from supervision.db import db
from supervision.reports import labels
from supervision.reports.items import answer_text
from supervision.visits.models import Visit

# The statuses that are a rating (see the module docstring).
RATED = ("met", "partial", "failed", "red_line", "no_bonus", "na")
# Scale answers this many points apart disagree even under the same status.
SCALE_GAP = 2
# Rows of the region report's table (the most disputed items first).
TABLE_ROWS = 15

# The sections' own wording (zh, en): the report labels stay with their owners.
WORDS = {
    "title": ("校准：两位督导逐项对比", "Calibration: two raters, item by item"),
    "intro": ("本次为校准访问，不计入平均分、不产生整改行动。",
              "A calibration visit: left out of averages, no actions follow from it."),
    "original": ("原访问", "Visit"),
    "calibration": ("校准访问", "Calibration"),
    "item": ("检查项", "Item"),
    "agree": ("一致", "Agree"),
    "yes": ("一致", "agree"),
    "no": ("不一致", "differ"),
    "summary": ("{agree} / {compared} 项一致，总分 {a} 对 {b}",
                "{agree} of {compared} items agree; totals {a} and {b}"),
    "table_title": ("评分分歧最多的检查项（校准）", "Items raters score differently (calibration)"),
    "table_intro": ("同一门店同一时段由两位督导分别评分：分歧率高的检查项措辞可能需要修改。",
                    "Two supervisors scored the same store at the same time: items with a high "
                    "disagreement rate may need rewording."),
    "pairs": ("对数", "Pairs"),
    "disagreements": ("分歧", "Differ"),
    "rate": ("分歧率", "Rate"),
    "checklist": ("检查表", "Checklist"),
    "table_footnote": ("共 {n} 对校准访问。", "{n} calibration pair(s) in the period."),
    "status_met": ("达标", "met"),
    "status_partial": ("部分达标", "partial"),
    "status_failed": ("未达标", "failed"),
    "status_red_line": ("触碰红线", "red line"),
    "status_no_bonus": ("未加分", "no bonus"),
    "status_na": ("不适用", "N/A"),
    "status_none": ("未评", "not rated"),
}


def words(lang: str) -> dict[str, str]:
    return {key: pair[0 if labels.is_zh(lang) else 1] for key, pair in WORDS.items()}


# ------------------------------------------------------------------------------ one pair


def rating(row: dict | None, value) -> dict:
    """One rater's view of an item: its status if rated (else None), and the answer."""
    status = row["status"] if row and row["status"] in RATED else None
    return {"status": status, "value": value if status not in (None, "na") else None,
            "na": status == "na"}


def agrees(item, a: dict, b: dict) -> bool:
    """Whether two ratings of `item` agree (see the module docstring)."""
    if a["status"] != b["status"]:
        return False
    if item.type == "scale" and isinstance(a["value"], int) and isinstance(b["value"], int):
        return abs(a["value"] - b["value"]) < SCALE_GAP
    return True


def compare(original: Visit, calibration: Visit) -> list[dict]:
    """The compared items in the original's checklist order: {item, text (the Text of the
    calibration's version), a (the original's rating), b (the calibration's), agree}."""
    first = definition_of(original.checklist_version)
    second = {item.id: item for _, item in definition_of(calibration.checklist_version).items()}
    scores = [{row["item"]: row for row in (visit.score or {}).get("items", [])}
              for visit in (original, calibration)]
    values = [{r.item_id: r.value for r in visit.responses if not r.na}
              for visit in (original, calibration)]
    rows = []
    for _, item in first.items():
        other = second.get(item.id)
        if other is None or not item.scored or not other.scored:
            continue
        a = rating(scores[0].get(item.id), values[0].get(item.id))
        b = rating(scores[1].get(item.id), values[1].get(item.id))
        if a["status"] is None and b["status"] is None:
            continue
        rows.append({"item": item.id, "text": other.report_text or other.text,
                     "a": a, "b": b, "agree": agrees(item, a, b)})
    return rows


def original_of(visit: Visit) -> tuple[Visit, Visit] | None:
    """(original, calibration) for a calibration visit; for a visit that was double-scored,
    (it, its first published calibration); None otherwise."""
    if visit.calibrates_id is not None:
        return visit.calibrates, visit
    found = calibrations_of(visit)
    return (visit, found[0]) if found else None


def calibrations_of(visit: Visit) -> list[Visit]:
    """The published calibration visits of `visit`, first submitted first."""
    return list(db.session.scalars(
        select(Visit).where(Visit.calibrates_id == visit.id, Visit.status == "published")
        .order_by(Visit.submitted_at, Visit.id)))


def pair_document(original: Visit, calibration: Visit) -> dict:
    """GET /visits/{id}/calibration: {visit, calibration, items}."""
    def side(visit):
        return {"id": visit.id, "author_id": visit.author_id, "started_at": visit.started_at,
                "total": visit.total, "grade": visit.grade}

    return {"visit": side(original), "calibration": side(calibration),
            "items": [{**row, "text": {"zh": row["text"].zh, "en": row["text"].en}}
                      for row in compare(original, calibration)]}


# ------------------------------------------------------------------------------ the visit report


def report_blocks(visit: Visit, lang: str) -> list[dict]:
    """The internal visit report's comparison: one block per pair the visit belongs to (a
    calibration visit: its original; a double-scored visit: each of its calibrations)."""
    if visit.calibrates_id is not None:
        pairs = [(visit.calibrates, visit)] if visit.calibrates is not None else []
    else:
        pairs = [(visit, other) for other in calibrations_of(visit)]
    said = words(lang)
    return [_block(original, calibration, visit, said, lang)
            for original, calibration in pairs]


def _block(original: Visit, calibration: Visit, shown: Visit, said: dict, lang: str) -> dict:
    rows = compare(original, calibration)
    tz = ZoneInfo(original.store.timezone)
    items = {item.id: item for _, item in definition_of(original.checklist_version).items()}
    answers = [{r.item_id: r for r in visit.responses} for visit in (original, calibration)]
    agree = sum(row["agree"] for row in rows)

    def answer(side: dict, row: dict, n: int) -> str:
        status = said["status_" + (side["status"] or "none")]
        if side["status"] in (None, "na"):
            return status
        return f"{status} · {answer_text(items[row['item']], answers[n].get(row['item']), lang)}"

    return {
        "words": said,
        "this_is_calibration": shown.id == calibration.id,
        "sides": [{"label": said[role], "author": visit.author.name,
                   "started": labels.minute(visit.started_at.astimezone(tz)),
                   "total": labels.number(visit.total)}
                  for role, visit in (("original", original), ("calibration", calibration))],
        "summary": said["summary"].format(agree=agree, compared=len(rows),
                                          a=labels.number(original.total),
                                          b=labels.number(calibration.total)),
        # The differences first, each part in the checklist's order.
        "rows": [{"text": labels.pick(row["text"], lang), "agree": row["agree"],
                  "a": answer(row["a"], row, 0), "b": answer(row["b"], row, 1)}
                 for row in sorted(rows, key=lambda r: r["agree"])],
    }


# ------------------------------------------------------------------------------ the table


def pairs_of(store_ids, begins: datetime, ends: datetime,
             checklist_id: int | None = None) -> list[tuple[Visit, Visit]]:
    """(original, calibration) of the published calibration visits of the stores whose
    original started in [begins, ends), oldest first."""
    if not store_ids:
        return []
    original = aliased(Visit)
    query = (select(original, Visit)
             .join(original, Visit.calibrates_id == original.id)
             .where(Visit.status == "published", original.status == "published",
                    original.store_id.in_(store_ids),
                    original.started_at >= begins, original.started_at < ends)
             .order_by(original.started_at, Visit.submitted_at, Visit.id))
    if checklist_id is not None:
        query = query.join(ChecklistVersion, original.checklist_version_id == ChecklistVersion.id) \
            .where(ChecklistVersion.checklist_id == checklist_id)
    return [(row[0], row[1]) for row in db.session.execute(query)]


def disagreements(pairs: list[tuple[Visit, Visit]]) -> list[dict]:
    """Per (checklist, item): {checklist, item, text, pairs, disagreements, rate}, the highest
    rate first (then the most disagreements, then the checklist and its order)."""
    counted: dict[tuple, dict] = {}
    for original, calibration in pairs:
        slug = original.checklist_version.checklist.slug
        for n, row in enumerate(compare(original, calibration)):
            found = counted.setdefault((slug, row["item"]), {
                "checklist": slug, "item": row["item"], "pairs": 0, "disagreements": 0,
                "order": n})
            found["text"] = row["text"]  # the newest pair's wording
            found["pairs"] += 1
            found["disagreements"] += not row["agree"]
    rows = sorted(counted.values(), key=lambda r: (-r["disagreements"] / r["pairs"],
                                                   -r["disagreements"], r["checklist"],
                                                   r["order"]))
    return [{"checklist": r["checklist"], "item": r["item"], "text": r["text"],
             "pairs": r["pairs"], "disagreements": r["disagreements"],
             "rate": round(r["disagreements"] / r["pairs"], 3)} for r in rows]


def region_block(store_ids, begins: datetime, ends: datetime, lang: str) -> dict | None:
    """The region report's table: the items most often scored differently, when the period
    has calibration pairs (None otherwise: the section is left out)."""
    pairs = pairs_of(store_ids, begins, ends)
    if not pairs:
        return None
    rows = [row for row in disagreements(pairs) if row["disagreements"]]
    return {
        "words": words(lang), "pairs": len(pairs),
        "footnote": words(lang)["table_footnote"].format(n=len(pairs)),
        "rows": [{"text": labels.pick(row["text"], lang), "pairs": row["pairs"],
                  "disagreements": row["disagreements"],
                  "rate": f"{round(100 * row['rate'])}%"} for row in rows[:TABLE_ROWS]],
    }
