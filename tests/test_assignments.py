"""Mystery-shop assignments: planning, scope, rescheduling, and the visit made for one."""

from datetime import UTC, datetime, timedelta

import pytest

from supervision.db import db
from supervision.errors import Conflict, Invalid
from supervision.followup.services import haversine_m

NOW = datetime.now(UTC)
# 31.2304 N, 121.4737 E: People's Square, Shanghai
STORE_AT = {"lat": 31.2304, "lon": 121.4737}




@pytest.fixture
def world(load_checklists, make_world):
    load_checklists()
    return make_world(
        stores={"store": {"region": "east", "manager_name": "王主任", "geofence_m": 300,
                          **STORE_AT},
                "other_store": "east", "west_store": "west"},
        people={"admin": "admin", "manager": ("manager", "east"),
                "west_manager": ("manager", "west"), "supervisor": ("supervisor", "east"),
                "shopper": ("shopper", "east"), "other_shopper": ("shopper", "east"),
                "west_shopper": ("shopper", "west"),
                "idle_shopper": {"role": "shopper", "regions": ["east"]}})


def _body(world, **values) -> dict:
    return {
        "store_id": world["store"].id, "checklist": "mystery-visit",
        "shopper_id": world["shopper"].id,
        "window_start": (NOW - timedelta(days=1)).isoformat(),
        "window_end": (NOW + timedelta(days=6)).isoformat(),
        "scenario": "先咨询换套餐，再对上月账单提出异议 / "
                    "ask to switch plan, then dispute the last bill",
        **values,
    }


def _plan(client, world, auth_headers, who="manager", **values):
    return client.post("/api/v1/assignments", json=_body(world, **values),
                       headers=auth_headers(world[who]))


def test_a_manager_plans_and_the_shopper_sees_only_its_own(client, world, auth_headers):
    mine = _plan(client, world, auth_headers)
    assert mine.status_code == 201, mine.json
    assert mine.json["status"] == "planned" and mine.json["checklist"] == "mystery-visit"
    assert mine.json["store"]["code"] == world["store"].code
    theirs = _plan(client, world, auth_headers, "admin", shopper_id=world["other_shopper"].id)
    assert theirs.status_code == 201

    shopper = auth_headers(world["shopper"])
    listed = client.get("/api/v1/assignments", headers=shopper).json
    assert [a["id"] for a in listed] == [mine.json["id"]]
    assert listed[0]["scenario"].startswith("先咨询换套餐")
    url = "/api/v1/assignments/{}"
    assert client.get(url.format(theirs.json["id"]), headers=shopper).status_code == 404
    assert client.get(url.format(mine.json["id"]), headers=shopper).status_code == 200
    # the shopper sees the assigned store, a store of its region
    stores = client.get("/api/v1/stores", headers=shopper).json
    assert {s["id"] for s in stores} == {world["store"].id, world["other_store"].id}

    manager = client.get("/api/v1/assignments", headers=auth_headers(world["manager"])).json
    assert {a["id"] for a in manager} == {mine.json["id"], theirs.json["id"]}
    west = client.get("/api/v1/assignments", headers=auth_headers(world["west_manager"])).json
    assert west == []


@pytest.mark.parametrize("role", ["supervisor", "shopper"])
def test_only_managers_and_admins_plan(client, world, auth_headers, role):
    assert _plan(client, world, auth_headers, role).status_code == 403


def test_supervisors_are_on_the_store_side_and_see_no_assignment(client, world, auth_headers):
    created = _plan(client, world, auth_headers).json
    headers = auth_headers(world["supervisor"])
    assert client.get("/api/v1/assignments", headers=headers).status_code == 403
    assert client.get(f"/api/v1/assignments/{created['id']}", headers=headers).status_code == 403


def test_a_manager_cannot_plan_outside_its_regions(client, world, auth_headers):
    response = _plan(client, world, auth_headers, "west_manager")
    assert response.status_code == 404


@pytest.mark.parametrize(("change", "field"), [
    ({"window_end": (NOW - timedelta(days=2)).isoformat()}, "window_end"),  # before the start
    ({"window_start": (NOW - timedelta(days=5)).isoformat(),
      "window_end": (NOW - timedelta(days=3)).isoformat()}, "window_end"),  # already over
    ({"window_start": "2030-01-01T10:00:00"}, "window_start"),  # no offset
    ({"checklist": "storefront-audit"}, "checklist"),  # not a mystery checklist
    ({"checklist": "no-such-list"}, "checklist"),
    ({"shopper_id": "supervisor"}, "shopper_id"),
    ({"store_id": None}, "store_id"),
    ({"scenario": ""}, "scenario"),
    ({"budget": 100}, "budget"),
])
def test_bad_assignments_name_the_field(client, world, auth_headers, change, field):
    response = _plan(client, world, auth_headers, **change)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]["json"]


