"""The visit's timers as the report prints them: the timeline, the key durations, the header's
duration (read from visits/timers.py, the one source of every time and duration)."""

from supervision.checklists.definition import MOMENT_LABELS, MOMENTS
from supervision.reports import labels
from supervision.visits.timers import interval_seconds

MARKS = {"dispute": "peak", "departure": "end"}


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


def intervals(times, definition, lang: str) -> list[dict]:
    seconds = interval_seconds(times, definition)
    return [{"key": i.id, "label": labels.pick(i.label, lang),
             "value": labels.duration(seconds[i.id], lang), "seconds": seconds[i.id],
             "mark": "peak" if i.peak else None}
            for i in definition.intervals if i.id in seconds]
