"""The admin pages without a browser: who may open them, CSRF on their forms, the import's
check-then-apply over the page, the manager's export page."""

import io
import re
import uuid

import pytest
from sqlalchemy import func, select

from supervision import create_app
from supervision.db import db
from supervision.stores.models import Store
from tests.conftest import _test_config

PAGES = ["/admin/regions", "/admin/stores", "/admin/stores/new", "/admin/users",
         "/admin/users/new", "/admin/checklists", "/admin/imports", "/admin/audit"]


def logged_in(client, user, password="secret-pw"):
    client.post("/login", data={"email": user.email, "password": password,
                                "csrf_token": csrf(client, "/login")})
    return client


def csrf(client, path) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(True))[1]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_for_admins(app, make_user, path):
    assert app.test_client().get(path).status_code == 302  # to the login page
    supervisor = logged_in(app.test_client(), make_user("supervisor"))
    assert supervisor.get(path, headers={"Accept": "text/html"}).status_code == 403
    admin = logged_in(app.test_client(), make_user("admin"))
    assert admin.get(path).status_code == 200


def test_manager_gets_the_export_page_only(app, make_user):
    manager = logged_in(app.test_client(), make_user("manager"))
    assert manager.get("/admin/").headers["Location"].endswith("/admin/exports")
    assert manager.get("/admin/exports").status_code == 200
    download = manager.get("/admin/exports?what=visits&fmt=csv&from=2026-01-01&to=")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert manager.get("/admin/users").status_code == 403


def test_forms_need_the_csrf_token(app, make_user):
    admin = logged_in(app.test_client(), make_user("admin"))
    refused = admin.post("/admin/regions", data={"code": "X", "name": "x"})
    assert refused.status_code == 400
    token = csrf(admin, "/admin/regions")
    created = admin.post("/admin/regions", data={"code": "X", "name": "x", "csrf_token": token})
    assert created.status_code == 302


@pytest.fixture
def app_config(request, database_url, tmp_path):
    """Local storage, or S3 when a test asks for it with indirect parametrization."""
    config = _test_config(database_url, tmp_path / "photos")
    if getattr(request, "param", "local") == "s3":
        settings = request.getfixturevalue("s3_settings")
        config |= {"STORAGE_BACKEND": "s3", "S3_BUCKET": f"imports-{uuid.uuid4().hex[:12]}",
                   **{k: v for k, v in settings.items() if k.startswith("S3_")}}
    return config


@pytest.fixture
def other_machine(app, app_config, tmp_path):
    """A second web app on the same database and storage. With S3 it has a local folder of its
    own; local storage is a folder both machines mount."""
    if app_config.get("STORAGE_BACKEND") == "s3":
        app.extensions["storage"].create_bucket()
        other = create_app({**app_config, "PHOTO_DIR": str(tmp_path / "other-machine")})
    else:
        other = create_app(app_config)
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.mark.parametrize("app_config", ["local", "s3"], indirect=True)
def test_import_page_checks_on_one_machine_and_applies_on_another(app, other_machine, make_user,
                                                                   make_region):
    """The checked file waits in the shared storage, not on the machine that checked it."""
    other = other_machine
    make_region("GZ")
    user = make_user("admin")
    first, second = logged_in(app.test_client(), user), logged_in(other.test_client(), user)
    token = csrf(first, "/admin/imports?lang=en")
    data = "编码,名称,区域\nA1,甲厅,GZ\nA2,乙厅,GZ\n".encode("gbk")
    checked = first.post("/admin/imports", content_type="multipart/form-data", data={
        "csrf_token": token, "kind": "stores", "file": (io.BytesIO(data), "s.csv")})
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and 'id="would-create">2<' in page
    assert count(app, Store) == 0 and len(kept_imports(app)) == 1
    kept = re.search(r'name="token" value="([0-9a-f]{32})"', page)[1]
    token = csrf(second, "/admin/imports?lang=en")
    forged = second.post("/admin/imports/apply", data={"csrf_token": token, "kind": "stores",
                                                       "token": "../../secret_key", "name": "x"})
    assert "upload it again" in second.get(forged.headers["Location"]).get_data(True)
    applied = second.post("/admin/imports/apply", data={"csrf_token": token, "kind": "stores",
                                                        "token": kept, "name": "s.csv"})
    assert applied.headers["Location"].endswith("/admin/stores")
    assert count(app, Store) == 2 and kept_imports(app) == []
    again = first.post("/admin/imports/apply", data={"csrf_token": csrf(first, "/admin/imports"),
                                                     "kind": "stores", "token": kept,
                                                     "name": "s.csv"})
    assert "upload it again" in first.get(again.headers["Location"]).get_data(True)
    assert count(app, Store) == 2


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def kept_imports(app) -> list:
    with app.app_context():
        return list(app.extensions["storage"].keys("imports"))


