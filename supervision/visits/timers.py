"""The moments a collector pressed, read back: their times, the intervals between them, and
whether a stated duration contradicts them (one rule for the reviewer's flag and the report)."""

import math
from datetime import datetime
from zoneinfo import ZoneInfo

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


def interval_seconds(times, definition) -> dict[str, float]:
    """interval id → seconds, for the checklist's intervals whose two moments were both
    pressed (the first press counts)."""
    first: dict[str, datetime] = {}
    for moment_id, at in times:
        first.setdefault(moment_id, at)
    return {i.id: (first[i.end] - first[i.start]).total_seconds()
            for i in definition.intervals if i.start in first and i.end in first}


def whole_minutes(seconds: float) -> int:
    """Seconds to whole minutes, half up (9 min 30 s → 10), as people round a clock."""
    return math.floor(seconds / 60 + 0.5)


def timer_mismatch(answer: float, timer_minutes: int) -> bool:
    """Whether a stated number of minutes contradicts the timer. The shopper states whole
    minutes read off a watch, the timer has seconds: rounded to the minute both speak the same
    grain, and one minute either way absorbs a button pressed a little late or a clock read at
    the turn of a minute. More than that is a different story ("waited 15 minutes", timers 9)."""
    return abs(answer - timer_minutes) > TIMER_TOLERANCE_MINUTES
