"""The user's language: zh-CN or English, from the account, a ?lang= choice, or the browser."""

from flask import Flask, current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from supervision.accounts.models import User
from supervision.db import db
from supervision.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in languages:
        return session["lang"]
    if current_user and getattr(current_user, "locale", None) in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or languages[0]


def current_language() -> str:
    return str(get_locale() or current_app.config["LANGUAGES"][0])


def language_of(user: User) -> str:
    """The user's own language, or the app's default (the first of LANGUAGES): what is written
    for the user outside their requests (notifications, their emails) is in it."""
    languages = current_app.config["LANGUAGES"]
    return user.locale if user.locale in languages else languages[0]


def remember_language() -> None:
    """A language picked on a page (?lang=) becomes the account's, so that what is written for
    the user later — notifications, their emails — is in it too. API requests only read it."""
    chosen = request.args.get("lang")
    if (chosen in current_app.config["LANGUAGES"] and not request.path.startswith("/api/")
            and current_user.is_authenticated and current_user.locale != chosen):
        current_user.locale = chosen
        db.session.commit()  # first thing in the request: nothing else is in this transaction


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.before_request(remember_language)
    app.jinja_env.globals["lang"] = current_language
