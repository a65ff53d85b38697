"""Due dates of dispute records and corrective actions, in the store's own time zone (pure).

The seeds (003) give the time limits for closing a complaint: service complaints the same day,
standard returns within 2 days, cases needing a quality check within 15 days, repairs at the
factory within 30 days, emergencies case by case.

- "The same day" ends at 23:59:59 local time of the day the dispute was received.
- "Within N days" counts **calendar** days and ends at 23:59:59 local time of the N-th day after
  the day of receipt (received Friday 15:00 with 2 days → due Sunday 23:59:59). Calendar days,
  not working days, because (1) the limits are promises to the customer, who counts calendar
  days, and service halls open seven days a week; (2) Chinese consumer rules on returns and
  repairs (三包) count calendar days; (3) working days in China need the official holiday
  calendar of each year with its swapped weekend days (调休), which changes every December —
  a wrong local copy would silently move due dates.
- Emergencies have no computed limit: whoever records one states its due time.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Calendar days after the day of receipt; 0 means the same day.
DISPUTE_DAYS = {"service": 0, "return": 2, "quality_check": 15, "factory_repair": 30}
CASE_BY_CASE = ("emergency",)
# The complaint classes of the seeds (service, quality, emergency) by recorded category.
COMPLAINT_CLASS = {
    "service": "service",
    "return": "quality",
    "quality_check": "quality",
    "factory_repair": "quality",
    "emergency": "emergency",
}
# Proposed corrective actions, in calendar days after the day the store learned of the gap.
# Field practice (DOMAIN.md, "Who reads what"): a red line is put right within 24 hours, a
# must-be item within 48 hours (China Mobile halls aim at rectification within 48 h), anything
# else within 7 days. The due date is a day: a red line found on Monday is due by the end of
# Tuesday, the day 24 hours later falls on. The supervisor may change it when confirming.
ACTION_DAYS = {"red_line": 1, "must_be": 2, "other": 7}
END_OF_DAY = time(23, 59, 59)


def local_date(moment: datetime, tz: str) -> date:
    """The calendar date of an aware `moment` in the time zone `tz`."""
    return moment.astimezone(ZoneInfo(tz)).date()


def start_of_day(day: date, tz: str) -> datetime:
    """00:00:00 of `day` in `tz`, as an aware UTC datetime."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def end_of_day(day: date, tz: str) -> datetime:
    """23:59:59 of `day` in `tz`, as an aware UTC datetime (daylight saving handled)."""
    return datetime.combine(day, END_OF_DAY, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def dispute_due(category: str, received_at: datetime, tz: str) -> datetime | None:
    """When a dispute of `category` received at `received_at` must be closed; None for the
    case-by-case categories (emergencies). Raises KeyError for an unknown category."""
    if category in CASE_BY_CASE:
        return None
    days = DISPUTE_DAYS[category]
    return end_of_day(local_date(received_at, tz) + timedelta(days=days), tz)


def action_due(kind: str, found_at: datetime, tz: str) -> date:
    """The due date of an action proposed for a gap of `kind` (red_line, must_be or other)."""
    return local_date(found_at, tz) + timedelta(days=ACTION_DAYS[kind])


def is_overdue_date(due: date | None, now: datetime, tz: str) -> bool:
    """A due date has passed once its whole local day is over."""
    return due is not None and local_date(now, tz) > due
