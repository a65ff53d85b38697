"""Immutable checklist definitions, answers and conditions: the pure core (no Flask, no DB)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import timedelta
from functools import cached_property
from types import MappingProxyType
from typing import Any

FUNCTIONS = ("sales", "image", "service", "transaction", "consultation", "information")
MOMENTS = (
    "arrival", "waiting", "consultation", "transaction", "experience", "dispute", "departure",
)
# Customers remember the peak (often a dispute) and the end (峰终定律): these moments weigh more.
PEAK_END_MOMENTS = ("dispute", "departure")
KINDS = ("audit", "mystery")
ITEM_TYPES = ("yes_no", "scale", "number", "choice", "text")
KANO_CLASSES = ("must_be", "performance", "delighter")
PHOTO_RULES = ("none", "optional", "required")
DIRECTIONS = ("lower", "higher")
SCALE = (1, 2, 3, 4, 5)
# What the code looks up by role, never by id: the item that says staff filled in a dispute
# record (review fails it when the store has none), the shopper's written overall impression and
# best moment (page one of the mystery report), and the interval that is the queue wait.
ITEM_ROLES = ("dispute_record", "impression", "best_moment")
# The interval of role `dwell` measures the time spent in the store (the shortest plausible
# one is set by `min_dwell_minutes`, see below).
INTERVAL_ROLES = ("queue_wait", "dwell")
# Fields added later are left out of `to_dict` while unset, so older files keep their hash.
SPARSE = MappingProxyType({"sparse": True})
# The store's query window after a mystery result is published: 72 hours unless the checklist
# says otherwise, a week at most (what mystery-shopping providers give).
QUERY_WINDOW_HOURS, QUERY_WINDOW_MAX_HOURS = 72, 168
FOLLOWUP_DAYS, FOLLOWUP_MAX_DAYS = 15, 90  # a re-check at 15 days, as mystery providers do


@dataclass(frozen=True)
class Text:
    """A text in both languages; `get(lang)` gives Chinese for any `zh*` tag, English otherwise."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang.lower().startswith("zh") else self.en


FUNCTION_LABELS: Mapping[str, Text] = MappingProxyType({
    "sales": Text("营销", "Sales"),
    "image": Text("形象展示", "Company image"),
    "service": Text("优质服务", "Quality service"),
    "transaction": Text("业务受理", "Transactions"),
    "consultation": Text("业务咨询", "Consultation"),
    "information": Text("信息收集", "Information collection"),
})
MOMENT_LABELS: Mapping[str, Text] = MappingProxyType({
    "arrival": Text("到来", "Arrival"),
    "waiting": Text("等候/引导", "Waiting and guidance"),
    "consultation": Text("咨询", "Consultation"),
    "transaction": Text("办理", "Transaction"),
    "experience": Text("体验/选购", "Experience and purchase"),
    "dispute": Text("争议", "Dispute"),
    "departure": Text("离开", "Departure"),
})


@dataclass(frozen=True)
class Condition:
    """The owner applies only when the earlier item `item` was answered with `equals`."""

    item: str
    equals: Any


@dataclass(frozen=True)
class PhotoRule:
    rule: str = "none"
    min: int = 0


@dataclass(frozen=True)
class Thresholds:
    """At or better than `good` scores 1, at or worse than `fail` scores 0, linear between."""

    good: float
    fail: float
    better: str


@dataclass(frozen=True)
class Option:
    """One answer of a choice item; `score` is the fraction of the item's points it earns."""

    id: str
    label: Text
    score: float


@dataclass(frozen=True)
class Grade:
    """A band: totals of at least `min` (0–100) get this grade."""

    id: str
    label: Text
    min: float


@dataclass(frozen=True)
class TimedMoment:
    """A point of the visit the mystery shopper timestamps, and the key moment it belongs to
    (None only in versions stored before timed moments named one)."""

    id: str
    title: Text
    moment: str | None = None


@dataclass(frozen=True)
class Interval:
    """A duration the reports show: from the timed moment `start` to the timed moment `end`."""

    id: str
    start: str
    end: str
    label: Text
    role: str | None = None
    peak: bool = False


