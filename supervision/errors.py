"""Domain errors and the one place that turns any error into JSON (API) or HTML (pages)."""

from flask import current_app, render_template, request
from flask_smorest import Api as SmorestApi
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from supervision.db import db
from supervision.messages import translate, translate_errors


class DomainError(Exception):
    """Raised by services; the views never need to catch it."""

    code = 400

    def __init__(self, message: str, errors: dict | None = None, headers: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}


class NotFound(DomainError):
    code = 404


class Unauthorized(DomainError):
    code = 401


class Forbidden(DomainError):
    code = 403


class Conflict(DomainError):
    code = 409


class Invalid(DomainError):
    code = 422


class Unavailable(DomainError):
    code = 503


def _end_session(_error=None) -> None:
    """End the request's database session before Flask-SQLAlchemy does (teardowns run in
    reverse order): a connection the database dropped after the answer was made must not turn
    that answer into a 500."""
    try:
        db.session.remove()
    except (OperationalError, InterfaceError) as error:
        current_app.logger.warning("database connection lost at the end of a request: %s", error)
        db.session.registry.clear()


def wants_html() -> bool:
    """Pages get HTML errors; the API and anything asking for JSON gets JSON."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def _problems(errors, path=()):
    """(field path, message) pairs of a nested marshmallow/webargs error dict."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _problems(value, (*path, str(key)))
    elif isinstance(errors, list | tuple) and errors and not isinstance(errors[0], dict | list):
        where = path[1:] if path and path[0] in {"json", "query", "files", "form"} else path
        yield ".".join(where) or "body", " ".join(str(e) for e in errors)
    elif isinstance(errors, list | tuple):
        for index, value in enumerate(errors):
            yield from _problems(value, (*path, str(index)))
    else:
        yield ".".join(path) or "body", str(errors)


def error_payload(code: int, status: str, message: str | None, errors: dict | None) -> dict:
    """The one error shape: {code, status, message, errors?}; the message names each field."""
    if not message and errors:
        message = "; ".join(f"{field}: {text}" for field, text in _problems(errors))
    payload = {"code": code, "status": status, "message": message or status}
    if errors:
        payload["errors"] = errors
    return payload


class Api(SmorestApi):
    """flask-smorest's Api, answering HTML to browsers that asked for a page."""

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        app.register_error_handler(DomainError, self.handle_domain_error)
        for error in (OperationalError, InterfaceError):  # the database restarting, unreachable
            app.register_error_handler(error, self.handle_database_unavailable)
        app.teardown_appcontext(_end_session)

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        message = data.get("message") or (None if errors else error.description)
        if error.code == 413 and request.max_content_length:
            limit = request.max_content_length
            message = f"The request body is too large: the limit is {limit:,} bytes."
        headers = dict(data.get("headers") or {})
        if error.code == 405 and getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        return self._answer(error.code or 500, error.name, message, errors, headers)

    def handle_domain_error(self, error: DomainError):
        status = HTTP_STATUS_CODES.get(error.code, "Error")
        return self._answer(error.code, status, error.message, error.errors, error.headers)

    def handle_database_unavailable(self, error):
        """The client keeps its data and sends it again; every write of the API is idempotent."""
        current_app.logger.warning("database unavailable: %s", error)
        db.session.remove()
        # In English: the language may be the account's, which the database would have to give.
        return self._answer(503, HTTP_STATUS_CODES[503],
                            "The database is not available right now; try again shortly.",
                            None, {"Retry-After": "5"}, translated=False)

    def _answer(self, code, status, message, errors, headers, translated=True):
        """The answer in the requester's language (the account's, else Accept-Language): its
        messages translated, its field names (the API's keys) as they are."""
        if translated:
            message, errors = translate(message), translate_errors(errors)
        payload = error_payload(code, status, message, errors)
        if wants_html():
            return render_template("error.html", error=payload), code, headers or {}
        return payload, code, headers or {}
