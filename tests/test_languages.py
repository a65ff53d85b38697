"""One language: an API error speaks the requester's language (the account's, else the browser's
Accept-Language; English when nothing says), field names staying the API's keys; a notification
reads in the reader's language of the moment, while its email stays as it was sent."""

from datetime import date, timedelta

import pytest

from supervision import tasks
from supervision.accounts.models import User
from supervision.db import db
from supervision.notifications.services import notify
from tests.conftest import log_in
from tests.test_notifications import (  # noqa: F401 (inbox: a fixture)
    RED_LINE_AUDIT,
    inbox,
    notifications,
    plan_assignment,
    publish_audit,
)
from tests.visit_support import VISIT_WORLD, audit_body, mystery_body, new_id

COMMENT = "请补拍叫号单 / add the photo of the queue ticket"


@pytest.fixture
def world(make_world):
    people = {**VISIT_WORLD["people"],
              "zh_supervisor": {"role": "supervisor", "regions": ["east"], "locale": "zh"},
              "en_supervisor": {"role": "supervisor", "regions": ["east"], "locale": "en"},
              "en_shopper": {"role": "shopper", "regions": ["east"], "locale": "en"}}
    return make_world(**{**VISIT_WORLD, "people": people})


def put_visit(client, world, who, **changes):
    body = {**audit_body(world["store"].id), **changes}
    return client.put(f"/api/v1/visits/{new_id()}", json=body, headers=world["headers"][who])


def test_a_bad_visit_body_is_explained_in_the_users_language(client, world):
    zh = put_visit(client, world, "zh_supervisor", store_id="E1", started_at=None)
    assert zh.status_code == 422
    assert zh.json["errors"]["json"] == {"store_id": ["不是有效的整数。"],
                                         "started_at": ["此项不能为空。"]}
    assert zh.json["message"] == "store_id: 不是有效的整数。; started_at: 此项不能为空。"

    en = put_visit(client, world, "en_supervisor", store_id="E1", started_at=None)
    assert en.json["errors"]["json"] == {"store_id": ["Not a valid integer."],
                                         "started_at": ["Field may not be null."]}

    # the checklist's own rules, and a template with its values put back
    responses = [{"item": "tidy", "value": 9}, {"item": "nope", "value": True}]
    zh = put_visit(client, world, "zh_supervisor", responses=responses)
    assert zh.status_code == 422, zh.json
    assert zh.json["errors"]["json"]["responses"] == {
        "0": {"value": ["必须是 1 到 5 之间的整数。"]},
        "1": {"item": ["检查表 test-audit 中没有检查项“nope”。"]}}
    en = put_visit(client, world, "en_supervisor", responses=responses)
    assert en.json["errors"]["json"]["responses"]["1"] == {
        "item": ["Unknown item 'nope' in test-audit."]}

    long = put_visit(client, world, "zh_supervisor",
                     responses=[{"item": "tidy", "value": 4, "note": "长" * 5000}])
    assert long.json["errors"]["json"]["responses"] == {"0": {"note": ["超过最大长度 4000。"]}}


def test_an_incomplete_visit_says_what_is_missing_in_the_users_language(client, world):
    visit_id, headers = new_id(), world["headers"]["zh_supervisor"]
    body = audit_body(world["store"].id)
    assert client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers).status_code == 201
    refused = client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers)
    assert refused.status_code == 422
    assert refused.json["message"] == (
        "记录尚未完成：缺少 0 个必答项，1 个检查项照片不足，0 张已登记的照片未收到。")
    assert refused.json["errors"] == {"photos": {"signage": ["需要 2 张，已收到 0 张。"]}}


