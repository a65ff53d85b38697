"""Who is calling: a session cookie for pages, a bearer token or the cookie for the API; CSRF for
every cookie-authenticated API write."""

from flask import Flask, current_app, g, redirect, request, url_for
from flask_login import current_user

from supervision.accounts.models import User
from supervision.accounts.tokens import current_user_of, user_from_token
from supervision.apikeys import services as api_keys
from supervision.db import utcnow
from supervision.errors import Forbidden, Unauthorized
from supervision.extensions import csrf, login_manager

PUBLIC_API_PATHS = {"/api/v1/auth/token", "/api/v1/openapi.json"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOG_IN_FIRST = "Log in first: send 'Authorization: Bearer <token>'."


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    app.before_request(_guard_api)
    app.after_request(_log_key_use)


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
    if token is not None and api_keys.is_key(token):
        _use_key(token)
        return None
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


def _use_key(secret: str) -> None:
    """An integration's key: usable, and only for what keys may read; every try is logged."""
    key = api_keys.key_of(secret)
    if key is None:
        raise Unauthorized("The API key is unknown.")
    g.api_key_id = key.id
    if key.revoked_at is not None:
        raise Unauthorized("The API key was revoked.")
    if not key.usable(utcnow()):
        raise Unauthorized("The API key expired.")
    if not api_keys.may_call(request.method, request.path):
        raise Forbidden("API keys read only: the feed, and the lists of regions, stores, "
                        "checklists, visits, actions, disputes, plans and coverage.")
    login_manager._update_request_context_with_user(api_keys.KeyCaller(key))


def _log_key_use(response):
    key_id = g.pop("api_key_id", None)
    if key_id is not None:
        api_keys.log_use(key_id, request.method, request.full_path.rstrip("?"),
                         response.status_code, request.remote_addr)
    return response
