"""Coverage: visits due, done, overdue and missed per store."""

from flask_smorest import Blueprint

blp = Blueprint("coverage", __name__, url_prefix="/api/v1",
                description="Coverage: visits due, done, overdue and missed per store.")