def test_a_submitted_visit_says_it_cannot_change_with_its_status_translated(client, world):
    """A shopper whose account has no language: the browser's Accept-Language decides."""
    visit_id, body = new_id(), mystery_body(world["store"].id)
    headers = {**world["headers"]["shopper"], "Accept-Language": "zh-CN,zh;q=0.9"}
    assert client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers).status_code == 201
    assert client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers).status_code == 200
    again = client.put(f"/api/v1/visits/{visit_id}", json={**body, "revision": 1},
                       headers=headers)
    assert again.status_code == 409
    assert again.json["message"] == f"记录 {visit_id} 状态为“已提交”，不能再修改。"
    english = client.put(f"/api/v1/visits/{visit_id}", json={**body, "revision": 1},
                         headers=world["headers"]["shopper"])
    assert english.json["message"] == f"Visit {visit_id} is submitted: it can no longer change."


def test_what_is_not_found_is_named_in_the_users_language(client, world):
    missing = new_id()
    zh = client.get(f"/api/v1/visits/{missing}", headers=world["headers"]["zh_supervisor"])
    assert (zh.status_code, zh.json["message"]) == (404, f"未找到记录 {missing}。")
    en = client.get(f"/api/v1/visits/{missing}", headers=world["headers"]["en_supervisor"])
    assert en.json["message"] == f"Visit {missing} not found."


def test_a_bad_action_patch_is_explained_in_the_users_language(client, world):
    created = client.post("/api/v1/actions", headers=world["headers"]["zh_supervisor"], json={
        "store_id": world["store"].id, "title": "补发工牌 / badges", "owner": "王主任",
        "due_date": (date.today() + timedelta(days=3)).isoformat()})
    assert created.status_code == 201, created.json
    url = f"/api/v1/actions/{created.json['id']}"

    done = client.patch(url, json={"status": "done"}, headers=world["headers"]["zh_supervisor"])
    assert done.status_code == 422
    assert done.json["message"] == "标记整改完成需要填写说明，并至少附一张整改照片。"
    assert done.json["errors"]["json"] == {"note": ["缺少此项。"], "evidence": [
        f"请先上传整改照片：PUT /api/v1/actions/{created.json['id']}/evidence/{{photo_id}}。"]}
    english = client.patch(url, json={"status": "done"}, headers=world["headers"]["en_supervisor"])
    assert english.json["message"] == (
        "Marking an action done needs a note and at least one photo of the fix.")
    assert english.json["errors"]["json"]["note"] == ["Missing."]

    bad = client.patch(url, json={"status": "finished", "due_date": "soon", "colour": "red"},
                       headers=world["headers"]["zh_supervisor"])
    assert bad.status_code == 422
    assert bad.json["errors"]["json"] == {"status": ["必须是以下之一：agreed, done, dismissed。"],
                                          "due_date": ["不是有效的日期。"],
                                          "colour": ["未知字段。"]}


