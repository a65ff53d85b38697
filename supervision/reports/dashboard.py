"""The regional manager's live dashboard: the region report's own figures (reports/summaries.py
region_figures, one computation) for one checklist, with what the report does not show — each
store's change since the period before, the six functions × key moments heat map, the peak and
end tiles — and the visits behind every figure."""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select

from supervision.checklists.definition import (
    FUNCTION_LABELS,
    FUNCTIONS,
    MOMENT_LABELS,
    MOMENTS,
    PEAK_END_MOMENTS,
)
from supervision.checklists.models import Checklist
from supervision.db import db
from supervision.reports import labels
from supervision.reports import period as p
from supervision.reports.charts import heat_color
from supervision.reports.summaries import region_figures
from supervision.scoping import get_region

# A figure links to at most this many of its visits (the latest); `more` counts the rest.
VISITS_PER_FIGURE = 50


def dashboard(user, region_id: int, start, end, slug: str | None, lang: str,
              now: datetime) -> dict:
    with p.many_objects():
        return _dashboard(get_region(user, region_id), start, end, slug, lang, now)


def _dashboard(region, start, end, slug: str | None, lang: str, now: datetime) -> dict:
    context, visits, stores, period = region_figures(region, start, end, lang, now)
    slugs = dict(db.session.execute(select(Checklist.id, Checklist.slug).where(
        Checklist.id.in_([c["id"] for c in context["checklists"]]))).all())
    offered = [{"slug": slugs[c["id"]], "title": c["title"], "visits": c["n"]}
               for c in context["checklists"]]
    chosen = next((c for c in context["checklists"] if slugs[c["id"]] == slug), None) \
        if slug else (context["checklists"][0] if context["checklists"] else None)
    days = (period.end - period.start).days + 1
    before = p.Period(period.start - timedelta(days=days), period.start - timedelta(days=1),
                      period.tz)
    mine = [v for v in visits if chosen and v["checklist_id"] == chosen["id"]]
    earlier = p.total_rows([s.id for s in stores], chosen["id"], before) if chosen else []
    linked: set = set()

    def link(ids: list) -> dict:
        latest = list(reversed(ids))[:VISITS_PER_FIGURE]
        linked.update(latest)
        return {"visit_ids": latest, "more": max(0, len(ids) - len(latest))}

    closure = context["closure"]["region"]
    return {
        "region": context["region"], "period": period.as_dict(), "previous": before.as_dict(),
        "as_of": context["as_of"], "checklists": offered,
        "checklist": {"slug": slugs[chosen["id"]], "title": chosen["title"],
                      "visits": chosen["n"], "average": chosen["average"]} if chosen else None,
        "kpis": {key: context["kpis"][key] for key in (
            "visits", "stores", "visited", "red_line_visits", "overdue_actions",
            "overdue_disputes")},
        "league": _league(chosen, mine, earlier, link) if chosen else [],
        "items": [{"item": row["item"], "text": row["text"], "rate": row["rate"],
                   "missed": row["missed"], "scored": row["scored"], "stores": row["stores"],
                   **link(row["visit_ids"])} for row in (chosen["weakest"] if chosen else [])],
        "heatmap": _heatmap(mine, lang, link),
        "peak_end": [_moment_tile(moment, mine, earlier, lang, link)
                     for moment in PEAK_END_MOMENTS],
        "actions": {"agreed": closure["agreed"], "verified": closure["verified"],
                    "rate": closure["rate_value"], "median_days": closure["median_value"],
                    "overdue": context["kpis"]["overdue_actions"]},
        "coverage": context["coverage"]["totals"],
        "visits": _visit_index(mine, linked, {s.id: s for s in stores}, lang),
    }


def _league(checklist: dict, visits: list[dict], earlier: list[dict], link) -> list[dict]:
    """The report's ranking of the checklist, each store with its average of the period before
    and the change, and its visits."""
    now, before_by_store = p.by_store(visits), p.by_store(earlier)
    rows = []
    for row in checklist["ranking"]:
        before = p.average(v["total"] for v in before_by_store.get(row["store_id"], ()))
        score = row["average_value"]
        rows.append({
            "store_id": row["store_id"], "code": row["code"], "name": row["name"],
            "rank": row["rank"], "small": row["small"], "score": score, "previous": before,
            "change": round(score - before, 1) if score is not None and before is not None
            else None,
            "visits": row["visits"], "red_lines": row["red_lines"], "color": row["color"],
            **link([v["id"] for v in now.get(row["store_id"], ())]),
        })
    return rows


def _heatmap(visits: list[dict], lang: str, link) -> dict:
    """Functions × moments: each cell the average of the visits' percent in it, how many visits
    rated it, and the visits that missed something in it (the store's coaching starts there)."""
    percents, misses = defaultdict(list), defaultdict(list)
    for visit in visits:
        for cell, percent in visit["grid"].items():
            percents[cell].append(percent)
        for cell in {(function, moment) for _, function, moment in visit["missed"]}:
            misses[cell].append(visit["id"])
    cells = []
    for function in FUNCTIONS:
        for moment in MOMENTS:
            if (function, moment) not in percents:
                continue
            percent = p.average(percents[function, moment])
            missed = misses.get((function, moment), [])
            cells.append({"function": function, "moment": moment, "percent": percent,
                          "color": heat_color(percent), "rated": len(percents[function, moment]),
                          "missed": len(missed), **link(missed)})
    used_functions = {c["function"] for c in cells}
    used_moments = {c["moment"] for c in cells}
    return {
        "functions": [{"id": f, "label": labels.pick(FUNCTION_LABELS[f], lang)}
                      for f in FUNCTIONS if f in used_functions],
        "moments": [{"id": m, "label": labels.pick(MOMENT_LABELS[m], lang),
                     "peak_end": m in PEAK_END_MOMENTS} for m in MOMENTS if m in used_moments],
        "cells": cells,
    }


def _moment_tile(moment: str, visits: list[dict], earlier: list[dict], lang: str,
                 link) -> dict:
    rated = [v for v in visits if moment in v["moments"]]
    percent = p.average(v["moments"][moment] for v in rated)
    before = p.average(v["moments"][moment] for v in earlier if moment in v["moments"])
    misses = [v["id"] for v in rated if any(m == moment for _, _, m in v["missed"])]
    return {"moment": moment, "label": labels.pick(MOMENT_LABELS[moment], lang),
            "percent": percent, "previous": before,
            "change": round(percent - before, 1) if percent is not None and before is not None
            else None, "rated": len(rated), "missed": len(misses), "color": heat_color(percent),
            **link(misses)}


def _visit_index(visits: list[dict], linked: set, stores: dict, lang: str) -> dict:
    """The visits the figures link to: enough to list them and open each."""
    index = {}
    for visit in visits:
        if visit["id"] in linked:
            store = stores[visit["store_id"]]
            index[visit["id"]] = {
                "store_id": store.id, "code": store.code,
                "store": store.name if labels.is_zh(lang) else store.name_en or store.name,
                "date": labels.day(visit["date"]), "kind": visit["kind"],
                "total": visit["total"], "red_line": bool(visit["red_lines"])}
    return index