DEFAULT_GRADES = (
    Grade("excellent", Text("优秀", "Excellent"), 90.0),
    Grade("good", Text("良好", "Good"), 80.0),
    Grade("pass", Text("合格", "Pass"), 60.0),
    Grade("fail", Text("不合格", "Fail"), 0.0),
)


@dataclass(frozen=True)
class Item:
    """One question; after loading, `function` and `moment` are both set (one inherited)."""

    id: str
    text: Text
    type: str
    function: str
    moment: str
    kano: str | None = None
    scored: bool = True
    weight: float = 1.0
    red_line: bool = False
    inverse: bool = False
    required: bool = True
    allow_na: bool = False
    condition: Condition | None = None
    photo: PhotoRule = PhotoRule()
    unit: Text | None = None
    thresholds: Thresholds | None = None
    options: tuple[Option, ...] = ()
    # For the collector only (how to observe, where to stand, which button): never in a report.
    guidance: Text | None = None
    coaching_question: Text | None = None
    script: Text | None = None
    role: str | None = field(default=None, metadata=SPARSE)
    # For the store: what good looks like, in the third person.
    standard: Text | None = field(default=None, metadata=SPARSE)
    # The item as the store reads it, where `text` is written to the collector ("you waited…").
    report_text: Text | None = field(default=None, metadata=SPARSE)
    # A number item that states the duration of this interval (by id): the timers are the truth.
    interval: str | None = field(default=None, metadata=SPARSE)
    # A scenario item (yes_no): answered yes, the visit cannot plausibly last less than this
    # many minutes (the dwell interval's timers); a shorter one is flagged to the reviewer.
    min_dwell_minutes: int | None = field(default=None, metadata=SPARSE)


@dataclass(frozen=True)
class Section:
    """A group of items organised by exactly one storefront function or one key moment."""

    id: str
    title: Text
    function: str | None = None
    moment: str | None = None
    condition: Condition | None = None
    items: tuple[Item, ...] = ()


