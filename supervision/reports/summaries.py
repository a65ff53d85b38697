"""A store or a region over a period → the plain dict its report is rendered from."""

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from supervision.checklists.definition import FUNCTION_LABELS, FUNCTIONS
from supervision.db import db
from supervision.localtime import local_zone
from supervision.reports import labels
from supervision.reports import period as p
from supervision.reports.charts import bar, heat_color, line_chart, trend
from supervision.reports.context import store_dict
from supervision.stores.models import Store


def store_context(store, start, end, lang: str, now: datetime) -> dict:
    """Per checklist: trend, functions against the region, recurring failures; then the store's
    actions and disputes. An average never mixes checklists and always shows its n."""
    today = now.astimezone(ZoneInfo(store.timezone)).date()
    period = p.period_of(start, end, store.timezone, today)
    region_ids = [s.id for s in _region_stores(store.region_id)]
    region_visits = p.visit_rows(region_ids, period)
    visits = [v for v in region_visits if v["store_id"] == store.id]
    texts = p.item_texts(visits, lang)
    actions = p.action_rows([store.id], period, now, lang)
    closure = p.closure(p.agreed_rows([store.id], period))
    disputes = p.dispute_rows([store.id], period, now)
    region_of = {c["id"]: c["visits"] for c in p.by_checklist(region_visits, lang)}
    titles = {c["id"]: c["title"] for c in p.by_checklist(visits, lang)}
    return {
        "kind": "store", "lang": lang, "period": period.as_dict(), "as_of": labels.day(today),
        "store": store_dict(store, lang), "small_n": p.SMALL_N,
        "kpis": {
            "visits": len(visits), "red_lines": sum(bool(v["red_lines"]) for v in visits),
        },
        "checklists": [_store_checklist(c, region_of[c["id"]], texts, lang)
                       for c in p.by_checklist(visits, lang)],
        "visits": [_visit_line(v, texts, titles, lang) for v in reversed(visits)],
        "actions": {"counts": p.action_counts(actions), "closure": closure,
                    "agreed": [a for a in actions
                               if a["status"] in (*p.OPEN_ACTIONS, *p.TO_APPROVE)][:p.LIST_LIMIT],
                    "proposals": [a for a in actions
                                  if a["status"] == "proposed"][:p.LIST_LIMIT]},
        "disputes": {"counts": p.dispute_counts(disputes), "list": disputes[-p.LIST_LIMIT:]},
        "queries": p.query_summary(p.query_rows([store.id], period)),
    }


def _store_checklist(checklist: dict, region_visits: list[dict], texts: dict, lang: str) -> dict:
    visits = checklist["visits"]
    mine, region = p.function_averages(visits), p.function_averages(region_visits)
    t = labels.translator(lang)
    return {
        "title": checklist["title"], "n": len(visits), "small": len(visits) < p.SMALL_N,
        "average": p.average(v["total"] for v in visits), "latest": visits[-1]["total"],
        "region_average": p.average(v["total"] for v in region_visits),
        "region_n": len(region_visits),
        "trend_chart": _total_chart(visits, region_visits, t),
        "function_charts": _function_charts(visits, region, lang),
        "compare": [_compare_row(f, mine[f], region[f], lang) for f in FUNCTIONS
                    if mine[f] is not None or region[f] is not None],
        "recurring": [{**row, "text": p.text_of(texts, checklist["id"], row["item"])}
                      for row in p.item_failures(visits) if row["missed"] > 1][:p.LIST_LIMIT],
    }


def _region_stores(region_id: int) -> list[Store]:
    return db.session.scalars(
        select(Store).where(Store.region_id == region_id, Store.active.is_(True))
        .order_by(Store.code)
    ).all()


def _short(day) -> str:
    return day.strftime("%m-%d")


def _total_chart(visits: list[dict], region_visits: list[dict], t) -> dict:
    region_average = p.average(v["total"] for v in region_visits)
    return line_chart([_short(v["date"]) for v in visits], [
        {"name": t("this_store"), "values": [v["total"] for v in visits]},
        {"name": t("region_average"), "values": [region_average] * len(visits), "dashed": True,
         "color": "#9a9a9a"},
    ], height=110)


