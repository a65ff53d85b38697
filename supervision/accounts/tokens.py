"""Signed bearer tokens for the API: stateless, expiring, void once the user's credential
generation moves on (a password change, a logout, a deactivation)."""

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from supervision.accounts.models import User
from supervision.db import db


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


def issue_token(user: User) -> str:
    return _serializer().dumps({"uid": user.id, "gen": user.credential_generation})


def user_from_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["TOKEN_MAX_AGE_SECONDS"])
    except BadSignature:
        return None
    return current_user_of(data.get("uid"), data.get("gen"))


def current_user_of(user_id, generation) -> User | None:
    """The active user `user_id` if `generation` is still theirs, else nobody."""
    if not isinstance(user_id, int) or not isinstance(generation, int):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.credential_generation != generation:
        return None
    return user
