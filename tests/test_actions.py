"""Corrective actions: proposed from failed items, agreed with an owner from the roster, done
with a photo, verified (the store's own loop, with its evidence and decisions, is in
tests/test_store_loop.py)."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from supervision.db import db
from tests.followup_helpers import audit_draft, upload_photo

SH = ZoneInfo("Asia/Shanghai")
VISIT_AT = datetime.combine(date.today() - timedelta(days=2), datetime.min.time(),
                            SH).replace(hour=15)
# storefront-audit: a red line stated as a bad behaviour, a must-be item, a performance item
RED_LINE, MUST_BE, PERFORMANCE = "svc_red_argue_mock", "img_uniform_badge", "img_hall_clean"


@pytest.fixture
def world(client, make_world):
    world = make_world(
        stores={"store": {"region": "east", "manager_name": "王主任"}, "other_store": "east",
                "west_store": "west"},
        people={"manager": ("manager", "east"), "supervisor": ("supervisor", "east"),
                "west_supervisor": ("supervisor", "west"), "shopper": ("shopper", "east")})
    world["staff"] = {name: _roster(client, world, name) for name in ("王主任", "李娜（值班经理）")}
    return world


def _roster(client, world, name, store="store") -> int:
    response = client.post(f"/api/v1/stores/{world[store].id}/staff", json={"name": name},
                           headers=world["headers"]["manager"])
    assert response.status_code == 201, response.json
    return response.json["id"]


def _agree(client, auth_headers, world, action_id, **body):
    body = {"status": "agreed", "owner_staff_id": world["staff"]["王主任"], **body}
    return _patch(client, auth_headers, world["supervisor"], action_id, **body)


def _audit(app, make_visit, world, answers=None, started_at=VISIT_AT, store="store"):
    """An audit stored as submitted (published at once), followed up as submission does."""
    from supervision.checklists.services import definition_of
    from supervision.followup.services import on_visit_submitted
    from supervision.visits.models import Visit

    visit_id = make_visit(world[store], world["supervisor"], "storefront-audit", answers=answers,
                          started_at=started_at)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        on_visit_submitted(visit, definition_of(visit.checklist_version), visit.score)
        db.session.commit()
    return visit_id


def _failing(*items) -> dict:
    return {item: item == RED_LINE for item in items}  # the red line is an inverse item


def _actions(client, auth_headers, user, query=""):
    return client.get(f"/api/v1/actions{query}", headers=auth_headers(user)).json


def _patch(client, auth_headers, user, action_id, **body):
    return client.patch(f"/api/v1/actions/{action_id}", json=body, headers=auth_headers(user))


def _coached(app, visit_id) -> list[str]:
    from supervision.followup.coaching import coached_gaps
    from supervision.visits.models import Visit

    with app.app_context():
        return [row["item"] for row in coached_gaps(db.session.get(Visit, visit_id).score)]


def test_each_coached_gap_proposes_an_action_with_its_question(
        app, client, world, auth_headers, make_visit):
    visit_id = _audit(app, make_visit, world, _failing(RED_LINE, MUST_BE, PERFORMANCE))
    actions = _actions(client, auth_headers, world["supervisor"], f"?visit_id={visit_id}")
    by_item = {a["item_id"]: a for a in actions}
    assert sorted(by_item) == sorted(_coached(app, visit_id)) == sorted(
        [RED_LINE, MUST_BE, PERFORMANCE])  # a performance item is coached too
    red, must, other = by_item[RED_LINE], by_item[MUST_BE], by_item[PERFORMANCE]
    assert {a["status"] for a in actions} == {"proposed"}
    assert not any(a["overdue"] for a in actions)
    # red line within 24 h, must-be within 48 h, anything else within 7 days
    assert [a["due_date"] for a in (red, must, other)] == [
        (VISIT_AT.date() + timedelta(days=days)).isoformat() for days in (1, 2, 7)]
    assert {a["owner"] for a in actions} == {"王主任"}
    assert red["texts"]["title"] == {
        "zh": "杜绝员工与顾客争辩、打断顾客，或教育、批评、讽刺顾客",
        "en": "Stop: a staff member argues with or interrupts a customer, or lectures, "
              "criticises or mocks them"}
    assert must["texts"]["title"] == {
        "zh": "确保所有在岗员工统一着工装，并佩戴工号牌",
        "en": "Make sure every staff member on duty wears the uniform and a name badge"}
    for action in actions:  # one language per string; the Chinese ones in the old columns
        texts = action["texts"]
        assert action["title"] == texts["title"]["zh"]
        assert action["coaching_question"] == texts["question"]["zh"]
        assert " / " not in action["title"] and "Fix" not in action["title"]
        assert not re.search(r"[\u4e00-\u9fff]", texts["title"]["en"] + texts["question"]["en"])
    assert must["texts"]["question"]["en"].startswith("When a customer needs help")


def test_at_most_three_gaps_besides_the_red_lines_are_proposed(
        app, client, world, auth_headers, make_visit):
    failing = _failing(MUST_BE, PERFORMANCE, "img_signage_clean", "img_no_expired_posters",
                       "svc_greeting_10s")
    visit_id = _audit(app, make_visit, world, failing)
    actions = _actions(client, auth_headers, world["supervisor"], f"?visit_id={visit_id}")
    coached = _coached(app, visit_id)
    assert len(coached) == 3 and sorted(a["item_id"] for a in actions) == sorted(coached)


def test_no_second_proposal_while_one_is_unfinished(app, client, world, auth_headers, make_visit):
    _audit(app, make_visit, world, _failing(MUST_BE))
    later = _audit(app, make_visit, world, _failing(MUST_BE), started_at=VISIT_AT + timedelta(1))
    assert _actions(client, auth_headers, world["manager"], f"?visit_id={later}") == []
    assert len(_actions(client, auth_headers, world["manager"], "?status=proposed")) == 1


def _one_proposal(app, client, world, auth_headers, make_visit, item=MUST_BE) -> dict:
    visit_id = _audit(app, make_visit, world, _failing(item))
    return _actions(client, auth_headers, world["supervisor"], f"?visit_id={visit_id}")[0]


def test_confirm_with_edits_then_the_log(app, client, world, auth_headers, make_visit):
    action = _one_proposal(app, client, world, auth_headers, make_visit)
    due = (date.today() + timedelta(days=9)).isoformat()
    confirmed = _agree(client, auth_headers, world, action["id"], due_date=due,
                       owner_staff_id=world["staff"]["李娜（值班经理）"],
                       title="全员佩戴工牌 / badges on")
    assert confirmed.status_code == 200
    assert (confirmed.json["status"], confirmed.json["owner"], confirmed.json["due_date"]) == (
        "agreed", "李娜（值班经理）", due)
    assert confirmed.json["owner_staff"]["name"] == "李娜（值班经理）"
    assert confirmed.json["agreed_at"]
    # the person's title wins in every language; the generated question stays
    assert confirmed.json["title"] == "全员佩戴工牌 / badges on"
    assert set(confirmed.json["texts"]) == {"question"}
    from supervision.audit.models import AuditEntry

    with app.app_context():
        log = db.session.scalars(select(AuditEntry).where(AuditEntry.entity == "action")
                                 .order_by(AuditEntry.id)).all()
        assert [e.action for e in log] == ["propose", "update"]
        assert log[-1].details["status"] == "agreed" and log[-1].details["due_date"] == due


def test_editing_the_question_drops_its_translations(
        app, client, world, auth_headers, make_visit):
    from supervision.followup.models import Action

    action = _one_proposal(app, client, world, auth_headers, make_visit)
    same = _patch(client, auth_headers, world["supervisor"], action["id"],
                  title=action["title"])
    assert same.json["texts"] == action["texts"]  # nothing changed, nothing dropped
    asked = "怎样让顾客一眼认出员工？"
    edited = _patch(client, auth_headers, world["supervisor"], action["id"],
                    coaching_question=asked).json
    assert edited["coaching_question"] == asked and set(edited["texts"]) == {"title"}
    _patch(client, auth_headers, world["supervisor"], action["id"], title="补发工牌")
    with app.app_context():
        stored = db.session.get(Action, action["id"])
        assert stored.texts is None
        assert (stored.title_in("en"), stored.question_in("en")) == ("补发工牌", asked)


def test_a_proposal_can_be_dismissed_and_stays_so(app, client, world, auth_headers, make_visit):
    action = _one_proposal(app, client, world, auth_headers, make_visit)
    bare = _patch(client, auth_headers, world["supervisor"], action["id"], status="dismissed")
    assert bare.status_code == 422 and "reason" in bare.json["errors"]["json"]
    dismissed = _patch(client, auth_headers, world["supervisor"], action["id"],
                       status="dismissed", reason="工牌已在补办 / badges already ordered").json
    assert (dismissed["status"], dismissed["dismiss_reason"]) == (
        "dismissed", "工牌已在补办 / badges already ordered")
    again = _agree(client, auth_headers, world, action["id"])
    assert again.status_code == 409
    assert "it can become: nothing" in again.json["message"]


@pytest.mark.parametrize(("start", "body"), [
    ("proposed", {"status": "done", "note": "x"}),
    ("proposed", {"status": "verified"}),
    ("agreed", {"status": "verified"}),
    ("agreed", {"status": "proposed"}),
])
def test_steps_cannot_be_skipped(app, client, world, auth_headers, make_visit, start, body):
    action = _one_proposal(app, client, world, auth_headers, make_visit)
    if start == "agreed":
        _agree(client, auth_headers, world, action["id"])
    response = _patch(client, auth_headers, world["supervisor"], action["id"], **body)
    assert response.status_code in (409, 422)
    assert response.json["errors"]["json"]["status"]
    shown = client.get(f"/api/v1/actions/{action['id']}",
                       headers=auth_headers(world["supervisor"])).json
    assert shown["status"] == start


def test_done_needs_a_note_and_a_photo_of_the_store(
        app, client, world, auth_headers, make_visit, load_checklists):
    version = load_checklists()["storefront-audit"]
    action = _one_proposal(app, client, world, auth_headers, make_visit)
    supervisor = auth_headers(world["supervisor"])
    _agree(client, auth_headers, world, action["id"])

    bare = _patch(client, auth_headers, world["supervisor"], action["id"], status="done")
    assert bare.status_code == 422
    assert set(bare.json["errors"]["json"]) == {"note", "evidence"}

    elsewhere = audit_draft(client, supervisor, world["other_store"].id, version)
    foreign = upload_photo(client, supervisor, elsewhere, PERFORMANCE, "red")
    wrong = _patch(client, auth_headers, world["supervisor"], action["id"], status="done",
                   note="已整改", evidence_photo_id=foreign)
    assert wrong.status_code == 422 and "evidence_photo_id" in wrong.json["errors"]["json"]

    here = audit_draft(client, supervisor, world["store"].id, version)
    photo = upload_photo(client, supervisor, here, MUST_BE)
    done = _patch(client, auth_headers, world["supervisor"], action["id"], status="done",
                  note="已为全员补发工牌 / badges issued", evidence_photo_id=photo)
    assert done.status_code == 200
    assert (done.json["status"], done.json["evidence_photo_id"]) == ("done", photo)
    assert done.json["done_note"].startswith("已为全员补发工牌") and done.json["done_at"]
    frozen = _patch(client, auth_headers, world["supervisor"], action["id"],
                    owner_staff_id=world["staff"]["李娜（值班经理）"])
    assert frozen.status_code == 409


def _open_action(client, auth_headers, world, due_date=None, store="store"):
    due_date = due_date or date.today() + timedelta(days=3)
    body = {"store_id": world[store].id, "item_id": MUST_BE, "title": "补发工牌 / badges",
            "owner": "王主任", "due_date": due_date.isoformat()}
    response = client.post("/api/v1/actions", json=body, headers=auth_headers(world["supervisor"]))
    assert response.status_code == 201, response.json
    return response.json


def test_the_next_visit_that_meets_the_item_verifies_the_action(
        app, client, world, auth_headers, make_visit):
    action = _one_proposal(app, client, world, auth_headers, make_visit)
    _agree(client, auth_headers, world, action["id"])
    earlier = _audit(app, make_visit, world, started_at=VISIT_AT - timedelta(days=1))
    other_store = _audit(app, make_visit, world, store="other_store",
                         started_at=VISIT_AT + timedelta(days=1))
    url = f"/api/v1/actions/{action['id']}"
    assert client.get(url, headers=auth_headers(world["manager"])).json["status"] == "agreed"
    assert earlier and other_store

    later = _audit(app, make_visit, world, started_at=VISIT_AT + timedelta(days=1))
    verified = client.get(url, headers=auth_headers(world["manager"])).json
    assert verified["status"] == "verified"
    assert verified["verified_visit_id"] == str(later) and verified["verified_at"]


def test_a_proposal_is_not_verified_before_it_is_confirmed(
        app, client, world, auth_headers, make_visit):
    action = _one_proposal(app, client, world, auth_headers, make_visit)
    _audit(app, make_visit, world, started_at=VISIT_AT + timedelta(days=1))
    shown = client.get(f"/api/v1/actions/{action['id']}", headers=auth_headers(world["manager"]))
    assert shown.json["status"] == "proposed"


def test_verification_is_not_a_patch(client, world, auth_headers):
    action = _open_action(client, auth_headers, world)
    response = _patch(client, auth_headers, world["manager"], action["id"], status="verified")
    assert response.status_code == 422 and "status" in response.json["errors"]["json"]


def test_overdue_actions_are_listed_for_the_manager(client, world, auth_headers):
    late = _open_action(client, auth_headers, world, date.today() - timedelta(days=2))
    _open_action(client, auth_headers, world, date.today() + timedelta(days=2))
    overdue = _actions(client, auth_headers, world["manager"], "?overdue=true")
    assert [a["id"] for a in overdue] == [late["id"]] and overdue[0]["overdue"] is True
    assert len(_actions(client, auth_headers, world["manager"], "?overdue=false")) == 1
    assert len(_actions(client, auth_headers, world["manager"], "?status=agreed")) == 2


def test_a_proposal_past_its_due_date_is_not_overdue_until_agreed(
        app, client, world, auth_headers, make_visit):
    from supervision.followup.models import Action

    long_ago = VISIT_AT - timedelta(days=20)
    visit_id = _audit(app, make_visit, world, _failing(MUST_BE), started_at=long_ago)
    [proposal] = _actions(client, auth_headers, world["manager"], f"?visit_id={visit_id}")
    assert date.fromisoformat(proposal["due_date"]) < date.today() - timedelta(days=10)
    assert proposal["overdue"] is False
    assert _actions(client, auth_headers, world["manager"], "?overdue=true") == []
    assert [a["id"] for a in _actions(client, auth_headers, world["manager"],
                                      "?overdue=false")] == [proposal["id"]]
    with app.app_context():
        assert db.session.get(Action, proposal["id"]).overdue is False

    confirmed = _agree(client, auth_headers, world, proposal["id"])
    assert confirmed.json["overdue"] is True  # agreed with that date: now it is late
    overdue = _actions(client, auth_headers, world["manager"], "?overdue=true")
    assert [a["id"] for a in overdue] == [proposal["id"]]
    assert _actions(client, auth_headers, world["manager"], "?overdue=false") == []


@pytest.mark.parametrize(("change", "field", "status"), [
    ({"title": ""}, "title", 422),
    ({"owner": None}, "owner", 422),
    ({"due_date": "next week"}, "due_date", 422),
    ({"status": "verified"}, "status", 422),
    ({"store_id": "x"}, "store_id", 422),
])
def test_bad_actions_name_the_field(client, world, auth_headers, change, field, status):
    body = {"store_id": world["store"].id, "title": "t", "owner": "o",
            "due_date": date.today().isoformat(), **change}
    response = client.post("/api/v1/actions", json=body, headers=auth_headers(world["supervisor"]))
    assert response.status_code == status
    assert field in response.json["errors"]["json"]


def test_an_action_for_a_visit_of_another_store_is_refused(
        app, client, world, auth_headers, make_visit):
    visit = _audit(app, make_visit, world, store="other_store")
    body = {"store_id": world["store"].id, "visit_id": str(visit), "title": "t", "owner": "o",
            "due_date": date.today().isoformat()}
    response = client.post("/api/v1/actions", json=body, headers=auth_headers(world["supervisor"]))
    assert response.status_code == 422 and "visit_id" in response.json["errors"]["json"]


def test_shoppers_see_no_actions_at_all(client, world, auth_headers):
    action = _open_action(client, auth_headers, world)
    shopper = auth_headers(world["shopper"])
    assert client.get("/api/v1/actions", headers=shopper).status_code == 403
    assert client.get(f"/api/v1/actions/{action['id']}", headers=shopper).status_code == 403
    assert client.patch(f"/api/v1/actions/{action['id']}", json={"title": "x"},
                        headers=shopper).status_code == 403
    assert client.post("/api/v1/actions", json={}, headers=shopper).status_code == 403


def test_actions_are_scoped_to_regions(client, world, auth_headers):
    action = _open_action(client, auth_headers, world)
    west = auth_headers(world["west_supervisor"])
    assert client.get("/api/v1/actions", headers=west).json == []
    assert client.get(f"/api/v1/actions/{action['id']}", headers=west).status_code == 404
    assert client.patch(f"/api/v1/actions/{action['id']}", json={"title": "x"},
                        headers=west).status_code == 404
    body = {"store_id": world["store"].id, "title": "t", "owner": "o",
            "due_date": date.today().isoformat()}
    assert client.post("/api/v1/actions", json=body, headers=west).status_code == 404


def test_the_store_side_sees_no_action_of_an_unpublished_mystery_visit(
        client, world, auth_headers, make_visit):
    visit = make_visit(world["store"], world["shopper"], "mystery-visit", status="submitted")
    body = {"store_id": world["store"].id, "visit_id": str(visit), "title": "t", "owner": "o",
            "due_date": date.today().isoformat()}
    created = client.post("/api/v1/actions", json=body, headers=auth_headers(world["manager"]))
    assert created.status_code == 201
    supervisor = auth_headers(world["supervisor"])
    assert client.get("/api/v1/actions", headers=supervisor).json == []
    assert client.get(f"/api/v1/actions/{created.json['id']}",
                      headers=supervisor).status_code == 404
    listed = client.get("/api/v1/actions", headers=auth_headers(world["manager"])).json
    assert [a["id"] for a in listed] == [created.json["id"]]


@pytest.mark.parametrize("path", [
    "/api/v1/actions/2147483648", "/api/v1/disputes/99999999999999999999",
    "/api/v1/assignments/2147483648", "/api/v1/stores/99999999999",
])
def test_ids_beyond_the_database_range_are_not_found(client, world, auth_headers, path):
    response = client.get(path, headers=auth_headers(world["manager"]))
    assert response.status_code == 404 and response.is_json


@pytest.mark.parametrize("query", ["store_id=99999999999", "store_id=0", "overdue=soon"])
def test_bad_filters_are_refused(client, world, auth_headers, query):
    response = client.get(f"/api/v1/actions?{query}", headers=auth_headers(world["manager"]))
    assert response.status_code == 422
    assert query.split("=")[0] in response.json["errors"]["query"]
