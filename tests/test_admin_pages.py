"""The admin pages without a browser: who may open them, CSRF on their forms, the import's
check-then-apply over the page, the manager's export page."""

import io
import re

import pytest
from sqlalchemy import func, select

from supervision.db import db
from supervision.stores.models import Store

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


def test_import_page_checks_then_applies(app, make_user, make_region):
    make_region("GZ")
    admin = logged_in(app.test_client(), make_user("admin"))
    token = csrf(admin, "/admin/imports?lang=en")
    data = "编码,名称,区域\nA1,甲厅,GZ\nA2,乙厅,GZ\n".encode("gbk")
    checked = admin.post("/admin/imports", content_type="multipart/form-data", data={
        "csrf_token": token, "kind": "stores", "file": (io.BytesIO(data), "s.csv")})
    page = checked.get_data(as_text=True)
    assert checked.status_code == 200 and 'id="would-create">2<' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Store)) == 0
    kept = re.search(r'name="token" value="([0-9a-f]{32})"', page)[1]
    forged = admin.post("/admin/imports/apply", data={"csrf_token": token, "kind": "stores",
                                                      "token": "../../secret_key", "name": "x"})
    assert "upload it again" in admin.get(forged.headers["Location"]).get_data(True)
    applied = admin.post("/admin/imports/apply", data={"csrf_token": token, "kind": "stores",
                                                       "token": kept, "name": "s.csv"})
    assert applied.headers["Location"].endswith("/admin/stores")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Store)) == 2
    again = admin.post("/admin/imports/apply", data={"csrf_token": token, "kind": "stores",
                                                     "token": kept, "name": "s.csv"})
    assert "upload it again" in admin.get(again.headers["Location"]).get_data(True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Store)) == 2
