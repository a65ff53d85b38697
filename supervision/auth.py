"""Who is calling: a session cookie for pages, a bearer token or the cookie for the API; CSRF for
every cookie-authenticated API write."""

from flask import Flask, current_app, redirect, request, url_for
from flask_login import current_user

from supervision.accounts.models import User
from supervision.accounts.tokens import current_user_of, user_from_token
from supervision.errors import Unauthorized
from supervision.extensions import csrf, login_manager

PUBLIC_API_PATHS = {"/api/v1/auth/token", "/api/v1/openapi.json"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOG_IN_FIRST = "Log in first: send 'Authorization: Bearer <token>'."


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    app.before_request(_guard_api)


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    """The user of a session or remember-me cookie ("<id>:<generation>", see User.get_id)."""
    user_id, _, generation = session_id.partition(":")
    if not (user_id.isdigit() and generation.isdigit()):
        return None  # a cookie from before generations: log in again
    return current_user_of(int(user_id), int(generation))


@login_manager.unauthorized_handler
def _unauthorized():
    if request.path.startswith("/api/"):
        raise Unauthorized(LOG_IN_FIRST)
    return redirect(url_for("accounts.login", next=request.full_path))


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _guard_api():
    """An API call with a bearer token is that token's user or nobody, never the cookie's;
    every API call but the public ones needs a user; cookie-authenticated writes need CSRF."""
    if not request.path.startswith("/api/"):
        return None
    if request.method == "PUT" and "/photos/" in request.path:
        request.max_content_length = current_app.config["PHOTO_MAX_BYTES"]
    if request.path in PUBLIC_API_PATHS:
        return None
    token = _bearer_token()
    if token is not None:
        user = user_from_token(token)
        if user is None:
            raise Unauthorized("The token is invalid, expired or revoked: log in again.")
        # Flask-Login's own way to set the request's user; the session is left untouched.
        login_manager._update_request_context_with_user(user)
        return None
    if not current_user.is_authenticated:
        raise Unauthorized(LOG_IN_FIRST)
    if request.method not in SAFE_METHODS:
        csrf.protect()
    return None