def test_a_form_with_a_control_character_is_refused_in_the_users_language(app, make_user,
                                                                         make_store):
    store = make_store(name="东一营业厅")
    admin = logged_in(app.test_client(), make_user("admin", locale="zh"))
    token = csrf(admin, f"/admin/stores/{store.id}")
    answer = admin.post(f"/admin/stores/{store.id}", headers={"Accept": "text/html"},
                        data={"csrf_token": token, "code": store.code, "name": "东\x0b一",
                              "region_id": store.region_id})
    assert answer.status_code == 422 and answer.mimetype == "text/html"
    assert "name: 必须是可打印的文本（发现 U+000B）。" in answer.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Store, store.id).name == "东一营业厅"


@pytest.mark.parametrize("name", ["", "  "])
def test_a_store_cannot_be_renamed_to_nothing_on_its_page(app, make_user, make_store, name):
    store = make_store(name="东一营业厅")
    admin = logged_in(app.test_client(), make_user("admin"))
    answer = admin.post(f"/admin/stores/{store.id}", data={
        "csrf_token": csrf(admin, f"/admin/stores/{store.id}"), "code": store.code,
        "name": name, "region_id": store.region_id})
    assert answer.status_code == 422
    with app.app_context():
        assert db.session.get(Store, store.id).name == "东一营业厅"


def test_a_checklist_upload_page_names_the_control_character(app, make_user):
    from tests.admin_data import CHECKLIST_V1

    admin = logged_in(app.test_client(), make_user("admin"))
    data = CHECKLIST_V1.replace("kind: audit", "kind: au\x0bdit").encode()
    answer = admin.post("/admin/checklists?lang=en", content_type="multipart/form-data", data={
        "csrf_token": csrf(admin, "/admin/checklists"), "file": (io.BytesIO(data), "c.yaml")})
    assert answer.status_code == 422
    assert "c.yaml:3: Must be printable text (found U+000B)." in answer.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/admin/stores?page=99999999999999999999&region_id=9223372036854775808",
    "/admin/audit?page=9223372036854775808",
])
def test_page_numbers_beyond_any_row_are_the_first_page(app, make_user, path):
    admin = logged_in(app.test_client(), make_user("admin"))
    assert admin.get(path).status_code == 200


@pytest.mark.parametrize("path", ["/admin/stores/2147483648", "/admin/regions/9223372036854775808",
                                  "/admin/users/2147483648", "/admin/checklists/x/v/2147483648",
                                  "/admin/checklists/x%00", "/admin/imports/template/x%0b.csv"])
def test_ids_beyond_any_row_are_not_found(app, make_user, path):
    admin = logged_in(app.test_client(), make_user("admin"))
    assert admin.get(path).status_code == 404


def test_versions_beyond_any_row_are_no_versions_to_compare(app, make_user):
    admin = logged_in(app.test_client(), make_user("admin"))
    answer = admin.get("/admin/checklists/x/diff?from=1&to=9223372036854775808")
    assert answer.status_code == 422 and answer.is_json


