"""Figures of a stored score recomputed from its item rows: earned / possible, the percent
without bonus, and the delighter bonus beside it, so that a bonus never hides a failure (and
scores stored before that rule read the same way)."""

from collections.abc import Callable, Iterable

from supervision.checklists.definition import FUNCTIONS
from supervision.reports import labels
from supervision.reports.charts import heat_color
from supervision.scoring import subtotal_of
from supervision.scoring.rules import round_half_up

# Item statuses that put points on the table (met, partly met, not met, red line, no bonus).
SCORED = ("met", "partial", "failed", "red_line", "no_bonus")


def tally(rows: Iterable[dict]) -> dict:
    """earned, possible, bonus and percent (the engine's: 100 × earned / possible, below 100
    when a point was lost, 0 with a red line, None when nothing was possible) of some score item
    rows."""
    rows = [{"earned": r.get("earned") or 0.0, "possible": r.get("possible") or 0.0,
             "bonus": r.get("bonus") or 0.0, "status": r.get("status")} for r in rows]
    subtotal = subtotal_of(rows)
    return {"earned": subtotal.earned, "possible": subtotal.max, "bonus": subtotal.bonus,
            "red_line": subtotal.red_line, "percent": subtotal.percent,
            "scored": any(r["status"] in SCORED for r in rows)}


def group(rows: Iterable[dict], key: Callable[[dict], object]) -> dict:
    groups: dict = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return {k: tally(v) for k, v in groups.items()}


def function_percents(score: dict) -> dict[str, float | None]:
    """Percent without bonus of each storefront function the score has items for."""
    found = group(score.get("items", []), lambda r: r.get("function"))
    return {f: found[f]["percent"] for f in FUNCTIONS if f in found}


def stored_function_percents(functions: list[dict] | None) -> dict[str, float | None]:
    """The same from a stored score's function subtotals alone (no item rows to read: many
    visits at once). Scores stored before the bonus was set apart have no "earned": their
    points less the bonus is what was earned (short only where a bonus hit the old cap)."""
    found = {}
    for f in functions or []:
        if "earned" in f or not f["max"]:
            found[f["id"]] = f["percent"]
        else:
            found[f["id"]] = round_half_up(max(0.0, 100 * (f["score"] - f["bonus"]) / f["max"]))
    return {f: found[f] for f in FUNCTIONS if f in found}


def shown(figure: dict | None) -> dict:
    """A figure as the report prints it: the percent, earned / possible, '+bonus' apart."""
    if figure is None or not figure["scored"]:
        return {"percent": "", "points": "", "bonus": "", "color": heat_color(None),
                "empty": True}
    return {
        "percent": labels.number(figure["percent"], 0) if figure["percent"] is not None else "",
        "points": f"{labels.number(figure['earned'], 2)} / {labels.number(figure['possible'], 2)}"
        if figure["possible"] else "",
        "bonus": f"+{labels.number(figure['bonus'], 2)}" if figure["bonus"] > 0 else "",
        "color": heat_color(figure["percent"]),
        "empty": figure["percent"] is None,
    }


def total_parts(score: dict) -> dict:
    """The total's base (without bonus) and bonus points of 100, from the scoring explanation
    (scores stored before it named them: recomputed the same way)."""
    explanation = score.get("explanation", {})
    possible = explanation.get("possible") or 0.0
    base = explanation.get("base")
    bonus = explanation.get("bonus_points")
    if base is None:
        base = round_half_up(100 * explanation.get("earned", 0.0) / possible) if possible else None
    if bonus is None:
        bonus = round_half_up(100 * explanation.get("bonus", 0.0) / possible) if possible else 0.0
    return {"base": base, "bonus_points": bonus}
