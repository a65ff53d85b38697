"""Sending a delivery: to the registered URL only, never to a private address the operator did
not allow, signed, without following redirects; retried with backoff on a connection error, a
5xx or a 429, not on another answer; logged attempt by attempt.

A delivery is claimed before it is sent (an UPDATE from pending to sending that only one worker
wins), so two workers, or a worker and the retry sweep, never send it twice; one left `sending`
by a worker that died is sent again after the lease (the receiver recognises it by
`X-Supervision-Delivery`)."""

import base64
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote, urlsplit

import urllib3
from flask import current_app
from sqlalchemy import or_, select, update

from supervision.db import db, utcnow
from supervision.errors import Invalid
from supervision.notifications import triggers as notifications
from supervision.webhooks.messages import robot_text
from supervision.webhooks.models import Webhook, WebhookDelivery

USER_AGENT = "supervision-webhooks/1"
NEVER_SENT_AFTER = timedelta(seconds=60)  # pending, never tried: its after-commit task was lost


@dataclass
class Target:
    scheme: str
    host: str
    port: int
    address: str  # the checked IP address the connection goes to (no second DNS answer)
    path: str


def check_url(url: str) -> Target:
    """The URL's destination, if deliveries may go there; Invalid (naming `url`) otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _refused("Give an https:// address.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (ValueError, OSError):
        raise _refused(f"The host {parts.hostname} cannot be resolved.") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in found]
    allowed = [ipaddress.ip_network(net) for net in
               current_app.config["WEBHOOK_ALLOWED_NETWORKS"]]
    in_allowed = all(any(a in net for net in allowed) for a in addresses)
    if not in_allowed and not all(a.is_global for a in addresses):
        raise _refused(f"{parts.hostname} is a private, loopback or reserved address; the "
                       "operator may allow its network (WEBHOOK_ALLOWED_NETWORKS).")
    if parts.scheme != "https" and not in_allowed:
        raise _refused("Give an https:// address (plain http only inside an allowed network).")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port, str(addresses[0]), path)


def _refused(problem: str) -> Invalid:
    return Invalid(f"The webhook URL is refused: {problem}", {"json": {"url": [problem]}})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the HMAC-SHA256 of "<timestamp>.<body>" under the hook's secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def request_of(hook: Webhook, delivery: WebhookDelivery) -> tuple[str, bytes, dict]:
    """(url, body, headers) as the hook's preset shapes them."""
    if hook.preset in ("wecom", "dingtalk"):
        title, text = robot_text(delivery.payload)
        message = ({"msgtype": "markdown", "markdown": {"content": text}} if hook.preset == "wecom"
                   else {"msgtype": "markdown", "markdown": {"title": title, "text": text}})
        body = json.dumps(message, ensure_ascii=False).encode()
        url = hook.url if hook.preset == "wecom" else _dingtalk_signed(hook.url, hook.secret)
        return url, body, {"Content-Type": "application/json; charset=utf-8"}
    document = {"id": delivery.id, "occurred_at": delivery.created_at.isoformat(),
                **delivery.payload}
    body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
    timestamp = str(int(time.time()))
    return hook.url, body, {
        "Content-Type": "application/json; charset=utf-8",
        "X-Supervision-Event": delivery.event, "X-Supervision-Delivery": str(delivery.id),
        "X-Supervision-Timestamp": timestamp,
        "X-Supervision-Signature": signature(hook.secret, timestamp, body)}


def _dingtalk_signed(url: str, secret: str) -> str:
    """DingTalk's 加签: the robot checks timestamp (ms) and sign = Base64(HMAC-SHA256(secret,
    "<timestamp>\\n<secret>")) in the query."""
    timestamp = str(int(time.time() * 1000))
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    sign = quote(base64.b64encode(mac.digest()).decode(), safe="")
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def send(hook: Webhook, delivery: WebhookDelivery) -> tuple[int | None, int, str | None]:
    """One attempt: (HTTP status or None, milliseconds, error or None)."""
    started = time.monotonic()
    try:
        url, body, headers = request_of(hook, delivery)
        target = check_url(url)
        headers |= {"Host": target.host if target.port in (80, 443)
                    else f"{target.host}:{target.port}", "User-Agent": USER_AGENT}
        seconds = current_app.config["WEBHOOK_TIMEOUT_SECONDS"]
        timeout = urllib3.Timeout(connect=seconds, read=seconds)
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                target.address, target.port, server_hostname=target.host,
                assert_hostname=target.host, cert_reqs="CERT_REQUIRED", timeout=timeout,
                retries=False)
        else:
            pool = urllib3.HTTPConnectionPool(target.address, target.port, timeout=timeout,
                                              retries=False)
        with pool:
            response = pool.urlopen("POST", target.path, body=body, headers=headers,
                                    redirect=False, assert_same_host=False,
                                    preload_content=True)
    except Invalid as refused:
        return None, _ms(started), refused.message
    except urllib3.exceptions.HTTPError as error:
        return None, _ms(started), f"connection: {error}"
    return response.status, _ms(started), _robot_error(hook, response)


