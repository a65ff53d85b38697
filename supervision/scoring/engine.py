"""Score a visit against its checklist, item by item: Kano classes, peak–end, red lines."""

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Any

from supervision.checklists.definition import (
    FUNCTIONS,
    MOMENTS,
    PEAK_END_MOMENTS,
    SCALE,
    Answer,
    Answers,
    ChecklistDefinition,
    Grade,
    Item,
    Section,
    Text,
    applies,
    validate_answer,
)
from supervision.scoring.rules import (
    EMPTY_TOTAL,
    FULL_MARKS,
    KANO,
    LOST_CEILING,
    MUST_BE_FACTOR,
    PEAK_END_FACTOR,
    PERCENT_DECIMALS,
    RED_LINE_PERCENT,
    round_half_up,
)

FORMULA = (
    f"total = min(ceiling, base + bonus_points), rounded half up to {PERCENT_DECIMALS} "
    f"decimal(s); base = {FULL_MARKS:g} × earned / possible; bonus_points = {FULL_MARKS:g} × "
    f"bonus / possible; ceiling = {FULL_MARKS:g}, or {LOST_CEILING:g} once any must-be or "
    f"performance point was lost; {RED_LINE_PERCENT:g} when a red line failed; "
    f"{EMPTY_TOTAL:g} when nothing was possible; "
    "possible = weight × peak-end factor × Kano factor"
)


@dataclass(frozen=True)
class ItemScore:
    """How one item contributed: `possible` is its stake, `earned` its share of it."""

    item: str
    section: str
    function: str
    moment: str
    kano: str | None
    status: str
    weight_factor: float
    fraction: float | None = None
    earned: float = 0.0
    possible: float = 0.0
    bonus: float = 0.0


@dataclass(frozen=True)
class Subtotal:
    """Points of a group of items; a failed red line inside zeroes the whole group. Its delighter
    bonus is kept beside the points earned, never mixed into the group's percent."""

    earned: float
    bonus: float
    max: float
    red_line: bool
    lost: bool = False  # some must-be or performance point of the group was not earned

    @property
    def score(self) -> float:
        """The points the group counts: what it earned, nothing with a failed red line."""
        return 0.0 if self.red_line else self.earned

    @property
    def ceiling(self) -> float:
        return LOST_CEILING if self.lost else FULL_MARKS

    @property
    def percent(self) -> float | None:
        """Earned of possible, bonus left out, 0–100 rounded half up; None when nothing was owed."""
        if self.red_line:
            return RED_LINE_PERCENT
        if self.max == 0:
            return None
        return round_half_up(min(self.ceiling, FULL_MARKS * self.earned / self.max))

    @property
    def total(self) -> float:
        """The group's percent with its bonus added, below full marks if a point was lost."""
        if self.red_line:
            return RED_LINE_PERCENT
        if self.max == 0:
            return EMPTY_TOTAL
        base = FULL_MARKS * self.earned / self.max
        bonus_points = FULL_MARKS * self.bonus / self.max
        return round_half_up(min(self.ceiling, base + bonus_points))

    def to_dict(self) -> dict[str, Any]:
        return {"score": round(self.score, 3), "earned": round(self.earned, 3),
                "max": round(self.max, 3), "bonus": round(self.bonus, 3), "percent": self.percent}


@dataclass(frozen=True)
class RedLine:
    item: str
    section: str
    text: Text


@dataclass(frozen=True)
class ScoreResult:
    total: float
    grade: Grade
    red_lines: tuple[RedLine, ...]
    items: tuple[ItemScore, ...]
    overall: Subtotal
    sections: Mapping[str, Subtotal]
    moments: Mapping[str, Subtotal]
    functions: Mapping[str, Subtotal]
    grid: Mapping[tuple[str, str], Subtotal]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "grade": {"id": self.grade.id, "label": _text(self.grade.label), "min": self.grade.min},
            "red_lines": [{"item": r.item, "section": r.section, "text": _text(r.text)}
                          for r in self.red_lines],
            "sections": _rows(self.sections),
            "moments": _rows(self.moments),
            "functions": _rows(self.functions),
            "grid": [{"function": function, "moment": moment, **subtotal.to_dict()}
                     for (function, moment), subtotal in self.grid.items()],
            "items": [_item_row(s) for s in self.items],
            "explanation": {
                "earned": round(self.overall.earned, 3),
                "bonus": round(self.overall.bonus, 3),
                "possible": round(self.overall.max, 3),
                **_points_of(self.overall),
                "red_line": self.overall.red_line,
                "must_be_factor": MUST_BE_FACTOR,
                "peak_end_factor": PEAK_END_FACTOR,
                "peak_end_moments": list(PEAK_END_MOMENTS),
                "formula": FORMULA,
            },
        }


def _points_of(overall: Subtotal) -> dict[str, float | None]:
    """The total's two parts in points out of FULL_MARKS, and its cap; None with nothing owed."""
    if overall.max == 0:
        return {"base": None, "bonus_points": None, "ceiling": overall.ceiling}
    return {"base": round_half_up(FULL_MARKS * overall.earned / overall.max),
            "bonus_points": round_half_up(FULL_MARKS * overall.bonus / overall.max),
            "ceiling": overall.ceiling}


def _text(text: Text) -> dict[str, str]:
    return {"zh": text.zh, "en": text.en}


def _rows(groups: Mapping[str, Subtotal]) -> list[dict[str, Any]]:
    return [{"id": key, **subtotal.to_dict()} for key, subtotal in groups.items()]


