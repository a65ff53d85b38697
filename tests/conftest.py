"""Fixtures: an app on a fresh SQLite file and on a real PostgreSQL server, users, tokens."""

import functools
import itertools
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from supervision import create_app
from supervision.db import db
from tests.servers import create_database, postgres_server

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "test-output"

DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_url():
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_test_db(postgres_url):
    """One database for the session: the schema made once, emptied before each test."""
    url = create_database(postgres_url, "supervision_test")
    app = create_app(_test_config(url, OUTPUT / "pg-photos"))
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


def _test_config(database_url: str, photo_dir: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "PHOTO_DIR": str(photo_dir),
        "WTF_CSRF_ENABLED": True,
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "DEMO_PASSWORD": "demo1234",
        # Work after the commit runs before the commit returns: no thread outlives a test.
        "TASK_MODE": "inline",
        # Inline, four renders would run inside every submit; tests/test_prerender.py turns
        # them on.
        "REPORT_PRERENDER": (),
        # No periodic sweep outlives its test (a thread-mode app would start one); the tests of
        # the sweep set their own period.
        "ACTION_SWEEP_SECONDS": 0,
        "WEBHOOK_RETRY_SECONDS": 0,  # the same for the webhooks' retries
    }


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_test_db")


@pytest.fixture
def app_config(database_url, tmp_path):
    """Override in a test module to change the configuration."""
    return _test_config(database_url, tmp_path / "photos")


@pytest.fixture
def app(app_config):
    """A fresh app on an empty database. Tests open their own app context when they need one,
    so that each request starts with a clean session, as it does in production."""
    app = create_app(app_config)
    with app.app_context():
        if app_config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            db.create_all()
        else:
            _empty_all_tables()
    yield app
    with app.app_context():
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    db.session.commit()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_counter = itertools.count(1)


@functools.cache
def password_hash(password: str) -> str:
    """Hash each test password once: scrypt takes ~0.2 s by design."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password)


def saved(app, obj):
    """Commit `obj` and hand it back detached, with its columns loaded."""
    db.session.add(obj)
    db.session.commit()
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


def create_region(app, code=None, name="测试区", **values):
    """A saved region (detached)."""
    from supervision.stores.models import Region

    with app.app_context():
        return saved(app, Region(code=code or f"R{next(_counter)}", name=name, **values))


def create_store(app, region=None, code=None, name="测试营业厅", **values):
    """A saved store (detached), in a new region unless one is given."""
    from supervision.stores.models import Store

    region_id = (region or create_region(app)).id
    with app.app_context():
        store = Store(region_id=region_id, code=code or f"S{next(_counter)}", name=name, **values)
        return saved(app, store)


@pytest.fixture
def make_region(app):
    return functools.partial(create_region, app)


@pytest.fixture
def make_store(app):
    return functools.partial(create_store, app)


def create_user(app, role="supervisor", regions=(), email=None, name=None,
                password="secret-pw", locale=None, stores=()):
    """A saved user (detached); its password is hashed once per test session. `stores`: a store
    manager's stores."""
    from supervision.accounts.models import User
    from supervision.stores.models import Region, Store

    n = next(_counter)
    with app.app_context():
        user = User(email=email or f"{role}{n}@example.com", name=name or f"{role} {n}",
                    role=role, regions=[db.session.get(Region, r.id) for r in regions],
                    stores=[db.session.get(Store, s.id) for s in stores], locale=locale)
        user.password_hash = password_hash(password)
        return saved(app, user)


@pytest.fixture
def make_user(app):
    return functools.partial(create_user, app)


def bearer(app, user) -> dict:
    """Bearer headers for a user, as the API expects them."""
    from supervision.accounts.tokens import issue_token

    with app.app_context():
        return {"Authorization": f"Bearer {issue_token(user)}"}


def csrf_of(page: str) -> str:
    """The CSRF token of the login form or of a page shell's meta tag."""
    return re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', page).group(1)


