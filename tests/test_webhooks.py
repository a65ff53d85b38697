"""Webhooks against a real HTTP receiver on loopback: signed payloads sent after the commit,
retries on connection errors, 5xx and 429 (not on other 4xx), the delivery log, redelivery,
disabling after repeated failures, the robot presets, refused private addresses, and exactly
one delivery per event across a worker restart."""

import base64
import hashlib
import hmac
import json
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from redis import Redis
from sqlalchemy import select, update

from supervision.db import db, utcnow
from supervision.notifications.models import Notification
from supervision.visits.models import Visit
from supervision.webhooks import delivery as deliveries
from supervision.webhooks import events
from supervision.webhooks.models import Webhook, WebhookDelivery
from tests.servers import free_port, http_receiver, wait_until
from tests.test_notifications import RED_LINE_AUDIT, publish_audit
from tests.visit_support import VISIT_WORLD, visit_config, worker

LOOPBACK = {"WEBHOOK_ALLOWED_NETWORKS": ("127.0.0.0/8",), "WEBHOOK_RETRY_DELAYS": (30, 30)}


@pytest.fixture
def app_config(database_url, tmp_path):
    return visit_config(database_url, tmp_path, **LOOPBACK)


@pytest.fixture
def world(make_world):
    return make_world(**VISIT_WORLD)


@pytest.fixture
def receiver():
    with http_receiver() as found:
        yield found


def register(client, world, url, events=("visit.submitted",), **body) -> dict:
    response = client.post("/api/v1/webhooks", json={
        "name": "HQ", "url": url, "events": list(events), **body},
        headers=world["headers"]["admin"])
    assert response.status_code == 201, response.json
    return response.json


def log(client, world, hook) -> list[dict]:
    response = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                          headers=world["headers"]["admin"])
    assert response.status_code == 200
    return response.json


def raise_event(app, store_id, n=0, event="visit.published") -> None:
    """An event as the code of a visit raises it, committed."""
    with app.app_context():
        payload = {"visit": {"id": str(uuid.UUID(int=n))}, "store": {"id": store_id}}
        events.emit(event, str(n), payload)
        db.session.commit()


def make_due(app) -> int:
    """Bring every waiting retry's time to now, then run the retry sweep."""
    with app.app_context():
        db.session.execute(update(WebhookDelivery).where(
            WebhookDelivery.next_attempt_at.is_not(None)).values(next_attempt_at=utcnow()))
        db.session.commit()
        return deliveries.retry_due()


def test_a_submitted_audit_with_a_red_line_is_delivered_signed(app, client, world, receiver):
    hook = register(client, world, receiver.url + "/hooks?team=east",
                    events=("visit.submitted", "visit.red_line", "visit.published"))
    visit_id = publish_audit(client, world, RED_LINE_AUDIT)
    headers = world["headers"]["supervisor"]
    sent = receiver.wait_for(3)
    assert client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers).status_code == 200
    assert sorted(r["headers"]["X-Supervision-Event"] for r in sent) == [
        "visit.published", "visit.red_line", "visit.submitted"]
    for request in sent:
        headers_sent, raw = request["headers"], request["body"]
        assert request["path"] == "/hooks?team=east"
        mac = hmac.new(hook["secret"].encode(),
                       headers_sent["X-Supervision-Timestamp"].encode() + b"." + raw,
                       hashlib.sha256).hexdigest()
        assert headers_sent["X-Supervision-Signature"] == f"sha256={mac}"
        document = json.loads(raw)
        assert document["event"] == headers_sent["X-Supervision-Event"]
        assert document["visit"]["id"] == visit_id and document["store"]["code"] == "E1"
        assert document["visit"]["red_line"] is True and "author" not in document["visit"]
        assert world["supervisor"].email.encode() not in raw
    red = next(json.loads(r["body"]) for r in sent
               if r["headers"]["X-Supervision-Event"] == "visit.red_line")
    assert [line["item"] for line in red["visit"]["red_lines"]] == ["argues"]
    logged = log(client, world, hook)
    assert [(d["status"], d["attempts"], d["response_status"]) for d in logged] == [
        ("delivered", 1, 200)] * 3
    assert all(d["response_ms"] is not None for d in logged)
    assert len(receiver.requests) == 3  # the replayed submit raised nothing new
    tampered = sent[0]["body"].replace(b"E1", b"E2")
    assert hmac.new(hook["secret"].encode(), sent[0]["headers"]["X-Supervision-Timestamp"]
                    .encode() + b"." + tampered, hashlib.sha256).hexdigest() != mac


