"""Review of mystery visits: nothing reaches the store's side before a manager publishes it."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from supervision.db import db
from tests.conftest import PEOPLE

SH = ZoneInfo("Asia/Shanghai")
# A fixed afternoon in Shanghai, so that "the same local day" never straddles midnight.
VISIT_AT = datetime.combine(date.today() - timedelta(days=2), datetime.min.time(),
                            SH).replace(hour=15)




@pytest.fixture
def world(make_world):
    return make_world(stores={"store": {"region": "east", "manager_name": "王主任"}},
                      people={**PEOPLE, "west_manager": ("manager", "west")})


def _mystery(make_visit, world, answers=None, status="submitted"):
    return make_visit(world["store"], world["shopper"], "mystery-visit", answers=answers,
                      status=status, started_at=VISIT_AT)


def _review(client, auth_headers, user, visit_id, **body):
    return client.post(f"/api/v1/visits/{visit_id}/review", json=body,
                       headers=auth_headers(user))


def _audit_log(app, entity):
    from supervision.audit.models import AuditEntry

    with app.app_context():
        return [(e.action, e.details) for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.entity == entity).order_by(AuditEntry.id))]


def test_a_rejection_needs_a_comment_and_goes_back_to_the_shopper(
        app, client, world, auth_headers, make_visit):
    visit_id = _mystery(make_visit, world)
    silent = _review(client, auth_headers, world["manager"], visit_id, decision="reject")
    assert silent.status_code == 422
    assert silent.json["errors"]["json"]["comment"] == ["Required to reject a visit."]
    blank = _review(client, auth_headers, world["manager"], visit_id, decision="reject",
                    comment="   ")
    assert blank.status_code == 422

    comment = "请补拍门头照片 / please add the photo of the entrance"
    rejected = _review(client, auth_headers, world["manager"], visit_id, decision="reject",
                       comment=comment)
    assert rejected.status_code == 200
    assert rejected.json["status"] == "rejected" and rejected.json["review_comment"] == comment
    assert rejected.json["reviewed_by_id"] == world["manager"].id
    mine = client.get(f"/api/v1/visits/{visit_id}", headers=auth_headers(world["shopper"]))
    assert mine.json["status"] == "rejected"
    assert _audit_log(app, "visit")[-1] == ("reject", {"comment": comment})
    # the same decision again is harmless; the other one is not possible any more
    again = _review(client, auth_headers, world["manager"], visit_id, decision="reject",
                    comment=comment)
    assert again.status_code == 200
    late = _review(client, auth_headers, world["manager"], visit_id, decision="publish")
    assert late.status_code == 409


def _store_side_sees(client, auth_headers, world, visit_id) -> dict:
    headers = auth_headers(world["supervisor"])
    listed = client.get(f"/api/v1/visits?store_id={world['store'].id}", headers=headers).json
    return {
        "listed": str(visit_id) in {v["id"] for v in listed},
        "single": client.get(f"/api/v1/visits/{visit_id}", headers=headers).status_code,
    }


def _report_visit_ids(app, store) -> set[str]:
    from supervision.reports.period import period_of, visit_rows

    with app.app_context():
        period = period_of(None, None, store.timezone, date.today())
        return {row["id"] for row in visit_rows([store.id], period)}


def test_publishing_shows_the_visit_to_the_store_side_and_its_reports(
        app, client, world, auth_headers, make_visit):
    visit_id = _mystery(make_visit, world, answers={"scenario_dispute": False})
    assert _store_side_sees(client, auth_headers, world, visit_id) == {
        "listed": False, "single": 404}
    assert str(visit_id) not in _report_visit_ids(app, world["store"])

    published = _review(client, auth_headers, world["manager"], visit_id, decision="publish",
                        comment="记录清楚 / clear record")
    assert published.status_code == 200
    assert published.json["status"] == "published" and published.json["published_at"]
    assert _store_side_sees(client, auth_headers, world, visit_id) == {
        "listed": True, "single": 200}
    assert str(visit_id) in _report_visit_ids(app, world["store"])
    assert [a for a, _ in _audit_log(app, "visit")] == ["publish"]
    again = _review(client, auth_headers, world["manager"], visit_id, decision="publish")
    assert again.status_code == 200 and again.json["published_at"] == published.json[
        "published_at"]
    assert [a for a, _ in _audit_log(app, "visit")] == ["publish"]


def test_audits_are_not_reviewed(client, world, auth_headers, make_visit):
    audit = make_visit(world["store"], world["supervisor"], "storefront-audit")
    response = _review(client, auth_headers, world["manager"], audit, decision="publish")
    assert response.status_code == 409
    assert "Audits are published on submission" in response.json["message"]


@pytest.mark.parametrize(("who", "status"), [
    ("shopper", 403), ("supervisor", 403), ("west_manager", 404), ("admin", 200),
])
def test_who_may_review(client, world, auth_headers, make_visit, who, status):
    visit_id = _mystery(make_visit, world)
    response = _review(client, auth_headers, world[who], visit_id, decision="publish")
    assert response.status_code == status


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"decision": "approve"}, 422, "decision"),
    ({}, 422, "decision"),
    ({"decision": "publish", "comment": 5}, 422, "comment"),
    ({"decision": "publish", "score": 100}, 422, "score"),
])
def test_bad_review_bodies(client, world, auth_headers, make_visit, body, status, field):
    visit_id = _mystery(make_visit, world)
    response = _review(client, auth_headers, world["manager"], visit_id, **body)
    assert response.status_code == status
    assert field in response.json["errors"]["json"]


def test_unknown_and_draft_visits_are_not_found(client, world, auth_headers, make_visit):
    draft = _mystery(make_visit, world, status="draft")
    for visit_id in (draft, "3f1c1e9e-8a53-4a59-9b8e-0e6d4f1a2b3c"):
        response = _review(client, auth_headers, world["manager"], visit_id, decision="publish")
        assert response.status_code == 404


# The dispute scenario and the store's dispute record ------------------------------------------

def _record_dispute(client, auth_headers, world, received_at):
    body = {"store_id": world["store"].id, "category": "service", "first_handler": "李娜",
            "matter": "对上月账单的一笔增值业务费有异议 / questions a value-added charge",
            "received_at": received_at.isoformat()}
    response = client.post("/api/v1/disputes", json=body,
                           headers=auth_headers(world["supervisor"]))
    assert response.status_code == 201
    return response.json["id"]


def _visit(app, visit_id):
    from supervision.visits.models import Visit

    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        answers = {r.item_id: r.value for r in visit.responses}
        return {"total": visit.total, "flags": visit.flags, "answers": answers,
                "earned": visit.score["explanation"]["earned"],
                "score_items": {row["item"]: row["status"] for row in visit.score["items"]}}


def _actions(client, auth_headers, world, visit_id):
    return client.get(f"/api/v1/actions?visit_id={visit_id}",
                      headers=auth_headers(world["manager"])).json


def test_the_store_record_of_the_played_dispute_is_linked(
        app, client, world, auth_headers, make_visit):
    visit_id = _mystery(make_visit, world)
    elsewhere = _record_dispute(client, auth_headers, world, VISIT_AT - timedelta(days=1))
    record_id = _record_dispute(client, auth_headers, world, VISIT_AT + timedelta(minutes=25))
    before = _visit(app, visit_id)
    published = _review(client, auth_headers, world["manager"], visit_id, decision="publish")
    assert published.json["dispute_ids"] == [record_id]
    assert published.json["flags"] == []
    assert _visit(app, visit_id)["total"] == before["total"]
    linked = client.get(f"/api/v1/disputes?visit_id={visit_id}",
                        headers=auth_headers(world["supervisor"])).json
    assert [d["id"] for d in linked] == [record_id]
    other = client.get(f"/api/v1/disputes/{elsewhere}", headers=auth_headers(world["supervisor"]))
    assert other.json["visit_id"] is None


def test_a_played_dispute_without_a_record_fails_the_record_item(
        app, client, world, auth_headers, make_visit):
    visit_id = _mystery(make_visit, world)
    _record_dispute(client, auth_headers, world, VISIT_AT - timedelta(days=1))  # another day
    before = _visit(app, visit_id)
    assert before["score_items"]["dis_record_form"] == "met"

    published = _review(client, auth_headers, world["manager"], visit_id, decision="publish")
    assert published.status_code == 200
    assert published.json["dispute_ids"] == []
    assert [f["code"] for f in published.json["flags"]] == ["no_dispute_record"]
    after = _visit(app, visit_id)
    assert after["answers"]["dis_record_form"] is False
    assert after["score_items"]["dis_record_form"] == "failed"
    # delighters may keep the total at 100, but the points earned fall by the item's stake
    assert after["earned"] < before["earned"] and after["total"] <= before["total"]
    assert published.json["total"] == after["total"]
    rescored = [d for a, d in _audit_log(app, "visit") if a == "rescore"]
    assert rescored == [{"item": "dis_record_form", "reason": "no_dispute_record",
                         "old_total": before["total"], "new_total": after["total"]}]
    actions = _actions(client, auth_headers, world, visit_id)
    assert [(a["item_id"], a["status"]) for a in actions] == [("dis_record_form", "proposed")]
    # a must-be gap, due 48 hours after the store learned of it: at publication (today)
    assert actions[0]["due_date"] == (datetime.now(SH).date() + timedelta(days=2)).isoformat()


def test_no_dispute_played_means_nothing_to_check(app, client, world, auth_headers, make_visit):
    visit_id = _mystery(make_visit, world, answers={"scenario_dispute": False})
    before = _visit(app, visit_id)
    published = _review(client, auth_headers, world["manager"], visit_id, decision="publish")
    assert published.json["flags"] == [] and published.json["dispute_ids"] == []
    assert _visit(app, visit_id)["total"] == before["total"]
    assert _actions(client, auth_headers, world, visit_id) == []


def test_proposals_of_a_mystery_visit_wait_for_its_publication(
        app, client, world, auth_headers, make_visit):
    visit_id = _mystery(make_visit, world, answers={"dis_red_argue_blame": True})
    _record_dispute(client, auth_headers, world, VISIT_AT + timedelta(minutes=10))
    assert _actions(client, auth_headers, world, visit_id) == []
    _review(client, auth_headers, world["manager"], visit_id, decision="publish")
    actions = _actions(client, auth_headers, world, visit_id)
    assert [(a["item_id"], a["owner"]) for a in actions] == [("dis_red_argue_blame", "王主任")]
    # a red line, due 24 hours after publication
    assert actions[0]["due_date"] == (datetime.now(SH).date() + timedelta(days=1)).isoformat()
    assert actions[0]["title"].startswith("杜绝员工与顾客争吵")
    assert actions[0]["texts"]["title"]["en"].startswith("Stop: a staff member quarrelled")


# A stated duration that its timers contradict ------------------------------------------------

# A checklist of our own: one number item stating the queue interval's duration (the shipped
# mystery checklist does the same with wai_minutes).
TIMED_CHECKLIST = """
slug: timer-check
title: {zh: 计时核对, en: Timer check}
kind: mystery
moments:
  - {id: ticket_taken, moment: waiting, title: {zh: 取号, en: Took a ticket}}
  - {id: called, moment: transaction, title: {zh: 被叫号, en: Called}}
