"""Registering webhooks (admins only), their delivery log and manual redelivery."""

import secrets

from sqlalchemy import select

from supervision.audit.services import record
from supervision.db import db
from supervision.errors import Conflict
from supervision.pagination import paginate
from supervision.scoping import get_webhook, get_webhook_delivery, scoped_webhooks
from supervision.webhooks import events
from supervision.webhooks.delivery import check_url
from supervision.webhooks.models import Webhook, WebhookDelivery


def list_webhooks(user) -> list[Webhook]:
    return list(db.session.scalars(scoped_webhooks(user)))


def create_webhook(user, data: dict) -> Webhook:
    """A new hook; its secret is made unless given (a DingTalk robot's own). The caller
    commits."""
    check_url(data["url"])
    hook = Webhook(name=data["name"], url=data["url"], events=sorted(set(data["events"])),
                   preset=data.get("preset", "json"),
                   secret=data.get("secret") or secrets.token_urlsafe(32), created_by_id=user.id)
    db.session.add(hook)
    db.session.flush()
    record(user, "create", "webhook", hook.id, url=hook.url, events=hook.events)
    return hook


def update_webhook(user, hook_id: int, data: dict) -> Webhook:
    """Change a hook; `active: true` turns a disabled one on again (its failures forgotten),
    `rotate_secret: true` makes a new secret."""
    hook = get_webhook(user, hook_id)
    if "url" in data:
        check_url(data["url"])
    for name in ("name", "url", "preset"):
        if name in data:
            setattr(hook, name, data[name])
    if "events" in data:
        hook.events = sorted(set(data["events"]))
    if data.get("secret"):
        hook.secret = data["secret"]
    if data.get("rotate_secret"):
        hook.secret = secrets.token_urlsafe(32)
    if "active" in data:
        if data["active"] and not hook.active:
            hook.failures_in_a_row, hook.disabled_reason = 0, None
        hook.active = data["active"]
    record(user, "update", "webhook", hook.id,
           **{k: v for k, v in data.items() if k not in ("secret",)})
    return hook


def delete_webhook(user, hook_id: int) -> None:
    hook = get_webhook(user, hook_id)
    record(user, "delete", "webhook", hook.id, url=hook.url)
    db.session.delete(hook)


def list_deliveries(user, hook_id: int, args: dict) -> tuple[list[WebhookDelivery], int]:
    hook = get_webhook(user, hook_id)
    query = (select(WebhookDelivery).where(WebhookDelivery.webhook_id == hook.id)
             .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc()))
    if args.get("status"):
        query = query.where(WebhookDelivery.status == args["status"])
    return paginate(query, args["limit"], args["offset"])


def redeliver(user, hook_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (delivered or failed); sent once the caller commits."""
    delivery = get_webhook_delivery(user, hook_id, delivery_id)
    if delivery.status == "sending":
        raise Conflict("The delivery is being sent right now.")
    delivery.status, delivery.next_attempt_at = "pending", None
    record(user, "redeliver", "webhook_delivery", delivery.id)
    db.session.flush()
    events.queue(delivery.id)
    return delivery
