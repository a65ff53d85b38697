"""Pure scoring of visits against checklist definitions (no Flask, no database)."""

from supervision.checklists.definition import Answer
from supervision.scoring.engine import (
    ItemScore,
    RedLine,
    ScoreResult,
    Subtotal,
    heatmap,
    item_fraction,
    score_visit,
    subtotal_of,
)
from supervision.scoring.rules import (
    EMPTY_TOTAL,
    LOST_CEILING,
    MUST_BE_FACTOR,
    PEAK_END_FACTOR,
    RULES,
    scoring_rules,
)

__all__ = [
    "EMPTY_TOTAL",
    "LOST_CEILING",
    "MUST_BE_FACTOR",
    "PEAK_END_FACTOR",
    "RULES",
    "Answer",
    "ItemScore",
    "RedLine",
    "ScoreResult",
    "Subtotal",
    "heatmap",
    "item_fraction",
    "score_visit",
    "scoring_rules",
    "subtotal_of",
]
