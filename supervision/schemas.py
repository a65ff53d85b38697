"""marshmallow fields shared by every feature's schemas."""

from datetime import UTC, date, datetime

import marshmallow as ma
from marshmallow import validate

# Times far outside any real visit or dispute would overflow date arithmetic: refuse them.
SANE_TIME = validate.Range(min=datetime(2000, 1, 1, tzinfo=UTC),
                           max=datetime(2100, 1, 1, tzinfo=UTC),
                           error="Must be between the years 2000 and 2100.")
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


class LocalDay(ma.fields.Date):
    """A calendar day in a query string (YYYY-MM-DD), of the years 2000 to 2100: the local day
    in the store's time zone, or in the TIMEZONE setting where no single store's applies.
    Its instants are supervision.localtime.day_begins and day_ends (exclusive). The one way a
    query names a day: `from` and `to` of every list, export and report."""

    default_error_messages = {"invalid": "Not a day: give it as YYYY-MM-DD."}

    def __init__(self, **kwargs):
        kwargs.setdefault("load_default", None)
        super().__init__(validate=validate.Range(
            min=FIRST_DAY, max=LAST_DAY,
            error=f"Must be a day from {FIRST_DAY} to {LAST_DAY}."), **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        # An empty form field (`?from=&to=`) names no day.
        return super().deserialize(None if value == "" else value, attr, data, **kwargs)


def instant(**kwargs) -> ma.fields.AwareDateTime:
    """An ISO 8601 time with its offset, in a plausible range."""
    return ma.fields.AwareDateTime(validate=SANE_TIME, **kwargs)