NOT_HERE = "Not a shopper of this store's region."


def _deactivate(app, user) -> None:
    from supervision.accounts.models import User

    with app.app_context():
        db.session.get(User, user.id).active = False
        db.session.commit()


@pytest.mark.parametrize("who", [
    "west_shopper", "idle_shopper", "supervisor", "west_manager", "admin", "unknown",
])
@pytest.mark.parametrize("planner", ["manager", "admin"])
def test_the_assigned_user_must_be_an_active_shopper_of_the_stores_region(
        app, client, world, auth_headers, who, planner):
    """Whoever the id names (another region's shopper, an inactive one, someone who is no
    shopper, nobody), the answer is the same: it tells nothing about other users."""
    _deactivate(app, world["idle_shopper"])
    shopper_id = 99999 if who == "unknown" else world[who].id
    response = _plan(client, world, auth_headers, planner, shopper_id=shopper_id)
    assert response.status_code == 422
    assert response.json["errors"] == {"json": {"shopper_id": [NOT_HERE]}}
    assert response.json["message"] == f"shopper_id: {NOT_HERE}"


def test_a_handover_is_to_a_shopper_of_the_stores_region(client, world, auth_headers):
    created = _plan(client, world, auth_headers).json
    url, headers = f"/api/v1/assignments/{created['id']}", auth_headers(world["manager"])
    away = client.patch(url, json={"shopper_id": world["west_shopper"].id}, headers=headers)
    assert away.status_code == 422
    assert away.json["errors"] == {"json": {"shopper_id": [NOT_HERE]}}
    west = _plan(client, world, auth_headers, "admin", store_id=world["west_store"].id,
                 shopper_id=world["west_shopper"].id)
    assert west.status_code == 201, west.json


def test_reschedule_and_cancel(app, client, world, auth_headers):
    headers = auth_headers(world["manager"])
    created = _plan(client, world, auth_headers).json
    url = f"/api/v1/assignments/{created['id']}"
    new_end = (NOW + timedelta(days=10)).replace(microsecond=0)
    moved = client.patch(url, json={"window_end": new_end.isoformat(), "reason": "店庆"},
                         headers=headers)
    assert moved.status_code == 200
    assert datetime.fromisoformat(moved.json["window_end"]) == new_end
    bad = client.patch(url, json={"window_end": created["window_start"]}, headers=headers)
    assert bad.status_code == 422
    assert client.get(url, headers=headers).json["window_end"] == moved.json["window_end"]
    handed = client.patch(url, json={"shopper_id": world["other_shopper"].id}, headers=headers)
    assert handed.json["shopper_id"] == world["other_shopper"].id
    assert client.patch(url, json={"status": "cancelled"},
                        headers=auth_headers(world["shopper"])).status_code == 403

    cancelled = client.patch(url, json={"status": "cancelled", "reason": "门店装修"},
                             headers=headers)
    assert cancelled.json["status"] == "cancelled"
    assert client.patch(url, json={"status": "cancelled"}, headers=headers).status_code == 200
    assert client.patch(url, json={"scenario": "x"}, headers=headers).status_code == 409
    assert client.patch(url, json={"status": "done"}, headers=headers).status_code == 422

    from supervision.audit.models import AuditEntry

    with app.app_context():
        log = db.session.scalars(db.select(AuditEntry).where(
            AuditEntry.entity == "assignment").order_by(AuditEntry.id)).all()
        assert [e.action for e in log] == ["create", "reschedule", "reschedule", "cancel"]
        assert log[-1].details["reason"] == "门店装修"


# The visit made for an assignment ------------------------------------------------------------

def _submitted_visit(app, make_visit, world, assignment_id=None, started_at=None, where=None,
                     author="shopper"):
    """A mystery visit stored as submitted, then followed up as the submit service does."""
    from supervision.checklists.services import definition_of
    from supervision.followup.services import on_visit_submitted
    from supervision.visits.models import Visit

    visit_id = make_visit(world["store"], world[author], "mystery-visit", status="submitted",
                          started_at=started_at or NOW)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        visit.assignment_id = assignment_id
        if where:
            visit.lat, visit.lon, visit.accuracy_m = where
        on_visit_submitted(visit, definition_of(visit.checklist_version), visit.score)
        db.session.commit()
        return visit.assignment_id, visit.flags


