"""Role and region scoping, checked for every role."""

import uuid
from datetime import UTC, datetime

import pytest

from supervision.db import db
from tests.conftest import PEOPLE


@pytest.fixture
def world(make_world):
    """Two regions with a store each; one user of each role in the east."""
    return make_world(stores={"east_store": {"region": "east", "code": "E1"},
                              "west_store": {"region": "west", "code": "W1"}},
                      people={**PEOPLE, "other_shopper": ("shopper", "east")})


def _visit(app, store, author, kind="mystery", status="submitted"):
    from supervision.checklists.models import Checklist, ChecklistVersion
    from supervision.visits.models import Visit

    with app.app_context():
        checklist = Checklist(slug=f"c-{uuid.uuid4().hex[:6]}", kind=kind)
        version = ChecklistVersion(checklist=checklist, version=1, content_hash=uuid.uuid4().hex,
                                   title={"zh": "测", "en": "T"}, source_name="t.yaml",
                                   source_text="", definition={})
        visit = Visit(id=uuid.uuid4(), store_id=store.id, checklist_version=version, kind=kind,
                      status=status, author_id=author.id, started_at=datetime.now(UTC))
        db.session.add(visit)
        db.session.commit()
        return visit.id


@pytest.mark.parametrize(
    ("role", "stores"),
    [("admin", {"E1", "W1"}), ("manager", {"E1"}), ("supervisor", {"E1"}), ("shopper", {"E1"})],
)
def test_store_list_is_scoped(client, world, auth_headers, role, stores):
    response = client.get("/api/v1/stores", headers=auth_headers(world[role]))
    assert {s["code"] for s in response.json} == stores


def test_supervisor_cannot_read_a_store_outside_its_regions(client, world, auth_headers):
    headers = auth_headers(world["supervisor"])
    east, west = world["east_store"].id, world["west_store"].id
    assert client.get(f"/api/v1/stores/{east}", headers=headers).status_code == 200
    assert client.get(f"/api/v1/stores/{west}", headers=headers).status_code == 404


def test_regions_are_scoped(client, world, auth_headers):
    codes = lambda role: {r["code"] for r in client.get(  # noqa: E731
        "/api/v1/regions", headers=auth_headers(world[role])).json}
    assert codes("admin") == {"EAST", "WEST"}
    assert codes("manager") == {"EAST"}


def test_visit_visibility_by_role(app, world):
    """Shoppers see only their own; the store's side never sees an unpublished mystery visit."""
    from supervision.accounts.models import User
    from supervision.scoping import scoped_visits

    own = _visit(app, world["east_store"], world["shopper"])
    others = _visit(app, world["east_store"], world["other_shopper"])
    published = _visit(app, world["east_store"], world["other_shopper"], status="published")
    west = _visit(app, world["west_store"], world["admin"], kind="audit", status="published")
    draft = _visit(app, world["east_store"], world["admin"], kind="audit", status="draft")

    def visible(role):
        with app.app_context():
            user = db.session.get(User, world[role].id)
            return {visit.id for visit in db.session.scalars(scoped_visits(user))}

    assert visible("shopper") == {own}
    assert visible("other_shopper") == {others, published}
    assert visible("supervisor") == {published}
    assert visible("manager") == {own, others, published}
    assert visible("admin") == {own, others, published, west, draft}


def test_manager_cannot_upload_checklists(client, world, auth_headers):
    response = client.post("/api/v1/checklists", data="slug: x", content_type="application/yaml",
                           headers=auth_headers(world["manager"]))
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["admin", "manager", "supervisor", "shopper"])
def test_logout_everywhere_ends_only_the_callers_own_sessions(client, world, auth_headers, role):
    """Every role may end its own sessions and tokens; nobody else's (it takes no user id)."""
    own, other = auth_headers(world[role]), auth_headers(world["other_shopper"])
    assert client.post("/api/v1/me/logout-everywhere").status_code == 401
    assert client.post("/api/v1/me/logout-everywhere", headers=own).status_code == 204
    assert client.get("/api/v1/me", headers=own).status_code == 401
    assert client.get("/api/v1/me", headers=other).json["id"] == world["other_shopper"].id
