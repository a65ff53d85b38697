"""Signed bearer tokens for the API: stateless, expiring, void once the user is deactivated."""

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer

from supervision.accounts.models import User
from supervision.db import db


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="api-token")


def issue_token(user: User) -> str:
    # The password hash's tail makes every token void when the password changes.
    return _serializer().dumps({"uid": user.id, "pw": user.password_hash[-8:]})


def user_from_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=current_app.config["TOKEN_MAX_AGE_SECONDS"])
    except BadSignature:
        return None
    user = db.session.get(User, data.get("uid"))
    if user is None or not user.active or user.password_hash[-8:] != data.get("pw"):
        return None
    return user
