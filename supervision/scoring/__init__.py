"""Pure scoring of visits against checklist definitions (no Flask, no database)."""

from supervision.checklists.definition import Answer
from supervision.scoring.engine import (
    EMPTY_TOTAL,
    MUST_BE_FACTOR,
    PEAK_END_FACTOR,
    ItemScore,
    RedLine,
    ScoreResult,
    Subtotal,
    heatmap,
    item_fraction,
    score_visit,
)

__all__ = [
    "EMPTY_TOTAL",
    "MUST_BE_FACTOR",
    "PEAK_END_FACTOR",
    "Answer",
    "ItemScore",
    "RedLine",
    "ScoreResult",
    "Subtotal",
    "heatmap",
    "item_fraction",
    "score_visit",
]
