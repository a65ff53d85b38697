"""Domain errors and the one place that turns any error into JSON (API) or HTML (pages)."""

from flask import render_template, request
from flask_smorest import Api as SmorestApi
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES


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


def wants_html() -> bool:
    """Pages get HTML errors; the API and anything asking for JSON gets JSON."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return False
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best == "text/html"


def _field_paths(errors, prefix=()):
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _field_paths(value, (*prefix, str(key)))
    else:
        yield ".".join(prefix[1:] if prefix and prefix[0] in {"json", "query", "files"} else prefix)


def error_payload(code: int, status: str, message: str | None, errors: dict | None) -> dict:
    payload = {"code": code, "status": status}
    if not message and errors:
        message = "Invalid input: " + ", ".join(sorted(set(_field_paths(errors))))
    payload["message"] = message or status
    if errors:
        payload["errors"] = errors
    return payload


class Api(SmorestApi):
    """flask-smorest's Api, answering HTML to browsers that asked for a page."""

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        app.register_error_handler(DomainError, self.handle_domain_error)

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        message = data.get("message") or (error.description if error.code != 422 else None)
        return self._answer(error.code or 500, error.name, message, errors, data.get("headers"))

    def handle_domain_error(self, error: DomainError):
        status = HTTP_STATUS_CODES.get(error.code, "Error")
        return self._answer(error.code, status, error.message, error.errors, error.headers)

    def _answer(self, code, status, message, errors, headers):
        payload = error_payload(code, status, message, errors)
        if wants_html():
            return render_template("error.html", error=payload), code, headers or {}
        return payload, code, headers or {}
