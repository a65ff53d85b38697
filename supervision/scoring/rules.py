"""The scoring policy in one place: the engine reads it, and every checklist version document
carries it to the tablet, whose running estimate (static/js/score.js) has no number of its own."""

import hashlib
import json
import math
from types import MappingProxyType
from typing import Any

from supervision.checklists.definition import PEAK_END_MOMENTS, SCALE

# Per Kano class: how much of an item's weight is at stake, and how an answer earns it.
# "all_or_nothing": a must-be item puts more at stake than a performance item of the same
# weight, and only earns it when fully met (missing a basic need hurts, meeting it is merely
# expected); "proportional": the answer's fraction of the stake; "bonus": a delighter only adds,
# and its absence costs nothing (it is never part of what was possible).
KANO = MappingProxyType({
    "must_be": MappingProxyType({"factor": 1.5, "points": "all_or_nothing"}),
    "performance": MappingProxyType({"factor": 1.0, "points": "proportional"}),
    "delighter": MappingProxyType({"factor": 1.0, "points": "bonus"}),
})
MUST_BE_FACTOR = KANO["must_be"]["factor"]
# Items of the peak and end moments (PEAK_END_MOMENTS) weigh this much more (峰终定律).
PEAK_END_FACTOR = 1.5
# Totals and percentages are out of this many points; more (bonuses) is capped at it.
FULL_MARKS = 100.0
# 100 − 1 = 0: a failed red line gives its whole group (the visit, its section …) this percent.
RED_LINE_PERCENT = 0.0
# With nothing scorable (everything N/A or switched off) nothing was owed and nothing failed.
EMPTY_TOTAL = 100.0
# Percentages are rounded half up (四舍五入) to this many decimals.
PERCENT_DECIMALS = 1
# A delighter's bonus never hides a failure: once any must-be or performance point was lost, a
# total (or a group's percent) is capped one last decimal below full marks (99.9), so that even
# rounded it never reads as a perfect visit.
LOST_CEILING = FULL_MARKS - 10 ** -PERCENT_DECIMALS


def round_half_up(value: float, decimals: int = PERCENT_DECIMALS) -> float:
    """`value` rounded half up, with exactly the float operations score.js uses (Python's
    round() rounds half to even, and differently from JavaScript's Math.round)."""
    scale = 10 ** decimals
    return math.floor(value * scale + 0.5) / scale


def _document() -> dict[str, Any]:
    rules = {
        "kano": {kano: dict(rule) for kano, rule in KANO.items()},
        "peak_end_factor": PEAK_END_FACTOR,
        "peak_end_moments": list(PEAK_END_MOMENTS),
        "scale": {"min": SCALE[0], "max": SCALE[-1]},
        "full_marks": FULL_MARKS,
        "red_line_percent": RED_LINE_PERCENT,
        "empty_total": EMPTY_TOTAL,
        "percent_decimals": PERCENT_DECIMALS,
        "lost_ceiling": LOST_CEILING,
    }
    canonical = json.dumps(rules, sort_keys=True, separators=(",", ":"))
    return {**rules, "version": hashlib.sha256(canonical.encode()).hexdigest()[:12]}


# What a checklist version document carries as "scoring"; "version" changes with any rule.
RULES: dict[str, Any] = _document()


def scoring_rules() -> dict[str, Any]:
    """A copy of the rules, JSON-able, for the checklist version document."""
    return json.loads(json.dumps(RULES))
