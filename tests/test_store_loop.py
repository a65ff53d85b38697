"""The store closes the loop (issue 17): its staff roster, the sign-off of a visit (offline, then
synced; a signed visit is locked), the action plan agreed with an owner from the roster, photos of
the fix, approval and rejection, reminders and escalation sent once — across a killed worker too."""

import base64
import io
import threading
import uuid
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from redis import Redis
from sqlalchemy import func, select

from supervision.db import db
from supervision.notifications.models import Notification
from tests.images import picture
from tests.servers import wait_until
from tests.visit_support import DATA, audit_body, kill_worker, new_id, worker

SH = ZoneInfo("Asia/Shanghai")
TODAY = datetime.now(SH).date()
VISIT_AT = datetime.combine(TODAY - timedelta(days=2), time(15), SH)
# storefront-audit: a red line stated as a bad behaviour, a must-be item, a performance item
RED_LINE, MUST_BE, PERFORMANCE = "svc_red_argue_mock", "img_uniform_badge", "img_hall_clean"
SIGNED_AT = "2025-03-01T10:20:00+08:00"


@pytest.fixture
def world(make_world):
    return make_world(
        checklists=(DATA / "audit.yaml",),
        stores={"store": {"region": "east", "code": "E1", "name": "人民路营业厅",
                          "name_en": "Renmin Road", "timezone": "Asia/Shanghai"},
                "other_store": {"region": "east", "code": "E2"}, "west_store": "west"},
        people={"admin": "admin",
                "manager": {"role": "manager", "regions": ["east"], "locale": "zh"},
                "supervisor": ("supervisor", "east"),
                "other_supervisor": ("supervisor", "east"),
                "west_supervisor": ("supervisor", "west"), "shopper": ("shopper", "east"),
                "store_manager": {"role": "store_manager", "stores": ["store"], "locale": "en"},
                "deputy": {"role": "store_manager", "stores": ["store"], "locale": "zh"},
                "other_store_manager": {"role": "store_manager", "stores": ["other_store"]}})


def _as(client, world, who, method, url, **kwargs):
    return client.open(url, method=method, headers={**kwargs.pop("headers", {}),
                                                    **world["headers"][who]}, **kwargs)


def _staff(client, world, name="李娜", store="store", who="store_manager", **values) -> dict:
    response = _as(client, world, who, "POST", f"/api/v1/stores/{world[store].id}/staff",
                   json={"name": name, **values})
    assert response.status_code == 201, response.json
    return response.json


# Staff roster --------------------------------------------------------------------------------

def test_the_store_manager_keeps_the_roster_the_store_side_reads_it(client, world):
    li = _staff(client, world, "李娜", badge="A017", position="值班经理")
    wang = _staff(client, world, "王强", who="manager")
    assert (li["store_id"], li["badge"], li["position"], li["active"]) == (
        world["store"].id, "A017", "值班经理", True)
    left = _as(client, world, "store_manager", "PATCH", f"/api/v1/staff/{wang['id']}",
               json={"active": False, "position": "营业员"})
    assert left.status_code == 200 and (left.json["active"], left.json["position"]) == (
        False, "营业员")
    url = f"/api/v1/stores/{world['store'].id}/staff"
    for who in ("supervisor", "manager", "admin", "store_manager", "deputy"):
        assert [s["name"] for s in _as(client, world, who, "GET", url).json] == ["李娜", "王强"]
    assert [s["name"] for s in _as(client, world, "supervisor", "GET",
                                   f"{url}?active=true").json] == ["李娜"]
    # a supervisor picks owners from the roster but does not keep it; a shopper sees none
    assert _as(client, world, "supervisor", "POST", url, json={"name": "x"}).status_code == 403
    assert _as(client, world, "supervisor", "PATCH", f"/api/v1/staff/{li['id']}",
               json={"name": "x"}).status_code == 403
    assert _as(client, world, "shopper", "GET", url).status_code == 403
    # out of scope: not found
    for who in ("other_store_manager", "west_supervisor"):
        assert _as(client, world, who, "GET", url).status_code == 404
    assert _as(client, world, "other_store_manager", "POST", url,
               json={"name": "x"}).status_code == 404
    assert _as(client, world, "other_store_manager", "PATCH", f"/api/v1/staff/{li['id']}",
               json={"name": "x"}).status_code == 404
    assert _as(client, world, "store_manager", "PATCH", "/api/v1/staff/999999",
               json={"name": "x"}).status_code == 404
    # an action added by hand names its owner from the roster too
    body = {"store_id": world["store"].id, "title": "补发工牌", "due_date": TODAY.isoformat()}
    added = _as(client, world, "supervisor", "POST", "/api/v1/actions",
                json={**body, "owner_staff_id": li["id"]})
    assert added.status_code == 201 and (added.json["owner"], added.json["owner_staff_id"]) == (
        "李娜", li["id"])
    for extra in ({"owner_staff_id": wang["id"]}, {}):  # gone from the store; nobody
        refused = _as(client, world, "supervisor", "POST", "/api/v1/actions",
                      json={**body, **extra})
        assert refused.status_code == 422 and "owner_staff_id" in refused.json["errors"]["json"]


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"), ({"name": "   "}, "name"), ({}, "name"),
    ({"name": "李娜", "badge": "x" * 33}, "badge"), ({"name": "李娜", "position": 5}, "position"),
    ({"name": "李\x00娜"}, "name"), ({"name": "李娜", "store_id": 3}, "store_id"),
])
def test_bad_staff_input_names_the_field(client, world, body, field):
    response = _as(client, world, "store_manager", "POST",
                   f"/api/v1/stores/{world['store'].id}/staff", json=body)
    assert response.status_code == 422 and field in response.json["errors"]["json"]


