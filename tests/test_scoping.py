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
                              "east_neighbour": {"region": "east", "code": "E2"},
                              "west_store": {"region": "west", "code": "W1"}},
                      people={**PEOPLE, "other_shopper": ("shopper", "east"),
                              "store_manager": {"role": "store_manager",
                                                "stores": ["east_store"]}})


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
    [("admin", {"E1", "E2", "W1"}), ("manager", {"E1", "E2"}), ("supervisor", {"E1", "E2"}),
     ("shopper", {"E1", "E2"}), ("store_manager", {"E1"})],
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
    assert codes("store_manager") == {"EAST"}


def test_visit_visibility_by_role(app, world):
    """Shoppers see only their own; the store's side never sees an unpublished mystery visit."""
    from supervision.accounts.models import User
    from supervision.scoping import scoped_visits

    own = _visit(app, world["east_store"], world["shopper"])
    others = _visit(app, world["east_store"], world["other_shopper"])
    published = _visit(app, world["east_store"], world["other_shopper"], status="published")
    west = _visit(app, world["west_store"], world["admin"], kind="audit", status="published")
    draft = _visit(app, world["east_store"], world["admin"], kind="audit", status="draft")
    neighbour = _visit(app, world["east_neighbour"], world["supervisor"], kind="audit",
                       status="published")

    def visible(role):
        with app.app_context():
            user = db.session.get(User, world[role].id)
            return {visit.id for visit in db.session.scalars(scoped_visits(user))}

    assert visible("shopper") == {own}
    assert visible("other_shopper") == {others, published}
    assert visible("supervisor") == {published, neighbour}
    assert visible("manager") == {own, others, published, neighbour}
    assert visible("admin") == {own, others, published, west, draft, neighbour}
    assert visible("store_manager") == {published}  # its store's, published, not its region's


def test_manager_cannot_upload_checklists(client, world, auth_headers):
    response = client.post("/api/v1/checklists", data="slug: x", content_type="application/yaml",
                           headers=auth_headers(world["manager"]))
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["admin", "manager", "supervisor", "shopper", "store_manager"])
def test_logout_everywhere_ends_only_the_callers_own_sessions(client, world, auth_headers, role):
    """Every role may end its own sessions and tokens; nobody else's (it takes no user id)."""
    own, other = auth_headers(world[role]), auth_headers(world["other_shopper"])
    assert client.post("/api/v1/me/logout-everywhere").status_code == 401
    assert client.post("/api/v1/me/logout-everywhere", headers=own).status_code == 204
    assert client.get("/api/v1/me", headers=own).status_code == 401
    assert client.get("/api/v1/me", headers=other).json["id"] == world["other_shopper"].id


def test_the_store_side_reads_a_published_mystery_visit_without_its_shopper(
        app, client, world, auth_headers, make_visit):
    """Supervisors and store managers read a mystery visit in the store version: no author,
    assignment, location, reviewer flags or review; managers read all of it."""
    from supervision.visits.models import Visit

    visit_id = make_visit(world["east_store"], world["shopper"], "mystery-visit")
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        visit.lat, visit.lon, visit.reviewed_by_id = 31.3, 121.5, world["manager"].id
        visit.flags, visit.review_comment = [{"code": "far_from_store"}], "核实过"
        db.session.commit()
    hidden = {"author_id": None, "assignment_id": None, "location": None, "flags": [],
              "reviewed_by_id": None, "review_comment": None}
    for role in ("supervisor", "store_manager"):
        headers = auth_headers(world[role])
        one = client.get(f"/api/v1/visits/{visit_id}", headers=headers).json
        [listed] = client.get("/api/v1/visits", headers=headers).json
        for document in (one, listed):
            assert {key: document[key] for key in hidden} == hidden, role
            assert document["responses"] and document["score"]
    internal = client.get(f"/api/v1/visits/{visit_id}", headers=auth_headers(world["manager"]))
    assert internal.json["author_id"] == world["shopper"].id
    assert internal.json["location"]["lat"] == 31.3 and internal.json["flags"]
    own = client.get(f"/api/v1/visits/{visit_id}", headers=auth_headers(world["shopper"]))
    assert own.json["author_id"] == world["shopper"].id


def test_an_audit_keeps_its_supervisor_for_the_store(client, world, auth_headers, make_visit):
    visit_id = make_visit(world["east_store"], world["supervisor"])
    document = client.get(f"/api/v1/visits/{visit_id}",
                          headers=auth_headers(world["store_manager"])).json
    assert document["author_id"] == world["supervisor"].id


def test_an_export_names_no_shopper_to_the_store_side(app, world, make_visit):
    """Exports are for managers, but their scoping blanks a mystery visit's author for the
    store's side all the same."""
    from supervision.accounts.models import User
    from supervision.admin.exports import export_rows

    mystery = make_visit(world["east_store"], world["shopper"], "mystery-visit")
    audit = make_visit(world["east_store"], world["supervisor"])
    with app.app_context():
        for role, authors in (("supervisor", {None, world["supervisor"].email}),
                              ("manager", {world["shopper"].email, world["supervisor"].email})):
            user = db.session.get(User, world[role].id)
            columns, rows = export_rows("visits", user, None, None)
            found = {row[columns.index("visit_id")]: row[columns.index("author")] for row in rows}
            assert set(found.values()) == authors, role
            assert set(found) == {mystery, audit}