def test_without_a_language_of_its_own_the_api_answers_english(client, world):
    """An account without a locale and a request without Accept-Language: the API's English."""
    assert world["supervisor"].locale is None
    plain = put_visit(client, world, "supervisor", store_id="E1")
    assert plain.json["errors"]["json"] == {"store_id": ["Not a valid integer."]}
    chinese = client.put(f"/api/v1/visits/{new_id()}", json={**audit_body("E1")},
                         headers={**world["headers"]["supervisor"],
                                  "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert chinese.json["errors"]["json"] == {"store_id": ["不是有效的整数。"]}


@pytest.mark.parametrize(("accept", "wrong", "missing"), [
    ("zh-CN,zh;q=0.9", "邮箱或密码错误。", "此项必填。"),
    ("en-GB,en;q=0.8", "Wrong e-mail or password.", "Missing data for required field."),
    ("fr-FR", "邮箱或密码错误。", "此项必填。"),  # a browser: as its pages, in the default
    (None, "Wrong e-mail or password.", "Missing data for required field.")])
def test_signing_in_speaks_the_browsers_language(client, world, accept, wrong, missing):
    headers = {"Accept-Language": accept} if accept else {}
    refused = client.post("/api/v1/auth/token", headers=headers,
                          json={"email": world["supervisor"].email, "password": "wrong-pw"})
    assert (refused.status_code, refused.json["message"]) == (401, wrong)
    incomplete = client.post("/api/v1/auth/token", json={"email": "a@example.com"},
                             headers=headers)
    assert incomplete.status_code == 422
    assert incomplete.json["errors"]["json"] == {"password": [missing]}


def test_a_notification_reads_in_the_readers_language_of_the_moment(
        app, client, world, inbox):  # noqa: F811 (the fixture imported above)
    shopper = world["headers"]["en_shopper"]
    visit_id = new_id()
    assert client.put(f"/api/v1/visits/{visit_id}", json=mystery_body(world["store"].id),
                      headers=shopper).status_code == 201
    assert client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper).status_code == 200
    rejected = client.post(f"/api/v1/visits/{visit_id}/review", headers=world["headers"]["manager"],
                           json={"decision": "reject", "comment": COMMENT})
    assert rejected.status_code == 200
    tasks.drain()
    [email] = inbox.messages
    english = "Visit returned for correction: 测试营业厅, 2025-03-02 14:00"
    assert email["Subject"] == english
    [row] = notifications(app, world["en_shopper"])
    assert row["params"] == {"visit": visit_id, "comment": COMMENT}
    [listed] = client.get("/api/v1/notifications", headers=shopper).json
    assert listed["subject"] == english
    assert f"Reviewer's comment: {COMMENT}" in listed["body"]

    # the shopper picks Chinese on a page: the account's language changes, and with it the text
    log_in(client, world["en_shopper"])
    assert client.get("/?lang=zh").status_code == 200
    with app.app_context():
        assert db.session.get(User, world["en_shopper"].id).locale == "zh"
    fresh = app.test_client()  # no session: the account's language alone
    [listed] = fresh.get("/api/v1/notifications", headers=shopper).json
    assert listed["subject"] == "暗访记录被退回：测试营业厅（2025-03-02 14:00）"
    assert listed["body"].splitlines()[0] == f"复核意见：{COMMENT}"
    # the email went as it was written, and the row keeps that text
    [row] = notifications(app, world["en_shopper"])
    assert (row["subject"], row["email_status"]) == (english, "sent")
    assert email.get_content().splitlines()[0] == f"Reviewer's comment: {COMMENT}"


def test_a_notification_without_params_reads_as_it_was_written(app, client, world):
    """Rows written before notifications kept their params keep their text."""
    with app.app_context():
        notify([db.session.get(User, world["en_shopper"].id)], "visit_rejected",
               lambda: ("旧的通知", "正文"))
        db.session.commit()
    [listed] = client.get("/api/v1/notifications", headers=world["headers"]["en_shopper"]).json
    assert (listed["subject"], listed["body"]) == ("旧的通知", "正文")


def test_each_kind_reads_in_the_language_the_reader_asks_for(client, world):
    """An account without a language reads as the pages would show it: Chinese, or the
    browser's Accept-Language."""
    plan_assignment(client, world)
    publish_audit(client, world, RED_LINE_AUDIT)
    shopper, manager = world["headers"]["shopper"], world["headers"]["manager"]
    english = {"Accept-Language": "en"}

    [assigned] = client.get("/api/v1/notifications", headers=shopper).json
    assert assigned["subject"] == "新暗访任务：测试营业厅"
    [assigned] = client.get("/api/v1/notifications", headers={**shopper, **english}).json
    assert assigned["subject"] == "New mystery-shop assignment: 测试营业厅"
    assert assigned["body"].splitlines()[0] == "Store: 测试营业厅 (E1)"

    [published] = client.get("/api/v1/notifications", headers=manager).json
    assert published["subject"] == "红线未通过：测试营业厅 现场督导 0 分"
    [published] = client.get("/api/v1/notifications", headers={**manager, **english}).json
    assert published["subject"] == "Red line failed: 测试营业厅, storefront audit scored 0"
    assert "Red line failed: Argues with the customer" in published["body"]