# Sign-off ------------------------------------------------------------------------------------

def _signature(width=600, height=200, **kwargs) -> str:
    image = Image.new("RGBA", (width, height), (255, 255, 255, 0))
    for x in range(40, width - 40):  # a stroke
        image.putpixel((x, height // 2 + (x % 17) - 8), (20, 20, 20, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **kwargs)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _signoff_body(**extra) -> dict:
    return {"name": "王主任", "signature": _signature(), "comment": "已知悉，本周内整改",
            "signed_at": SIGNED_AT, "location": {"lat": 31.2387, "lon": 121.481,
                                                  "accuracy_m": 8}, **extra}


def _synced_audit(client, world, responses=None) -> tuple[str, dict, list]:
    """What the tablet's outbox sends after an audit done offline: the draft, its photos, the
    submission. Returns (visit id, body, photos)."""
    visit_id, photos = new_id(), [(new_id(), "signage"), (new_id(), "signage")]
    body = audit_body(world["store"].id, responses, photos=photos)
    assert _as(client, world, "supervisor", "PUT", f"/api/v1/visits/{visit_id}",
               json=body).status_code == 201
    for n, (photo_id, item) in enumerate(photos):
        response = _put_photo(client, world, visit_id, photo_id, item, seed=n)
        assert response.status_code == 201, response.json
    submitted = _as(client, world, "supervisor", "POST", f"/api/v1/visits/{visit_id}/submit")
    assert submitted.json["status"] == "published", submitted.json
    return visit_id, body, photos


def _put_photo(client, world, visit_id, photo_id, item, seed=0):
    return _as(client, world, "supervisor", "PUT",
               f"/api/v1/visits/{visit_id}/photos/{photo_id}?item={item}",
               data=picture(64, 48, "green", "PNG", seed=seed),
               headers={"Content-Type": "image/png"})


def _sign(client, world, visit_id, who="supervisor", **body):
    return _as(client, world, who, "POST", f"/api/v1/visits/{visit_id}/signoff", json=body)


def test_a_signature_taken_offline_syncs_after_the_visit_and_replays_harmlessly(
        app, client, world):
    visit_id, _, _ = _synced_audit(client, world)
    body = _signoff_body()
    first = _sign(client, world, visit_id, **body)
    assert first.status_code == 200, first.json
    signed = first.json
    assert (signed["visit_id"], signed["name"], signed["method"], signed["has_signature"]) == (
        visit_id, "王主任", "signature", True)
    assert signed["signed_at"] == "2025-03-01T02:20:00+00:00" and signed["signer_id"] is None
    # the outbox sends it again (its answer was lost): the same, nothing changes
    again = _sign(client, world, visit_id, **body)
    assert again.status_code == 200 and again.json == signed
    document = _as(client, world, "supervisor", "GET", f"/api/v1/visits/{visit_id}").json
    assert document["signoff"] == signed
    for who in ("manager", "store_manager"):  # the store reads the signature too
        png = _as(client, world, who, "GET", f"/api/v1/visits/{visit_id}/signoff/signature")
        assert png.status_code == 200 and png.mimetype == "image/png"
        with Image.open(io.BytesIO(png.data)) as image:
            assert image.size == (600, 200) and not image.text  # written again, no metadata
        png.close()
    from supervision.audit.models import AuditEntry

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity == "visit", AuditEntry.action == "signoff")) == 1
    assert _as(client, world, "other_store_manager", "GET",
               f"/api/v1/visits/{visit_id}/signoff/signature").status_code == 404


