"""The admin pages in Debian's Chromium: a store and a user, a checklist upload with an error
and then two good versions, an import of 50 stores with three bad rows, audit log, export."""

import csv
import io
import re
import threading

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.serving import make_server

from supervision import create_app
from supervision.db import db
from supervision.stores.models import Store
from tests.admin_data import CHECKLIST_BROKEN, CHECKLIST_V1, CHECKLIST_V2
from tests.browser_fixtures import (
    DEMO_PASSWORD,
    SCREENSHOTS,
    VIEWPORTS,
    LiveServer,
    settle,
)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def admin_server(tmp_path_factory):
    """A live server of its own (the PWA tests share theirs): a first install, with the
    shipped checklists and one administrator made on the command line."""
    folder = tmp_path_factory.mktemp("admin-live")
    app = create_app({
        "SECRET_KEY": "admin-browser-tests", "LOGIN_RATE_LIMIT": "10000 per minute",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'live.db'}",
        "PHOTO_DIR": str(folder / "photos"), "DEMO_PASSWORD": DEMO_PASSWORD,
        # the periodic tasks of a thread-mode app would outlive the module's database
        "ACTION_SWEEP_SECONDS": 0, "WEBHOOK_RETRY_SECONDS": 0,
    })
    with app.app_context():
        db.create_all()
    runner = app.test_cli_runner()
    for args in (["checklists", "load"],
                 ["users", "create", "--email", "admin@example.com", "--name", "管理员",
                  "--role", "admin", "--password", DEMO_PASSWORD]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    thread.join()


@pytest.fixture
def page(browser, admin_server):
    """Logged in as the administrator, in Chinese, on a laptop-sized window."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN",
                                   base_url=admin_server.url, accept_downloads=True)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto("/login")
    page.fill("#email", "admin@example.com")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))
    yield page
    assert page.errors == []
    context.close()


def shot(page, name: str, full_page=True) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    settle(page)
    path = SCREENSHOTS / f"admin-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000


def count(server, query) -> int:
    with server.app.app_context():
        return db.session.scalar(query)


def flash(page) -> str:
    return page.inner_text(".flash")


def test_create_a_region_a_store_and_a_user(page, admin_server):
    page.click("[data-nav=admin] >> visible=true")
    page.wait_for_url("**/admin/stores")
    page.click(".admin-tabs >> text=/区域|Regions/")
    page.fill("#f-code", "BT")
    page.fill("#f-name", "浏览器测试区")
    page.click("form.card button[type=submit]")
    assert "BT" in flash(page)

    page.goto("/admin/stores/new")
    page.fill("#f-code", "BT 001")  # a space: refused, and the form keeps what was typed
    page.fill("#f-name", "天河城营业厅")
    page.fill("#f-address", "广州市天河区天河路208号")
    page.select_option("#f-region_id", label="BT · 浏览器测试区")
    page.fill("#f-lat", "23.1318")
    page.fill("#f-lon", "113.3233")
    page.fill("#f-geofence_m", "150")
    page.click("#store-form button[type=submit]")
    assert "no spaces" in page.inner_text(".has-error .field-error")
    assert page.input_value("#f-address") == "广州市天河区天河路208号"
    shot(page, "store-form-error")
    page.fill("#f-code", "BT-001")
    page.click("#store-form button[type=submit]")
    page.wait_for_url("**/admin/stores?q=BT-001")
    assert "BT-001" in page.inner_text("table.table")
    shot(page, "stores")
    with admin_server.app.app_context():
        store = db.session.scalars(select(Store).where(Store.code == "BT-001")).one()
        assert (store.name, store.lat, store.geofence_m, store.timezone) == (
            "天河城营业厅", 23.1318, 150, "Asia/Shanghai")

    page.goto("/admin/users/new")
    page.fill("#f-email", "li.du@example.com")
    page.fill("#f-name", "李督导")
    page.select_option("#f-role", "supervisor")
    page.check("text=BT · 浏览器测试区")
    page.fill("#f-password", "first-pass-1")
    page.click("#user-form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/users/\d+$"))
    page.click("#password-form button[type=submit]")
    new_password = re.search(r"[:：]\s*(\S+)\s*[—-]", flash(page)).group(1)
    shot(page, "user")
    client = admin_server.app.test_client()
    login = client.post("/api/v1/auth/token",
                        json={"email": "li.du@example.com", "password": new_password})
    assert login.status_code == 200 and login.json["user"]["role"] == "supervisor"
    page.click("#active-form button[type=submit]")
    assert page.is_visible("#active-form .btn.primary")
    assert client.post("/api/v1/auth/token", json={"email": "li.du@example.com",
                                                   "password": new_password}).status_code == 401


def yaml_file(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "application/yaml", "buffer": text.encode()}


def test_a_store_manager_with_its_store(page, admin_server):
    """A store manager without a store is refused at the stores; with one it is saved."""
    from supervision.accounts.models import User
    from supervision.stores.models import Region

    with admin_server.app.app_context():
        region = Region(code="SM", name="店长测试区")
        db.session.add(Store(code="SM-001", name="体育西营业厅", region=region))
        db.session.commit()
    page.goto("/admin/users/new")
    page.fill("#f-email", "zhang.dian@example.com")
    page.fill("#f-name", "张店长")
    page.select_option("#f-role", "store_manager")
    page.fill("#f-password", "first-pass-1")
    page.click("#user-form button[type=submit]")
    assert "至少要关联一个营业厅" in page.inner_text("#stores-pick .field-error")  # in zh
    shot(page, "store-manager-error")
    page.fill("#f-password", "first-pass-1")
    page.check("text=SM-001 · 体育西营业厅")
    page.click("#user-form button[type=submit]")
    page.wait_for_url(re.compile(r"/admin/users/\d+$"))
    assert page.is_checked("#stores-pick >> text=SM-001 · 体育西营业厅")
    shot(page, "store-manager")
    with admin_server.app.app_context():
        user = db.session.scalars(select(User).where(User.email == "zhang.dian@example.com")).one()
        assert (user.role, [s.code for s in user.stores]) == ("store_manager", ["SM-001"])


def test_checklist_upload_with_an_error_then_new_versions(page, admin_server):
    page.goto("/admin/checklists")
    page.set_input_files("#f-file", yaml_file("admin-test.yaml", CHECKLIST_BROKEN))
    page.click("#upload-form button[type=submit]")
    problems = page.inner_text("#upload-problems")
    assert "item greet_10s" in problems and "Only choice items take options" in problems
    shot(page, "checklist-error")

    page.set_input_files("#f-file", yaml_file("admin-test.yaml", CHECKLIST_V1))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/admin/checklists/admin-test")
    assert page.locator("#versions tbody tr").count() == 1
    page.goto("/admin/checklists")
    page.set_input_files("#f-file", yaml_file("admin-test.yaml", CHECKLIST_V2))
    page.click("#upload-form button[type=submit]")
    page.wait_for_url("**/admin/checklists/admin-test")
    assert page.locator("#versions tbody tr").count() == 2
    assert page.inner_text("#versions tbody tr >> nth=0").startswith("v2")
    shot(page, "checklist-history")

    page.click("#versions tbody tr >> nth=0 >> text=/预览|Preview/")
    page.wait_for_selector("#item-thank_customer")
    assert "离开时员工致谢" in page.inner_text("#item-thank_customer .item-text")
    shot(page, "checklist-preview")
    page.goto("/admin/checklists/storefront-audit/v/1")
    assert page.locator("article.item").count() > 20
    assert page.locator("#preview .badge.red").count() >= 1  # its red lines are marked
    shot(page, "checklist-preview-storefront", full_page=False)
    page.goto("/admin/checklists/admin-test")
    page.click(".diff-form button[type=submit]")
    assert "thank_customer" in page.inner_text("code.added")
    assert "queue_minutes" in page.inner_text("code.removed")
    assert "+        weight: 2" in page.locator("#unified-diff .add").all_inner_texts()
    shot(page, "checklist-diff")

    page.goto("/admin/checklists/admin-test")
    page.click("#retire")
    page.wait_for_selector("#checklist-state.badge:not(.green)")
    client = admin_server.app.test_client()
    token = client.post("/api/v1/auth/token", json={"email": "admin@example.com",
                                                     "password": DEMO_PASSWORD}).json["token"]
    listed = client.get("/api/v1/checklists", headers={"Authorization": f"Bearer {token}"}).json
    assert [c["retired"] for c in listed if c["slug"] == "admin-test"] == [True]


def stores_csv(bad: bool) -> bytes:
    """50 stores of region BT in GBK, as Excel in China saves a CSV; three rows wrong if `bad`."""
    rows = [["门店编码", "营业厅名称", "地址", "区域", "纬度", "经度"]]
    for n in range(1, 51):
        rows.append([f"IMP-{n:03d}", f"导入测试{n}号厅", f"广州市测试路{n}号", "BT",
                     f"{23 + n / 1000:.3f}", "113.300"])
    if bad:
        rows[10][3] = "NOWHERE"       # line 11: unknown region
        rows[20][4] = "北纬23度"       # line 21: not a number
        rows[30][0] = "IMP-005"       # line 31: duplicate code
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("gbk")


def test_import_fifty_stores_with_three_bad_rows(page, admin_server):
    imported = select(func.count()).select_from(Store).where(Store.code.like("IMP-%"))
    page.goto("/admin/imports")
    page.set_input_files("#f-file", {"name": "门店.csv", "mimeType": "text/csv",
                                     "buffer": stores_csv(bad=True)})
    page.click("#import-form button[type=submit]")
    rows = page.locator("#import-problems tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).inner_text().split("\t")[:2] for i in range(3)] == [
        ["11", "区域"], ["21", "纬度"], ["31", "门店编码"]]
    assert not page.is_visible("#apply")
    assert count(admin_server, imported) == 0
    shot(page, "import-problems")

    page.set_input_files("#f-file", {"name": "门店.csv", "mimeType": "text/csv",
                                     "buffer": stores_csv(bad=False)})
    page.click("#import-form button[type=submit]")
    assert page.inner_text("#would-create") == "50"
    assert count(admin_server, imported) == 0
    shot(page, "import-checked")
    page.click("#apply")
    page.wait_for_url("**/admin/stores")
    assert "50" in flash(page)
    assert count(admin_server, imported) == 50
    shot(page, "import-applied", full_page=False)


def test_audit_log_and_export(page, admin_server):
    page.goto("/admin/audit")
    page.select_option("#a-entity", "store")
    page.click("#audit-filter button[type=submit]")
    assert page.locator("#audit-entries tbody tr").count() >= 1
    assert all("store" in text for text in page.locator("#audit-entries tbody td:nth-child(4)")
               .all_inner_texts())
    shot(page, "audit", full_page=False)

    page.goto("/admin/exports")
    page.check("input[name=what][value=visits]")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == "visits.xlsx"
    with open(download.value.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).worksheets[0]
    assert next(sheet.iter_rows(values_only=True))[:3] == ("visit_id", "store_code", "store_name")
    shot(page, "exports", full_page=False)


def test_an_api_key_and_a_webhook_made_on_the_pages(page, admin_server):
    page.goto("/admin/regions")
    page.fill("#f-code", "KEYS")
    page.fill("#f-name", "接口测试区")
    page.click("form.card button[type=submit]")
    page.click(".admin-tabs >> text=/API 密钥|API keys/")
    page.wait_for_url("**/admin/api-keys")
    page.fill("#f-name", "东区 Power BI")
    page.select_option("#f-access", "internal")
    page.check("text=KEYS · 接口测试区")
    page.click("form.card button[type=submit]")
    secret = page.inner_text("#secret-value").strip()
    assert secret.startswith("svk_") and "只显示这一次" in page.inner_text("#new-secret")
    shot(page, "api-key-created")
    client = admin_server.app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/feed/visits", headers=bearer).status_code == 200
    page.goto("/admin/api-keys")
    assert secret not in page.content()
    page.click("text=东区 Power BI")
    assert "GET /api/v1/feed/visits" in page.inner_text("#key-uses")
    page.go_back()
    page.click("table.table >> text=撤销")  # the confirmation is accepted by the fixture
    assert "已撤销" in flash(page)
    assert client.get("/api/v1/feed/visits", headers=bearer).status_code == 401

    page.click(".admin-tabs >> text=/事件推送|Webhooks/")
    page.fill("#f-name", "总部企业微信群")
    page.fill("#f-url", "https://192.168.10.20/robot")  # a private address: refused
    page.select_option("#f-preset", "wecom")
    page.uncheck("input[name=events][value='visit.submitted']")
    page.click("form.card button[type=submit]")
    assert "是内网、本机或保留地址" in page.inner_text(".has-error .field-error")
    assert not page.is_checked("input[name=events][value='visit.submitted']")
    shot(page, "webhook-refused")
    page.fill("#f-url", "https://1.1.1.1/robot")
    page.click("form.card button[type=submit]")
    assert len(page.inner_text("#secret-value").strip()) >= 32
    page.click("table.table >> text=总部企业微信群")
    assert page.locator("#deliveries .empty").count() == 1  # nothing sent yet
    shot(page, "webhook")


def test_pages_in_english_on_a_phone(browser, admin_server):
    size, mobile = VIEWPORTS["phone"]
    context = browser.new_context(viewport=size, is_mobile=mobile, has_touch=mobile,
                                   locale="en-US", base_url=admin_server.url)
    page = context.new_page()
    page.goto("/login?lang=en")
    page.fill("#email", "admin@example.com")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))
    for path, title, name in (("/admin/users", "Users", "users-phone"),
                              ("/admin/api-keys", "API keys", "api-keys-phone"),
                              ("/admin/webhooks", "Webhooks", "webhooks-phone")):
        page.goto(path)
        assert page.inner_text("h1") == title
        shot(page, name)
    context.close()
