"""Bearer tokens and the caller's own account."""

from flask import current_app
from flask.views import MethodView
from flask_login import current_user, logout_user
from flask_smorest import Blueprint

from supervision.accounts.schemas import TokenRequestSchema, TokenSchema, UserSchema
from supervision.accounts.services import authenticate, end_sessions
from supervision.accounts.tokens import issue_token
from supervision.db import db
from supervision.errors import Unauthorized
from supervision.extensions import limiter

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Accounts and tokens")


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@blp.route("/auth/token")
class TokenView(MethodView):
    decorators = [limiter.limit(login_limit, methods=["POST"])]

    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    def post(self, credentials):
        """Exchange an e-mail and password for a bearer token."""
        user = authenticate(credentials["email"], credentials["password"])
        if user is None:
            raise Unauthorized("Wrong e-mail or password.")
        return {"token": issue_token(user), "user": user}


@blp.route("/me")
class MeView(MethodView):
    @blp.response(200, UserSchema)
    def get(self):
        """The caller's own account."""
        return current_user


@blp.route("/me/logout-everywhere")
class LogoutEverywhereView(MethodView):
    @blp.response(204)
    def post(self):
        """End every session and token of the caller's account, this one included."""
        end_sessions(current_user, "logout_everywhere")
        db.session.commit()
        logout_user()  # also clears this browser's cookies, if it sent any
