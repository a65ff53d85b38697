"""marshmallow fields shared by every feature's schemas, and what their values may be: integers
an `integer` column holds, days and times of the years 2000 to 2100, printable text."""

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import marshmallow as ma
from marshmallow import validate

# PostgreSQL `integer`: every id, revision, version and count column. A larger number in a
# query or body is refused here, never sent to the database.
INT_MAX = 2**31 - 1

# Days and times far outside any real visit or dispute would overflow date arithmetic.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)
YEARS = "Must be between the years 2000 and 2100."
DAYS = validate.Range(min=FIRST_DAY, max=LAST_DAY, error=YEARS)
SANE_TIME = validate.Range(min=datetime(2000, 1, 1, tzinfo=UTC),
                           max=datetime(2101, 1, 1, tzinfo=UTC), max_inclusive=False, error=YEARS)

# Text is printable: no control character but tab, line feed and carriage return, and no lone
# UTF-16 surrogate (JSON can escape one; no database stores it).
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# The same rule as the OpenAPI document states it (ECMA-262 and Python read it alike).
TEXT_PATTERN = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F\uD800-\uDFFF]*$"


def bad_character(text: str) -> str | None:
    """The first character of `text` that text may not hold, as U+XXXX; None when all is well."""
    found = NOT_TEXT.search(text)
    return None if found is None else f"U+{ord(found[0]):04X}"


def not_printable(character: str) -> str:
    """The message for text that holds `character` (U+XXXX)."""
    return f"Must be printable text (found {character})."


def printable(text: str) -> str:
    """`text` without the characters text may not hold (for text stored before this rule)."""
    return NOT_TEXT.sub("", text)


def text_problems(data, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """(path, U+XXXX) of every string in `data` (nested dicts and lists), keys included, that
    holds a character text may not (a bad key: U+FFFD in its place, its value unread)."""
    if isinstance(data, str):
        if character := bad_character(data):
            yield path, character
    elif isinstance(data, dict):
        for key, value in data.items():
            if character := bad_character(str(key)):
                yield (*path, NOT_TEXT.sub("\ufffd", str(key))), character
            else:
                yield from text_problems(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from text_problems(value, (*path, index))


def integer(minimum: int = 0, maximum: int = INT_MAX, error: str | None = None,
            **kwargs) -> ma.fields.Integer:
    """An integer of minimum..maximum, by default a count an `integer` column holds."""
    return ma.fields.Integer(validate=validate.Range(min=minimum, max=maximum, error=error),
                             **kwargs)


def identifier(**kwargs) -> ma.fields.Integer:
    """The id of a row: 1 to 2³¹ − 1; a larger number is no id."""
    return integer(1, error="Not a valid id.", **kwargs)


class Name(ma.fields.String):
    """A name or title: printable text, trimmed, never blank, of at most `max_length`."""

    def __init__(self, max_length: int, **kwargs):
        super().__init__(validate=validate.Length(min=1, max=max_length), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not text:
            raise ma.ValidationError("Must not be blank.")
        if character := bad_character(text):
            raise ma.ValidationError(not_printable(character))
        return text


def day(**kwargs) -> ma.fields.Date:
    """A calendar day (YYYY-MM-DD) of the years 2000 to 2100."""
    return ma.fields.Date(validate=DAYS, **kwargs)


class LocalDay(ma.fields.Date):
    """A calendar day in a query string (YYYY-MM-DD), of the years 2000 to 2100: the local day
    in the store's time zone, or in the TIMEZONE setting where no single store's applies.
    Its instants are supervision.localtime.day_begins and day_ends (exclusive). The one way a
    query names a day: `from` and `to` of every list, export and report."""

    default_error_messages = {"invalid": "Not a day: give it as YYYY-MM-DD."}

    def __init__(self, **kwargs):
        kwargs.setdefault("load_default", None)
        super().__init__(validate=DAYS, **kwargs)

    def deserialize(self, value, attr=None, data=None, **kwargs):
        # An empty form field (`?from=&to=`) names no day.
        return super().deserialize(None if value == "" else value, attr, data, **kwargs)


def instant(**kwargs) -> ma.fields.AwareDateTime:
    """An ISO 8601 time with its offset, of the years 2000 to 2100."""
    return ma.fields.AwareDateTime(validate=SANE_TIME, **kwargs)
