"""The incremental feed for integrations (Power BI, FineBI): JSON or CSV pages, no redirects."""

import uuid
from datetime import date, datetime
from urllib.parse import urlencode

from flask import Response, request, stream_with_context
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import Blueprint

from supervision.admin import exports
from supervision.feed import services
from supervision.feed.schemas import FeedPageSchema, FeedQueryArgsSchema
from supervision.localtime import local_zone
from supervision.scoping import roles_required

blp = Blueprint("feed", __name__, url_prefix="/api/v1",
                description="Everything that changed since a cursor, page by page.")


@blp.route("/feed/<any(visits, answers, actions, disputes):what>")
class FeedView(MethodView):
    @roles_required("admin", "manager", "supervisor")
    @blp.arguments(FeedQueryArgsSchema, location="query")
    @blp.response(200, FeedPageSchema)
    @blp.doc(responses={"200": {"content": {"text/csv": {}}}})
    def get(self, args, what):
        """The records of the caller's regions changed after `cursor` (or since
        `updated_since`), in the store version unless the caller reads more; a record removed
        from the caller's view is a tombstone. `Accept: text/csv` (or `format=csv`) gives CSV
        with the same columns, the next cursor in `X-Next-Cursor` and `Link`."""
        kind = what
        after = services.parse_cursor(kind, args.get("cursor"))
        rows, next_cursor, more = services.page(current_user, kind, args.get("updated_since"),
                                                after, args["limit"])
        columns = services.columns(kind)
        if _wants_csv(args):
            return _csv(kind, columns, rows, next_cursor, more)
        return {"columns": columns, "next_cursor": next_cursor, "has_more": more,
                "items": [dict(zip(columns, map(_json, row), strict=True)) for row in rows]}


def _wants_csv(args) -> bool:
    if "format" in args:
        return args["format"] == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


def _csv(kind, columns, rows, next_cursor, more) -> Response:
    headers = {"X-Has-More": "true" if more else "false",
               "Content-Disposition": f'inline; filename="feed-{kind}.csv"'}
    if next_cursor:
        headers["X-Next-Cursor"] = next_cursor
        query = {**request.args.to_dict(), "cursor": next_cursor}
        query.pop("updated_since", None)
        headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
    body = stream_with_context(exports.csv_chunks(columns, rows, local_zone()))
    return Response(body, mimetype="text/csv", headers=headers)


def _json(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value
