"""Login and logout pages (session cookie, CSRF-protected form)."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from supervision.accounts.services import authenticate, end_sessions
from supervision.db import db
from supervision.extensions import limiter

blp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow a relative `next` inside this site."""
    if target and not urlsplit(target).netloc and target.startswith("/"):
        return target
    return url_for("pwa.home") if "pwa.home" in current_app.view_functions else "/"


@blp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    if request.method == "POST":
        user = authenticate(request.form.get("email", ""), request.form.get("password", ""))
        if user is not None:
            login_user(user, remember=True)
            return redirect(_safe_next(request.args.get("next")))
        flash(_("Wrong e-mail or password."), "error")
    return render_template("login.html"), 200 if request.method == "GET" else 401


@blp.post("/logout")
def logout():
    # The session lives in the cookie: only a new generation stops a copy of it from working.
    # It ends the account's other sessions and tokens too.
    if current_user.is_authenticated:
        end_sessions(current_user, "logout")
        db.session.commit()
    logout_user()
    return redirect(url_for("accounts.login"))
