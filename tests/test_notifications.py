"""Notifications: who hears of what, in which language, in the app and by email through a real
SMTP server on loopback (aiosmtpd), sent by a thread or by a `flask jobs worker` on Redis."""

import asyncio
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from redis import Redis
from rq import Queue
from sqlalchemy import select

from supervision import tasks
from supervision.accounts.models import User
from supervision.db import db, utcnow
from supervision.jobs import services as jobs
from supervision.notifications.mail import send
from supervision.notifications.models import Notification
from tests.conftest import REGIONS
from tests.images import picture
from tests.servers import finish, free_port
from tests.visit_support import VISIT_WORLD, audit_body, mystery_body, new_id, worker

YEAR = date.today().year + 2  # assignment windows must lie ahead
RED_LINE_AUDIT = {"signage": True, "tidy": 4, "has_queue": True, "queue_minutes": 12,
                  "argues": True}
PUBLIC_URL = "https://supervision.example.com"


class Inbox:
    """An aiosmtpd handler that keeps the messages it accepts; `refuse` turns recipients away,
    `delay` (seconds) holds each message before accepting it."""

    def __init__(self, refuse: bool = False):
        self.refuse, self.attempts, self.messages, self.raw = refuse, 0, [], []
        self.delay = 0.0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts += 1
        if self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)
        self.raw.append(envelope.content)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"


@contextmanager
def smtp_server(refuse: bool = False):
    """A real SMTP server on a free loopback port; yields (inbox, port)."""
    inbox = Inbox(refuse)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


@pytest.fixture
def inbox(app):
    """The app emails its notifications to a real SMTP server."""
    with smtp_server() as (inbox, port):
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        yield inbox


@pytest.fixture
def world(make_world):
    people = {**VISIT_WORLD["people"], "north_manager": ("manager", "north"),
              "english_manager": {"role": "manager", "regions": ["east"], "locale": "en"}}
    return make_world(**{**VISIT_WORLD, "regions": {**REGIONS, "north": {}}, "people": people})


def notifications(app, user) -> list[dict]:
    """A user's notifications, oldest first, as plain dicts."""
    with app.app_context():
        rows = db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                  .order_by(Notification.id))
        return [{c.key: getattr(n, c.key) for c in Notification.__table__.columns} for n in rows]


def last_line(email) -> str:
    return email.get_content().splitlines()[-1]


def stored(app, user, subject: str, email_status: str, minutes_ago: float) -> int:
    """A notification written straight to the database, made `minutes_ago`; returns its id."""
    with app.app_context():
        error = "SMTPServerDisconnected: Connection unexpectedly closed"
        notification = Notification(
            user_id=user.id, kind="assignment_created", subject=subject, body="正文",
            email_status=email_status, email_error=error if email_status == "failed" else None,
            created_at=utcnow() - timedelta(minutes=minutes_ago))
        db.session.add(notification)
        db.session.commit()
        return notification.id


def age(app, notification_id: int, minutes: float) -> None:
    with app.app_context():
        notification = db.session.get(Notification, notification_id)
        notification.created_at -= timedelta(minutes=minutes)
        db.session.commit()


def publish_audit(client, world, answers: dict) -> str:
    """A supervisor's audit made, its photos sent and submitted (an audit publishes at once)."""
    headers = world["headers"]["supervisor"]
    visit_id, photos = new_id(), [(new_id(), "signage"), (new_id(), "signage")]
    body = audit_body(world["store"].id, answers, photos=photos)
    assert client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers).status_code == 201
    for n, (photo_id, item) in enumerate(photos):
        stored = client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}?item={item}",
                            data=picture(color=(1, n, 1)),
                            headers={**headers, "Content-Type": "image/jpeg"})
        assert stored.status_code == 201, stored.json
    submitted = client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers)
    assert submitted.json["status"] == "published", submitted.json
    return visit_id


def plan_assignment(client, world) -> int:
    body = {"store_id": world["store"].id, "checklist": "test-mystery",
            "shopper_id": world["shopper"].id, "window_start": f"{YEAR}-05-01T01:00:00+00:00",
            "window_end": f"{YEAR}-05-03T10:00:00+00:00",
            "scenario": "咨询宽带续约 / ask about renewing broadband"}
    created = client.post("/api/v1/assignments", json=body, headers=world["headers"]["manager"])
    assert created.status_code == 201, created.json
    return created.json["id"]