def test_retries_on_5xx_429_and_lost_connections_never_on_other_4xx(app, client, world,
                                                                    receiver):
    hook = register(client, world, receiver.url, events=("visit.published",))
    receiver.answer(503, 429)
    raise_event(app, world["store"].id, 1)
    assert [d["status"] for d in log(client, world, hook)] == ["pending"]
    assert make_due(app) == 1
    assert make_due(app) == 1
    assert make_due(app) == 0
    [delivered] = log(client, world, hook)
    assert [a["status"] for a in delivered["log"]] == [503, 429, 200]
    assert delivered["status"] == "delivered" and len(receiver.requests) == 3
    receiver.answer(400)
    raise_event(app, world["store"].id, 2)
    assert make_due(app) == 0
    refused = log(client, world, hook)[0]
    assert (refused["status"], refused["attempts"], refused["response_status"]) == (
        "failed", 1, 400)
    closed = register(client, world, f"http://127.0.0.1:{free_port()}/gone",
                      events=("visit.published",))
    raise_event(app, world["store"].id, 3)
    assert make_due(app) == 1 and make_due(app) == 1 and make_due(app) == 0
    [lost] = log(client, world, closed)
    assert lost["status"] == "failed" and lost["attempts"] == 3  # the first try, two retries
    assert all(a["status"] is None and a["error"].startswith("connection")
               for a in lost["log"])


def test_repeated_failures_turn_a_hook_off_and_tell_the_admins(app, client, world, receiver):
    app.config["WEBHOOK_DISABLE_AFTER"] = 2
    hook = register(client, world, receiver.url, events=("visit.published",))
    receiver.answer(410, 410)
    raise_event(app, world["store"].id, 1)
    raise_event(app, world["store"].id, 2)
    listed = client.get(f"/api/v1/webhooks/{hook['id']}", headers=world["headers"]["admin"]).json
    assert listed["active"] is False and "2 deliveries in a row failed" in listed[
        "disabled_reason"]
    with app.app_context():
        told = db.session.scalars(select(Notification).where(
            Notification.kind == "webhook_disabled")).all()
        assert [n.user_id for n in told] == [world["admin"].id]
        assert "HQ" in told[0].subject
    raise_event(app, world["store"].id, 3)
    assert len(log(client, world, hook)) == 2 and len(receiver.requests) == 2
    again = client.patch(f"/api/v1/webhooks/{hook['id']}", json={"active": True},
                         headers=world["headers"]["admin"])
    assert again.json["active"] is True and again.json["failures_in_a_row"] == 0
    raise_event(app, world["store"].id, 4)
    assert log(client, world, hook)[0]["status"] == "delivered"


def test_a_delivery_can_be_sent_again(app, client, world, receiver):
    hook = register(client, world, receiver.url, events=("visit.published",))
    raise_event(app, world["store"].id, 1)
    [first] = log(client, world, hook)
    response = client.post(f"/api/v1/webhooks/{hook['id']}/deliveries/{first['id']}/redeliver",
                           headers=world["headers"]["admin"])
    assert response.status_code == 202
    sent = receiver.wait_for(2)
    assert [r["headers"]["X-Supervision-Delivery"] for r in sent] == [str(first["id"])] * 2
    assert log(client, world, hook)[0]["attempts"] == 2
    other = register(client, world, receiver.url, events=("visit.published",))
    assert client.post(f"/api/v1/webhooks/{other['id']}/deliveries/{first['id']}/redeliver",
                       headers=world["headers"]["admin"]).status_code == 404
    for role in ("manager", "supervisor", "shopper"):
        assert client.get("/api/v1/webhooks", headers=world["headers"][role]).status_code == 403


