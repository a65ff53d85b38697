"""GET /healthz: is the database answering, is the photo storage writable."""

from flask import Blueprint, current_app
from sqlalchemy import text

from supervision.db import db

blp = Blueprint("health", __name__)


def _database_ok() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure to answer means not ok; the reason goes to the log
        current_app.logger.exception("health check: database")
        db.session.rollback()
        return False


def _storage_ok() -> bool:
    return current_app.extensions["storage"].check()


@blp.get("/healthz")
def healthz():
    checks = {"database": _database_ok(), "storage": _storage_ok()}
    body = {name: "ok" if ok else "failing" for name, ok in checks.items()}
    healthy = all(checks.values())
    return {"status": "ok" if healthy else "failing", **body}, 200 if healthy else 503
