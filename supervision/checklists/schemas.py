"""Marshmallow schemas that validate a checklist document and build its ChecklistDefinition."""

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from supervision.checklists.definition import (
    DIRECTIONS,
    FOLLOWUP_MAX_DAYS,
    FUNCTIONS,
    INTERVAL_ROLES,
    ITEM_ROLES,
    ITEM_TYPES,
    KANO_CLASSES,
    KINDS,
    MOMENTS,
    PHOTO_RULES,
    QUERY_WINDOW_MAX_HOURS,
    ChecklistDefinition,
    Condition,
    Grade,
    Interval,
    Item,
    Option,
    PhotoRule,
    Section,
    Text,
    Thresholds,
    TimedMoment,
    validate_answer,
)

Problem = tuple[tuple[str | int, ...], str]

# Roles whose item the reports quote as written: the shopper's own words.
TEXT_ROLES = ("impression", "best_moment")

# Ids and slugs are stored in columns of 64 characters (answers, photos, actions name items).
ID = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error=(
    "Must be an id of lower-case letters, digits and underscores (at most 64)."))
SLUG = validate.Regexp(r"^(?=.{1,64}$)[a-z0-9]+(-[a-z0-9]+)*$", error=(
    "Must be a slug of lower-case letters, digits and dashes (at most 64)."))
AT_LEAST_ZERO = validate.Range(min=0, error="Must be ≥ 0.")
# A dwell minimum: a whole number of minutes, at most a working day.
DWELL_MINUTES = validate.Range(min=1, max=480, error="Must be between 1 and 480 minutes.")


def _translated(value: str) -> None:
    if not value.strip():
        raise ValidationError("Missing translation.")


def _nest(problems: Iterable[Problem]) -> dict:
    """Turn (path, message) pairs into marshmallow's nested error dictionary."""
    errors: dict = {}
    for path, message in problems:
        node = errors
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node.setdefault(path[-1], []).append(message)
    return errors


def _raise_any(problems: Iterable[Problem]) -> None:
    errors = _nest(problems)
    if errors:
        raise ValidationError(errors)


def _one_of(choices: Sequence[str]) -> validate.OneOf:
    return validate.OneOf(choices, error=f"Must be one of: {', '.join(choices)}.")


def _optional_text() -> fields.Nested:
    return fields.Nested(TextSchema, allow_none=True)


class TextSchema(Schema):
    zh = fields.String(required=True, validate=_translated,
                       error_messages={"required": "Missing translation."})
    en = fields.String(required=True, validate=_translated,
                       error_messages={"required": "Missing translation."})

    @post_load
    def make(self, data: dict, **kwargs: Any) -> Text:
        return Text(zh=data["zh"].strip(), en=data["en"].strip())


class ConditionSchema(Schema):
    item = fields.String(required=True, validate=ID)
    equals = fields.Raw(required=True)

    @post_load
    def make(self, data: dict, **kwargs: Any) -> Condition:
        return Condition(**data)


class PhotoSchema(Schema):
    rule = fields.String(required=True, validate=_one_of(PHOTO_RULES))
    min = fields.Integer(strict=True, validate=AT_LEAST_ZERO)

    @validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        if data["rule"] == "required" and data.get("min") == 0:
            raise ValidationError("A required photo needs min ≥ 1.", "min")
        if data["rule"] == "none" and data.get("min"):
            raise ValidationError("No photo is taken when the rule is none; remove min.", "min")

    @post_load
    def make(self, data: dict, **kwargs: Any) -> PhotoRule:
        default_min = 1 if data["rule"] == "required" else 0
        return PhotoRule(data["rule"], data.get("min", default_min))


class ThresholdsSchema(Schema):
    good = fields.Float(required=True, allow_nan=False)
    fail = fields.Float(required=True, allow_nan=False)
    better = fields.String(required=True, validate=_one_of(DIRECTIONS))

    @validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        good, fail = data["good"], data["fail"]
        if good == fail:
            raise ValidationError("good and fail must differ.", "fail")
        if (good < fail) != (data["better"] == "lower"):
            side = "below" if data["better"] == "lower" else "above"
            raise ValidationError(f"With better: {data['better']}, good must be {side} fail.",
                                  "good")

    @post_load
    def make(self, data: dict, **kwargs: Any) -> Thresholds:
        return Thresholds(**data)


class OptionSchema(Schema):
    id = fields.String(required=True, validate=ID)
    label = fields.Nested(TextSchema, required=True)
    score = fields.Float(required=True, validate=validate.Range(
        min=0, max=1, error="Must be a fraction between 0 and 1."))

    @post_load
    def make(self, data: dict, **kwargs: Any) -> Option:
        return Option(**data)