def _item_row(s: ItemScore) -> dict[str, Any]:
    return {
        "item": s.item, "section": s.section, "function": s.function, "moment": s.moment,
        "kano": s.kano, "status": s.status, "weight_factor": s.weight_factor,
        "fraction": None if s.fraction is None else round(s.fraction, 4),
        "earned": round(s.earned, 3), "possible": round(s.possible, 3), "bonus": round(s.bonus, 3),
    }


def score_visit(definition: ChecklistDefinition, answers: Answers) -> ScoreResult:
    """Score `answers` (item id → Answer or {"value", "na"}); raises ValueError on a bad value."""
    answers = {key: Answer.of(raw) for key, raw in answers.items()}
    scores = tuple(_score_item(definition, s, item, answers) for s, item in definition.items())
    overall = _tally(scores)
    return ScoreResult(
        total=overall.total,
        grade=definition.grade_for(overall.total),
        red_lines=tuple(
            RedLine(s.item, s.section, definition.item(s.item).text)
            for s in scores if s.status == "red_line"
        ),
        items=scores,
        overall=overall,
        sections=_group(scores, lambda s: s.section, [s.id for s in definition.sections]),
        moments=_group(scores, lambda s: s.moment, MOMENTS),
        functions=_group(scores, lambda s: s.function, FUNCTIONS),
        grid=_group(scores, lambda s: (s.function, s.moment), product(FUNCTIONS, MOMENTS)),
    )


def heatmap(result: ScoreResult) -> dict[tuple[str, str], float | None]:
    """Percent per (function, moment) cell that has items, for the reports' heat map."""
    return {cell: subtotal.percent for cell, subtotal in result.grid.items()}


def _score_item(definition: ChecklistDefinition, section: Section, item: Item,
                answers: Mapping[str, Answer]) -> ItemScore:
    factor = PEAK_END_FACTOR if item.moment in PEAK_END_MOMENTS else 1.0
    base = {"item": item.id, "section": section.id, "function": item.function,
            "moment": item.moment, "kano": item.kano, "weight_factor": factor}
    answer = answers.get(item.id)
    if not applies(definition, item, answers):
        return ItemScore(**base, status="not_applicable")
    if not item.scored:
        return ItemScore(**base, status="unscored")
    points = KANO[item.kano]["points"]
    stake = item.weight * factor * KANO[item.kano]["factor"]
    if answer is None:
        # Required but unanswered scores 0 of its stake; an optional one leaves the denominator.
        possible = stake if item.required and points != "bonus" else 0.0
        return ItemScore(**base, status="unanswered", possible=possible)
    if answer.na:
        return ItemScore(**base, status="na")
    if problem := validate_answer(item, answer.value):
        raise ValueError(f"Item {item.id}: {problem}")
    fraction = item_fraction(item, answer.value)
    return ItemScore(**base, status=_status(item, points, fraction), fraction=fraction,
                     **_points(points, fraction, stake))


def item_fraction(item: Item, value: Any) -> float:
    """How fully a valid answer meets the item, from 0 to 1."""
    if item.type == "yes_no":
        return float(value != item.inverse)
    if item.type == "scale":
        return (value - SCALE[0]) / (SCALE[-1] - SCALE[0])
    if item.type == "number":
        good, fail = item.thresholds.good, item.thresholds.fail
        return min(1.0, max(0.0, (value - fail) / (good - fail)))
    return next(option.score for option in item.options if option.id == value)


def _points(points: str, fraction: float, stake: float) -> dict[str, float]:
    """What an answer earns under its Kano class's rule (rules.KANO)."""
    if points == "bonus":
        return {"bonus": stake * fraction}
    if points == "all_or_nothing":
        return {"earned": stake if fraction == 1 else 0.0, "possible": stake}
    return {"earned": stake * fraction, "possible": stake}


def _status(item: Item, points: str, fraction: float) -> str:
    if fraction == 1:
        return "met"
    if points == "bonus":
        # A delighter only adds: not delivered is no failure, just no bonus (未加分).
        return "no_bonus" if fraction == 0 else "partial"
    if item.red_line:
        return "red_line"
    if points == "all_or_nothing" or fraction == 0:
        return "failed"
    return "partial"


def subtotal_of(rows: Iterable[Mapping[str, Any]]) -> Subtotal:
    """The subtotal of item rows ({"status", "earned", "possible", "bonus"}), such as the
    "items" of a stored score: reports group them by cell or section, old scores included."""
    rows = list(rows)
    return Subtotal(
        earned=sum(row["earned"] for row in rows),
        bonus=sum(row["bonus"] for row in rows),
        max=sum(row["possible"] for row in rows),
        red_line=any(row["status"] == "red_line" for row in rows),
        lost=any(row["earned"] < row["possible"] for row in rows),
    )


def _tally(scores: Iterable[ItemScore]) -> Subtotal:
    return subtotal_of(vars(score) for score in scores)


def _group(scores: Iterable[ItemScore], key: Callable[[ItemScore], Hashable],
           order: Iterable[Hashable]) -> dict[Any, Subtotal]:
    """Subtotals per group, in the canonical `order`, for the groups that have items."""
    groups: dict[Hashable, list[ItemScore]] = defaultdict(list)
    for score in scores:
        groups[key(score)].append(score)
    return {k: _tally(groups[k]) for k in order if k in groups}
