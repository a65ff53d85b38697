"""The PWA in Debian's Chromium: log in, audit with a photo, an offline mystery visit that
syncs exactly once, the manager's lists and PDF, notifications, installability — on a tablet
and a phone."""

import os
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser_fixtures import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO_PASSWORD,
    RED_LINE_NOTE,
    VIEWPORTS,
    checklist,
    login,
    new_page,
    photo_file,
    shot,
    store_id,
    wait_for_script,
    wait_for_worker,
    wait_outbox_empty,
    walk_sections,
)
from tests.servers import DEADLINE

pytestmark = pytest.mark.browser

@pytest.mark.parametrize(("viewport", "lang", "store"), [
    ("tablet", "zh", "SH001"), ("phone", "en", "HZ001")])
def test_audit_with_photo_reaches_the_managers_list(browser, live_server, screenshots, tmp_path,
                                                    viewport, lang, store):
    name = f"{viewport}-{lang}"
    context, page = new_page(browser, live_server, viewport, lang)
    page.goto("/login")
    shot(page, screenshots, f"{name}-01-login")
    login(page, "supervisor@example.com")
    shot(page, screenshots, f"{name}-02-supervisor-home")
    page.click("#start-audit")
    page.wait_for_selector(f"[data-store={store}]")
    shot(page, screenshots, f"{name}-03-choose-store")
    page.click(f"[data-store={store}]")
    page.wait_for_url(re.compile(r"/audit\?visit="))
    visit_id = page.url.split("visit=")[1].split("#")[0]
    definition = checklist(live_server, "storefront-audit")
    photo = photo_file(tmp_path, "signage.jpg")
    walk_sections(page, definition, {"img_grooming_counter": "4"}, [photo],
                  screenshot=lambda: shot(page, screenshots, f"{name}-04-audit-section"))
    page.wait_for_selector("#submit-visit:not([disabled])")
    page.fill("#visit-notes", "门头整洁，服务热情。Clean front, warm service.")
    shot(page, screenshots, f"{name}-05-audit-summary")
    submit_audit_sign_later(page)
    wait_outbox_empty(page)
    page.wait_for_selector(f"#sent-list [data-visit='{visit_id}']")
    shot(page, screenshots, f"{name}-06-outbox-sent")

    server = live_server.api("GET", f"/api/v1/visits/{visit_id}", "admin@example.com").json
    assert server["status"] == "published" and server["missing_photos"] == []
    [received] = [p for p in server["photos"] if p["item"] == "img_signage_clean"]
    assert received["status"] in ("received", "processed")
    assert max(received["width"], received["height"]) <= 2000  # shrunk on the device
    assert server["score"]["total"] > 90  # one 4 of 5, the rest best answers

    page.click(".user-menu summary")
    page.click("#logout-form button")
    page.wait_for_url(re.compile(r"/login"))
    login(page, "manager@example.com")
    page.wait_for_selector(f"#stores-table [data-store={store}] .score-chip")
    shot(page, screenshots, f"{name}-07-manager-overview")
    page.goto("/visits")
    row = page.locator(f"#visit-list [data-visit='{visit_id}']")
    row.wait_for()
    assert str(server["score"]["total"]) in row.inner_text()  # as computed: 99.9, never "100"
    shot(page, screenshots, f"{name}-08-manager-visits")
    row.click()
    page.wait_for_selector("#score-card")
    shot(page, screenshots, f"{name}-09-visit-detail")
    with page.expect_download(timeout=DEADLINE * 1000) as download:
        page.click("#download-report")
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF")

    page.goto("/visits?queue=review")  # the demo data has mystery visits waiting for review
    page.locator("#visit-list a").first.click()
    page.wait_for_selector("#review-card")
    shot(page, screenshots, f"{name}-10-review")
    with page.expect_navigation():
        page.click("#publish")
    page.wait_for_selector("#score-card")
    assert page.locator("#review-card").count() == 0
    assert page.errors == []
    context.close()


def submit_audit_sign_later(page) -> None:
    """Submit an audit; its sign-off screen opens: the store manager acknowledges later."""
    page.click("#submit-visit")
    page.wait_for_url(re.compile(r"/signoff\?visit="))
    page.click("#signoff-later")
    page.wait_for_url(re.compile(r"/outbox"))