class ItemSchema(Schema):
    """One item; returns a dict, as its section fills in the inherited function or moment."""

    id = fields.String(required=True, validate=ID)
    text = fields.Nested(TextSchema, required=True)
    type = fields.String(required=True, validate=_one_of(ITEM_TYPES))
    function = fields.String(allow_none=True, validate=_one_of(FUNCTIONS))
    moment = fields.String(allow_none=True, validate=_one_of(MOMENTS))
    kano = fields.String(allow_none=True, validate=_one_of(KANO_CLASSES))
    scored = fields.Boolean()
    weight = fields.Float(allow_nan=False, validate=AT_LEAST_ZERO)
    red_line = fields.Boolean()
    inverse = fields.Boolean()
    required = fields.Boolean()
    allow_na = fields.Boolean()
    condition = fields.Nested(ConditionSchema, allow_none=True)
    photo = fields.Nested(PhotoSchema)
    unit = _optional_text()
    thresholds = fields.Nested(ThresholdsSchema, allow_none=True)
    options = fields.List(fields.Nested(OptionSchema))
    guidance = _optional_text()
    coaching_question = _optional_text()
    script = _optional_text()
    role = fields.String(allow_none=True, validate=_one_of(ITEM_ROLES))
    standard = _optional_text()
    report_text = _optional_text()
    interval = fields.String(allow_none=True, validate=ID)
    min_dwell_minutes = fields.Integer(strict=True, allow_none=True, validate=DWELL_MINUTES)

    @validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        _raise_any([*_scoring_problems(data), *_type_problems(data)])

    @post_load
    def defaults(self, data: dict, **kwargs: Any) -> dict:
        data.setdefault("scored", data["type"] != "text")
        data.setdefault("required", data["type"] != "text")
        if "options" in data:
            data["options"] = tuple(data["options"])
        return data


def _scoring_problems(item: dict) -> Iterator[Problem]:
    scored = item.get("scored", item["type"] != "text")
    if item["type"] == "text" and scored:
        yield ("scored",), "Text items are never scored."
    elif scored and not item.get("kano"):
        yield ("kano",), "A scored item needs a Kano class: must_be, performance or delighter."
    elif not scored and item.get("kano"):
        yield ("kano",), "Only scored items take a Kano class."
    if item.get("red_line") and (item["type"] != "yes_no" or item.get("kano") != "must_be"):
        yield ("red_line",), "A red line must be a yes_no item of Kano class must_be."
    if item.get("inverse") and item["type"] != "yes_no":
        yield ("inverse",), "Only yes_no items can be inverse."


def _type_problems(item: dict) -> Iterator[Problem]:
    kind, options = item["type"], item.get("options") or []
    if kind == "number" and not item.get("thresholds"):
        yield ("thresholds",), "A number item needs thresholds: good, fail and better."
    for key in ("thresholds", "unit"):
        if kind != "number" and item.get(key):
            yield (key,), f"Only number items take {key}."
    if kind == "choice" and len(options) < 2:
        yield ("options",), "A choice item needs at least two options."
    if kind != "choice" and options:
        yield ("options",), "Only choice items take options."
    yield from _duplicates(("options",), [option.id for option in options], "option id")
    if item.get("role") == "dispute_record" and kind != "yes_no":
        yield ("role",), "Only a yes_no item can be the dispute_record: review sets it to failed."
    if item.get("role") in TEXT_ROLES and kind != "text":
        yield ("role",), f"Only a text item can be the {item['role']}: reports quote it as written."
    if item.get("interval") and kind != "number":
        yield ("interval",), "Only number items state the duration of an interval."
    if item.get("min_dwell_minutes") and kind != "yes_no":
        yield ("min_dwell_minutes",), (
            "Only a yes_no scenario item sets a minimum dwell (it applies when answered yes).")


def _duplicates(path: tuple, ids: list[str], what: str) -> Iterator[Problem]:
    """A problem at every repeat of an id, pointing at the repeat."""
    seen: set[str] = set()
    for index, ident in enumerate(ids):
        if ident in seen:
            yield (*path, index, "id"), f"Duplicate {what}."
        seen.add(ident)