def test_a_failed_red_line_tells_the_regions_managers_by_email_in_their_language(
        app, client, world, inbox, make_user):
    retired = make_user("manager", [world["east"]])
    with app.app_context():
        db.session.get(User, retired.id).active = False
        db.session.commit()
    visit_id = publish_audit(client, world, RED_LINE_AUDIT)
    [zh] = notifications(app, world["manager"])
    assert (zh["kind"], zh["link"]) == ("visit_published", f"/api/v1/visits/{visit_id}")
    assert zh["subject"] == "红线未通过：测试营业厅 现场督导 0 分"
    assert "门店：测试营业厅（E1）" in zh["body"] and "红线未通过：与顾客争吵" in zh["body"]
    assert "到访时间：2025-03-01 09:30（门店当地时间）" in zh["body"]
    [en] = notifications(app, world["english_manager"])
    assert en["subject"] == "Red line failed: 测试营业厅, storefront audit scored 0"
    assert "Red line failed: Argues with the customer" in en["body"]
    for nobody in ("north_manager", "shopper", "supervisor", "admin"):
        assert notifications(app, world[nobody]) == [], nobody
    assert [n["email_status"] for n in notifications(app, retired)] == ["skipped"]

    tasks.drain()
    emails = {m["To"].addresses[0].addr_spec: m for m in inbox.messages}
    assert set(emails) == {world["manager"].email, world["english_manager"].email}
    chinese = emails[world["manager"].email]
    assert chinese["Subject"] == zh["subject"]
    assert chinese.get_content().splitlines() == zh["body"].splitlines()
    assert all(b"=?utf-8?" in raw for raw in inbox.raw)  # encoded headers, readable by any server
    assert emails[world["english_manager"].email]["Subject"] == en["subject"]
    sent = notifications(app, world["manager"])[0]
    assert (sent["email_status"], sent["email_error"]) == ("sent", None)
    assert sent["emailed_at"] is not None


def test_a_mystery_visit_is_told_to_the_managers_only_once_published(app, client, world):
    shopper, manager = world["headers"]["shopper"], world["headers"]["manager"]
    visit_id = new_id()
    body = mystery_body(world["store"].id)
    assert client.put(f"/api/v1/visits/{visit_id}", json=body, headers=shopper).status_code == 201
    assert client.post(f"/api/v1/visits/{visit_id}/submit",
                       headers=shopper).json["status"] == "submitted"
    assert notifications(app, world["manager"]) == []  # submitted is not published

    comment = "请补拍叫号单 / add the photo of the queue ticket"
    rejected = client.post(f"/api/v1/visits/{visit_id}/review", headers=manager,
                           json={"decision": "reject", "comment": comment})
    assert rejected.status_code == 200
    [returned] = notifications(app, world["shopper"])
    assert returned["kind"] == "visit_rejected"
    assert returned["subject"] == "暗访记录被退回：测试营业厅（2025-03-02 14:00）"
    assert f"复核意见：{comment}" in returned["body"]
    assert returned["email_status"] == "skipped"  # no MAIL_SERVER: in the app only
    assert notifications(app, world["manager"]) == []

    again = mystery_body(world["store"].id, revision=1)
    assert client.put(f"/api/v1/visits/{visit_id}", json=again, headers=shopper).status_code == 200
    client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper)
    published = client.post(f"/api/v1/visits/{visit_id}/review", headers=manager,
                            json={"decision": "publish"})
    assert published.status_code == 200
    [told] = notifications(app, world["manager"])
    assert told["subject"] == "测试营业厅 神秘顾客暗访 87.5 分"
    assert len(notifications(app, world["shopper"])) == 1


def test_a_new_assignment_tells_the_shopper_where_and_when_in_store_time(
        app, client, world, inbox):
    assignment_id = plan_assignment(client, world)
    [assigned] = notifications(app, world["shopper"])
    assert assigned["kind"] == "assignment_created"
    assert assigned["link"] == f"/api/v1/assignments/{assignment_id}"
    assert assigned["subject"] == "新暗访任务：测试营业厅"
    assert assigned["body"].splitlines() == [
        "门店：测试营业厅（E1）",
        f"任务时间：{YEAR}-05-01 09:00 至 {YEAR}-05-03 18:00（门店当地时间）",
        "暗访场景：咨询宽带续约 / ask about renewing broadband",
    ]
    tasks.drain()
    [email] = inbox.messages
    assert email["Subject"] == assigned["subject"]
    assert email["To"].addresses[0].addr_spec == world["shopper"].email