def test_robot_presets(app, client, world, receiver):
    wecom = register(client, world, receiver.url + "/cgi-bin/webhook/send?key=abc",
                     events=("visit.red_line",), preset="wecom")
    dingtalk = register(client, world, receiver.url + "/robot/send?access_token=xyz",
                        events=("visit.red_line",), preset="dingtalk",
                        secret="SEC" + "d" * 40)
    receiver.answer((200, b'{"errcode":0,"errmsg":"ok"}'),
                    (200, b'{"errcode":310000,"errmsg":"sign not match"}'))
    with app.app_context():
        visit = db.session.get(Visit, _red_visit(client, world))
        assert visit.red_line
    sent = receiver.wait_for(2)
    by_path = {urlsplit(r["path"]).path: r for r in sent}
    message = json.loads(by_path["/cgi-bin/webhook/send"]["body"])
    assert message["msgtype"] == "markdown"
    assert "红线" in message["markdown"]["content"] and "E1" in message["markdown"]["content"]
    ding = by_path["/robot/send"]
    query = parse_qs(urlsplit(ding["path"]).query)
    assert query["access_token"] == ["xyz"]
    expected = base64.b64encode(hmac.new(
        ("SEC" + "d" * 40).encode(), f"{query['timestamp'][0]}\n{'SEC' + 'd' * 40}".encode(),
        hashlib.sha256).digest()).decode()
    assert query["sign"] == [expected]
    assert json.loads(ding["body"])["markdown"]["title"].startswith("红线")
    statuses = {h["preset"]: log(client, world, h)[0] for h in (wecom, dingtalk)}
    assert {p: s["status"] for p, s in statuses.items()} in (
        {"wecom": "delivered", "dingtalk": "failed"}, {"wecom": "failed", "dingtalk": "delivered"})
    failed = next(s for s in statuses.values() if s["status"] == "failed")
    assert "errcode 310000" in failed["error"]


def _red_visit(client, world) -> uuid.UUID:
    return uuid.UUID(publish_audit(client, world, RED_LINE_AUDIT))


@pytest.mark.parametrize(("url", "problem"), [
    ("https://10.1.2.3/hook", "private, loopback or reserved"),
    ("https://[::1]/hook", "private, loopback or reserved"),
    ("https://169.254.169.254/latest/meta-data", "private, loopback or reserved"),
    ("https://no-such-host.invalid/hook", "cannot be resolved"),
    ("ftp://example.com/hook", "Not a valid URL."),
])
def test_private_and_unknown_addresses_are_refused(app, client, world, url, problem):
    response = client.post("/api/v1/webhooks", json={
        "name": "x", "url": url, "events": ["visit.submitted"]},
        headers=world["headers"]["admin"])
    assert response.status_code == 422
    assert problem in response.json["errors"]["json"]["url"][0]


def test_loopback_is_refused_unless_the_operator_allows_it(app, client, world, receiver):
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ()
    response = client.post("/api/v1/webhooks", json={
        "name": "x", "url": receiver.url, "events": ["visit.submitted"]},
        headers=world["headers"]["admin"])
    assert response.status_code == 422 and "private" in response.json["errors"]["json"]["url"][0]
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ("127.0.0.0/8",)
    hook = register(client, world, receiver.url, events=("visit.published",))
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ()  # the operator changed its mind: nothing goes
    raise_event(app, world["store"].id, 1)
    [refused] = log(client, world, hook)
    assert refused["status"] == "failed" and "refused" in refused["error"]
    assert not receiver.requests