class SectionSchema(Schema):
    id = fields.String(required=True, validate=ID)
    title = fields.Nested(TextSchema, required=True)
    function = fields.String(allow_none=True, validate=_one_of(FUNCTIONS))
    moment = fields.String(allow_none=True, validate=_one_of(MOMENTS))
    condition = fields.Nested(ConditionSchema, allow_none=True)
    items = fields.List(fields.Nested(ItemSchema), required=True,
                        validate=validate.Length(min=1, error="A section needs at least one item."))

    @validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        if bool(data.get("function")) == bool(data.get("moment")):
            raise ValidationError("A section is organised by either a function or a moment.")
        _raise_any(_tag_problems(data))

    @post_load
    def make(self, data: dict, **kwargs: Any) -> Section:
        axis = _axis(data)
        items = tuple(Item(**{**item, axis: data[axis]}) for item in data.pop("items"))
        return Section(**data, items=items)


def _axis(section: dict) -> str:
    return "function" if section.get("function") else "moment"


def _tag_problems(section: dict) -> Iterator[Problem]:
    """Each item inherits its section's axis and must name the other one."""
    axis = _axis(section)
    other = "moment" if axis == "function" else "function"
    for index, item in enumerate(section["items"]):
        if item.get(axis) not in (None, section[axis]):
            yield ("items", index, axis), f"The section's {axis} is {section[axis]}; remove it."
        if not item.get(other):
            yield ("items", index, other), (
                f"Missing {other}: items of a section organised by {axis} name their {other}."
            )


class GradeSchema(Schema):
    id = fields.String(required=True, validate=ID)
    label = fields.Nested(TextSchema, required=True)
    min = fields.Float(required=True, validate=validate.Range(
        min=0, max=100, error="Must be between 0 and 100."))

    @post_load
    def make(self, data: dict, **kwargs: Any) -> Grade:
        return Grade(**data)


class TimedMomentSchema(Schema):
    id = fields.String(required=True, validate=ID)
    title = fields.Nested(TextSchema, required=True)
    moment = fields.String(required=True, validate=_one_of(MOMENTS), error_messages={
        "required": "Missing key moment: name the key moment this timed moment belongs to."})

    @post_load
    def make(self, data: dict, **kwargs: Any) -> TimedMoment:
        return TimedMoment(**data)


class IntervalSchema(Schema):
    id = fields.String(required=True, validate=ID)
    start = fields.String(required=True, validate=ID)
    end = fields.String(required=True, validate=ID)
    label = fields.Nested(TextSchema, required=True)
    role = fields.String(allow_none=True, validate=_one_of(INTERVAL_ROLES))
    peak = fields.Boolean()

    @validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        if data["start"] == data["end"]:
            raise ValidationError("The interval starts and ends at the same timed moment.", "end")

    @post_load
    def make(self, data: dict, **kwargs: Any) -> Interval:
        return Interval(**data)


class ChecklistSchema(Schema):
    slug = fields.String(required=True, validate=SLUG)
    title = fields.Nested(TextSchema, required=True)
    kind = fields.String(required=True, validate=_one_of(KINDS))
    description = _optional_text()
    grades = fields.List(fields.Nested(GradeSchema), validate=validate.Length(
        min=1, error="List the grades, or leave grades out for the default bands."))
    moments = fields.List(fields.Nested(TimedMomentSchema))
    intervals = fields.List(fields.Nested(IntervalSchema))
    query_window_hours = fields.Integer(validate=validate.Range(
        min=1, max=QUERY_WINDOW_MAX_HOURS, error="Must be between 1 and 168 hours (a week)."))
    min_dwell_minutes = fields.Integer(strict=True, validate=DWELL_MINUTES)
    followup_days = fields.Integer(strict=True, validate=validate.Range(
        min=1, max=FOLLOWUP_MAX_DAYS, error="Must be between 1 and 90 days."))
    sections = fields.List(fields.Nested(SectionSchema), required=True,
                           validate=validate.Length(min=1, error="A checklist needs sections."))

    @validates_schema
    def check(self, data: dict, **kwargs: Any) -> None:
        sections = data["sections"]
        _raise_any([
            *_duplicates(("sections",), [s.id for s in sections], "section id"),
            *_item_id_problems(sections),
            *_condition_problems(sections),
            *_grade_problems(data.get("grades")),
            *_duplicates(("moments",), [m.id for m in data.get("moments", ())], "moment id"),
            *_interval_problems(data.get("intervals", ()), data.get("moments", ())),
            *_item_interval_problems(sections, data.get("intervals", ())),
            *_dwell_problems(data),
            *_role_problems("item", [(("sections", si, "items", ii), item.id, item.role)
                                     for si, s in enumerate(sections)
                                     for ii, item in enumerate(s.items)]),
        ])

    @post_load
    def make(self, data: dict, **kwargs: Any) -> ChecklistDefinition:
        if "grades" in data:
            data["grades"] = tuple(sorted(data["grades"], key=lambda g: -g.min))
        for key in ("moments", "intervals", "sections"):
            data[key] = tuple(data.get(key, ()))
        return ChecklistDefinition(**data)