def test_a_finished_region_report_tells_whoever_asked(
        app, client, make_region, make_store, make_user, make_visit, auth_headers, inbox):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    region = make_region("EAST", "华东")
    make_visit(make_store(region, "E1"), make_user("supervisor", [region]))
    asker, colleague = make_user("manager", [region]), make_user("manager", [region])
    pending = client.get(f"/api/v1/regions/{region.id}/report.pdf?lang=zh",
                         headers=auth_headers(asker))
    assert pending.status_code == 202
    tasks.drain()
    [ready] = notifications(app, asker)
    assert (ready["kind"], ready["link"]) == ("report_ready", pending.headers["Location"])
    assert ready["subject"].startswith("区域报告已生成：华东（")
    assert ready["body"] == "报告已生成，可以下载。"
    assert notifications(app, colleague) == []
    tasks.drain()
    [email] = inbox.messages
    pdf = client.get(ready["link"], headers=auth_headers(asker)).json["result_url"]
    assert pdf.startswith(f"/api/v1/regions/{region.id}/report.pdf?")
    assert email.get_content().splitlines() == [ready["body"], "", f"下载报告：{PUBLIC_URL}{pdf}"]


def test_a_failed_region_report_tells_why(app, make_user, inbox):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    asker = make_user("admin", locale="en")
    with app.app_context():
        job, _ = jobs.enqueue("region_report", "f" * 64,
                              {"region_id": 999_999, "from": "2024-01-01", "to": "2024-01-31",
                               "lang": "zh", "url": "/x"}, db.session.get(User, asker.id))
        db.session.commit()
    [failed] = notifications(app, asker)
    assert failed["kind"] == "report_failed"
    assert failed["subject"] == "Region report failed: #999999, 2024-01-01 to 2024-01-31"
    assert failed["body"].startswith("Reason: ") and "could not be rendered" in failed["body"]
    tasks.drain()
    [email] = inbox.messages
    assert last_line(email) == f"Details: {PUBLIC_URL}/api/v1/jobs/{'f' * 64}"


def test_with_a_public_url_an_email_ends_with_a_link_in_its_readers_language(
        app, client, world, inbox):
    app.config["PUBLIC_URL"] = PUBLIC_URL + "/"  # the slash is not doubled
    visit_id = publish_audit(client, world, RED_LINE_AUDIT)
    tasks.drain()
    emails = {m["To"].addresses[0].addr_spec: m for m in inbox.messages}
    link = f"{PUBLIC_URL}/visit?id={visit_id}"
    [zh] = notifications(app, world["manager"])
    assert emails[world["manager"].email].get_content().splitlines() == [
        *zh["body"].splitlines(), "", f"查看记录：{link}"]
    assert last_line(emails[world["english_manager"].email]) == f"See the visit: {link}"
    assert PUBLIC_URL not in zh["body"]  # the app links to the visit itself
    page = client.get(link.removeprefix(PUBLIC_URL))
    assert page.status_code == 302 and "/login" in page.location  # a page, behind the login

    plan_assignment(client, world)
    tasks.drain()
    assigned = inbox.messages[-1]
    assert assigned["Subject"] == "新暗访任务：测试营业厅"
    assert last_line(assigned) == f"您的暗访任务：{PUBLIC_URL}/"


def test_a_returned_visits_email_links_to_it(app, client, world, inbox):
    app.config["PUBLIC_URL"] = PUBLIC_URL
    shopper, visit_id = world["headers"]["shopper"], new_id()
    client.put(f"/api/v1/visits/{visit_id}", json=mystery_body(world["store"].id), headers=shopper)
    client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper)
    rejected = client.post(f"/api/v1/visits/{visit_id}/review", headers=world["headers"]["manager"],
                           json={"decision": "reject", "comment": "请补拍叫号单"})
    assert rejected.status_code == 200
    tasks.drain()
    [email] = inbox.messages
    assert email["Subject"].startswith("暗访记录被退回")
    assert last_line(email) == f"查看记录：{PUBLIC_URL}/visit?id={visit_id}"


