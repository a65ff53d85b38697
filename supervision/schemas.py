"""marshmallow fields shared by every feature's schemas."""

from datetime import UTC, datetime

import marshmallow as ma
from marshmallow import validate

# Times far outside any real visit or dispute would overflow date arithmetic: refuse them.
SANE_TIME = validate.Range(min=datetime(2000, 1, 1, tzinfo=UTC),
                           max=datetime(2100, 1, 1, tzinfo=UTC),
                           error="Must be between the years 2000 and 2100.")


def instant(**kwargs) -> ma.fields.AwareDateTime:
    """An ISO 8601 time with its offset, in a plausible range."""
    return ma.fields.AwareDateTime(validate=SANE_TIME, **kwargs)
