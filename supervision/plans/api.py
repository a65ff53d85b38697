"""Audit plans and their due visits."""

from flask_smorest import Blueprint

blp = Blueprint("plans", __name__, url_prefix="/api/v1",
                description="Audit plans and their due visits.")
