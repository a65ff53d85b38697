"""Schemathesis runs the whole API from its OpenAPI document, as a supervisor and as an admin,
on both databases: no input gives a server error, and every answer fits the documented schema.

Bounded: a fixed number of examples per operation and generation phase, derandomized, so the
run takes the same few minutes every time and a failure reproduces."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from supervision import create_app
from supervision.accounts.models import User
from supervision.accounts.tokens import issue_token
from supervision.db import db
from tests.conftest import OUTPUT, ROOT, _empty_all_tables, _test_config, build_world

EXAMPLES = 12
WORLD = {"admin": "admin", "supervisor": ("supervisor", "east"), "shopper": ("shopper", "east"),
         "manager": ("manager", "east")}


CALLERS = [pytest.param((database, role), id=f"{database}-{role}",
                         marks=[pytest.mark.postgres] if database == "postgres" else [])
           for database in ("sqlite", "postgres") for role in ("supervisor", "admin")]


@pytest.fixture(scope="module", params=CALLERS)
def fuzzed_app(request, tmp_path_factory):
    """(app, world, role) per database and caller: the fuzzing changes the data as it goes."""
    database, role = request.param
    folder = tmp_path_factory.mktemp("fuzz")
    if database == "sqlite":
        url = f"sqlite:///{folder / 'fuzz.db'}"
    else:
        url = request.getfixturevalue("postgres_test_db")
    app = create_app(_test_config(url, folder / "photos"))
    with app.app_context():
        if database == "sqlite":
            db.create_all()
        else:
            _empty_all_tables()
    world = build_world(app, people=WORLD, checklists=sorted((ROOT / "checklists").glob("*.yaml")))
    yield app, world, role
    with app.app_context():
        db.engine.dispose()


def _document_app():
    """An app that only serves the document (generated from the code, the same in every app);
    the calls go to each test's own app."""
    return create_app({"SECRET_KEY": "openapi", "SQLALCHEMY_DATABASE_URI": "sqlite://",
                       "PHOTO_DIR": str(OUTPUT / "openapi-photos")})


# Photos go up as raw bytes; Schemathesis knows JPEG, PNG and WebP samples but not HEIC.
schemathesis.serializer.alias("image/heic", "application/octet-stream")
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _document_app())


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_no_input_gives_a_server_error(case, fuzzed_app):
    app, world, role = fuzzed_app
    case.call_and_validate(session=app.test_client(), headers=_fresh_bearer(app, world[role]),
                           checks=[not_a_server_error, response_schema_conformance])


def _fresh_bearer(app, caller) -> dict:
    """A token of the caller as they are now: an earlier example may have ended their sessions
    (a logout everywhere, a password reset) or deactivated them, which is what they asked."""
    with app.app_context():
        user = db.session.get(User, caller.id)
        user.active = True
        db.session.commit()
        return {"Authorization": f"Bearer {issue_token(user)}"}
