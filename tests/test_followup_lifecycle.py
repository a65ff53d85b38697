"""The whole life of a mystery visit over HTTP: assigned, submitted, rejected, fixed, published,
its red line turned into an action that is done with a photo and verified at the next visit."""

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from supervision.db import db, utcnow
from tests.conftest import best_value
from tests.followup_helpers import audit_draft, upload_photo

SH = ZoneInfo("Asia/Shanghai")
STORE_AT = {"lat": 31.2304, "lon": 121.4737}
RED_LINE = "dis_red_argue_blame"  # mystery-visit: staff quarrelled with or blamed the customer





@pytest.fixture
def world(load_checklists, make_world):
    versions = load_checklists()
    store = {"region": "east", "manager_name": "王主任", "timezone": "Asia/Shanghai", **STORE_AT}
    return {"versions": versions, **make_world(
        regions={"east": {}}, stores={"store": store},
        people={role: (role, "east") for role in ("manager", "supervisor", "shopper")})}


def _answers(app, overrides: dict) -> list[dict]:
    from supervision.checklists.services import current_version, definition_of

    with app.app_context():
        definition = definition_of(current_version("mystery-visit"))
        items = [item for _, item in definition.items()]
    values = {item.id: best_value(item) for item in items} | overrides
    # A red-line finding needs a note (what happened) to be submitted.
    notes = {RED_LINE: "15:20 柜台员工说“这是你自己开通的” / the clerk said I had ordered it"}
    return [{"item": item_id, "value": value,
             **({"note": notes[item_id]} if value is True and item_id in notes else {})}
            for item_id, value in values.items()]


def _shop(client, app, world, started_at, overrides, photos=None, revision=0, visit_id=None,
          assignment_id=None):
    """The shopper's PUT of the whole visit; returns (visit id, announced photos)."""
    visit_id = visit_id or str(uuid.uuid4())
    photos = photos or [{"id": str(uuid.uuid4()), "item": item} for item in
                        ("arr_signage", "dep_overall_impression", "dep_overall_impression",
                         "dep_overall_impression")]
    body = {
        "store_id": world["store"].id, "kind": "mystery", "revision": revision,
        "assignment_id": assignment_id,
        "checklist": {"slug": "mystery-visit", "version": world["versions"]["mystery-visit"]},
        "started_at": started_at.isoformat(),
        "ended_at": (started_at + timedelta(minutes=40)).isoformat(),
        "location": {"lat": STORE_AT["lat"] + 0.0005, "lon": STORE_AT["lon"], "accuracy_m": 12},
        "moments": [{"moment": "dispute_raised", "at": (started_at
                                                         + timedelta(minutes=15)).isoformat()}],
        "responses": _answers(app, overrides), "photos": photos,
    }
    response = client.put(f"/api/v1/visits/{visit_id}", json=body,
                          headers=world["headers"]["shopper"])
    assert response.status_code in (200, 201), response.json
    return visit_id, photos


def _submit(client, world, visit_id) -> dict:
    response = client.post(f"/api/v1/visits/{visit_id}/submit", headers=world["headers"]["shopper"])
    assert response.status_code == 200, response.json
    return response.json


def _review(client, world, visit_id, decision, comment=None):
    response = client.post(f"/api/v1/visits/{visit_id}/review", headers=world["headers"]["manager"],
                           json={"decision": decision, "comment": comment})
    assert response.status_code == 200, response.json
    return response.json


def _record_dispute(client, world, received_at) -> int:
    body = {"store_id": world["store"].id, "category": "service", "first_handler": "李娜",
            "matter": "客户质疑上月账单中的一笔增值业务费 / customer disputes a charge",
            "received_at": received_at.isoformat(),
            "promised_reply_at": (received_at + timedelta(hours=2)).isoformat()}
    response = client.post("/api/v1/disputes", json=body, headers=world["headers"]["supervisor"])
    assert response.status_code == 201, response.json
    return response.json["id"]