intervals:
  - {id: queue, start: ticket_taken, end: called, label: {zh: 取号到叫号, en: Ticket to call}}
sections:
  - id: waiting
    moment: waiting
    title: {zh: 等候, en: Waiting}
    items:
      - id: wait
        interval: queue
        function: service
        type: number
        kano: performance
        unit: {zh: 分钟, en: minutes}
        thresholds: {good: 10, fail: 20, better: lower}
        text: {zh: 你等了多少分钟？, en: "How many minutes did you wait?"}
        report_text: {zh: 顾客等候的分钟数, en: Minutes the customer waited}
"""


def _timed_visit(app, client, world, auth_headers, answer, timer_seconds) -> str:
    """A mystery visit of the timer checklist sent and submitted over the API."""
    import uuid

    from supervision.checklists.services import add_version

    with app.app_context():
        add_version(TIMED_CHECKLIST, "timer-check.yaml")
        db.session.commit()
    visit_id, ticket = str(uuid.uuid4()), VISIT_AT + timedelta(minutes=2)
    body = {"store_id": world["store"].id, "kind": "mystery", "revision": 0,
            "checklist": {"slug": "timer-check", "version": 1},
            "started_at": VISIT_AT.isoformat(),
            "ended_at": (VISIT_AT + timedelta(minutes=30)).isoformat(),
            "moments": [{"moment": "ticket_taken", "at": ticket.isoformat()},
                        {"moment": "called", "at": (ticket + timedelta(
                            seconds=timer_seconds)).isoformat()},
                        {"moment": "called", "at": (ticket + timedelta(  # a second press
                            minutes=25)).isoformat()}],
            "responses": [{"item": "wait", "value": answer}]}
    shopper = auth_headers(world["shopper"])
    saved = client.put(f"/api/v1/visits/{visit_id}", json=body, headers=shopper)
    assert saved.status_code == 201, saved.json
    submitted = client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper)
    assert submitted.status_code == 200, submitted.json
    return visit_id


@pytest.mark.parametrize(("timer_seconds", "timer", "answer", "flagged"), [
    (9 * 60 + 40, 10, 10, False),  # 9:40 is 10 minutes to the shopper
    (9 * 60 + 40, 10, 11, False),  # one minute off: a button pressed late
    (9 * 60 + 40, 10, 9, False),
    (9 * 60 + 40, 10, 12, True),
    (9 * 60 + 40, 10, 8, True),
    (9 * 60 + 30, 10, 11, False),  # 9:30 rounds half up to 10
    (9 * 60 + 29, 9, 11, True),  # 9:29 rounds to 9
    (9 * 60, 9, 15, True),  # "waited 15 minutes" where the timers say 9
])
def test_an_answer_the_timers_contradict_is_flagged_for_the_reviewer(
        app, client, world, auth_headers, timer_seconds, timer, answer, flagged):
    visit_id = _timed_visit(app, client, world, auth_headers, answer, timer_seconds)
    shown = client.get(f"/api/v1/visits/{visit_id}", headers=auth_headers(world["manager"]))
    flags = [f for f in shown.json["flags"] if f["code"] == "timer_mismatch"]
    if not flagged:
        assert flags == []
    else:
        assert [{k: v for k, v in f.items() if k != "message"} for f in flags] == [
            {"code": "timer_mismatch", "item": "wait", "answer": answer, "timer_minutes": timer}]
        # the review page prints the message: it carries the facts in both languages
        assert flags[0]["message"] == (
            f"顾客等候的分钟数：回答 {answer} 分钟，计时为 {timer} 分钟 / Minutes the customer "
            f"waited: answered {answer} min, the timers say {timer} min.")
    # a flag never refuses the visit: the reviewer publishes it, and the flag stays with it
    published = _review(client, auth_headers, world["manager"], visit_id, decision="publish")
    assert published.status_code == 200 and published.json["status"] == "published"
    assert [f["code"] for f in published.json["flags"]] == ["timer_mismatch"] * flagged
