"""Supervision: storefront audits, mystery shopping and coaching reports for service halls."""

import os
import secrets
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import Flask

from supervision.config import Defaults, database_url, load_environment


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    load_environment(app.config)
    app.config.from_prefixed_env("SUPERVISION")
    if test_config:
        app.config.update(test_config)
    _complete_config(app)

    from supervision import auth, cli, edge, headers, i18n, models, storage, tasks  # noqa: F401  (models: tables)
    from supervision.db import db
    from supervision.extensions import api, csrf, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    headers.init_app(app)
    storage.init_app(app)
    tasks.init_app(app)
    api.init_app(app)
    edge.init_app(app)  # before the blueprints: their routes use its converters
    _register_blueprints(app, api)
    cli.init_app(app)
    if app.config.get("PROXY_COUNT"):  # behind reverse proxies: the client's address and scheme
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _complete_config(app: Flask) -> None:
    """Fill in the defaults that depend on the instance folder."""
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    config = app.config
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'supervision.db'}"
    config["SQLALCHEMY_DATABASE_URI"] = database_url(config["SQLALCHEMY_DATABASE_URI"])
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _instance_secret(instance / "secret_key")
    config["PHOTO_DIR"] = str(config.get("PHOTO_DIR") or instance / "photos")
    os.makedirs(config["PHOTO_DIR"], exist_ok=True)
    config["DEMO_PASSWORD"] = str(config["DEMO_PASSWORD"])
    ZoneInfo(config["TIMEZONE"])  # an unknown TIMEZONE stops the start, not the first export
    config["MAX_CONTENT_LENGTH"] = config.get("MAX_CONTENT_LENGTH") or config["JSON_MAX_BYTES"]
    config["RATELIMIT_STORAGE_URI"] = (
        config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"
    )


def _instance_secret(path: Path) -> str:
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _register_blueprints(app: Flask, api) -> None:
    from supervision.accounts import api as accounts_api
    from supervision.accounts import views as accounts_views
    from supervision.admin import api as admin_api
    from supervision.admin import views as admin_views
    from supervision.apikeys import api as apikeys_api
    from supervision.checklists import api as checklists_api
    from supervision.extensions import csrf
    from supervision.feed import api as feed_api
    from supervision.followup import api as followup_api
    from supervision.followup import queries_api
    from supervision.followup import shoppers as shoppers_api
    from supervision.health import blp as health_blp
    from supervision.jobs import api as jobs_api
    from supervision.notifications import api as notifications_api
    from supervision.plans import api as plans_api
    from supervision.plans import coverage_api, waves_api
    from supervision.pwa import views as pwa_views
    from supervision.reports import api as reports_api
    from supervision.reports import calibration_api, dashboard_api
    from supervision.stores import api as stores_api
    from supervision.visits import api as visits_api
    from supervision.webhooks import api as webhooks_api

    app.register_blueprint(health_blp)
    app.register_blueprint(accounts_views.blp)
    app.register_blueprint(pwa_views.blp)
    app.register_blueprint(admin_views.blp)
    for module in (accounts_api, stores_api, checklists_api, admin_api, followup_api,
                   visits_api, reports_api, jobs_api, notifications_api, shoppers_api, queries_api,
                   calibration_api, plans_api, waves_api, coverage_api, apikeys_api,
                   feed_api, webhooks_api, dashboard_api):
        # The API checks CSRF itself, only for cookie-authenticated writes (see auth.py).
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