def test_a_different_second_signoff_is_refused(client, world):
    visit_id, _, _ = _synced_audit(client, world)
    assert _sign(client, world, visit_id, **_signoff_body()).status_code == 200
    other = _sign(client, world, visit_id, **_signoff_body(comment="不同意"))
    assert other.status_code == 409 and "signoff" in other.json["errors"]["json"]
    acknowledged = _sign(client, world, visit_id, "store_manager", name="王主任",
                         signed_at=SIGNED_AT)
    assert acknowledged.status_code == 409


def test_a_signed_visit_is_locked(client, world):
    visit_id, body, photos = _synced_audit(client, world)
    assert _sign(client, world, visit_id, **_signoff_body()).status_code == 200
    url = f"/api/v1/visits/{visit_id}"
    # the same draft and photo bytes again are harmless replays; anything new is refused
    assert _as(client, world, "supervisor", "PUT", url, json=body).status_code == 200
    assert _put_photo(client, world, visit_id, *photos[0]).status_code == 200
    changed = _as(client, world, "supervisor", "PUT", url,
                  json={**body, "notes": "改一下", "revision": 1})
    extra = _put_photo(client, world, visit_id, new_id(), "tidy", seed=7)
    submit = _as(client, world, "supervisor", "POST", f"{url}/submit")
    for response in (changed, extra, submit):
        assert response.status_code == 409 and "signoff" in response.json["errors"], response.json
    assert _as(client, world, "supervisor", "GET", url).json["notes"] is None


def test_a_store_manager_acknowledges_a_published_visit_in_its_app(client, world):
    visit_id, _, _ = _synced_audit(client, world)
    assert _sign(client, world, visit_id, "other_store_manager", name="x",
                 signed_at=SIGNED_AT).status_code == 404
    acknowledged = _sign(client, world, visit_id, "store_manager", name="Wang",
                         comment="Read and agreed", signed_at=SIGNED_AT)
    assert acknowledged.status_code == 200, acknowledged.json
    assert (acknowledged.json["method"], acknowledged.json["has_signature"],
            acknowledged.json["signer_id"]) == (
        "acknowledgement", False, world["store_manager"].id)
    assert _as(client, world, "manager", "GET",
               f"/api/v1/visits/{visit_id}/signoff/signature").status_code == 404


def _truncated_png() -> str:
    data = base64.b64decode(_signature().split(",", 1)[1])
    return "data:image/png;base64," + base64.b64encode(data[:-30]).decode()


@pytest.mark.parametrize(("change", "status", "field"), [
    ({"signature": None}, 422, "signature"),
    ({"signature": "data:image/jpeg;base64,/9j/"}, 422, "signature"),
    ({"signature": "data:image/png;base64,@@@"}, 422, "signature"),
    ({"signature": "data:image/png;base64," + base64.b64encode(
        picture(60, 20, format="JPEG")).decode()}, 422, "signature"),
    ({"signature": "data:image/png;base64," + base64.b64encode(b"not a png").decode()},
     422, "signature"),
    ({"signature": "data:image/png;base64," + "A" * 1_400_004}, 422, "signature"),
    ({"name": ""}, 422, "name"),
    ({"signed_at": "yesterday"}, 422, "signed_at"),
    ({"location": {"lat": 91, "lon": 0}}, 422, "location"),
])
def test_bad_signoffs_name_the_field(client, world, change, status, field):
    visit_id, _, _ = _synced_audit(client, world)
    response = _sign(client, world, visit_id, **_signoff_body(**change))
    assert response.status_code == status and field in response.json["errors"]["json"]
    assert _as(client, world, "supervisor", "GET",
               f"/api/v1/visits/{visit_id}").json["signoff"] is None


def test_a_cut_off_signature_is_refused(client, world):
    visit_id, _, _ = _synced_audit(client, world)
    response = _sign(client, world, visit_id, **_signoff_body(signature=_truncated_png()))
    assert response.status_code == 422 and "signature" in response.json["errors"]["json"]


