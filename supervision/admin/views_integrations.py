"""Admin pages for integrations: API keys (made, shown once, revoked, their use log) and
webhooks (registered, changed, their delivery log, redelivery). The same services as the API."""

from datetime import date

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from supervision.admin import services
from supervision.admin.api import export_zone
from supervision.admin.views import admin_only, blp, form_values, render, submit, whole
from supervision.apikeys import services as keys
from supervision.apikeys.schemas import ApiKeyCreateSchema
from supervision.db import db, utcnow
from supervision.localtime import day_ends
from supervision.scoping import get_api_key, get_webhook
from supervision.webhooks import services as hooks
from supervision.webhooks.models import EVENTS, PRESETS
from supervision.webhooks.schemas import WebhookCreateSchema, WebhookUpdateSchema

USES_PER_PAGE = 100
DELIVERIES_PER_PAGE = 50


# API keys


@blp.route("/api-keys", methods=["GET", "POST"])
@admin_only
def api_keys():
    errors, values, created, secret = {}, {}, None, None
    if request.method == "POST":
        values = request.form
        found, errors = _submit_key()
        if found is not None:
            created, secret = found
            values = {}
    return render("api_keys.html", keys=keys.list_keys(current_user), errors=errors,
                  values=values, chosen={int(i) for i in request.form.getlist("region_ids")
                                         if i.isdigit()} if errors else set(),
                  regions=services.list_regions(), created=created,
                  secret=secret, now=utcnow()), 422 if errors else (201 if secret else 200)


def _submit_key():
    """The form's expiry is a day: the key works to the end of it (the export time zone)."""
    values = form_values(ApiKeyCreateSchema(), ("region_ids",))
    if not all(given.isdigit() for given in values["region_ids"]):
        return None, {"region_ids": [_("Not a valid region.")]}
    values["region_ids"] = [int(given) for given in values["region_ids"]]
    day = values.pop("expires_at", None)
    if day:
        try:
            values["expires_at"] = day_ends(date.fromisoformat(day), export_zone()).isoformat()
        except ValueError:
            return None, {"expires_at": [_("Not a valid date.")]}
    return submit(ApiKeyCreateSchema(), lambda data: keys.create_key(current_user, data),
                  values=values)


@blp.get("/api-keys/<int:key_id>")
@admin_only
def api_key(key_id):
    page = request.args.get("page", 1, type=whole)
    key = get_api_key(current_user, key_id)
    uses, total = keys.key_uses(current_user, key_id, USES_PER_PAGE, (page - 1) * USES_PER_PAGE)
    return render("api_key.html", key=key, uses=uses, total=total, page_no=page,
                  pages=max(1, -(-total // USES_PER_PAGE)))


@blp.post("/api-keys/<int:key_id>/revoke")
@admin_only
def api_key_revoke(key_id):
    key = keys.revoke_key(current_user, key_id)
    db.session.commit()
    flash(_("Key %(name)s revoked: it no longer opens anything.", name=key.name), "success")
    return redirect(url_for("admin.api_keys"))


# Webhooks


@blp.route("/webhooks", methods=["GET", "POST"])
@admin_only
def webhooks():
    errors, values, created = {}, {}, None
    if request.method == "POST":
        created, errors = submit(WebhookCreateSchema(),
                                 lambda data: hooks.create_webhook(current_user, data),
                                 lists=("events",))
        values = request.form if errors else {}
    return render("webhooks.html", hooks=hooks.list_webhooks(current_user), errors=errors,
                  values=values, created=created, events=EVENTS, presets=PRESETS,
                  chosen=set(request.form.getlist("events")) if errors else set(EVENTS)
                  ), 422 if errors else (201 if created else 200)


@blp.route("/webhooks/<int:hook_id>", methods=["GET", "POST"])
@admin_only
def webhook(hook_id):
    hook = get_webhook(current_user, hook_id)
    errors, secret = {}, None
    if request.method == "POST":
        rotate = request.form.getlist("rotate_secret")[-1:] == ["true"]
        done, errors = submit(WebhookUpdateSchema(),
                              lambda data: hooks.update_webhook(current_user, hook_id, data),
                              lists=("events",))
        if done is not None:
            if rotate:
                secret = done.secret
            else:
                flash(_("Webhook %(name)s saved.", name=done.name), "success")
                return redirect(url_for("admin.webhook", hook_id=hook_id))
    page = request.args.get("page", 1, type=whole)
    deliveries, total = hooks.list_deliveries(current_user, hook_id, {
        "limit": DELIVERIES_PER_PAGE, "offset": (page - 1) * DELIVERIES_PER_PAGE})
    return render("webhook.html", hook=hook, errors=errors,
                  values=request.form if errors else hook, events=EVENTS, presets=PRESETS,
                  chosen=set(request.form.getlist("events")) if errors else set(hook.events),
                  secret=secret, deliveries=deliveries, total=total, page_no=page,
                  pages=max(1, -(-total // DELIVERIES_PER_PAGE))), 422 if errors else 200


@blp.post("/webhooks/<int:hook_id>/delete")
@admin_only
def webhook_delete(hook_id):
    hook = get_webhook(current_user, hook_id)
    name = hook.name
    hooks.delete_webhook(current_user, hook_id)
    db.session.commit()
    flash(_("Webhook %(name)s deleted.", name=name), "success")
    return redirect(url_for("admin.webhooks"))


@blp.post("/webhooks/<int:hook_id>/deliveries/<int:delivery_id>/redeliver")
@admin_only
def webhook_redeliver(hook_id, delivery_id):
    delivery = hooks.redeliver(current_user, hook_id, delivery_id)
    db.session.commit()
    flash(_("Delivery %(id)s will be sent again.", id=delivery.id), "success")
    return redirect(url_for("admin.webhook", hook_id=hook_id))