def _assignment_status(app, assignment_id):
    from supervision.followup.models import Assignment

    with app.app_context():
        return db.session.get(Assignment, assignment_id).status


def test_a_visit_in_the_window_near_the_store_is_tied_without_flags(
        app, client, world, auth_headers, make_visit):
    assignment = _plan(client, world, auth_headers).json
    near = (STORE_AT["lat"] + 0.001, STORE_AT["lon"], 20.0)  # about 111 m north
    tied, flags = _submitted_visit(app, make_visit, world, assignment["id"], where=near)
    assert tied == assignment["id"] and flags == []
    assert _assignment_status(app, assignment["id"]) == "done"
    shown = client.get(f"/api/v1/assignments/{assignment['id']}",
                       headers=auth_headers(world["shopper"])).json
    assert shown["status"] == "done" and len(shown["visit_ids"]) == 1


def test_a_visit_outside_the_window_and_far_away_is_flagged_not_refused(
        app, client, world, auth_headers, make_visit):
    assignment = _plan(client, world, auth_headers).json
    far = (STORE_AT["lat"] + 0.01, STORE_AT["lon"], 15.0)  # about 1.1 km north
    tied, flags = _submitted_visit(app, make_visit, world, assignment["id"],
                                   started_at=NOW + timedelta(days=8), where=far)
    assert tied == assignment["id"]
    by_code = {flag["code"]: flag for flag in flags}
    assert set(by_code) == {"outside_window", "far_from_store"}
    assert 1100 <= by_code["far_from_store"]["distance_m"] <= 1125
    assert by_code["far_from_store"]["geofence_m"] == 300
    window_end = datetime.fromisoformat(by_code["outside_window"]["window_end"])
    assert window_end == datetime.fromisoformat(assignment["window_end"])


def test_a_visit_without_a_location_gets_no_distance_flag(
        app, client, world, auth_headers, make_visit):
    assignment = _plan(client, world, auth_headers).json
    _, flags = _submitted_visit(app, make_visit, world, assignment["id"])
    assert flags == []


def test_the_only_planned_assignment_is_found_when_the_visit_names_none(
        app, client, world, auth_headers, make_visit):
    assignment = _plan(client, world, auth_headers).json
    tied, _ = _submitted_visit(app, make_visit, world)
    assert tied == assignment["id"]


@pytest.mark.parametrize(("setup", "error"), [
    ("other_shopper", Invalid),
    ("other_store", Invalid),
    ("already_done", Conflict),
])
def test_an_assignment_that_does_not_fit_blocks_the_submission(
        app, client, world, auth_headers, make_visit, setup, error):
    values = {"shopper_id": world["other_shopper"].id} if setup == "other_shopper" else {}
    if setup == "other_store":
        values = {"store_id": world["other_store"].id}
    assignment = _plan(client, world, auth_headers, **values).json
    if setup == "already_done":
        _submitted_visit(app, make_visit, world, assignment["id"])
    with pytest.raises(error):
        _submitted_visit(app, make_visit, world, assignment["id"])


@pytest.mark.parametrize(("a", "b", "metres"), [
    ((31.2304, 121.4737), (31.2304, 121.4737), 0),
    ((31.2304, 121.4737), (31.2314, 121.4737), 111.2),  # 0.001° of latitude
    ((39.9042, 116.4074), (31.2304, 121.4737), 1_067_000),  # Beijing → Shanghai
])
def test_haversine_distance(a, b, metres):
    assert haversine_m(*a, *b) == pytest.approx(metres, rel=0.005, abs=0.5)


def test_a_visit_for_a_cancelled_assignment_is_flagged_not_lost(
        app, client, world, auth_headers, make_visit):
    assignment = _plan(client, world, auth_headers).json
    client.patch(f"/api/v1/assignments/{assignment['id']}", json={"status": "cancelled"},
                 headers=auth_headers(world["manager"]))
    tied, flags = _submitted_visit(app, make_visit, world, assignment["id"])
    assert tied == assignment["id"]
    assert [flag["code"] for flag in flags] == ["assignment_cancelled"]
    assert _assignment_status(app, assignment["id"]) == "cancelled"
    # the cancelled assignment is never picked for a visit that names none
    again, _ = _submitted_visit(app, make_visit, world)
    assert again is None