def test_who_may_sign_what(client, world):
    draft = new_id()
    _as(client, world, "supervisor", "PUT", f"/api/v1/visits/{draft}",
        json=audit_body(world["store"].id))
    early = _sign(client, world, draft, **_signoff_body())
    assert early.status_code == 409 and "signoff" in early.json["errors"]["json"]
    visit_id, _, _ = _synced_audit(client, world)
    assert _sign(client, world, visit_id, "other_supervisor", **_signoff_body()).status_code == 403
    assert _sign(client, world, visit_id, "west_supervisor", **_signoff_body()).status_code == 404
    for who in ("manager", "shopper"):
        assert _sign(client, world, visit_id, who, **_signoff_body()).status_code == 403
    assert _sign(client, world, draft, "store_manager", name="x",
                 signed_at=SIGNED_AT).status_code == 404  # not published: unseen


# The action plan -----------------------------------------------------------------------------

def _audit(app, make_visit, world, answers, started_at=VISIT_AT) -> str:
    """A storefront audit stored as submitted (published at once), followed up as submission
    does: each coached gap proposes an action."""
    from supervision.checklists.services import definition_of
    from supervision.followup.services import on_visit_submitted
    from supervision.visits.models import Visit

    visit_id = make_visit(world["store"], world["supervisor"], "storefront-audit",
                          answers=answers, started_at=started_at)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        on_visit_submitted(visit, definition_of(visit.checklist_version), visit.score)
        db.session.commit()
    return str(visit_id)


def _failing(*items) -> dict:
    return {item: item == RED_LINE for item in items}  # the red line is an inverse item


def _proposals(app, client, world, make_visit, *items) -> dict:
    visit_id = _audit(app, make_visit, world, _failing(*items))
    listed = _as(client, world, "store_manager", "GET", f"/api/v1/actions?visit_id={visit_id}")
    return {a["item_id"]: a for a in listed.json}


def _patch(client, world, who, action_id, **body):
    return _as(client, world, who, "PATCH", f"/api/v1/actions/{action_id}", json=body)


def _decide(client, world, who, action_id, **body):
    return _as(client, world, who, "POST", f"/api/v1/actions/{action_id}/decision", json=body)


def _evidence(client, world, action_id, photo_id=None, who="store_manager", colour="white",
              taken_at="2026-01-05T09:12:00+08:00"):
    photo_id = photo_id or new_id()
    return photo_id, _as(client, world, who, "PUT",
                         f"/api/v1/actions/{action_id}/evidence/{photo_id}"
                         f"?taken_at={quote(taken_at)}",
                         data=picture(320, 240, colour), headers={"Content-Type": "image/jpeg"})


def test_agreed_at_signoff_due_dates_follow_severity(app, client, world, make_visit):
    li = _staff(client, world, "李娜")
    actions = _proposals(app, client, world, make_visit, RED_LINE, MUST_BE, PERFORMANCE)
    for item, days in ((RED_LINE, 1), (MUST_BE, 2), (PERFORMANCE, 7)):
        agreed = _patch(client, world, "supervisor", actions[item]["id"], status="agreed",
                        owner_staff_id=li["id"])
        assert agreed.status_code == 200, agreed.json
        assert agreed.json["due_date"] == (VISIT_AT.date() + timedelta(days=days)).isoformat()
        assert agreed.json["owner_staff"] == {"id": li["id"], "name": "李娜", "badge": None,
                                              "position": None}
        assert agreed.json["owner"] == "李娜" and agreed.json["agreed_at"]


def test_agreeing_needs_an_active_person_of_the_stores_roster(app, client, world, make_visit):
    [action] = _proposals(app, client, world, make_visit, MUST_BE).values()
    gone = _staff(client, world, "离职员工")
    _as(client, world, "store_manager", "PATCH", f"/api/v1/staff/{gone['id']}",
        json={"active": False})
    elsewhere = _staff(client, world, "别店员工", store="other_store", who="manager")
    for body in ({}, {"owner_staff_id": gone["id"]}, {"owner_staff_id": elsewhere["id"]},
                 {"owner_staff_id": 99999}):
        refused = _patch(client, world, "store_manager", action["id"], status="agreed", **body)
        assert refused.status_code == 422 and "owner_staff_id" in refused.json["errors"]["json"]
    owner = _staff(client, world, "李娜")
    due = (TODAY + timedelta(days=4)).isoformat()
    agreed = _patch(client, world, "store_manager", action["id"], status="agreed",
                    owner_staff_id=owner["id"], due_date=due)
    assert (agreed.status_code, agreed.json["status"], agreed.json["due_date"]) == (
        200, "agreed", due)


