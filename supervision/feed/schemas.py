"""Request and response shapes of the feed."""

import marshmallow as ma

from supervision.pagination import limit_field
from supervision.schemas import instant


class FeedQueryArgsSchema(ma.Schema):
    updated_since = instant(metadata={
        "description": "The first page: records changed at or after this time (ISO 8601 with "
                       "its offset). Leave it out to start from the beginning."})
    cursor = ma.fields.String(metadata={
        "description": "The `next_cursor` of the page before; the records changed after it."})
    limit = limit_field(500, 5000)
    format = ma.fields.String(validate=ma.validate.OneOf(("json", "csv"),
                                                         error="Must be one of: json, csv."),
                              metadata={"description": "csv, or send `Accept: text/csv`."})


class FeedPageSchema(ma.Schema):
    columns = ma.fields.List(ma.fields.String(), metadata={
        "description": "The keys of every item, the same on every page (docs/feed.md)."})
    items = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "One per record (per answer in the answers feed), in commit order."})
    next_cursor = ma.fields.String(allow_none=True, metadata={
        "description": "Ask with it next (now for more, later for what changes); kept while "
                       "nothing changed."})
    has_more = ma.fields.Boolean()
