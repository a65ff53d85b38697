"""The admin API: regions, stores, users, passwords, checklist retirement and history, audit."""

import uuid

import pytest
from sqlalchemy import select

from supervision.audit.models import AuditEntry
from supervision.db import db
from tests.admin_data import CHECKLIST_BROKEN, CHECKLIST_V1, CHECKLIST_V2

YAML = "application/yaml"


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def headers(admin, auth_headers):
    return auth_headers(admin)


def audit(app, **filters) -> list[AuditEntry]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry).filter_by(**filters)))


@pytest.mark.parametrize("role", ["manager", "supervisor", "shopper"])
@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/admin/regions"), ("post", "/api/v1/admin/stores"),
    ("get", "/api/v1/admin/users"), ("get", "/api/v1/admin/audit"),
    ("post", "/api/v1/admin/imports/stores"), ("post", "/api/v1/checklists/x/retire"),
])
def test_only_admins_administer(client, make_user, auth_headers, role, method, path):
    response = getattr(client, method)(path, headers=auth_headers(make_user(role)), json={})
    assert response.status_code == 403


def test_region_create_update_and_conflicts(app, client, headers):
    created = client.post("/api/v1/admin/regions", headers=headers,
                          json={"code": "GZ-TH", "name": "广州天河", "name_en": "Tianhe"})
    assert created.status_code == 201
    region_id = created.json["id"]
    again = client.post("/api/v1/admin/regions", headers=headers,
                        json={"code": "GZ-TH", "name": "x"})
    assert again.status_code == 409
    bad = client.post("/api/v1/admin/regions", headers=headers, json={"code": "天 河", "name": ""})
    assert bad.status_code == 422
    assert set(bad.json["errors"]["json"]) == {"code", "name"}
    renamed = client.patch(f"/api/v1/admin/regions/{region_id}", headers=headers,
                           json={"name": "广州市天河区"})
    assert renamed.json["name"] == "广州市天河区"
    [entry] = audit(app, entity="region", action="update")
    assert entry.details["changes"] == {"name": ["广州天河", "广州市天河区"]}


STORE = {"code": "GZ001", "name": "天河城营业厅", "address": "广州市天河路208号", "lat": 23.13,
         "lon": 113.32, "geofence_m": 200, "timezone": "Asia/Shanghai"}


@pytest.mark.parametrize(("change", "field"), [
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"lat": 91}, "lat"),
    ({"geofence_m": 5}, "geofence_m"),
    ({"code": "GZ 001"}, "code"),
    ({"name": "   "}, "name"),
])
def test_store_validation_names_the_field(client, headers, make_region, change, field):
    body = {**STORE, "region_id": make_region().id, **change}
    response = client.post("/api/v1/admin/stores", headers=headers, json=body)
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == [field]


def test_store_create_search_update(app, client, headers, make_region):
    east, west = make_region("EAST"), make_region("WEST")
    created = client.post("/api/v1/admin/stores", headers=headers,
                          json={**STORE, "region_id": east.id})
    assert created.status_code == 201 and created.json["region"]["code"] == "EAST"
    store_id = created.json["id"]
    unknown = client.post("/api/v1/admin/stores", headers=headers,
                          json={**STORE, "code": "GZ002", "region_id": 9999})
    assert unknown.status_code == 404
    found = client.get("/api/v1/admin/stores?q=天河路", headers=headers).json
    assert [s["code"] for s in found] == ["GZ001"]
    moved = client.patch(f"/api/v1/admin/stores/{store_id}", headers=headers,
                         json={"region_id": west.id, "active": False})
    assert moved.json["region_id"] == west.id and moved.json["active"] is False
    [entry] = audit(app, entity="store", action="update")
    assert entry.details["changes"] == {"region_id": [east.id, west.id], "active": [True, False]}
    unchanged = client.patch(f"/api/v1/admin/stores/{store_id}", headers=headers,
                             json={"active": False})
    assert unchanged.status_code == 200
    assert len(audit(app, entity="store", action="update")) == 1