def _store_side(client, app, world, visit_id) -> dict:
    """What the store's side sees of a visit: the supervisor's API and the store report data."""
    from supervision.reports.summaries import store_context
    from supervision.stores.models import Store

    listed = client.get(f"/api/v1/visits?store_id={world['store'].id}",
                        headers=world["headers"]["supervisor"]).json
    with app.app_context():
        report = store_context(db.session.get(Store, world["store"].id), None, None, "en",
                               utcnow())
    return {
        "listed": visit_id in {v["id"] for v in listed},
        "readable": client.get(f"/api/v1/visits/{visit_id}",
                               headers=world["headers"]["supervisor"]).status_code == 200,
        "report_visits": report["kpis"]["visits"],
        "report_red_lines": report["kpis"]["red_lines"],
        "actions": client.get("/api/v1/actions", headers=world["headers"]["supervisor"]).json,
    }


def _action(client, world, action_id) -> dict:
    return client.get(f"/api/v1/actions/{action_id}", headers=world["headers"]["manager"]).json


def test_the_whole_life_of_a_mystery_visit(app, client, world):
    now = datetime.now(UTC)
    # Yesterday afternoon in Shanghai: the visit and the store's dispute record share a day.
    visited = datetime.combine(now.astimezone(SH).date() - timedelta(days=1),
                               datetime.min.time(), SH).replace(hour=15)

    # 1. A manager plans the visit; the shopper sees it.
    plan = {"store_id": world["store"].id, "checklist": "mystery-visit",
            "shopper_id": world["shopper"].id,
            "window_start": (visited - timedelta(days=1)).isoformat(),
            "window_end": (now + timedelta(days=3)).isoformat(),
            "scenario": "先咨询换套餐，再对上月账单提出异议 / "
                        "ask to switch plan, then dispute the bill"}
    assignment = client.post("/api/v1/assignments", json=plan,
                             headers=world["headers"]["manager"]).json
    mine = client.get("/api/v1/assignments", headers=world["headers"]["shopper"]).json
    assert [a["id"] for a in mine] == [assignment["id"]]

    # 2. The shopper records the visit (staff quarrelled: a red line) and submits it.
    visit_id, photos = _shop(client, app, world, visited,
                             {RED_LINE: True, "dep_overall_impression": "还行 / ok"},
                             assignment_id=assignment["id"])
    for n, photo in enumerate(photos):
        upload_photo(client, world["headers"]["shopper"], visit_id, photo["item"],
                     ("red", "blue")[n % 2], photo["id"])
    submitted = _submit(client, world, visit_id)
    assert submitted["status"] == "submitted"
    assert [r["item"] for r in submitted["score"]["red_lines"]] == [RED_LINE]
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"]["shopper"]).json
    assert shown["assignment_id"] == assignment["id"] and shown["flags"] == []
    queue = client.get("/api/v1/visits?status=submitted&kind=mystery",
                       headers=world["headers"]["manager"]).json
    assert [v["id"] for v in queue] == [visit_id]
    hidden = _store_side(client, app, world, visit_id)
    assert hidden == {"listed": False, "readable": False, "report_visits": 0,
                      "report_red_lines": 0, "actions": []}

    # 3. The reviewer sends it back; the shopper fixes it and submits again.
    comment = "总体印象太简略，请具体描述 / describe the overall impression in detail"
    assert _review(client, world, visit_id, "reject", comment)["status"] == "rejected"
    assert client.get(f"/api/v1/visits/{visit_id}",
                      headers=world["headers"]["shopper"]).json["status"] == "rejected"
    assert _store_side(client, app, world, visit_id)["listed"] is False
    impression = ("员工听到我对账单的质疑后，直接说“这是你自己开通的”，并把责任推给营业部。"
                  " / When I questioned the bill the clerk said I had ordered it myself.")
    _shop(client, app, world, visited, {RED_LINE: True, "dep_overall_impression": impression},
          photos=photos, revision=1, visit_id=visit_id)  # this time without the assignment id
    assert _submit(client, world, visit_id)["status"] == "submitted"
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"]["shopper"]).json
    assert shown["assignment_id"] == assignment["id"]

    # 4. The store had recorded the dispute; the reviewer publishes the visit.
    dispute_id = _record_dispute(client, world, visited + timedelta(minutes=20))
    published = _review(client, world, visit_id, "publish", "属实 / confirmed")
    assert published["status"] == "published" and published["dispute_ids"] == [dispute_id]
    seen = _store_side(client, app, world, visit_id)
    assert (seen["listed"], seen["readable"]) == (True, True)
    assert (seen["report_visits"], seen["report_red_lines"]) == (1, 1)

    # 5. The failed red line proposed an action; the supervisor confirms it with the store.
    [proposal] = seen["actions"]
    assert (proposal["item_id"], proposal["status"], proposal["owner"]) == (
        RED_LINE, "proposed", "王主任")
    assert proposal["due_date"] == (now.astimezone(SH).date() + timedelta(days=1)).isoformat()
    assert proposal["coaching_question"] == proposal["texts"]["question"]["zh"]
    url = f"/api/v1/actions/{proposal['id']}"
    owner = client.post(f"/api/v1/stores/{world['store'].id}/staff",
                        headers=world["headers"]["manager"], json={"name": "王主任"}).json
    confirmed = client.patch(url, headers=world["headers"]["supervisor"], json={
        "status": "agreed", "owner_staff_id": owner["id"],
        "due_date": (date.today() + timedelta(days=5)).isoformat()})
    assert confirmed.json["status"] == "agreed"

    # 6. Done, with a note and a photo taken at the store (at a visit: the store's own photos of
    # the fix are in tests/test_store_loop.py).
    draft = audit_draft(client, world["headers"]["supervisor"], world["store"].id,
                        world["versions"]["storefront-audit"])
    evidence = upload_photo(client, world["headers"]["supervisor"], draft, "img_hall_clean",
                            "white")
    done = client.patch(url, headers=world["headers"]["supervisor"], json={
        "status": "done", "evidence_photo_id": evidence,
        "note": "全员完成争议处理“三先三后”培训并演练 / whole team trained on disputes"})
    assert done.status_code == 200 and done.json["status"] == "done"

    # 7. The next mystery visit finds the dispute handled well: the action is verified.
    again = client.post("/api/v1/assignments", headers=world["headers"]["manager"], json={
        **plan, "window_start": (now - timedelta(hours=3)).isoformat()}).json
    second_at = now - timedelta(minutes=50)
    second, second_photos = _shop(client, app, world, second_at, {RED_LINE: False})  # found
    for photo in second_photos:
        upload_photo(client, world["headers"]["shopper"], second, photo["item"], "green",
                     photo["id"])
    _record_dispute(client, world, second_at)
    assert _submit(client, world, second)["status"] == "submitted"
    assert _action(client, world, proposal["id"])["status"] == "done"  # not published yet
    _review(client, world, second, "publish")
    verified = _action(client, world, proposal["id"])
    assert verified["status"] == "verified" and verified["verified_visit_id"] == second
    assert client.get(f"/api/v1/assignments/{again['id']}",
                      headers=world["headers"]["shopper"]).json["visit_ids"] == [second]

    # 8. Every step is in the audit log.
    from supervision.audit.models import AuditEntry

    with app.app_context():
        log = [(e.entity, e.action) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity.in_(
                ("assignment", "visit", "action", "dispute"))).order_by(AuditEntry.id))]
    for step in [("assignment", "create"), ("assignment", "complete"), ("visit", "submit"),
                 ("visit", "reject"), ("visit", "publish"), ("dispute", "create"),
                 ("dispute", "link"), ("action", "propose"), ("action", "update"),
                 ("action", "verify")]:
        assert step in log, step
    assert log.count(("visit", "submit")) == 3 and log.count(("visit", "publish")) == 2