def _function_charts(visits: list[dict], region: dict, lang: str) -> list[dict]:
    t = labels.translator(lang)
    return [{
        "label": labels.pick(FUNCTION_LABELS[f], lang),
        "chart": line_chart([_short(v["date"]) for v in visits], [
            {"name": t("this_store"), "values": [v["functions"].get(f) for v in visits]},
            {"name": t("region_average"), "values": [region[f]] * len(visits), "dashed": True,
             "color": "#9a9a9a"},
        ], width=220, height=90),
    } for f in FUNCTIONS if any(v["functions"].get(f) is not None for v in visits)]


def _compare_row(function: str, mine: float | None, region: float | None, lang: str) -> dict:
    difference = None if mine is None or region is None else round(mine - region, 1)
    return {
        "label": labels.pick(FUNCTION_LABELS[function], lang),
        "mine": labels.number(mine), "region": labels.number(region),
        "difference": "–" if difference is None else f"{difference:+.1f}",
        "worse": difference is not None and difference < 0,
        "bar": bar(mine), "color": heat_color(mine),
    }


def _visit_line(visit: dict, texts: dict, titles: dict, lang: str) -> dict:
    return {
        "date": labels.day(visit["date"]), "kind": visit["kind"],
        "checklist": titles[visit["checklist_id"]],
        "total": labels.number(visit["total"]), "color": heat_color(visit["total"]),
        "grade": labels.pick(visit["grade"], lang) if visit["grade"] else "",
        "red_lines": [p.text_of(texts, visit["checklist_id"], item)
                      for item in visit["red_lines"]],
    }


def region_context(region, start, end, lang: str, now: datetime) -> dict:
    """Per checklist: ranking, stores × functions, weakest items; then red lines, overdue actions
    and disputes across the region."""
    return region_figures(region, start, end, lang, now)[0]


def region_figures(region, start, end, lang: str, now: datetime) -> tuple:
    """The region report's context, and what it was computed from: (context, the published
    visits of the period as period.visit_rows gives them, the region's stores, the period).
    The dashboard (reports/dashboard.py) builds on the same figures."""
    stores = _region_stores(region.id)
    tz = local_zone()  # a region's stores may lie in several zones: its days are the setting's
    today = now.astimezone(ZoneInfo(tz)).date()
    period = p.period_of(start, end, tz, today)
    ids = [s.id for s in stores]
    visits = p.visit_rows(ids, period)
    texts = p.item_texts(visits, lang)
    actions = p.action_rows(ids, period, now, lang)
    agreed = p.agreed_rows(ids, period)
    disputes = p.dispute_rows(ids, period, now)
    names = {s.id: store_dict(s, lang)["name"] for s in stores}
    overdue = [{**a, "store": names[a["store_id"]]} for a in actions if a["overdue"]]
    context = {
        "kind": "region", "lang": lang, "period": period.as_dict(), "as_of": labels.day(today),
        "region": {"id": region.id, "code": region.code,
                   "name": region.name if labels.is_zh(lang) else (region.name_en or region.name)},
        "kpis": {
            "visits": len(visits), "stores": len(stores),
            "visited": len({v["store_id"] for v in visits}),
            "red_line_visits": sum(bool(v["red_lines"]) for v in visits),
            "overdue_actions": len(overdue),
            "closure": p.closure(agreed),
            "overdue_disputes": p.dispute_counts(disputes)["open_overdue"],
        },
        "checklists": [_region_checklist(c, stores, names, texts)
                       for c in p.by_checklist(visits, lang)],
        "functions": [labels.pick(FUNCTION_LABELS[f], lang) for f in FUNCTIONS],
        "small_n": p.SMALL_N,
        "red_lines": _red_lines(visits, texts, names),
        "overdue_actions": {"count": len(overdue), "list": overdue[:15]},
        "closure": {"region": p.closure(agreed),
                    "stores": _closure_by_store(stores, names, agreed, overdue)},
        "disputes": {"counts": p.dispute_counts(disputes),
                     "list": [{**d, "store": names[d["store_id"]]} for d in disputes
                              if d["timeliness"] in ("open_overdue", "late")][:15]},
        "queries": _queries_by_store(stores, names, p.query_rows(ids, period)),
        "coverage": p.coverage_section(region.id, period, now, lang),
    }
    return context, visits, stores, period