def test_the_store_shows_the_fix_and_the_supervisor_approves_it(app, client, world, make_visit):
    [action] = _proposals(app, client, world, make_visit, MUST_BE).values()
    url = f"/api/v1/actions/{action['id']}"
    photo_id, early = _evidence(client, world, action["id"])
    assert early.status_code == 409 and "status" in early.json["errors"]  # not agreed yet
    _patch(client, world, "store_manager", action["id"], status="agreed",
           owner_staff_id=_staff(client, world)["id"])

    photo_id, stored = _evidence(client, world, action["id"], photo_id)
    assert stored.status_code == 201, stored.json
    assert (stored.json["id"], stored.json["content_type"], stored.json["taken_at"]) == (
        photo_id, "image/jpeg", "2026-01-05T01:12:00+00:00")
    assert _evidence(client, world, action["id"], photo_id)[1].status_code == 200  # a replay
    other = _evidence(client, world, action["id"], photo_id, colour="black")[1]
    assert other.status_code == 409 and "photo_id" in other.json["errors"]
    for size in ("thumb", "display"):
        image = _as(client, world, "supervisor", "GET", f"{url}/evidence/{photo_id}?size={size}")
        assert image.status_code == 200 and image.mimetype == "image/jpeg"
        with Image.open(io.BytesIO(image.data)) as decoded:
            assert max(decoded.size) <= 320 and not decoded.getexif()  # shrunk, no EXIF
        image.close()

    bare = _patch(client, world, "store_manager", action["id"], status="done")
    assert bare.status_code == 422 and set(bare.json["errors"]["json"]) == {"note"}
    done = _patch(client, world, "store_manager", action["id"], status="done",
                  note="已为全员补发工牌 / badges issued")
    assert done.status_code == 200 and done.json["status"] == "done"
    assert [e["id"] for e in done.json["evidence"]] == [photo_id]
    assert done.json["evidence"][0]["status"] == "processed"

    assert _decide(client, world, "store_manager", action["id"],
                   decision="approve").status_code == 403  # never its own fix
    approved = _decide(client, world, "supervisor", action["id"], decision="approve",
                       comment="工牌齐全 / all badges on")
    assert approved.status_code == 200
    assert (approved.json["status"], approved.json["decision_comment"]) == (
        "verified", "工牌齐全 / all badges on")
    assert approved.json["verified_at"] == approved.json["decided_at"]
    again = _decide(client, world, "supervisor", action["id"], decision="approve",
                    comment="工牌齐全 / all badges on")
    assert again.status_code == 200 and again.json == approved.json  # a replay
    assert _decide(client, world, "supervisor", action["id"],
                   decision="reject", comment="x").status_code == 409
    assert _evidence(client, world, action["id"])[1].status_code == 409  # closed


def test_a_rejected_fix_is_reopened_the_store_is_told_why_and_does_it_again(
        app, client, world, make_visit):
    [action] = _proposals(app, client, world, make_visit, PERFORMANCE).values()
    _patch(client, world, "store_manager", action["id"], status="agreed",
           owner_staff_id=_staff(client, world)["id"])
    assert _decide(client, world, "supervisor", action["id"],
                   decision="approve").status_code == 409  # not done yet
    first, _ = _evidence(client, world, action["id"])
    _patch(client, world, "store_manager", action["id"], status="done", note="拖过地了")

    bare = _decide(client, world, "manager", action["id"], decision="reject")
    assert bare.status_code == 422 and "comment" in bare.json["errors"]["json"]
    new_due = (TODAY + timedelta(days=2)).isoformat()
    rejected = _decide(client, world, "manager", action["id"], decision="reject",
                       comment="地面仍有污渍 / the floor is still stained", due_date=new_due)
    assert rejected.status_code == 200
    assert (rejected.json["status"], rejected.json["due_date"]) == ("reopened", new_due)
    told = _notifications(app, "action_rejected")
    assert sorted(n.user_id for n in told) == sorted(
        [world["store_manager"].id, world["deputy"].id])
    english = next(n for n in told if n.user_id == world["store_manager"].id)
    chinese = next(n for n in told if n.user_id == world["deputy"].id)
    assert english.subject.startswith("Fix rejected: Renmin Road, Make sure ")
    assert "Reason: 地面仍有污渍 / the floor is still stained" in english.body
    assert f"Due: {new_due}" in english.body
    assert chinese.subject.startswith("整改未通过复核：人民路营业厅，")
    assert "退回原因：地面仍有污渍" in chinese.body

    # done again: the photo before the rejection no longer counts
    stale = _patch(client, world, "store_manager", action["id"], status="done", note="再拖一遍")
    assert stale.status_code == 422 and "evidence" in stale.json["errors"]["json"]
    second, _ = _evidence(client, world, action["id"], colour="grey")
    redone = _patch(client, world, "store_manager", action["id"], status="done",
                    note="深度清洁 / deep-cleaned")
    assert redone.status_code == 200 and [e["id"] for e in redone.json["evidence"]] == [
        first, second]
    approved = _decide(client, world, "supervisor", action["id"], decision="approve")
    assert approved.json["status"] == "verified"