def test_without_a_public_url_an_email_says_what_its_notification_says(
        app, client, world, inbox):
    assert app.config["PUBLIC_URL"] == ""
    plan_assignment(client, world)
    tasks.drain()
    [assigned] = notifications(app, world["shopper"])
    [email] = inbox.messages
    assert email.get_content().splitlines() == assigned["body"].splitlines()
    assert assigned["email_status"] == "sent"


def test_the_api_shows_and_marks_only_the_callers_own(app, client, make_user, auth_headers):
    from supervision.notifications.services import notify

    me, other = make_user("manager"), make_user("manager")
    with app.app_context():
        mine, others = db.session.get(User, me.id), db.session.get(User, other.id)
        for n in range(3):
            notify([mine], "visit_published", lambda n=n: (f"第{n}条", "正文"))
        [theirs] = notify([others], "visit_published", lambda: ("别人的", "正文"))
        db.session.commit()
        theirs_id = theirs.id
    headers, url = auth_headers(me), "/api/v1/notifications"

    listed = client.get(url, headers=headers)
    assert [n["subject"] for n in listed.json] == ["第2条", "第1条", "第0条"]
    assert listed.headers["X-Total-Count"] == "3" and not any(n["read"] for n in listed.json)
    page = client.get(f"{url}?limit=1&offset=1", headers=headers)
    assert [n["subject"] for n in page.json] == ["第1条"] and page.headers["X-Total-Count"] == "3"

    oldest = listed.json[-1]["id"]
    read = client.patch(f"{url}/{oldest}", json={"read": True}, headers=headers)
    assert read.status_code == 200 and read.json["read"] is True and read.json["read_at"]
    unread = client.get(f"{url}?unread=true", headers=headers)
    assert [n["subject"] for n in unread.json] == ["第2条", "第1条"]
    assert unread.headers["X-Total-Count"] == "2"
    assert [n["subject"] for n in client.get(f"{url}?unread=false", headers=headers).json] == [
        "第0条"]

    foreign = client.patch(f"{url}/{theirs_id}", json={"read": True}, headers=headers)
    assert foreign.status_code == 404
    assert foreign.json == {"code": 404, "status": "Not Found",
                            "message": f"Notification {theirs_id} not found."}
    bad = client.patch(f"{url}/{oldest}", json={"read": "perhaps"}, headers=headers)
    assert bad.status_code == 422 and "read" in bad.json["errors"]["json"]
    assert client.get(url).status_code == 401

    marked = client.post(f"{url}/read", headers=headers)
    assert marked.status_code == 200 and marked.json == {"marked": 2}
    assert client.get(f"{url}?unread=true", headers=headers).json == []
    assert [n["subject"] for n in client.get(f"{url}?unread=true",
                                             headers=auth_headers(other)).json] == ["别人的"]


@pytest.mark.parametrize(("refusing", "error"), [(False, "ConnectionRefusedError"),
                                                 (True, "SMTPRecipientsRefused")])
def test_a_failing_mail_server_loses_nothing_and_says_why(app, client, world, refusing, error):
    with smtp_server(refuse=True) as (inbox, port):
        app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port if refusing else free_port())
        assignment_id = plan_assignment(client, world)
        tasks.drain()
    assert inbox.attempts == (1 if refusing else 0)  # in a thread: no second try
    [row] = notifications(app, world["shopper"])
    assert (row["email_status"], row["emailed_at"]) == ("failed", None)
    assert error in row["email_error"]
    kept = client.get(f"/api/v1/assignments/{assignment_id}",
                      headers=world["headers"]["shopper"])
    assert kept.status_code == 200 and kept.json["status"] == "planned"
    listed = client.get("/api/v1/notifications", headers=world["headers"]["shopper"]).json
    assert [n["email_status"] for n in listed] == ["failed"]


def _on_redis(app, redis_url, port) -> Queue:
    connection = Redis.from_url(redis_url)
    connection.flushdb()  # no queued leftovers of another test
    app.config.update(REDIS_URL=redis_url, TASK_MODE="queue", MAIL_SERVER="127.0.0.1",
                      MAIL_PORT=port)
    return Queue("notifications", connection=connection)


