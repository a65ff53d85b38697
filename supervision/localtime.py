"""The local time zone (the TIMEZONE setting) and local calendar days as UTC instants."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


def local_zone() -> str:
    """The TIMEZONE setting: the zone of the days people type and read where no single store's
    own zone applies (lists, exports, the audit log, region reports, new stores)."""
    return current_app.config["TIMEZONE"]


def day_begins(day: date, tz: str) -> datetime:
    """The first instant of the local calendar `day` in `tz`, in UTC."""
    return datetime.combine(day, time(), ZoneInfo(tz)).astimezone(UTC)


def day_ends(day: date, tz: str) -> datetime:
    """The first instant after the local calendar `day` in `tz`, in UTC: an exclusive end, so
    23:59:59.999 is still inside and no second is lost to rounding."""
    return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(tz)).astimezone(UTC)