def _region_checklist(checklist, stores, names, texts) -> dict:
    visits = checklist["visits"]
    ranking = _ranking(stores, visits, names)
    ranked = [r for r in ranking if r["rank"]]
    return {
        "id": checklist["id"], "title": checklist["title"], "n": len(visits),
        "average": p.average(v["total"] for v in visits),
        "visited": sum(r["visits"] > 0 for r in ranking),
        "ranking": ranking,
        "best": ranked[:3],
        "attention": _attention(ranking),
        "weakest": [{**row, "text": p.text_of(texts, checklist["id"], row["item"])}
                    for row in p.item_failures(visits)][:10],
    }


def _ranking(stores, visits, names) -> list[dict]:
    """Stores by average; a store with fewer than SMALL_N visits is listed after the ranked
    ones, marked, without a rank: one good visit does not make the best store. Actions and
    disputes belong to no checklist: they are listed once, after the checklists."""
    rows = []
    by_store = p.by_store(visits)
    for store in stores:
        own = by_store.get(store.id, [])
        totals = [v["total"] for v in own]
        functions = p.function_averages(own)
        rows.append({
            "store_id": store.id, "code": store.code, "name": names[store.id],
            "visits": len(own), "small": 0 < len(own) < p.SMALL_N,
            "average_value": p.average(totals),
            "average": labels.number(p.average(totals)), "color": heat_color(p.average(totals)),
            "latest": labels.number(totals[-1]) if totals else "–",
            "trend": trend(totals),
            "red_lines": sum(bool(v["red_lines"]) for v in own),
            "cells": [{"text": labels.number(functions[f], 0), "color": heat_color(functions[f])}
                      for f in FUNCTIONS],
        })
    rows.sort(key=lambda r: (not r["visits"], r["small"], -(r["average_value"] or 0), r["code"]))
    rank = 0
    for row in rows:
        row["rank"] = None
        if row["visits"] and not row["small"]:
            rank += 1
            row["rank"] = rank
    return rows


def _attention(ranking: list[dict]) -> list[dict]:
    """Red lines first, then the lowest averages (few visits included, marked)."""
    visited = [r for r in ranking if r["visits"]]
    visited.sort(key=lambda r: (-r["red_lines"], r["average_value"]))
    return visited[:3]


def _closure_by_store(stores, names: dict, agreed: list[dict], overdue: list[dict]) -> list:
    """Each store's closure figures and its actions overdue now, stores with agreed actions
    first (lowest closure rate first), then those with none."""
    late = Counter(a["store_id"] for a in overdue)
    rows = [{"name": names[s.id], "code": s.code, "overdue": late[s.id],
             **p.closure([r for r in agreed if r["store_id"] == s.id])} for s in stores]
    return sorted(rows, key=lambda r: (not r["agreed"], r["verified"] / (r["agreed"] or 1),
                                       r["code"]))


def _red_lines(visits: list[dict], texts: dict, names: dict) -> list[dict]:
    return [{"store": names[v["store_id"]], "date": labels.day(v["date"]),
             "what": [p.text_of(texts, v["checklist_id"], item) for item in v["red_lines"]]}
            for v in reversed(visits) if v["red_lines"]][:15]


def _queries_by_store(stores, names: dict, rows: list[dict]) -> dict:
    """The region's query rate and outcomes, and each store's with a published mystery result
    in the period (the most queried first)."""
    counts = p.query_counts(rows)
    listed = [{"name": names[s.id], **counts[s.id]} for s in stores if s.id in counts]
    listed.sort(key=lambda row: (-row["rate"], row["name"]))
    return {"region": p.query_summary(rows), "stores": listed}