def _item_id_problems(sections: Sequence[Section]) -> Iterator[Problem]:
    first: dict[str, str] = {}
    for si, section in enumerate(sections):
        for ii, item in enumerate(section.items):
            if item.id in first:
                yield ("sections", si, "items", ii, "id"), (
                    f"Duplicate item id (first used in section {first[item.id]})."
                )
            first.setdefault(item.id, section.id)


def _role_problems(what: str, owners: list[tuple[tuple, str, str | None]]) -> Iterator[Problem]:
    """The code finds an item or interval by its role: each role is played once at most."""
    first: dict[str, str] = {}
    for path, ident, role in owners:
        if role in first:
            yield (*path, "role"), f"Duplicate role ({what} {first[role]} already has it)."
        elif role:
            first[role] = ident


def _interval_problems(intervals: Sequence[Interval],
                       moments: Sequence[TimedMoment]) -> Iterator[Problem]:
    """Intervals run between timed moments of this checklist; ids and roles are unique."""
    yield from _duplicates(("intervals",), [i.id for i in intervals], "interval id")
    known = {m.id for m in moments}
    for index, interval in enumerate(intervals):
        for key in ("start", "end"):
            if getattr(interval, key) not in known:
                yield ("intervals", index, key), (
                    f"Unknown timed moment '{getattr(interval, key)}'; list it under moments."
                )
    yield from _role_problems("interval", [(("intervals", index), interval.id, interval.role)
                                           for index, interval in enumerate(intervals)])


def _item_interval_problems(sections: Sequence[Section],
                            intervals: Sequence[Interval]) -> Iterator[Problem]:
    """A number item states the duration of an interval listed in this checklist."""
    known = {i.id for i in intervals}
    for si, section in enumerate(sections):
        for ii, item in enumerate(section.items):
            if item.interval and item.interval not in known:
                yield ("sections", si, "items", ii, "interval"), (
                    f"Unknown interval '{item.interval}'; list it under intervals."
                )


def _dwell_problems(data: dict) -> Iterator[Problem]:
    """A minimum dwell is measured by the timers: the checklist needs an interval of role
    dwell (from entering to leaving)."""
    if any(i.role == "dwell" for i in data.get("intervals", ())):
        return
    message = "A minimum dwell needs an interval of role dwell (entering to leaving)."
    if data.get("min_dwell_minutes"):
        yield ("min_dwell_minutes",), message
    for si, section in enumerate(data["sections"]):
        for ii, item in enumerate(section.items):
            if item.min_dwell_minutes:
                yield ("sections", si, "items", ii, "min_dwell_minutes"), message


def _condition_problems(sections: Sequence[Section]) -> Iterator[Problem]:
    """Conditions name an item answered before their owner, with a value that item accepts."""
    every = {item.id: item for section in sections for item in section.items}
    earlier: set[str] = set()
    for si, section in enumerate(sections):
        yield from _check_condition(section.condition, None, ("sections", si), every, earlier)
        for ii, item in enumerate(section.items):
            path = ("sections", si, "items", ii)
            yield from _check_condition(item.condition, item.id, path, every, earlier)
            earlier.add(item.id)


def _check_condition(condition: Condition | None, owner: str | None, path: tuple,
                     every: dict[str, Item], earlier: set[str]) -> Iterator[Problem]:
    if condition is None:
        return
    target, where = condition.item, (*path, "condition", "item")
    if target == owner:
        yield where, "A condition cannot refer to its own item."
    elif target not in every:
        yield where, f"Unknown item '{target}'."
    elif target not in earlier:
        yield where, f"Item '{target}' comes later; a condition may only name an earlier item."
    elif problem := validate_answer(every[target], condition.equals):
        yield (*path, "condition", "equals"), f"Item '{target}' cannot have this answer: {problem}"


def _grade_problems(grades: Sequence[Grade] | None) -> Iterator[Problem]:
    if not grades:
        return
    yield from _duplicates(("grades",), [g.id for g in grades], "grade id")
    mins = Counter(g.min for g in grades)
    for index, grade in enumerate(grades):
        if mins[grade.min] > 1:
            yield ("grades", index, "min"), f"Two grades start at {grade.min:g}."
    if 0 not in mins:
        yield ("grades", len(grades) - 1, "min"), "The lowest grade must start at 0."