def plan_assignment(live_server, code: str) -> int:
    now = datetime.now(UTC)
    shopper = live_server.api("GET", "/api/v1/me", "shopper@example.com").json
    response = live_server.api("POST", "/api/v1/assignments", "manager@example.com", json={
        "store_id": store_id(live_server, code), "checklist": "mystery-visit",
        "shopper_id": shopper["id"], "window_start": (now - timedelta(hours=2)).isoformat(),
        "window_end": (now + timedelta(days=3)).isoformat(),
        "scenario": "询问家庭套餐并办理缴费 / Ask about a family plan, then pay a bill"})
    assert response.status_code == 201, response.json
    return response.json["id"]


MOMENTS = ["entered", "greeted", "ticket_taken", "called", "service_ended", "departed"]


def submit_mystery_visit(page, live_server, assignment: int, tmp_path) -> str:
    """The shopper's visit as in the store: the moments, four quick photos, the questionnaire,
    submit; waits until the outbox is empty and returns the visit's id."""
    page.click(f"[data-assignment='{assignment}'] button")
    page.wait_for_url(re.compile(r"/mystery\?visit="))
    visit_id = page.url.split("visit=")[1].split("#")[0]
    for moment in MOMENTS:
        page.click(f"[data-moment={moment}]")
        page.wait_for_selector(f"[data-moment={moment}].done")
    page.set_input_files("#quick-photo", [photo_file(tmp_path, f"quick-{n}.jpg", hue=40 * n)
                                          for n in range(4)])
    wait_for_script(page, "document.querySelectorAll('.quick .thumb').length === 4", "the photos")
    page.click("#leave-store")
    walk_sections(page, checklist(live_server, "mystery-visit"),
                  {"scenario_transaction": "yes", "scenario_dispute": "no"}, None)
    page.select_option("select[id^=move-] >> nth=0", "arr_signage")
    page.wait_for_selector("#submit-visit:not([disabled])")
    page.click("#submit-visit")
    page.wait_for_url(re.compile(r"/outbox"))
    wait_outbox_empty(page)
    return visit_id


@pytest.mark.parametrize(("viewport", "lang", "store"), [
    ("tablet", "en", "SH003"), ("phone", "zh", "NJ001")])
def test_offline_mystery_visit_syncs_exactly_once(browser, live_server, screenshots, tmp_path,
                                                  viewport, lang, store):
    name = f"{viewport}-{lang}"
    assignment = plan_assignment(live_server, store)
    context, page = new_page(browser, live_server, viewport, lang)
    login(page, "shopper@example.com")
    wait_for_worker(page)
    page.wait_for_selector(f"[data-assignment='{assignment}']")
    page.wait_for_selector("body[data-checklists=ready]")
    shot(page, screenshots, f"{name}-10-shopper-assignments")

    context.set_offline(True)
    page.reload()  # the shell, its modules and the strings come from the service worker's cache
    page.wait_for_selector(f"[data-assignment='{assignment}'] button")
    assert "Offline" in page.inner_text("#net-label") or "离线" in page.inner_text("#net-label")
    page.click(f"[data-assignment='{assignment}'] button")
    page.wait_for_url(re.compile(r"/mystery\?visit="))
    visit_id = page.url.split("visit=")[1].split("#")[0]
    for moment in MOMENTS:
        page.click(f"[data-moment={moment}]")
        page.wait_for_selector(f"[data-moment={moment}].done")
    photos = [photo_file(tmp_path, f"moment-{n}.jpg", hue=40 * n) for n in range(4)]
    page.set_input_files("#quick-photo", photos)
    wait_for_script(page, "document.querySelectorAll('.quick .thumb').length === 4",
                    "four quick photos")
    shot(page, screenshots, f"{name}-11-quick-capture")

    page.click("#leave-store")
    definition = checklist(live_server, "mystery-visit")
    choices = {"scenario_transaction": "yes", "scenario_dispute": "no"}
    walk_sections(page, definition, choices, None,
                  screenshot=lambda: shot(page, screenshots, f"{name}-12-questionnaire"))
    # The signage question needs its photo: move one of the quick-capture photos there.
    page.select_option("select[id^=move-] >> nth=0", "arr_signage")
    page.wait_for_selector("#submit-visit:not([disabled])")
    shot(page, screenshots, f"{name}-13-mystery-summary")
    page.click("#submit-visit")
    page.wait_for_url(re.compile(r"/outbox"))
    page.wait_for_selector(f"#outbox-list [data-visit='{visit_id}']")
    shot(page, screenshots, f"{name}-14-outbox-offline")
    page.close()
    not_yet = live_server.api("GET", f"/api/v1/visits/{visit_id}", "admin@example.com")
    assert not_yet.status_code == 404

    context.set_offline(False)
    page = context.new_page()
    page.goto("/outbox")
    wait_outbox_empty(page)

    visits = live_server.api("GET", f"/api/v1/visits?store_id={store_id(live_server, store)}",
                             "admin@example.com").json
    assert [v["id"] for v in visits].count(visit_id) == 1
    server = live_server.api("GET", f"/api/v1/visits/{visit_id}", "admin@example.com").json
    assert server["status"] == "submitted" and server["missing_photos"] == []
    assert len(server["photos"]) == 4
    assert {p["status"] for p in server["photos"]} <= {"received", "processed"}
    assert all(max(p["width"], p["height"]) <= 2000 for p in server["photos"])
    assert [m["moment"] for m in server["moments"]] == MOMENTS
    context.close()