def log_in(client, user, password="secret-pw") -> str:
    """Log in through the form (it always remembers); returns the page shells' CSRF token."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": password,
                                           "csrf_token": token})
    assert response.status_code == 302
    return csrf_of(client.get("/").get_data(as_text=True))


@pytest.fixture
def auth_headers(app):
    return functools.partial(bearer, app)


# The world most tests need: two regions, a store in each, one person of each role in the east.
REGIONS = {"east": {}, "west": {}}
STORES = {"store": "east", "west_store": "west"}
PEOPLE = {"admin": "admin", "manager": ("manager", "east"), "supervisor": ("supervisor", "east"),
          "shopper": ("shopper", "east")}


def build_world(app, regions=REGIONS, stores=STORES, people=PEOPLE, checklists=()) -> dict:
    """The one way tests build a world: regions, stores and people by name in one dict, with
    each person's bearer headers under "headers".

    `regions`: {name: Region values}; the code is the name in capitals unless given.
    `stores`: {name: its region's name, or Store values with the region's name as "region"}.
    `people`: {name: a role (no region), (role, region names...), or create_user's arguments
    with the region names as "regions" and a store manager's store names as "stores"}.
    `checklists`: YAML files to load first (the shipped ones come from `load_checklists`)."""
    from supervision.checklists.services import add_version

    with app.app_context():
        for path in checklists:
            add_version(Path(path).read_text(encoding="utf-8"), Path(path).name)
        db.session.commit()
    world = {name: create_region(app, **{"code": name.upper(), **values})
             for name, values in regions.items()}
    for name, spec in stores.items():
        values = {"region": spec} if isinstance(spec, str) else dict(spec)
        world[name] = create_store(app, world[values.pop("region", "east")], **values)
    for name, spec in people.items():
        values = _person(spec)
        values["regions"] = [world[region] for region in values.get("regions", ())]
        values["stores"] = [world[store] for store in values.get("stores", ())]
        world[name] = create_user(app, **values)
    world["headers"] = {name: bearer(app, world[name]) for name in people}
    return world


def _person(spec) -> dict:
    if isinstance(spec, str):
        return {"role": spec}
    if isinstance(spec, tuple):
        return {"role": spec[0], "regions": spec[1:]}
    return dict(spec)


@pytest.fixture
def make_world(app):
    """build_world for this test's app."""
    return functools.partial(build_world, app)


@pytest.fixture
def load_checklists(app):
    """Load the shipped checklists; returns {slug: version number}."""
    from supervision.checklists.services import add_version

    loaded: dict[str, int] = {}

    def load() -> dict[str, int]:
        if loaded:  # once per test: parsing and validating the files is the slow part
            return dict(loaded)
        with app.app_context():
            for path in sorted((ROOT / "checklists").glob("*.yaml")):
                version, _ = add_version(path.read_text(encoding="utf-8"), path.name)
                loaded[version.checklist.slug] = version.version
            db.session.commit()
        return dict(loaded)

    return load


@pytest.fixture
def make_visit(app, load_checklists):
    """A visit stored directly (not through the HTTP API), scored like a submitted one.

    `answers` maps item ids to values; items not named are answered with their best value
    unless `complete=False`. Returns the visit's id (a UUID)."""
    import uuid
    from datetime import UTC, datetime

    from sqlalchemy import select

    from supervision.checklists.models import Checklist, ChecklistVersion
    from supervision.checklists.services import definition_of
    from supervision.visits.models import Response, Visit
    from supervision.visits.snapshot import freeze_score

    def make(store, author, slug="storefront-audit", answers=None, status="published",
             started_at=None, complete=True, notes=None):
        load_checklists()
        with app.app_context():
            version = db.session.scalars(
                select(ChecklistVersion).join(Checklist).where(Checklist.slug == slug)
                .order_by(ChecklistVersion.version.desc())).first()
            definition = definition_of(version)
            given = dict(answers or {})
            if complete:
                for _, item in definition.items():
                    given.setdefault(item.id, best_value(item))
            started = started_at or datetime.now(UTC)
            visit = Visit(
                id=uuid.uuid4(), store_id=store.id, checklist_version_id=version.id,
                kind=definition.kind, status=status, author_id=author.id, started_at=started,
                ended_at=started, notes=notes,
                submitted_at=started if status != "draft" else None,
                published_at=started if status == "published" else None,
                responses=[Response(item_id=k, value=v) for k, v in given.items()],
            )
            freeze_score(visit, definition)
            db.session.add(visit)
            db.session.commit()
            return visit.id

    return make


def best_value(item):
    """The answer that earns an item full marks."""
    if item.type == "yes_no":
        return not item.inverse
    if item.type == "scale":
        return 5
    if item.type == "number":
        return item.thresholds.good
    if item.type == "choice":
        return max(item.options, key=lambda option: option.score).id
    return "好 / good"


@pytest.fixture(scope="session")
def redis_url():
    """A real redis-server on loopback for the whole session."""
    from tests.servers import redis_server

    with redis_server() as url:
        yield url


@pytest.fixture(scope="session")
def s3_settings():
    """A real SeaweedFS S3 gateway on loopback for the whole session; its S3_* settings."""
    from tests.servers import seaweedfs_server

    with seaweedfs_server() as settings:
        yield settings


# The PWA's browser tests: a live server and Debian's Chromium (tests/browser_fixtures.py).
from tests.browser_fixtures import browser, live_server, playwright, screenshots  # noqa: E402, F401