@dataclass(frozen=True)
class ChecklistDefinition:
    slug: str
    title: Text
    kind: str
    description: Text | None = None
    grades: tuple[Grade, ...] = DEFAULT_GRADES
    moments: tuple[TimedMoment, ...] = ()
    intervals: tuple[Interval, ...] = field(default=(), metadata=SPARSE)
    sections: tuple[Section, ...] = ()
    # How long a store may query a published result, in hours (None: QUERY_WINDOW_HOURS).
    query_window_hours: int | None = field(default=None, metadata=SPARSE)
    # The shortest plausible visit of any scenario, in minutes (its dwell interval's timers).
    min_dwell_minutes: int | None = field(default=None, metadata=SPARSE)
    # Days within which a failed visit is followed up by a re-visit (None: FOLLOWUP_DAYS).
    followup_days: int | None = field(default=None, metadata=SPARSE)

    @property
    def query_window(self) -> timedelta:
        return timedelta(hours=self.query_window_hours or QUERY_WINDOW_HOURS)

    @property
    def followup_delay_days(self) -> int:
        return self.followup_days or FOLLOWUP_DAYS

    def items(self) -> Iterator[tuple[Section, Item]]:
        """Every (section, item) pair in document order."""
        for section in self.sections:
            for item in section.items:
                yield section, item

    def item(self, item_id: str) -> Item:
        return self._index[item_id][1]

    def section_of(self, item_id: str) -> Section:
        return self._index[item_id][0]

    def item_for(self, role: str) -> Item | None:
        """The item playing `role` (see ITEM_ROLES), if this checklist has one."""
        return next((item for _, item in self.items() if item.role == role), None)

    def interval_for(self, role: str) -> Interval | None:
        return next((i for i in self.intervals if i.role == role), None)

    def grade_for(self, total: float) -> Grade:
        """The band of highest `min` that `total` reaches (grades are stored highest first)."""
        return next((g for g in self.grades if total >= g.min), self.grades[-1])

    @cached_property
    def _index(self) -> dict[str, tuple[Section, Item]]:
        return {item.id: (section, item) for section, item in self.items()}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data with every field present (SPARSE ones only when set);
        `from_dict` is its exact inverse."""
        return _plain(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChecklistDefinition:
        return _build(cls, data, {
            "title": _text,
            "description": _text,
            "grades": _many(lambda g: _build(Grade, g, {"label": _text})),
            "moments": _many(lambda m: _build(TimedMoment, m, {"title": _text})),
            "intervals": _many(lambda i: _build(Interval, i, {"label": _text})),
            "sections": _many(_section),
        })


def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)
                if not (f.metadata.get("sparse") and getattr(value, f.name) == f.default)}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _build(cls: type, data: Mapping[str, Any], parts: Mapping[str, Callable[[Any], Any]]) -> Any:
    """`cls(**data)` with the nested values listed in `parts` converted; None stays None."""
    return cls(**{
        key: parts[key](value) if key in parts and value is not None else value
        for key, value in data.items()
    })


def _many(convert: Callable[[Any], Any]) -> Callable[[list], tuple]:
    return lambda values: tuple(convert(v) for v in values)


def _text(data: Mapping[str, str]) -> Text:
    return Text(**data)


def _section(data: Mapping[str, Any]) -> Section:
    return _build(Section, data, {"title": _text, "condition": _condition, "items": _many(_item)})


def _condition(data: Mapping[str, Any]) -> Condition:
    return Condition(**data)


def _item(data: Mapping[str, Any]) -> Item:
    return _build(Item, data, {
        **dict.fromkeys(("text", "unit", "guidance", "coaching_question", "script", "standard",
                        "report_text"), _text),
        "condition": _condition,
        "photo": lambda p: PhotoRule(**p),
        "thresholds": lambda t: Thresholds(**t),
        "options": _many(lambda o: _build(Option, o, {"label": _text})),
    })


@dataclass(frozen=True)
class Answer:
    """A recorded answer; `na=True` means "not applicable here" and ignores `value`."""

    value: Any = None
    na: bool = False

    @classmethod
    def of(cls, raw: Answer | Mapping[str, Any]) -> Answer:
        """Accept an Answer or a plain `{"value": ..., "na": ...}` mapping."""
        if isinstance(raw, Answer):
            return raw
        return cls(raw.get("value"), bool(raw.get("na", False)))


Answers = Mapping[str, Answer | Mapping[str, Any]]


def validate_answer(item: Item, value: Any, na: bool = False) -> str | None:
    """A human-readable problem with the answer, or None when it is acceptable."""
    if na:
        return None if item.allow_na else "Not applicable is not allowed for this item."
    if item.type == "yes_no":
        return None if isinstance(value, bool) else "Must be true or false."
    if item.type == "scale":
        return None if _is_number(value) and value in SCALE else "Must be one of 1..5."
    if item.type == "number":
        return None if _is_number(value) and value >= 0 else "Must be a number ≥ 0."
    if item.type == "choice":
        ids = [option.id for option in item.options]
        return None if value in ids else f"Must be one of: {', '.join(ids)}."
    return None if isinstance(value, str) else "Must be text."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def applies(definition: ChecklistDefinition, target: Section | Item, answers: Answers) -> bool:
    """Whether a section or item is in play, given the answers so far (an item needs its section).

    A condition holds only when its item itself applies and was answered (not N/A) with
    exactly the expected value; an unanswered condition item therefore switches the owner off.
    """
    if isinstance(target, Item):
        if not applies(definition, definition.section_of(target.id), answers):
            return False
    condition = target.condition
    if condition is None:
        return True
    raw = answers.get(condition.item)
    if raw is None or not applies(definition, definition.item(condition.item), answers):
        return False
    answer = Answer.of(raw)
    return not answer.na and answer.value == condition.equals


def missing_required(definition: ChecklistDefinition, answers: Answers) -> list[Item]:
    """Required items that apply but have no answer yet (what blocks a submission)."""
    return [
        item for _, item in definition.items()
        if item.required and item.id not in answers and applies(definition, item, answers)
    ]