def test_manifest_and_service_worker_pass_the_installability_check(playwright, live_server,
                                                                   tmp_path):
    # A persistent profile: Chromium never offers to install from an incognito context.
    context = playwright.chromium.launch_persistent_context(
        tmp_path / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS,
        base_url=live_server.url, viewport=VIEWPORTS["tablet"][0], locale="zh-CN")
    page = context.pages[0] if context.pages else context.new_page()
    login(page, "supervisor@example.com")
    wait_for_worker(page)
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["errors"] == [], manifest["errors"]
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
    path = manifest["url"].replace(live_server.url, "")
    icons = live_server.app.test_client().get(path).json["icons"]
    assert {"192x192", "512x512"} <= {i["sizes"] for i in icons}
    assert any(i["purpose"] == "maskable" for i in icons)
    context.close()


FORGE_TOKEN = """() => new Promise((resolve, reject) => {
    const open = indexedDB.open('supervision');
    open.onsuccess = () => {
        const tx = open.result.transaction('kv', 'readwrite');
        const kv = tx.objectStore('kv');
        const get = kv.get('auth');
        get.onsuccess = () => {
            get.result.value.token = 'forged';
            kv.put(get.result);
        };
        tx.oncomplete = () => resolve(true);
        tx.onerror = () => reject(tx.error);
    };
})"""


def test_outbox_survives_a_captive_portal_and_an_expired_sign_in(browser, live_server, screenshots,
                                                                 tmp_path):
    """A Wi-Fi login page's 200 text/html is no acknowledgement; a 401 pauses and keeps the data."""
    name = "tablet-portrait-zh"
    context, page = new_page(browser, live_server, "tablet-portrait", "zh")
    login(page, "supervisor@example.com")
    page.click("#start-audit")
    page.click("[data-store=SZ001]")
    page.wait_for_url(re.compile(r"/audit\?visit="))
    visit_id = page.url.split("visit=")[1].split("#")[0]
    walk_sections(page, checklist(live_server, "storefront-audit"),
                  {"svc_red_argue_mock": "yes"}, [photo_file(tmp_path, "front.jpg")],
                  screenshot=lambda: shot(page, screenshots, f"{name}-04-audit-section"))
    page.wait_for_selector(".redline-alert")  # a red line shows at once, before the server's score
    shot(page, screenshots, f"{name}-05-audit-summary-red-line")

    portal = "<html><body>Welcome to Store-WiFi: log in</body></html>"
    context.route(re.compile(r".*/api/v1/visits.*"),
                  lambda route: route.fulfill(status=200, content_type="text/html", body=portal))
    submit_audit_sign_later(page)
    row = page.locator(f"#outbox-list [data-visit='{visit_id}']")
    row.locator(".meta", has_text="Wi-Fi").wait_for()
    shot(page, screenshots, f"{name}-15-outbox-captive-portal")
    not_yet = live_server.api("GET", f"/api/v1/visits/{visit_id}", "admin@example.com")
    assert not_yet.status_code == 404

    context.unroute(re.compile(r".*/api/v1/visits.*"))
    page.evaluate(FORGE_TOKEN)
    context.clear_cookies()
    page.click("#send-now")
    page.wait_for_selector("#banner-auth")
    assert row.count() == 1  # paused, not dropped
    shot(page, screenshots, f"{name}-16-outbox-log-in-again")
    page.click("#banner-auth a")
    page.fill("#email", "supervisor@example.com")
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/outbox"))
    wait_outbox_empty(page)
    server = live_server.api("GET", f"/api/v1/visits/{visit_id}", "admin@example.com").json
    assert server["status"] == "published" and server["score"]["total"] == 0  # the red line
    assert page.errors == []
    context.close()