def test_with_redis_the_email_is_sent_by_a_worker(app, client, world, redis_url, tmp_path):
    log = tmp_path / "worker.log"
    with smtp_server() as (inbox, port):
        queue = _on_redis(app, redis_url, port)
        plan_assignment(client, world)
        [row] = notifications(app, world["shopper"])
        assert (row["email_status"], queue.count, inbox.messages) == ("pending", 1, [])
        with worker(app, log, "--burst", "--queue", "notifications",
                    MAIL_SERVER="127.0.0.1", MAIL_PORT=port) as process:
            finish(process, log)
        [email] = inbox.messages
    assert email["Subject"] == row["subject"] == "新暗访任务：测试营业厅", log.read_text()
    assert notifications(app, world["shopper"])[0]["email_status"] == "sent"


def test_with_redis_a_refused_email_is_tried_once_more(app, client, world, redis_url, tmp_path):
    log = tmp_path / "worker.log"
    with smtp_server(refuse=True) as (inbox, port):
        _on_redis(app, redis_url, port)
        plan_assignment(client, world)
        with worker(app, log, "--burst", "--queue", "notifications",
                    MAIL_SERVER="127.0.0.1", MAIL_PORT=port) as process:
            finish(process, log)
    assert inbox.attempts == 2, log.read_text()
    [row] = notifications(app, world["shopper"])
    assert row["email_status"] == "failed" and "SMTPRecipientsRefused" in row["email_error"]


def test_resend_emails_the_failed_and_the_long_pending_ones(app, world, inbox, runner):
    shopper = world["shopper"]
    stuck = stored(app, shopper, "卡住的", "pending", minutes_ago=30)
    failed = stored(app, shopper, "失败的", "failed", minutes_ago=1)
    fresh = stored(app, shopper, "新的", "pending", minutes_ago=3)
    sent = stored(app, shopper, "已发的", "sent", minutes_ago=60)
    result = runner.invoke(args=["notifications", "resend"])
    assert (result.exit_code, result.output) == (0, "resent 2\n"), result.output
    assert {m["Subject"] for m in inbox.messages} == {"卡住的", "失败的"}
    states = {n["id"]: (n["email_status"], n["email_error"])
              for n in notifications(app, shopper)}
    assert states == {stuck: ("sent", None), failed: ("sent", None), fresh: ("pending", None),
                      sent: ("sent", None)}

    again = runner.invoke(args=["notifications", "resend", "--older-than", "2"])
    assert again.output == "resent 1\n"
    assert sorted(m["Subject"] for m in inbox.messages) == sorted(["卡住的", "失败的", "新的"])


def test_resend_needs_a_mail_server(runner):
    result = runner.invoke(args=["notifications", "resend"])
    assert result.exit_code == 1 and "MAIL_SERVER is not set" in result.output


def test_two_senders_at_once_email_a_notification_once(app, world, inbox):
    inbox.delay = 0.5  # the second sender starts while the first is still sending
    notification_id = stored(app, world["shopper"], "只发一次", "pending", minutes_ago=30)

    def send_in_thread(_):
        with app.app_context():
            return send(notification_id)

    with ThreadPoolExecutor(2) as pool:
        statuses = sorted(pool.map(send_in_thread, range(2)))
    assert len(inbox.messages) == 1
    assert statuses in (["sending", "sent"], ["sent", "sent"])
    assert notifications(app, world["shopper"])[0]["email_status"] == "sent"


def test_with_redis_resend_queues_the_lost_and_never_emails_twice(
        app, client, world, redis_url, runner, tmp_path):
    log = tmp_path / "worker.log"
    with smtp_server() as (inbox, port):
        queue = _on_redis(app, redis_url, port)
        plan_assignment(client, world)
        queue.connection.flushdb()  # a Redis restarted without persistence: the email is lost
        plan_assignment(client, world)  # this one's job is still queued
        lost, queued = (n["id"] for n in notifications(app, world["shopper"]))
        for notification_id in (lost, queued):
            age(app, notification_id, minutes=30)
        result = runner.invoke(args=["notifications", "resend"])
        assert result.output == "resent 2\n" and queue.count == 3 and inbox.messages == []
        with worker(app, log, "--burst", "--queue", "notifications",
                    MAIL_SERVER="127.0.0.1", MAIL_PORT=port) as process:
            finish(process, log)
    assert len(inbox.messages) == 2, log.read_text()
    assert [n["email_status"] for n in notifications(app, world["shopper"])] == ["sent", "sent"]
