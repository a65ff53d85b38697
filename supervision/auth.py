"""Who is calling: a session cookie for pages or a bearer token for the API; CSRF for cookies."""

from flask import Flask, current_app, redirect, request, url_for
from flask_login import current_user

from supervision.accounts.models import User
from supervision.accounts.tokens import user_from_token
from supervision.db import db
from supervision.errors import Unauthorized
from supervision.extensions import csrf, login_manager

PUBLIC_API_PATHS = {"/api/v1/auth/token", "/api/v1/openapi.json"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    app.before_request(_guard_api)


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


@login_manager.request_loader
def _load_user_from_bearer(req) -> User | None:
    header = req.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return user_from_token(header[7:].strip())
    return None


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        raise Unauthorized("Log in first: send 'Authorization: Bearer <token>'.")
    return redirect(url_for("accounts.login", next=request.full_path))


def _guard_api():
    """Every API call but the public ones needs a user; cookie-authenticated writes need CSRF."""
    if not request.path.startswith("/api/"):
        return None
    if request.method == "PUT" and "/photos/" in request.path:
        request.max_content_length = current_app.config["PHOTO_MAX_BYTES"]
    if request.path in PUBLIC_API_PATHS:
        return None
    if not current_user.is_authenticated:
        raise Unauthorized("Log in first: send 'Authorization: Bearer <token>'.")
    bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
    if request.method not in SAFE_METHODS and not bearer:
        csrf.protect()
    return None