def test_user_lifecycle(app, client, headers, make_region):
    east = make_region("EAST")
    body = {"email": "Li.Na@Example.com", "name": "李娜", "role": "supervisor",
            "password": "first-pass-1", "region_ids": [east.id]}
    created = client.post("/api/v1/admin/users", headers=headers, json=body)
    assert created.status_code == 201
    assert created.json["email"] == "li.na@example.com" and "password" not in created.json
    user_id = created.json["id"]
    assert client.post("/api/v1/admin/users", headers=headers, json=body).status_code == 409
    credentials = {"email": "li.na@example.com", "password": "first-pass-1"}
    token = client.post("/api/v1/auth/token", json=credentials).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=bearer).status_code == 200

    promoted = client.patch(f"/api/v1/admin/users/{user_id}", headers=headers,
                            json={"role": "manager", "region_ids": []})
    assert promoted.json["role"] == "manager" and promoted.json["regions"] == []
    client.patch(f"/api/v1/admin/users/{user_id}", headers=headers, json={"active": False})
    assert client.get("/api/v1/me", headers=bearer).status_code == 401
    assert client.post("/api/v1/auth/token", json=credentials).status_code == 401
    updates = audit(app, entity="user", action="update")
    [entry] = [e for e in updates if "active" in e.details["changes"]]
    assert entry.details["changes"]["active"] == [True, False]


def test_user_validation(client, headers):
    response = client.post("/api/v1/admin/users", headers=headers, json={
        "email": "not-an-email", "name": "x", "role": "boss", "password": "short",
        "region_ids": [12345]})
    assert response.status_code == 422
    assert set(response.json["errors"]["json"]) == {"email", "role", "password"}
    unknown_region = client.post("/api/v1/admin/users", headers=headers, json={
        "email": "a@example.com", "name": "x", "role": "supervisor", "password": "long-enough",
        "region_ids": [12345]})
    assert unknown_region.status_code == 422
    assert "region_ids" in unknown_region.json["errors"]["json"]


def test_admin_cannot_lock_themselves_out(client, headers, admin):
    for change in ({"active": False}, {"role": "manager"}):
        response = client.patch(f"/api/v1/admin/users/{admin.id}", headers=headers, json=change)
        assert response.status_code == 409


@pytest.mark.parametrize("given", [None, "chosen-pass-9"])
def test_reset_password(app, client, headers, make_user, given):
    user = make_user("shopper", password="old-password")
    old = client.post("/api/v1/auth/token", json={"email": user.email, "password": "old-password"})
    response = client.post(f"/api/v1/admin/users/{user.id}/password", headers=headers,
                           json={"password": given} if given else {})
    new_password = response.json["password"]
    assert response.status_code == 200 and len(new_password) >= 8
    assert given in (None, new_password)
    stale = {"Authorization": f"Bearer {old.json['token']}"}
    assert client.get("/api/v1/me", headers=stale).status_code == 401
    fresh = client.post("/api/v1/auth/token", json={"email": user.email, "password": new_password})
    assert fresh.status_code == 200
    [entry] = audit(app, action="reset_password")
    assert new_password not in str(entry.details)


def upload(client, headers, text):
    return client.post("/api/v1/checklists", data=text.encode(), content_type=YAML,
                       headers=headers)


def test_retire_and_restore_a_checklist(app, client, headers):
    assert upload(client, headers, CHECKLIST_V1).status_code == 201
    retired = client.post("/api/v1/checklists/admin-test/retire", headers=headers)
    assert retired.json["retired"] is True and retired.json["retired_at"]
    listed = client.get("/api/v1/checklists", headers=headers).json
    assert [c["retired"] for c in listed if c["slug"] == "admin-test"] == [True]
    assert client.get("/api/v1/checklists/admin-test", headers=headers).status_code == 200
    restored = client.post("/api/v1/checklists/admin-test/restore", headers=headers)
    assert restored.json["retired"] is False
    assert [e.action for e in audit(app, entity="checklist")] == ["retire", "restore"]
    assert client.post("/api/v1/checklists/nope/retire", headers=headers).status_code == 404