def _robot_error(hook: Webhook, response) -> str | None:
    """A group robot answers 200 with {"errcode": n, "errmsg": …}; n ≠ 0 is a refusal."""
    if hook.preset == "json" or response.status != 200:
        return None
    try:
        answer = json.loads(response.data or b"{}")
    except ValueError:
        return None
    if isinstance(answer, dict) and answer.get("errcode"):
        return f"robot errcode {answer['errcode']}: {answer.get('errmsg', '')}"[:500]
    return None


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def deliver(delivery_id: int) -> str | None:
    """The task run after the commit (and by the retry sweep): send the delivery if it is this
    worker's to send; returns its status then (None when another worker had it)."""
    if not _claim(delivery_id):
        return None
    delivery = db.session.get(WebhookDelivery, delivery_id)
    hook = delivery.webhook
    if not hook.active:
        _finish(delivery, None, 0, "The webhook is disabled.", retry=False)
    else:
        status, ms, error = send(hook, delivery)
        retry = (status is None and not (error or "").startswith("The webhook URL is refused")
                 ) or (status is not None and (status >= 500 or status == 429))
        _finish(delivery, status, ms, error, retry)
    db.session.commit()
    return delivery.status


def _claim(delivery_id: int) -> bool:
    now = utcnow()
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending",
               or_(WebhookDelivery.next_attempt_at.is_(None),
                   WebhookDelivery.next_attempt_at <= now))
        .values(status="sending", claimed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return bool(claimed)


def _finish(delivery: WebhookDelivery, status: int | None, ms: int, error: str | None,
            retry: bool) -> None:
    now, hook = utcnow(), delivery.webhook
    delivery.attempts += 1
    delivery.response_status, delivery.response_ms, delivery.error = status, ms, error
    delivery.log = [*delivery.log, {"at": now.isoformat(), "status": status, "ms": ms,
                                    "error": error}]
    if status is not None and 200 <= status < 300 and error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", now, None
        hook.failures_in_a_row = 0
        return
    delays = current_app.config["WEBHOOK_RETRY_DELAYS"]
    if retry and delivery.attempts <= len(delays):
        delivery.status = "pending"
        delivery.next_attempt_at = now + timedelta(seconds=delays[delivery.attempts - 1])
        return
    delivery.status, delivery.next_attempt_at = "failed", None
    if hook.active:
        hook.failures_in_a_row += 1
        if hook.failures_in_a_row >= current_app.config["WEBHOOK_DISABLE_AFTER"]:
            hook.active = False
            hook.disabled_reason = (f"{hook.failures_in_a_row} deliveries in a row failed; "
                                    f"the last: {error or status}")
            notifications.webhook_disabled(hook)


def retry_due() -> int:
    """Send what is due (the periodic task): retries whose time came, deliveries whose
    after-commit task was lost, and those a dead worker left `sending` past the lease."""
    now = utcnow()
    lease = timedelta(seconds=3 * current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + 60)
    db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.status == "sending", WebhookDelivery.claimed_at < now - lease)
        .values(status="pending", next_attempt_at=None)
        .execution_options(synchronize_session=False))
    db.session.commit()
    due = db.session.scalars(
        select(WebhookDelivery.id).where(
            WebhookDelivery.status == "pending",
            or_(WebhookDelivery.next_attempt_at <= now,
                WebhookDelivery.next_attempt_at.is_(None)
                & (WebhookDelivery.created_at < now - NEVER_SENT_AFTER)))
        .order_by(WebhookDelivery.id)).all()
    for delivery_id in due:
        deliver(delivery_id)
    return len(due)
