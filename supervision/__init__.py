"""Supervision: storefront audits, mystery shopping and coaching reports for service halls."""

import os
import secrets
from pathlib import Path

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

    from supervision import auth, cli, i18n, models  # noqa: F401  (models: every table known)
    from supervision.db import db
    from supervision.extensions import api, csrf, limiter, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"),
                     render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    api.init_app(app)
    _register_blueprints(app, api)
    cli.init_app(app)
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
    from supervision.extensions import csrf
    from supervision.accounts import api as accounts_api
    from supervision.accounts import views as accounts_views
    from supervision.checklists import api as checklists_api
    from supervision.health import blp as health_blp
    from supervision.stores import api as stores_api

    app.register_blueprint(health_blp)
    app.register_blueprint(accounts_views.blp)
    for module in (accounts_api, stores_api, checklists_api):
        # The API checks CSRF itself, only for cookie-authenticated writes (see auth.py).
        csrf.exempt(module.blp)
        api.register_blueprint(module.blp)
