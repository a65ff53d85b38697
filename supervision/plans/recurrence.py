"""When a plan's visits fall due: pure date arithmetic on local calendar days.

A recurrence is one of:
- {"every_days": N}: the start day, then every N days;
- {"per_month": N}: N days spread evenly through each calendar month: the k-th (k = 0…N−1) on
  day 1 + ⌊k × days-in-month ÷ N⌋ — twice a month is the 1st and the 15th (February) or 16th;
- {"weekdays": [d, …]}: each of those weekdays (Monday 0 … Sunday 6).
"""

import calendar
from collections.abc import Iterator
from datetime import date, timedelta

KINDS = ("every_days", "per_month", "weekdays")
LIMITS = {"every_days": (1, 366), "per_month": (1, 28)}


def problems(recurrence) -> dict[str, list[str]]:
    """What is wrong with a recurrence, by field (empty when it is right)."""
    if (not isinstance(recurrence, dict) or len(recurrence) != 1
            or next(iter(recurrence)) not in KINDS):
        return {"recurrence": [f"Give exactly one of: {', '.join(KINDS)}."]}
    kind, value = next(iter(recurrence.items()))
    if kind == "weekdays":
        if (not isinstance(value, list) or not value
                or any(type(d) is not int or not 0 <= d <= 6 for d in value)):
            return {kind: ["A list of weekdays, 0 (Monday) to 6 (Sunday)."]}
        return {}
    low, high = LIMITS[kind]
    if type(value) is not int or not low <= value <= high:
        return {kind: [f"A whole number from {low} to {high}."]}
    return {}


def occurrences(recurrence: dict, starts_on: date, ends_on: date | None,
                after: date | None, until: date) -> list[date]:
    """The due days from `starts_on` (and after `after`, when given) to `until` and `ends_on`,
    both included, in order."""
    last = min(until, ends_on) if ends_on else until
    first = max(starts_on, after + timedelta(days=1)) if after else starts_on
    if first > last:
        return []
    return list(_between(_days(recurrence, starts_on, first), last))


def _between(days: Iterator[date], last: date) -> Iterator[date]:
    for day in days:
        if day > last:
            return
        yield day


def _days(recurrence: dict, starts_on: date, first: date) -> Iterator[date]:
    """The due days from `first` on, without end."""
    kind, value = next(iter(recurrence.items()))
    if kind == "every_days":
        skip = -(-(first - starts_on).days // value)  # whole periods before `first`, rounded up
        day = starts_on + timedelta(days=skip * value)
        while True:
            yield day
            day += timedelta(days=value)
    elif kind == "weekdays":
        wanted = set(value)
        day = first
        while True:
            if day.weekday() in wanted:
                yield day
            day += timedelta(days=1)
    else:
        year, month = first.year, first.month
        while True:
            length = calendar.monthrange(year, month)[1]
            for k in range(value):
                day = date(year, month, 1 + k * length // value)
                if day >= first:
                    yield day
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def next_after(recurrence: dict, starts_on: date, day: date) -> date:
    """The first due day after `day` (a plan without end)."""
    return next(_days(recurrence, starts_on, max(starts_on, day + timedelta(days=1))))