def test_a_later_visit_still_verifies_agreed_reopened_and_done_actions(
        app, client, world, make_visit):
    owner = _staff(client, world)["id"]
    actions = _proposals(app, client, world, make_visit, RED_LINE, MUST_BE, PERFORMANCE)
    for action in actions.values():
        _patch(client, world, "supervisor", action["id"], status="agreed", owner_staff_id=owner)
    for item in (MUST_BE, PERFORMANCE):  # done, then one of them rejected
        _evidence(client, world, actions[item]["id"])
        _patch(client, world, "store_manager", actions[item]["id"], status="done", note="ok")
    _decide(client, world, "supervisor", actions[PERFORMANCE]["id"], decision="reject",
            comment="不行")
    later = _audit(app, make_visit, world, {}, started_at=VISIT_AT + timedelta(days=1))
    for action in actions.values():
        shown = _as(client, world, "manager", "GET", f"/api/v1/actions/{action['id']}").json
        assert (shown["status"], shown["verified_visit_id"]) == ("verified", later)


@pytest.mark.parametrize(("who", "status"), [
    ("shopper", 403), ("west_supervisor", 404), ("other_store_manager", 404)])
def test_photos_of_a_fix_are_the_stores_side(app, client, world, make_visit, who, status):
    [action] = _proposals(app, client, world, make_visit, MUST_BE).values()
    _patch(client, world, "store_manager", action["id"], status="agreed",
           owner_staff_id=_staff(client, world)["id"])
    photo_id, _ = _evidence(client, world, action["id"])
    assert _evidence(client, world, action["id"], who=who)[1].status_code == status
    assert _as(client, world, who, "GET", f"/api/v1/actions/{action['id']}/evidence/"
               f"{photo_id}").status_code == status


def test_photos_of_fixes_left_unprocessed_are_processed_by_the_command(
        app, client, world, make_visit, runner):
    """A worker that died before shrinking a photo of a fix leaves it `received`; the command
    that processes pending visit photos takes these too."""
    from supervision.followup.models import ActionEvidence

    [action] = _proposals(app, client, world, make_visit, MUST_BE).values()
    _patch(client, world, "store_manager", action["id"], status="agreed",
           owner_staff_id=_staff(client, world)["id"])
    photo_id, _ = _evidence(client, world, action["id"])
    with app.app_context():
        db.session.get(ActionEvidence, uuid.UUID(photo_id)).status = "received"
        db.session.commit()
    result = runner.invoke(args=["photos", "process-pending"])
    assert result.exit_code == 0 and "processed 1, corrupt 0" in result.output
    shown = _as(client, world, "supervisor", "GET", f"/api/v1/actions/{action['id']}").json
    assert [e["status"] for e in shown["evidence"]] == ["processed"]


def test_a_photo_of_a_fix_must_be_an_image(app, client, world, make_visit):
    [action] = _proposals(app, client, world, make_visit, MUST_BE).values()
    _patch(client, world, "store_manager", action["id"], status="agreed",
           owner_staff_id=_staff(client, world)["id"])
    response = _as(client, world, "store_manager", "PUT",
                   f"/api/v1/actions/{action['id']}/evidence/{new_id()}", data=b"%PDF-1.4",
                   headers={"Content-Type": "image/jpeg"})
    assert response.status_code == 415 and "body" in response.json["errors"]
    late = _as(client, world, "store_manager", "PUT",
               f"/api/v1/actions/{action['id']}/evidence/{new_id()}?taken_at=soon",
               data=picture(32, 32), headers={"Content-Type": "image/jpeg"})
    assert late.status_code == 422 and "taken_at" in late.json["errors"]["query"]