def test_a_store_tapped_before_the_checklists_arrive_opens_the_storefront_audit(browser,
                                                                               live_server):
    """The list of checklists is late (a weak signal): the store is tapped before the picker
    shows; the audit still opens on the storefront audit, the picker's first choice."""
    context, page = new_page(browser, live_server, "phone", "en")
    late = {"on": True}

    def checklist_list(route):
        if late["on"]:
            route.fulfill(status=503, content_type="application/json", body='{"message": "late"}')
        else:
            route.continue_()

    context.route(re.compile(r".*/api/v1/checklists(\?.*)?$"), checklist_list)
    login(page, "supervisor@example.com")
    page.click("#start-audit")
    page.wait_for_selector("#store-list [data-store=SH001]")
    assert page.locator("#checklist-pick").count() == 0  # nothing on the device to pick from
    late["on"] = False
    page.click("[data-store=SH001]")
    page.wait_for_url(re.compile(r"/audit\?visit="))
    first = checklist(live_server, "storefront-audit")["sections"][0]
    page.wait_for_selector(f"section[aria-label='{first['title']['en']}']")
    assert page.errors == []
    context.close()


RED_LINE = "svc_red_argue_mock"  # storefront audit: staff argued with or mocked the customer


@pytest.mark.parametrize(("viewport", "lang", "store"), [
    ("tablet", "zh", "SH002"), ("phone", "en", "HZ002")])
def test_a_red_line_finding_asks_for_a_note_and_a_photo_before_submit(
        browser, live_server, screenshots, tmp_path, viewport, lang, store):
    name = f"{viewport}-{lang}"
    context, page = new_page(browser, live_server, viewport, lang)
    login(page, "supervisor@example.com")
    page.click("#start-audit")
    page.click(f"[data-store={store}]")
    page.wait_for_url(re.compile(r"/audit\?visit="))
    visit_id = page.url.split("visit=")[1].split("#")[0]
    walk_sections(page, checklist(live_server, "storefront-audit"), {RED_LINE: "yes"},
                  [photo_file(tmp_path, "front.jpg")], notes=False)
    # The summary holds the submit back and names the finding that needs its note.
    gap = page.locator("#red-line-notes")
    gap.wait_for()
    assert page.locator("#submit-visit").is_disabled()
    assert ("红线项尚未写明经过" if lang == "zh" else "Red-line findings without a note") \
        in gap.inner_text()
    gap.evaluate("node => node.scrollIntoView({block: 'center'})")
    shot(page, screenshots, f"{name}-21-summary-red-line-without-note", top=False)

    gap.locator("button").click()
    card = page.locator(f"#item-{RED_LINE}")
    card.locator(f"#note-{RED_LINE}[required]").wait_for()
    assert card.locator(f"#staff-{RED_LINE}").is_visible()
    assert card.locator(f"#photo-button-{RED_LINE}").is_visible()  # though the item asks none
    # Its top just under the capture head, which stays on screen.
    card.evaluate("""node => window.scrollBy(0, node.getBoundingClientRect().top
        - document.querySelector('.capture-head').getBoundingClientRect().bottom - 8)""")
    shot(page, screenshots, f"{name}-22-red-line-finding", top=False)
    taken = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=7)
    evidence = photo_file(tmp_path, "finding.jpg", hue=90)
    os.utime(evidence, (taken.timestamp(), taken.timestamp()))  # picked: its file's time
    page.set_input_files(f"#photo-{RED_LINE}", evidence)
    wait_for_script(page, f"document.querySelectorAll('#item-{RED_LINE} .thumb').length === 1",
                    "the photo of the finding")
    page.fill(f"#note-{RED_LINE}", RED_LINE_NOTE)
    page.fill(f"#staff-{RED_LINE}", "李娜 0312")
    page.click(".chips .chip:last-child")  # the summary
    page.wait_for_selector("#submit-visit:not([disabled])")
    assert page.locator("#red-line-notes").count() == 0
    submit_audit_sign_later(page)
    wait_outbox_empty(page)

    server = live_server.api("GET", f"/api/v1/visits/{visit_id}", "admin@example.com").json
    assert server["status"] == "published" and server["score"]["total"] == 0
    answers = {r["item"]: r for r in server["responses"]}
    assert (answers[RED_LINE]["note"], answers[RED_LINE]["staff"]) == (RED_LINE_NOTE, "李娜 0312")
    started = datetime.fromisoformat(server["started_at"])
    assert all(started <= datetime.fromisoformat(r["at"]) <= datetime.now(UTC)
               for r in server["responses"])  # when each answer was given
    [photo] = [p for p in server["photos"] if p["item"] == RED_LINE]
    assert datetime.fromisoformat(photo["taken_at"]) == taken
    assert page.errors == []
    context.close()