def test_the_audit_page_filters_by_an_id_that_can_be_one(app, make_user):
    admin = logged_in(app.test_client(), make_user("admin"))
    answer = admin.get("/admin/audit?user=99999999999999999999")
    assert answer.status_code == 422 and answer.json["message"] == "user: Not a valid id."
    assert admin.get(f"/admin/audit?user={2**31 - 1}").status_code == 200


def test_a_checklist_file_name_is_kept_to_255_characters(app, make_user):
    from supervision.checklists.models import ChecklistVersion
    from tests.admin_data import CHECKLIST_V1

    admin = logged_in(app.test_client(), make_user("admin"))
    answer = admin.post("/admin/checklists", content_type="multipart/form-data", data={
        "csrf_token": csrf(admin, "/admin/checklists"),
        "file": (io.BytesIO(CHECKLIST_V1.encode()), "长" * 300 + ".yaml")})
    assert answer.status_code == 302
    with app.app_context():
        version = db.session.scalars(select(ChecklistVersion)).one()
        assert version.source_name == "长" * 255
        slug, items = version.checklist.slug, sum(
            len(section["items"]) for section in version.definition["sections"])
    history = admin.get(f"/admin/checklists/{slug}").get_data(as_text=True)
    assert f'<td class="num">{items}</td>' in history and "built-in method" not in history


def test_a_store_manager_account_on_the_users_pages(app, make_user, make_store):
    """The form ticks a store manager's stores; without one it says what is missing; the list
    shows the stores in place of regions."""
    from supervision.accounts.models import User

    first, second = make_store(code="E1", name="东一营业厅"), make_store(code="E2")
    admin = logged_in(app.test_client(), make_user("admin", locale="en"))
    form = {"csrf_token": csrf(admin, "/admin/users/new"), "email": "dian@example.com",
            "name": "张店长", "role": "store_manager", "password": "first-pass-1"}
    refused = admin.post("/admin/users/new", data=form)
    assert refused.status_code == 422
    assert "A store manager needs at least one store." in refused.get_data(as_text=True)
    created = admin.post("/admin/users/new", data={**form, "store_ids": [str(second.id)]})
    assert created.status_code == 302
    with app.app_context():
        user = db.session.scalars(select(User).where(User.email == "dian@example.com")).one()
        assert [s.code for s in user.stores] == ["E2"] and user.regions == []
        user_id = user.id
    page = admin.get(f"/admin/users/{user_id}").get_data(as_text=True)
    assert re.search(rf'name="store_ids" value="{second.id}" checked', page)
    assert not re.search(rf'name="store_ids" value="{first.id}" checked', page)
    assert "E2" in admin.get("/admin/users?role=store_manager").get_data(as_text=True)

    moved = admin.post(f"/admin/users/{user_id}", data={
        "csrf_token": csrf(admin, f"/admin/users/{user_id}"), "email": "dian@example.com",
        "name": "张店长", "role": "store_manager", "store_ids": [str(first.id), str(second.id)]})
    assert moved.status_code == 302
    with app.app_context():
        assert [s.code for s in db.session.get(User, user_id).stores] == ["E1", "E2"]


def test_form_errors_speak_the_readers_language(app, make_user, make_store):
    make_store(code="E1")
    admin = logged_in(app.test_client(), make_user("admin", locale="zh"))
    refused = admin.post("/admin/users/new", data={
        "csrf_token": csrf(admin, "/admin/users/new"), "email": "dian@example.com",
        "name": "张店长", "role": "store_manager", "password": "first-pass-1"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "厅主任账号至少要关联一个营业厅。" in page
    assert "A store manager needs" not in page


def test_a_store_manager_opens_no_admin_page(app, make_user, make_store):
    store_manager = logged_in(app.test_client(), make_user("store_manager",
                                                           stores=[make_store()]))
    for path in [*PAGES, "/admin/exports"]:
        assert store_manager.get(path, headers={"Accept": "text/html"}).status_code == 403
