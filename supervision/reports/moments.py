"""The visit's timers — the moments the collector pressed — as the one source of every time and
duration the report prints: the timeline, the key durations, the header's duration."""

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from supervision.checklists.definition import MOMENT_LABELS, MOMENTS
from supervision.reports import labels

MARKS = {"dispute": "peak", "departure": "end"}
# A stated duration may differ from its timer by this many whole minutes (see timer_mismatch).
TIMER_TOLERANCE_MINUTES = 1


def moment_times(visit, tz: ZoneInfo) -> list[tuple[str, datetime]]:
    """The pressed moments in time order, as aware local times (bad entries are skipped)."""
    found = []
    for entry in visit.moments or []:
        try:
            at = datetime.fromisoformat(str(entry["at"]))
        except (KeyError, TypeError, ValueError):
            continue
        if at.tzinfo is not None:
            found.append((str(entry.get("moment")), at.astimezone(tz)))
    return sorted(found, key=lambda pair: pair[1])


def phase_of(moment_id: str, definition) -> str | None:
    """The key moment a timed moment belongs to; versions stored before timed moments named
    one fall back on an id that starts with it."""
    named = next((m.moment for m in definition.moments if m.id == moment_id), None)
    return named or next((m for m in MOMENTS if moment_id.startswith(m)), None)


def phase_times(times, definition) -> dict[str, str]:
    """The first pressed time of each key moment, 'HH:MM:SS', to date the facts of its items."""
    first: dict[str, str] = {}
    for moment_id, at in times:
        phase = phase_of(moment_id, definition)
        if phase:
            first.setdefault(phase, at.strftime("%H:%M:%S"))
    return first


def timed_span(times) -> float | None:
    """Seconds from the first press to the last: the visit's duration when it was timed."""
    return (times[-1][1] - times[0][1]).total_seconds() if len(times) > 1 else None


def timeline(times, definition, lang: str) -> dict | None:
    if not times:
        return None
    titles = {m.id: labels.pick(m.title, lang) for m in definition.moments}
    entries, previous = [], None
    for moment_id, at in times:
        phase = phase_of(moment_id, definition)
        entries.append({
            "label": titles.get(moment_id, moment_id),
            "phase": labels.pick(MOMENT_LABELS[phase], lang) if phase else "",
            "phase_id": phase,
            "time": at.strftime("%H:%M:%S"),
            "since": labels.duration((at - previous).total_seconds(), lang) if previous else "",
            "mark": MARKS.get(phase),
        })
        previous = at
    return {"entries": entries, "intervals": intervals(times, definition, lang)}


def interval_seconds(times, definition) -> dict[str, float]:
    """interval id → seconds, for the checklist's intervals whose two moments were both
    pressed (the first press counts)."""
    first: dict[str, datetime] = {}
    for moment_id, at in times:
        first.setdefault(moment_id, at)
    return {i.id: (first[i.end] - first[i.start]).total_seconds()
            for i in definition.intervals if i.start in first and i.end in first}


def intervals(times, definition, lang: str) -> list[dict]:
    seconds = interval_seconds(times, definition)
    return [{"key": i.id, "label": labels.pick(i.label, lang),
             "value": labels.duration(seconds[i.id], lang), "seconds": seconds[i.id],
             "mark": "peak" if i.peak else None}
            for i in definition.intervals if i.id in seconds]


def whole_minutes(seconds: float) -> int:
    """Seconds to whole minutes, half up (9 min 30 s → 10), as people round a clock."""
    return math.floor(seconds / 60 + 0.5)


def timer_mismatch(answer: float, timer_minutes: int) -> bool:
    """Whether a stated number of minutes contradicts the timer. The shopper states whole
    minutes read off a watch, the timer has seconds: rounded to the minute both speak the same
    grain, and one minute either way absorbs a button pressed a little late or a clock read at
    the turn of a minute. More than that is a different story ("waited 15 minutes", timers 9)."""
    return abs(answer - timer_minutes) > TIMER_TOLERANCE_MINUTES
