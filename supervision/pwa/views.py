"""The installable web app: page shells, the web app manifest, the service worker and JS strings."""

import hashlib
import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from supervision.accounts.tokens import issue_token
from supervision.errors import Unauthorized
from supervision.i18n import current_language
from supervision.pwa.catalogue import js_catalogue

blp = Blueprint("pwa", __name__)

# Page shells: server-rendered frames (no data) that the JS modules fill from the JSON API.
# The service worker precaches each one, so every page opens without a network.
SHELLS = {
    "home": "/",
    "stores": "/stores",
    "audit": "/audit",
    "signoff": "/signoff",
    "mystery": "/mystery",
    "outbox": "/outbox",
    "visits": "/visits",
    "visit": "/visit",
    "actions": "/actions",
    "notifications": "/notifications",
    "plans": "/plans",  # a manager's audit plans, mystery waves and coverage
    "waves": "/waves",
    "coverage": "/coverage",
    "dashboard": "/dashboard",  # a manager's region at a glance (GET /api/v1/dashboard)
}


def _shell(page: str):
    """A page shell; data-page tells app.js which module to run."""
    return render_template(f"app/{page}.html", page=page, shells=SHELLS)


def _add_shell_routes() -> None:
    for page, path in SHELLS.items():
        view = login_required(lambda page=page: _shell(page))
        blp.add_url_rule(path, endpoint=page, view_func=view)


_add_shell_routes()


@blp.post("/app/token")
def token():
    """A bearer token for the logged-in session, so the outbox can sync after the cookie expires."""
    if not current_user.is_authenticated:
        raise Unauthorized("Log in first.")
    user = current_user
    body = {"token": issue_token(user),
            "user": {"id": user.id, "email": user.email, "name": user.name, "role": user.role}}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/i18n/<lang>.json")
def catalogue(lang: str):
    """The JS strings of one language, from the same .po file as the templates' strings."""
    if lang not in current_app.config["LANGUAGES"]:
        abort(404)
    return jsonify(js_catalogue(lang))


@blp.get("/manifest.webmanifest")
def manifest():
    """The web app manifest: name, icons, colours, start page."""
    body = {
        "id": "/", "name": _("Store supervision"), "short_name": _("Supervision"),
        "description": _("Store audits, mystery shopping and coaching reports, online or offline."),
        "start_url": "/", "scope": "/", "display": "standalone", "orientation": "any",
        "background_color": "#f4f6f8", "theme_color": "#0f5c6e",
        "lang": "zh-CN" if current_language() == "zh" else "en",
        "icons": [_icon("icon-192.png", 192), _icon("icon-512.png", 512),
                  _icon("icon-512-maskable.png", 512, "maskable")],
    }
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")


def _icon(name: str, size: int, purpose: str = "any") -> dict:
    return {"src": url_for("static", filename=f"icons/{name}"), "sizes": f"{size}x{size}",
            "type": "image/png", "purpose": purpose}


@blp.get("/sw.js")
def service_worker():
    """The service worker, served from the root so that it controls every page."""
    source = (_static_root() / "js" / "sw.js").read_text(encoding="utf-8")
    source = source.replace("__VERSION__", build_version()).replace(
        "__PRECACHE__", json.dumps(precache_urls(), indent=2))
    response = Response(source, mimetype="text/javascript")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    return response


def _static_root() -> Path:
    return Path(current_app.static_folder)


# The app's own static files (other features keep theirs elsewhere under static/).
APP_STATIC = ("css/app.css", "js/**/*.js", "icons/*.png", "vendor/**/*")


def _static_files() -> list[Path]:
    root = _static_root()
    found = {p for pattern in APP_STATIC for p in root.glob(pattern) if p.is_file()}
    return sorted(p for p in found if p.name != "sw.js")


def precache_urls() -> list[str]:
    """Everything the app needs to open offline: shells, static files, manifest, strings."""
    root = _static_root()
    statics = [url_for("static", filename=p.relative_to(root).as_posix()) for p in _static_files()]
    strings = [url_for("pwa.catalogue", lang=lang) for lang in current_app.config["LANGUAGES"]]
    return [*SHELLS.values(), url_for("pwa.manifest"), *strings, *statics]


def build_version() -> str:
    """A hash of every file the service worker caches: any change makes a new worker."""
    digest = hashlib.sha256()
    templates = Path(current_app.root_path, current_app.template_folder).resolve()
    sources = [*_static_files(), _static_root() / "js" / "sw.js",
               *sorted((templates / "app").glob("*.html")), templates / "base.html",
               *sorted(Path(current_app.root_path, "translations").rglob("*.po"))]
    for path in sources:
        digest.update(path.as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