def test_version_history_and_diff(client, headers):
    broken = upload(client, headers, CHECKLIST_BROKEN)
    assert broken.status_code == 422
    assert "item greet_10s" in broken.json["errors"]["yaml"][0]
    upload(client, headers, CHECKLIST_V1)
    assert upload(client, headers, CHECKLIST_V2).status_code == 201
    history = client.get("/api/v1/checklists/admin-test/versions", headers=headers).json
    assert [(v["version"], v["items"]) for v in history] == [(2, 2), (1, 2)]
    assert history[0]["created_by"].startswith("admin")
    diff = client.get("/api/v1/checklists/admin-test/diff?from=1&to=2", headers=headers).json
    assert diff["added"] == ["thank_customer"] and diff["removed"] == ["queue_minutes"]
    assert diff["changed"] == [{"id": "greet_10s", "fields": ["text", "weight"]}]
    assert "+        weight: 2\n" in diff["unified"]
    assert diff["unified"].startswith("--- admin-test v1\n+++ admin-test v2\n")
    missing = client.get("/api/v1/checklists/admin-test/diff?from=1&to=7", headers=headers)
    assert missing.status_code == 404


def test_audit_log_filters(client, headers, admin, make_user, auth_headers):
    other = make_user("admin")
    client.post("/api/v1/admin/regions", headers=headers, json={"code": "A", "name": "甲"})
    client.post("/api/v1/admin/regions", headers=auth_headers(other),
                json={"code": "B", "name": "乙"})
    upload(client, headers, CHECKLIST_V1)
    everything = client.get("/api/v1/admin/audit", headers=headers).json
    assert everything["total"] == 3
    by_email = client.get(f"/api/v1/admin/audit?user={other.email}", headers=headers).json
    assert [e["details"]["code"] for e in by_email["entries"]] == ["B"]
    by_id = client.get(f"/api/v1/admin/audit?user={admin.id}&entity=region", headers=headers).json
    assert [e["details"]["code"] for e in by_id["entries"]] == ["A"]
    assert by_id["entries"][0]["user_email"] == admin.email
    today = client.get("/api/v1/admin/audit?from=2000-01-01&to=2000-01-02", headers=headers).json
    assert today["total"] == 0
    bad = client.get("/api/v1/admin/audit?from=yesterday", headers=headers)
    assert bad.status_code == 422 and "from" in bad.json["errors"]["query"]


def test_a_retired_checklist_takes_no_new_visit(client, headers, make_store):
    store = make_store()
    upload(client, headers, CHECKLIST_V1)
    body = {"store_id": store.id, "checklist": {"slug": "admin-test", "version": 1},
            "kind": "audit", "started_at": "2026-03-10T10:00:00+08:00", "responses": []}
    old_visit = f"/api/v1/visits/{uuid.uuid4()}"
    assert client.put(old_visit, headers=headers, json=body).status_code == 201
    client.post("/api/v1/checklists/admin-test/retire", headers=headers)
    refused = client.put(f"/api/v1/visits/{uuid.uuid4()}", headers=headers, json=body)
    assert refused.status_code == 409 and "retired" in refused.json["message"]
    answered = {**body, "responses": [{"item": "greet_10s", "value": True}]}
    assert client.put(old_visit, headers=headers, json=answered).status_code == 200