def test_a_proposal_is_dismissed_with_a_reason_by_the_store(app, client, world, make_visit):
    [action] = _proposals(app, client, world, make_visit, MUST_BE).values()
    bare = _patch(client, world, "store_manager", action["id"], status="dismissed")
    assert bare.status_code == 422 and "reason" in bare.json["errors"]["json"]
    dismissed = _patch(client, world, "store_manager", action["id"], status="dismissed",
                       reason="当日工牌已补发 / badges issued that day")
    assert (dismissed.json["status"], dismissed.json["dismiss_reason"]) == (
        "dismissed", "当日工牌已补发 / badges issued that day")


# Reminders and escalation --------------------------------------------------------------------

def _agreed_action(app, world, due: date, store="store", status="agreed") -> int:
    from supervision.followup.models import Action

    with app.app_context():
        action = Action(store_id=world[store].id, title="补发工牌", item_id=MUST_BE,
                        texts={"title": {"zh": "补发工牌", "en": "Issue the badges"}},
                        owner="李娜", due_date=due, status=status)
        db.session.add(action)
        db.session.commit()
        return action.id


def _sweep(app, now: datetime) -> dict:
    from supervision.followup.escalation import sweep

    with app.app_context():
        sent = sweep(now)
        db.session.commit()
        return sent


def _notifications(app, kind: str | None = None) -> list[Notification]:
    with app.app_context():
        query = select(Notification).order_by(Notification.id)
        if kind:
            query = query.where(Notification.kind == kind)
        found = db.session.scalars(query).all()
        db.session.expunge_all()
        return found


def _at(day: date, hour: int, zone=SH) -> datetime:
    return datetime.combine(day, time(hour), zone).astimezone(UTC)


def test_due_day_reminds_the_store_three_days_later_the_region_once_each(app, world):
    due = date(2026, 3, 10)
    action_id = _agreed_action(app, world, due)
    _agreed_action(app, world, due, status="proposed")  # never reminded: not agreed
    _agreed_action(app, world, due, status="done")  # shown fixed: nothing to remind
    assert _sweep(app, _at(due - timedelta(days=1), 23)) == {"reminded": 0, "escalated": 0}
    assert _sweep(app, _at(due, 8)) == {"reminded": 2, "escalated": 0}
    for moment in (_at(due, 9), _at(due + timedelta(days=2), 23)):
        assert _sweep(app, moment) == {"reminded": 0, "escalated": 0}
    reminded = _notifications(app, "action_due")
    assert {n.user_id: n.once_key for n in reminded} == {
        world["store_manager"].id: f"action:{action_id}:due-2026-03-10:{world['store_manager'].id}",
        world["deputy"].id: f"action:{action_id}:due-2026-03-10:{world['deputy'].id}"}
    english = next(n for n in reminded if n.user_id == world["store_manager"].id)
    assert english.subject == "Action due: Renmin Road, Issue the badges"
    assert english.body.splitlines() == [
        "Owner: 李娜", "Due: 2026-03-10", "Mark it done with a note and a photo of the fix."]
    chinese = next(n for n in reminded if n.user_id == world["deputy"].id)
    assert chinese.subject == "整改项到期提醒：人民路营业厅，补发工牌"

    assert _sweep(app, _at(due + timedelta(days=3), 0)) == {"reminded": 0, "escalated": 1}
    assert _sweep(app, _at(due + timedelta(days=9), 12)) == {"reminded": 0, "escalated": 0}
    [escalated] = _notifications(app, "action_escalated")
    assert escalated.user_id == world["manager"].id  # the region's managers, in their language
    assert escalated.subject == "整改项逾期 3 天：人民路营业厅，补发工牌"
    assert escalated.link == f"/api/v1/actions/{action_id}"
    assert "门店：人民路营业厅（E1）" in escalated.body


def test_a_new_due_date_after_a_rejection_is_reminded_again(app, world):
    from supervision.followup.models import Action

    due = date(2026, 3, 10)
    action_id = _agreed_action(app, world, due)
    _sweep(app, _at(due, 8))
    with app.app_context():
        action = db.session.get(Action, action_id)
        action.status, action.due_date = "reopened", due + timedelta(days=5)
        db.session.commit()
    assert _sweep(app, _at(due + timedelta(days=4), 8))["reminded"] == 0
    assert _sweep(app, _at(due + timedelta(days=5), 8))["reminded"] == 2
    assert len(_notifications(app, "action_due")) == 4