def test_an_update_waits_while_a_visit_is_open(browser, live_server, monkeypatch):
    """A new service worker never takes over a capture page by itself; the visit survives it."""
    from supervision.pwa import views

    context, page = new_page(browser, live_server, "tablet", "en")
    login(page, "supervisor@example.com")
    wait_for_worker(page)
    page.click("#start-audit")
    page.click("[data-store=SH002]")
    page.wait_for_url(re.compile(r"/audit\?visit="))
    page.click("[data-key='img_uniform_badge:no']")
    monkeypatch.setattr(views, "build_version", lambda: "0123456789abcdef")
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    page.wait_for_selector("#banner-update")
    assert page.locator("[data-key='img_uniform_badge:no'][aria-pressed=true]").count() == 1
    with page.expect_navigation():
        page.click("#banner-update button")
    page.wait_for_selector("[data-key='img_uniform_badge:no'][aria-pressed=true]")
    assert page.evaluate("caches.keys()").count("shell-0123456789abcdef") == 1
    assert page.errors == []
    context.close()



def notify_manager_of_an_audit(live_server, code: str) -> str:
    """A published demo audit of the store told to its region's managers again, as its
    submission did (a shipped audit made through the API needs dozens of answers and photos);
    returns the visit's id."""
    from sqlalchemy import select

    from supervision.db import db
    from supervision.notifications import triggers
    from supervision.stores.models import Store
    from supervision.visits.models import Visit

    with live_server.app.app_context():
        visit = db.session.scalars(
            select(Visit).join(Store).where(Store.code == code, Visit.kind == "audit",
                                            Visit.status == "published")
            .order_by(Visit.started_at.desc())).first()
        triggers.visit_published(visit)
        db.session.commit()
        return str(visit.id)


@pytest.mark.parametrize(("viewport", "lang"), [
    ("tablet", "zh"), ("tablet", "en"), ("phone", "zh"), ("phone", "en")])