@pytest.mark.parametrize("name", ["", "   ", "\x0b", " \x0b\x00 "])
def test_a_store_region_or_user_cannot_be_renamed_to_nothing(client, headers, admin,
                                                            make_region, make_store, name):
    region = make_region()
    store = make_store(region)
    for path in (f"/api/v1/admin/stores/{store.id}", f"/api/v1/admin/regions/{region.id}",
                 f"/api/v1/admin/users/{admin.id}"):
        response = client.patch(path, headers=headers, json={"name": name})
        assert response.status_code == 422, path
        assert list(response.json["errors"]["json"]) == ["name"], path
        assert response.json["message"].startswith("name: "), path


def test_names_are_trimmed(client, headers, make_store):
    store = make_store()
    response = client.patch(f"/api/v1/admin/stores/{store.id}", headers=headers,
                            json={"name": "  天河城营业厅\n"})
    assert response.status_code == 200 and response.json["name"] == "天河城营业厅"


@pytest.mark.parametrize(("text", "problem"), [
    (CHECKLIST_V1.replace("kind: audit", "kind: au\x0bdit"),
     "upload.yaml:3: Must be printable text (found U+000B)."),
    (CHECKLIST_V1.replace("en: Quality service", 'en: "Quality\\x0bservice"'),
     "upload.yaml:7: section service: title.en: Must be printable text (found U+000B)."),
    (CHECKLIST_V1.replace("slug: admin-test", "slug: " + "a" * 65),
     "upload.yaml:1: slug: Must be a slug of lower-case letters, digits and dashes (at most 64)."),
])
def test_a_checklist_upload_with_a_control_character_is_refused_clearly(client, headers, text,
                                                                       problem):
    response = upload(client, headers, text)
    assert response.status_code == 422
    assert response.json["errors"]["yaml"] == [problem]
    assert client.get("/api/v1/checklists", headers=headers).json == []


def test_an_import_cell_with_a_control_character_is_a_problem_of_its_row(client, headers,
                                                                         make_region):
    import io

    make_region("GZ")
    data = "编码,名称,区域\nA1,甲\x0b厅,GZ\nA2,乙厅,GZ\n".encode()
    response = client.post("/api/v1/admin/imports/stores", headers=headers,
                           content_type="multipart/form-data",
                           data={"file": (io.BytesIO(data), "stores.csv")})
    assert response.status_code == 422
    assert response.json["errors"]["files"]["rows"] == [
        {"line": 2, "column": "名称", "message": "Must be printable text (found U+000B)."}]


@pytest.mark.parametrize("user", ["2147483648", "9" * 30, "²"])
def test_the_audit_log_filters_by_an_id_that_can_be_one(client, headers, user):
    response = client.get("/api/v1/admin/audit", headers=headers, query_string={"user": user})
    assert response.status_code == 422
    assert response.json["message"] == "user: Not a valid id."


def test_a_store_manager_is_linked_to_stores_not_regions(app, client, headers, make_region,
                                                          make_store):
    east = make_region("EAST")
    first, second = make_store(east, code="E1"), make_store(east, code="E2")
    body = {"email": "Zhang.Dian@Example.com", "name": "张店长", "role": "store_manager",
            "password": "first-pass-1", "store_ids": [second.id, first.id]}
    created = client.post("/api/v1/admin/users", headers=headers, json=body)
    assert created.status_code == 201, created.json
    assert [s["code"] for s in created.json["stores"]] == ["E1", "E2"]
    assert created.json["regions"] == []
    [entry] = audit(app, entity="user", action="create")
    assert entry.details["stores"] == ["E1", "E2"]

    token = client.post("/api/v1/auth/token", json={"email": "zhang.dian@example.com",
                                                    "password": "first-pass-1"}).json
    assert [s["code"] for s in token["user"]["stores"]] == ["E1", "E2"]
    user_id = created.json["id"]
    narrowed = client.patch(f"/api/v1/admin/users/{user_id}", headers=headers,
                            json={"store_ids": [second.id]})
    assert [s["code"] for s in narrowed.json["stores"]] == ["E2"]
    [entry] = audit(app, entity="user", action="update")
    assert entry.details["changes"] == {"stores": [["E1", "E2"], ["E2"]]}
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert [s["code"] for s in me.json["stores"]] == ["E2"]

    moved = client.patch(f"/api/v1/admin/users/{user_id}", headers=headers, json={
        "role": "supervisor", "store_ids": [], "region_ids": [east.id]})
    assert moved.status_code == 200, moved.json
    assert moved.json["stores"] == [] and [r["code"] for r in moved.json["regions"]] == ["EAST"]