def test_the_due_day_is_the_stores_own(app, world):
    from supervision.stores.models import Store

    with app.app_context():
        db.session.get(Store, world["other_store"].id).timezone = "America/Los_Angeles"
        db.session.commit()
    due = date(2026, 3, 10)
    shanghai = _agreed_action(app, world, due)
    los_angeles = _agreed_action(app, world, due, store="other_store")
    # 08:00 on the 10th in Shanghai is still the 9th in Los Angeles
    assert _sweep(app, _at(due, 8))["reminded"] == 2
    assert {n.link for n in _notifications(app, "action_due")} == {
        f"/api/v1/actions/{shanghai}"}
    assert _sweep(app, _at(due, 8, ZoneInfo("America/Los_Angeles")))["reminded"] == 1
    assert f"/api/v1/actions/{los_angeles}" in {n.link for n in _notifications(app)}


def test_flask_actions_sweep_runs_it_from_cron(app, world, runner):
    _agreed_action(app, world, TODAY - timedelta(days=3))
    first = runner.invoke(args=["actions", "sweep"])
    assert first.exit_code == 0 and first.output.strip() == "reminded 2, escalated 1"
    again = runner.invoke(args=["actions", "sweep"])
    assert again.output.strip() == "reminded 0, escalated 0"


def test_a_killed_and_restarted_worker_notifies_nothing_twice(
        app, world, redis_url, tmp_path, monkeypatch):
    Redis.from_url(redis_url).flushdb()
    monkeypatch.setitem(app.config, "REDIS_URL", redis_url)
    log, every = tmp_path / "worker.log", {"ACTION_SWEEP_SECONDS": 0.2}
    late = _agreed_action(app, world, TODAY - timedelta(days=4))  # reminded and escalated
    due = _agreed_action(app, world, TODAY)  # reminded

    def keys() -> list[str]:
        return [n.once_key for n in _notifications(app)]

    with worker(app, log, **every) as process:
        wait_until(lambda: len(keys()) == 5, "the worker's sweep to notify", seconds=60)
        kill_worker(process)
    fresh = _agreed_action(app, world, TODAY)  # due while no worker ran
    with worker(app, log, **every):
        # its sweep that told of the new action went over the others again: nothing new there
        wait_until(lambda: len(keys()) >= 7, "the restarted worker's sweep", seconds=60)
    found = keys()
    assert len(found) == len(set(found)) == 7, log.read_text()
    managers = (world["store_manager"].id, world["deputy"].id)
    assert set(found) == {
        *(f"action:{a}:due-{d.isoformat()}:{m}" for a, d in (
            (late, TODAY - timedelta(days=4)), (due, TODAY), (fresh, TODAY)) for m in managers),
        f"action:{late}:escalated-{(TODAY - timedelta(days=4)).isoformat()}:"
        f"{world['manager'].id}"}
    assert "Traceback" not in log.read_text()


def test_notify_once_skips_those_already_told(app, world):
    from supervision.accounts.models import User
    from supervision.notifications.services import notify

    with app.app_context():
        users = [db.session.get(User, world[name].id) for name in ("manager", "deputy")]
        first = notify(users[:1], "action_due", lambda: ("s", "b"), once_key="action:1:due-x")
        second = notify(users, "action_due", lambda: ("s", "b"), once_key="action:1:due-x")
        db.session.commit()
        assert [n.user_id for n in first] == [users[0].id]
        assert [n.user_id for n in second] == [users[1].id]
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 2


def test_without_a_worker_the_web_process_sweeps(app_config, world, app):
    """The embedded default (TASK_MODE=thread, no Redis): the web process reminds the stores,
    from its first request on, and stops sweeping with its stop event."""
    from supervision import create_app

    _agreed_action(app, world, TODAY)
    web = create_app({**app_config, "TASK_MODE": "thread", "ACTION_SWEEP_SECONDS": 0.2})
    assert "periodic" not in web.extensions  # nothing sweeps before a request
    before = set(threading.enumerate())  # other tests' servers may be sweeping too
    try:
        web.test_client().get("/healthz")
        wait_until(lambda: len(_notifications(app, "action_due")) == 2,
                   "the web process's sweep to remind the store managers", seconds=60)
    finally:
        web.extensions["periodic"].set()
        for thread in set(threading.enumerate()) - before:
            if thread.name.startswith("periodic-"):
                thread.join(timeout=60)
                assert not thread.is_alive(), thread.name
        with web.app_context():
            db.engine.dispose()
    assert {n.user_id for n in _notifications(app, "action_due")} == {
        world["store_manager"].id, world["deputy"].id}