def test_a_notification_rings_the_bell_and_opens_its_visit(browser, live_server, screenshots,
                                                          viewport, lang):
    name, manager = f"{viewport}-{lang}", "manager@example.com"
    assert live_server.api("POST", "/api/v1/notifications/read", manager).status_code == 200
    visit_id = notify_manager_of_an_audit(live_server, "SH001")
    [note] = live_server.api("GET", "/api/v1/notifications?unread=true", manager).json
    assert note["link"] == f"/api/v1/visits/{visit_id}" and "分" in note["subject"]  # in Chinese

    context, page = new_page(browser, live_server, viewport, lang)
    login(page, manager)
    page.wait_for_selector("#bell[data-unread='1'] #unread-count:not([hidden])")
    assert page.inner_text("#unread-count") == "1"
    page.click("#bell")
    page.wait_for_selector("#view:not([aria-busy])")
    item = page.locator(f"#notification-list [data-notification='{note['id']}']")
    # In the language the reader uses now, whatever it was written in (issue 18).
    subject = {"zh": note["subject"], "en": "Shanghai Nanjing Rd E.: storefront audit scored"}
    assert subject[lang] in item.inner_text() and "unread" in item.get_attribute("class")
    assert page.is_visible("#read-all")
    shot(page, screenshots, f"{name}-17-notifications")
    item.click()
    page.wait_for_url(re.compile(rf"/visit\?id={visit_id}$"))
    page.wait_for_selector("#score-card")
    page.wait_for_selector("#bell[data-unread='0']")
    assert page.is_hidden("#unread-count")
    read = live_server.api("GET", "/api/v1/notifications", manager).json
    assert next(n for n in read if n["id"] == note["id"])["read_at"] is not None

    page.goto("/notifications?filter=unread")
    page.wait_for_selector("#view:not([aria-busy]) .empty")
    assert page.is_hidden("#read-all")
    shot(page, screenshots, f"{name}-18-notifications-none-unread")

    wait_for_worker(page)
    # Offline, the list seen before comes from the device, and the pill says so (issue 18).
    context.set_offline(True)
    page.goto("/notifications")
    page.wait_for_selector(f"#view:not([aria-busy]) [data-notification='{note['id']}']")
    page.wait_for_selector("#net-pill[data-link=offline][data-device=true]")
    page.wait_for_selector("#bell[data-unread='0']")
    assert page.is_hidden("#unread-count")
    on_device = {"zh": "设备数据", "en": "On device"}
    assert on_device[lang] in page.inner_text("#net-pill")
    context.set_offline(False)
    assert page.errors == []
    context.close()


# The download button against a server and workers of their own, on a real Redis: the job is
# declared dead soon (the defaults are 5 s and 30 s).
HEARTBEAT = {"JOB_HEARTBEAT_SECONDS": 0.2, "JOB_HEARTBEAT_TIMEOUT_SECONDS": 3}


def test_the_region_report_button_follows_its_job_to_the_end(app, load_checklists, browser,
                                                           redis_url, tmp_path, screenshots):
    """Queued with no worker, the button waits and shows progress; two workers killed mid-render
    (run once more, then failed) and it says why; asked again, a worker renders it: saved."""
    from types import SimpleNamespace

    from redis import Redis
    from sqlalchemy import select

    from supervision.db import db
    from supervision.jobs import services as jobs
    from supervision.jobs.models import Job
    from tests.report_data import build_region
    from tests.servers import wait_until
    from tests.visit_support import kill_worker, live_server, worker

    Redis.from_url(redis_url).flushdb()
    load_checklists()
    with app.app_context():
        build_region(app, photo_size=None, history=1)
    config = {**HEARTBEAT, "REDIS_URL": redis_url, "TASK_MODE": "queue"}

    def job(**expected):
        with app.app_context():
            row = db.session.scalars(select(Job)).first()
            return row if row and all(getattr(row, k) == v for k, v in expected.items()) else None

    def killed_while_running(log):
        with worker(app, log, **config) as process:
            wait_until(lambda: job(status="running") and job().heartbeat_at, "the job to run")
            kill_worker(process)

    log = tmp_path / "processes.log"
    with live_server(app.config["SQLALCHEMY_DATABASE_URI"], app.config["PHOTO_DIR"], log,
                     **config) as (_, base):
        context, page = new_page(browser, SimpleNamespace(url=base), "tablet", "en")
        page.goto("/login")
        page.fill("#email", "manager@example.com")
        page.fill("#password", "secret-pw")
        page.click("button[type=submit]")
        button = page.locator("#view button[data-region='EAST']")
        button.click()
        wait_until(lambda: job(status="queued"), "the job to be queued")
        wait_until(lambda: button.evaluate("b => b.disabled && b.textContent.endsWith(' 0%')"),
                   "the button to show the job's progress")
        shot(page, screenshots, "tablet-en-19-region-report-waiting")
        killed_while_running(log)
        wait_until(lambda: job(status="queued", error=jobs.RUNS_AGAIN), "the job to run again")
        assert button.is_disabled()  # still following it
        killed_while_running(log)
        page.wait_for_selector(".toast:has-text('stopped before it finished')")
        assert job(status="failed") and not button.is_disabled()
        page.screenshot(path=str(screenshots / "tablet-en-20-region-report-failed.png"))
        with page.expect_download() as download:
            button.click()
            with worker(app, log, "--burst", **config):
                wait_until(lambda: job(status="done"), "the job to be done")
        assert download.value.path().read_bytes().startswith(b"%PDF")
        assert page.errors == []
        context.close()