@pytest.mark.parametrize(("body", "field"), [
    ({"role": "store_manager"}, "store_ids"),
    ({"role": "store_manager", "store_ids": []}, "store_ids"),
    ({"role": "store_manager", "store_ids": ["store"], "region_ids": ["region"]}, "region_ids"),
    ({"role": "store_manager", "store_ids": [99999]}, "store_ids"),
    ({"role": "supervisor", "store_ids": ["store"]}, "store_ids"),
    ({"role": "shopper", "store_ids": ["store"], "region_ids": ["region"]}, "store_ids"),
])
def test_store_links_fit_the_role(client, headers, make_store, body, field):
    """A store manager needs a store and has no region; no other role has a store."""
    store = make_store()
    ids = {"store": store.id, "region": store.region_id}
    body = {"email": "x@example.com", "name": "x", "password": "long-enough",
            **{key: [ids.get(v, v) for v in value] if isinstance(value, list) else value
               for key, value in body.items()}}
    response = client.post("/api/v1/admin/users", headers=headers, json=body)
    assert response.status_code == 422
    assert list(response.json["errors"]["json"]) == [field]
    assert field in response.json["message"]


@pytest.mark.parametrize(("role", "change", "field"), [
    ("store_manager", {"store_ids": []}, "store_ids"),
    ("store_manager", {"role": "supervisor"}, "store_ids"),
    ("store_manager", {"region_ids": ["region"]}, "region_ids"),
    ("supervisor", {"role": "store_manager"}, "region_ids store_ids"),
    ("supervisor", {"role": "store_manager", "store_ids": ["store"]}, "region_ids"),
    ("manager", {"store_ids": ["store"]}, "store_ids"),
])
def test_a_change_that_breaks_the_store_links_is_refused(app, client, headers, make_user,
                                                          make_store, role, change, field):
    store = make_store()
    user = make_user(role, stores=[store] if role == "store_manager" else [],
                     regions=[] if role == "store_manager" else [_region_of(app, store)])
    ids = {"store": store.id, "region": store.region_id}
    change = {key: [ids[v] for v in value] if isinstance(value, list) else value
              for key, value in change.items()}
    response = client.patch(f"/api/v1/admin/users/{user.id}", headers=headers, json=change)
    assert response.status_code == 422
    assert sorted(response.json["errors"]["json"]) == field.split()
    unchanged = client.get(f"/api/v1/admin/users/{user.id}", headers=headers).json
    assert unchanged["role"] == role


def _region_of(app, store):
    from supervision.stores.models import Region

    with app.app_context():
        region = db.session.get(Region, store.region_id)
        db.session.expunge(region)
        return region


def test_the_account_service_links_a_store_manager_by_store_code(app, make_store):
    """What `flask users create` and the demo use: store codes, the same rules."""
    from supervision.accounts.services import create_user
    from supervision.errors import Invalid

    make_store(code="E1")
    with app.app_context():
        user = create_user("Store@Example.com", "店长", "store_manager", "secret-pw-1",
                           store_codes=["E1"])
        assert [s.code for s in user.stores] == ["E1"] and user.regions == []
        for role, stores, field in (("store_manager", [], "stores"),
                                    ("store_manager", ["E9"], "stores"),
                                    ("supervisor", ["E1"], "stores")):
            with pytest.raises(Invalid) as refused:
                create_user(f"{role}{len(stores)}@example.com", "x", role, "secret-pw-1",
                            store_codes=stores)
            assert field in refused.value.message
