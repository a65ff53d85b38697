"""Mystery waves: proposals that respect the rules, confirmed by a manager."""

from flask_smorest import Blueprint

blp = Blueprint("waves", __name__, url_prefix="/api/v1",
                description="Mystery waves: proposals within the rules, confirmed by a manager.")
