"""API keys for integrations: created by an admin, shown once, stored hashed, scoped to regions,
read-only, expiring, revocable, never tied to a password, every use logged."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from supervision.apikeys.models import ApiKey
from supervision.db import db


def create_key(client, world, **body) -> dict:
    body = {"name": "Power BI", "region_ids": [world["east"].id], **body}
    response = client.post("/api/v1/api-keys", json=body, headers=world["headers"]["admin"])
    assert response.status_code == 201, response.json
    return response.json


def key_headers(key: dict) -> dict:
    return {"Authorization": f"Bearer {key['secret']}"}


def uses(client, world, key) -> list[dict]:
    response = client.get(f"/api/v1/api-keys/{key['id']}/uses",
                          headers=world["headers"]["admin"])
    assert response.status_code == 200
    return response.json


def test_a_key_is_shown_once_and_stored_hashed(app, client, make_world):
    world = make_world()
    key = create_key(client, world)
    assert key["secret"].startswith("svk_") and len(key["secret"]) > 40
    assert key["prefix"] == key["secret"][:12] and key["status"] == "active"
    assert [r["code"] for r in key["regions"]] == ["EAST"] and key["access"] == "store"
    listed = client.get("/api/v1/api-keys", headers=world["headers"]["admin"]).json
    assert [k["id"] for k in listed] == [key["id"]] and "secret" not in listed[0]
    with app.app_context():
        stored = db.session.get(ApiKey, key["id"])
        assert key["secret"] not in (stored.secret_hash, stored.prefix)
        assert len(stored.secret_hash) == 64
    default_expiry = datetime.fromisoformat(key["expires_at"])
    assert timedelta(days=364) < default_expiry - datetime.now(UTC) <= timedelta(days=365)


def test_a_key_reads_its_regions_only_and_never_writes(app, client, make_world):
    world = make_world()
    key = create_key(client, world)
    stores = client.get("/api/v1/stores", headers=key_headers(key))
    assert stores.status_code == 200
    assert [s["id"] for s in stores.json] == [world["store"].id]
    west = client.get(f"/api/v1/stores/{world['west_store'].id}", headers=key_headers(key))
    assert west.status_code == 404
    for method, path in (("post", "/api/v1/actions"), ("get", "/api/v1/notifications"),
                         ("get", "/api/v1/api-keys"), ("get", "/api/v1/me"),
                         ("put", f"/api/v1/visits/{'0' * 8}-0000-4000-8000-{'0' * 12}")):
        response = getattr(client, method)(path, json={}, headers=key_headers(key))
        assert response.status_code == 403, (method, path, response.json)
        assert "API keys read only" in response.json["message"]
    logged = uses(client, world, key)
    assert len(logged) == 7
    assert logged[0]["method"] == "PUT" and logged[0]["status"] == 403
    assert {(u["path"], u["status"]) for u in logged[-2:]} == {
        ("/api/v1/stores", 200), (f"/api/v1/stores/{world['west_store'].id}", 404)}
    listed = client.get("/api/v1/api-keys", headers=world["headers"]["admin"]).json
    assert listed[0]["last_used_at"] is not None


def test_a_store_key_reads_the_store_version_and_an_internal_key_more(
        app, client, make_world, make_visit):
    world = make_world()
    audit = make_visit(world["store"], world["supervisor"])
    unpublished = make_visit(world["store"], world["shopper"], slug="mystery-visit",
                             status="submitted")
    published = make_visit(world["store"], world["shopper"], slug="mystery-visit")
    store_key = create_key(client, world)
    internal_key = create_key(client, world, access="internal", name="HQ analytics")
    seen = client.get("/api/v1/visits", headers=key_headers(store_key)).json
    assert {v["id"] for v in seen} == {str(audit), str(published)}
    mystery = next(v for v in seen if v["id"] == str(published))
    assert mystery["author_id"] is None and mystery["location"] is None
    seen = client.get("/api/v1/visits", headers=key_headers(internal_key)).json
    assert {v["id"] for v in seen} == {str(audit), str(published), str(unpublished)}
    assert next(v for v in seen if v["id"] == str(published))["author_id"] == world["shopper"].id


def test_a_key_outlives_its_creators_password_and_account(app, client, make_world):
    world = make_world()
    key = create_key(client, world)
    with app.app_context():
        from supervision.accounts.models import User

        admin = db.session.get(User, world["admin"].id)
        admin.set_password("another-secret")
        admin.active = False
        db.session.commit()
    assert client.get("/api/v1/stores", headers=key_headers(key)).status_code == 200


def test_a_revoked_or_expired_key_is_refused_and_its_tries_logged(app, client, make_world):
    world = make_world()
    revoked, expired = create_key(client, world), create_key(client, world, name="Old")
    response = client.delete(f"/api/v1/api-keys/{revoked['id']}",
                             headers=world["headers"]["admin"])
    assert response.status_code == 200 and response.json["status"] == "revoked"
    with app.app_context():
        db.session.execute(update(ApiKey).where(ApiKey.id == expired["id"]).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session.commit()
    refused = client.get("/api/v1/stores", headers=key_headers(revoked))
    assert refused.status_code == 401 and "revoked" in refused.json["message"]
    refused = client.get("/api/v1/stores", headers=key_headers(expired))
    assert refused.status_code == 401 and "expired" in refused.json["message"]
    assert [(u["path"], u["status"]) for u in uses(client, world, revoked)] == [
        ("/api/v1/stores", 401)]
    assert [u["status"] for u in uses(client, world, expired)] == [401]
    unknown = client.get("/api/v1/stores",
                         headers={"Authorization": "Bearer svk_" + "x" * 43})
    assert unknown.status_code == 401 and "unknown" in unknown.json["message"]
    statuses = {k["name"]: k["status"] for k in
                client.get("/api/v1/api-keys", headers=world["headers"]["admin"]).json}
    assert statuses == {"Power BI": "revoked", "Old": "expired"}
    with app.app_context():
        assert db.session.scalar(select(ApiKey.revoked_at).where(
            ApiKey.id == revoked["id"])) is not None


@pytest.mark.parametrize(("body", "field", "problem"), [
    ({"region_ids": [999]}, "region_ids", "No such region: 999."),
    ({"region_ids": []}, "region_ids", "Length must be between 1 and 1000."),
    ({"access": "all"}, "access", "Must be one of: store, internal."),
    ({"expires_at": "2020-01-01T00:00:00+00:00"}, "expires_at", "Must be in the future."),
    ({"expires_at": "2099-01-01T00:00:00+00:00"}, "expires_at", "At most three years from now."),
    ({"name": " "}, "name", "Must not be blank."),
])
def test_a_bad_key_request_names_the_field(app, client, make_world, body, field, problem):
    world = make_world()
    body = {"name": "Power BI", "region_ids": [world["east"].id], **body}
    response = client.post("/api/v1/api-keys", json=body, headers=world["headers"]["admin"])
    assert response.status_code == 422
    assert response.json["errors"]["json"][field] == [problem]


@pytest.mark.parametrize("role", ["manager", "supervisor", "shopper"])
def test_only_an_admin_handles_keys(app, client, make_world, role):
    world = make_world()
    key = create_key(client, world)
    headers = world["headers"][role]
    assert client.get("/api/v1/api-keys", headers=headers).status_code == 403
    assert client.post("/api/v1/api-keys", json={"name": "x", "region_ids": [world["east"].id]},
                       headers=headers).status_code == 403
    assert client.delete(f"/api/v1/api-keys/{key['id']}", headers=headers).status_code == 403
    assert client.get(f"/api/v1/api-keys/{key['id']}/uses", headers=headers).status_code == 403
    assert client.delete("/api/v1/api-keys/999", headers=world["headers"]["admin"]
                         ).status_code == 404