class TestAcrossAWorkerRestart:
    @pytest.fixture
    def app_config(self, database_url, tmp_path, redis_url):
        Redis.from_url(redis_url).flushdb()  # no queued leftovers of another test
        return visit_config(database_url, tmp_path, **LOOPBACK, REDIS_URL=redis_url,
                            TASK_MODE="queue")

    def test_exactly_one_delivery_per_event(self, app, client, world, receiver, tmp_path):
        """Events raised while no worker runs wait in the queue; a worker sends some, stops
        (a deploy), another sends the rest: each event reaches the receiver once."""
        register(client, world, receiver.url, events=("visit.published",))
        receiver.delay = 0.05
        for n in range(30):
            raise_event(app, world["store"].id, n)
        config = {**LOOPBACK, "WEBHOOK_RETRY_SECONDS": 0.5}
        config["WEBHOOK_ALLOWED_NETWORKS"] = json.dumps(LOOPBACK["WEBHOOK_ALLOWED_NETWORKS"])
        config["WEBHOOK_RETRY_DELAYS"] = json.dumps(LOOPBACK["WEBHOOK_RETRY_DELAYS"])
        log_file = tmp_path / "worker.log"
        with worker(app, log_file, **config):
            receiver.wait_for(5)
        with worker(app, log_file, **config):
            wait_until(lambda: _delivered(app) == 30, "every delivery to be delivered")
        ids = [r["headers"]["X-Supervision-Delivery"] for r in receiver.requests]
        assert len(ids) == len(set(ids)) == 30


def _delivered(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(WebhookDelivery.id).where(
            WebhookDelivery.status == "delivered")).all())


def test_hooks_are_gone_with_their_log(app, client, world, receiver):
    hook = register(client, world, receiver.url, events=("visit.published",))
    raise_event(app, world["store"].id, 1)
    assert client.delete(f"/api/v1/webhooks/{hook['id']}", headers=world["headers"]["admin"]
                         ).status_code == 204
    with app.app_context():
        assert db.session.scalar(select(Webhook.id)) is None
        assert db.session.scalar(select(WebhookDelivery.id)) is None


def test_the_sweep_raises_overdue_actions_and_disputes_once(app, client, world, receiver):
    from datetime import UTC, date, datetime, timedelta

    from supervision.followup.escalation import sweep
    from supervision.followup.models import Action, Dispute

    hook = register(client, world, receiver.url, events=("action.overdue", "dispute.overdue"))
    now = datetime.now(UTC)
    with app.app_context():
        db.session.add_all([
            Action(store_id=world["store"].id, title="门口地面清洁", status="agreed",
                   due_date=date.today() - timedelta(days=2)),
            Action(store_id=world["store"].id, title="not yet due", status="agreed",
                   due_date=date.today() + timedelta(days=5)),
            Dispute(store_id=world["store"].id, reference="ZY-1", category="service",
                    matter="话费多扣", first_handler="王芳", received_at=now - timedelta(days=9),
                    due_at=now - timedelta(hours=1)),
            Dispute(store_id=world["store"].id, reference="ZY-2", category="service",
                    matter="排队太久", first_handler="王芳", received_at=now,
                    due_at=now + timedelta(days=1))])
        db.session.commit()
    for _ in range(2):  # a second sweep (or a second worker) raises nothing more
        with app.app_context():
            sweep(datetime.now(UTC))
            db.session.commit()
    sent = receiver.wait_for(2)
    documents = sorted((json.loads(r["body"]) for r in sent), key=lambda d: d["event"])
    assert [(d["event"], d.get("action", d.get("dispute"))["id"]) for d in documents] == [
        ("action.overdue", 1), ("dispute.overdue", 1)]
    assert documents[0]["action"]["title"] == "门口地面清洁"
    assert documents[1]["dispute"]["reference"] == "ZY-1"
    assert len(log(client, world, hook)) == 2 and len(receiver.requests) == 2
