"""The admin pages of integrations: an API key made on the page (its secret shown once, never
again), used, its use log, revoked; a webhook registered on the page, its delivery log from a
real receiver on loopback, redelivery, turning it on again, a new secret, deletion; bad forms
answered with the field marked; admins only."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from supervision.apikeys.models import ApiKey
from supervision.db import db
from supervision.webhooks.models import Webhook, WebhookDelivery
from tests.conftest import log_in
from tests.servers import http_receiver
from tests.test_webhooks import LOOPBACK, raise_event
from tests.visit_support import VISIT_WORLD, visit_config

IN_TWO_YEARS = date.today() + timedelta(days=730)
SECRET = re.compile(r'id="secret-value">([^<]+)<')


@pytest.fixture
def app_config(database_url, tmp_path):
    return visit_config(database_url, tmp_path, **LOOPBACK)


@pytest.fixture
def world(make_world):
    people = {**VISIT_WORLD["people"],
              "store_manager": {"role": "store_manager", "stores": ["store"]}}
    return make_world(**{**VISIT_WORLD, "people": people})


@pytest.fixture
def admin(app, world):
    client = app.test_client()
    log_in(client, world["admin"])
    return client


def form_token(client, path) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(True))[1]


def post(client, path, data, page=None):
    return client.post(path, data={**data, "csrf_token": form_token(client, page or path)})


def test_pages_are_for_admins_only(app, client, world, admin):
    key = client.post("/api/v1/api-keys", headers=world["headers"]["admin"], json={
        "name": "BI", "region_ids": [world["east"].id]}).json
    with http_receiver() as receiver:
        hook = client.post("/api/v1/webhooks", headers=world["headers"]["admin"], json={
            "name": "HQ", "url": receiver.url, "events": ["visit.published"]}).json
        raise_event(app, world["store"].id, 1)
        receiver.wait_for(1)
    delivery = client.get(f"/api/v1/webhooks/{hook['id']}/deliveries",
                          headers=world["headers"]["admin"]).json[0]["id"]
    pages = ["/admin/api-keys", f"/admin/api-keys/{key['id']}", "/admin/webhooks",
             f"/admin/webhooks/{hook['id']}"]
    forms = [f"/admin/api-keys/{key['id']}/revoke", f"/admin/webhooks/{hook['id']}/delete",
             f"/admin/webhooks/{hook['id']}/deliveries/{delivery}/redeliver"]
    for who in ("manager", "supervisor", "shopper", "store_manager"):
        other = app.test_client()
        token = log_in(other, world[who])
        for path in pages:
            assert other.get(path, headers={"Accept": "text/html"}).status_code == 403, who
        for path in forms:
            assert other.post(path, data={"csrf_token": token}).status_code == 403, who
    assert app.test_client().get("/admin/api-keys").status_code == 302  # to the login page
    for path in pages:
        assert admin.get(path).status_code == 200, path
    for path in ("/admin/api-keys/999", "/admin/webhooks/999"):
        assert admin.get(path).status_code == 404
    with app.app_context():  # nothing was revoked, deleted or sent again by the refused forms
        assert db.session.get(ApiKey, key["id"]).revoked_at is None
        assert db.session.get(Webhook, hook["id"]) is not None
        assert db.session.get(WebhookDelivery, delivery).attempts == 1


def test_a_key_made_on_the_page_is_shown_once_logged_and_revoked(app, client, world, admin):
    made = post(admin, "/admin/api-keys", {
        "name": "东区 Power BI", "access": "internal", "region_ids": str(world["east"].id),
        "expires_at": IN_TWO_YEARS.isoformat()})
    assert made.status_code == 201, re.findall(r'field-error[^>]*>([^<]*)', made.get_data(True))
    secret = SECRET.search(made.get_data(True))[1]
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/feed/visits", headers=bearer).status_code == 200
    with app.app_context():
        key = db.session.scalars(select(ApiKey)).one()
        assert (key.name, key.access, [r.code for r in key.regions]) == (
            "东区 Power BI", "internal", ["EAST"])
        assert key.expires_at.year == IN_TWO_YEARS.year and secret not in key.secret_hash
    listing = admin.get("/admin/api-keys").get_data(True)
    assert "东区 Power BI" in listing and key.prefix in listing and secret not in listing

    uses = admin.get(f"/admin/api-keys/{key.id}").get_data(True)
    assert "GET /api/v1/feed/visits" in uses and ">200<" in uses and secret not in uses

    revoked = post(admin, f"/admin/api-keys/{key.id}/revoke", {}, page="/admin/api-keys")
    assert revoked.status_code == 302
    assert client.get("/api/v1/feed/visits", headers=bearer).status_code == 401
    listing = admin.get("/admin/api-keys").get_data(True)
    assert "已撤销" in listing and "/revoke" not in listing
    assert ">401<" in admin.get(f"/admin/api-keys/{key.id}").get_data(True)


@pytest.mark.parametrize("data, field", [
    ({"name": "BI", "access": "store"}, "region_ids"),
    ({"name": "", "access": "store", "region_ids": "EAST"}, "name"),
    ({"name": "BI", "access": "store", "region_ids": "EAST", "expires_at": "2001-01-01"},
     "expires_at"),
    ({"name": "BI", "access": "store", "region_ids": "EAST", "expires_at": "2099-12-31"},
     "expires_at"),
    ({"name": "BI", "access": "store", "region_ids": "EAST", "expires_at": "31/12/2099"},
     "expires_at"),
    ({"name": "BI", "access": "everything", "region_ids": "EAST"}, "access"),
])
def test_a_bad_key_form_marks_the_field_and_makes_nothing(app, world, admin, data, field):
    data = {k: str(world["east"].id) if v == "EAST" else v for k, v in data.items()}
    answer = post(admin, "/admin/api-keys", data)
    page = answer.get_data(True)
    assert answer.status_code == 422 and "请更正标出的字段" in page
    marked = re.search(rf'<(?:div|fieldset) class="field[^"]*has-error"[^>]*>\s*'
                       rf'(?:<label for="f-{field}"|<legend>)', page)
    assert marked, page[:3000]
    assert not SECRET.search(page)
    with app.app_context():
        assert db.session.scalars(select(ApiKey)).all() == []


def test_a_webhook_registered_on_the_page_delivers_and_is_looked_after(app, world, admin):
    with http_receiver() as receiver:
        made = post(admin, "/admin/webhooks", {
            "name": "总部群", "url": receiver.url + "/in", "preset": "json",
            "events": ["visit.published", "action.overdue"]})
        assert made.status_code == 201
        secret = SECRET.search(made.get_data(True))[1]
        with app.app_context():
            hook = db.session.scalars(select(Webhook)).one()
            assert (hook.events, hook.secret) == (["action.overdue", "visit.published"], secret)
        raise_event(app, world["store"].id, 1)
        [sent] = receiver.wait_for(1)
        assert sent["headers"]["X-Supervision-Event"] == "visit.published"
        page = admin.get(f"/admin/webhooks/{hook.id}").get_data(True)
        assert "visit.published" in page and "已送达" in page and "HTTP 200" in page

        delivery = re.search(r'/deliveries/(\d+)/redeliver', page)[1]
        again = post(admin, f"/admin/webhooks/{hook.id}/deliveries/{delivery}/redeliver", {},
                     page=f"/admin/webhooks/{hook.id}")
        assert again.status_code == 302
        [first, second] = receiver.wait_for(2)
        assert first["headers"]["X-Supervision-Delivery"] == \
            second["headers"]["X-Supervision-Delivery"]

    with app.app_context():  # turned off after failures, as the sweep does
        db.session.get(Webhook, hook.id).active = False
        db.session.get(Webhook, hook.id).disabled_reason = "5 deliveries failed in a row."
        db.session.commit()
    off = admin.get(f"/admin/webhooks/{hook.id}").get_data(True)
    assert 'id="hook-off"' in off and "5 deliveries failed in a row." in off
    saved = post(admin, f"/admin/webhooks/{hook.id}", {
        "name": "总部群", "url": hook.url, "preset": "wecom", "events": ["visit.published"],
        "active": ["false", "true"], "rotate_secret": ["false", "true"]})
    assert saved.status_code == 200
    new_secret = SECRET.search(saved.get_data(True))[1]
    with app.app_context():
        changed = db.session.get(Webhook, hook.id)
        assert (changed.active, changed.disabled_reason, changed.preset, changed.events) == (
            True, None, "wecom", ["visit.published"])
        assert changed.secret == new_secret != secret

    refused = post(admin, f"/admin/webhooks/{hook.id}", {
        "name": "总部群", "url": "https://10.1.2.3/in", "preset": "json",
        "events": ["visit.published"]})
    assert refused.status_code == 422
    assert re.search(r'class="field has-error">\s*<label for="f-url"', refused.get_data(True))
    with app.app_context():
        assert db.session.get(Webhook, hook.id).url == hook.url

    gone = post(admin, f"/admin/webhooks/{hook.id}/delete", {},
                page=f"/admin/webhooks/{hook.id}")
    assert gone.status_code == 302
    with app.app_context():
        assert db.session.get(Webhook, hook.id) is None


def test_a_webhook_needs_an_event_and_an_allowed_address(app, world, admin):
    for data, field in (
            ({"name": "A", "url": "https://example.com/in", "preset": "json"}, "events"),
            ({"name": "A", "url": "https://192.168.1.9/in", "preset": "json",
              "events": ["visit.published"]}, "url"),
            ({"name": "A", "url": "ftp://example.com/in", "preset": "json",
              "events": ["visit.published"]}, "url")):
        answer = post(admin, "/admin/webhooks", data)
        page = answer.get_data(True)
        assert answer.status_code == 422, data
        assert re.search(rf'<(?:div|fieldset) class="field[^"]*has-error"[^>]*>\s*'
                         rf'(?:<label for="f-{field}"|<legend>)', page), field
        if "192.168" in data["url"]:  # a message with a value, in the page's language
            assert "192.168.1.9 是内网、本机或保留地址" in page
    with app.app_context():
        assert db.session.scalars(select(Webhook)).all() == []
