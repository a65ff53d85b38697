"""A live server on loopback (SQLite file, shipped checklists, demo data), Debian's Chromium, and
what the browser tests do as a user would: log in, walk a checklist, take screenshots."""

import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from supervision import create_app
from supervision.db import db
from tests.images import picture
from tests.servers import DEADLINE, wait_until

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DEMO_PASSWORD = "demo1234"
# name: (viewport, is_mobile) — a tablet in landscape and in portrait, and a phone.
VIEWPORTS = {
    "tablet": ({"width": 1024, "height": 768}, False),
    "tablet-portrait": ({"width": 768, "height": 1024}, False),
    "phone": ({"width": 390, "height": 844}, True),
    "desktop": ({"width": 1440, "height": 900}, False),
}
SCENARIO = "咨询换套餐，再对上月账单提出异议 / Ask to switch plan, then dispute last month's bill"


@dataclass
class LiveServer:
    url: str
    app: Flask
    tokens: dict = field(default_factory=dict)

    def api(self, method: str, path: str, email: str, **kwargs):
        """Call the JSON API as a demo user (through the test client, against the same database)."""
        client = self.app.test_client()
        if email not in self.tokens:
            login = {"email": email, "password": DEMO_PASSWORD}
            self.tokens[email] = client.post("/api/v1/auth/token", json=login).json["token"]
        headers = {"Authorization": f"Bearer {self.tokens[email]}", **kwargs.pop("headers", {})}
        return client.open(path, method=method, headers=headers, **kwargs)


def _load_and_seed(app: Flask) -> None:
    """The shipped checklists and the demo data, through the CLI as an operator would."""
    with app.app_context():
        db.create_all()
    runner = app.test_cli_runner()
    for args in (["checklists", "load"], ["demo", "seed"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output


def _plan_assignment(server: LiveServer) -> None:
    stores = server.api("GET", "/api/v1/stores", "manager@example.com").json
    shopper = server.api("GET", "/api/v1/me", "shopper@example.com").json
    store = next(s for s in stores if s["code"] == "SH002")
    now = datetime.now(UTC)
    response = server.api("POST", "/api/v1/assignments", "manager@example.com", json={
        "store_id": store["id"], "checklist": "mystery-visit", "shopper_id": shopper["id"],
        "window_start": (now - timedelta(days=1)).isoformat(),
        "window_end": (now + timedelta(days=6)).isoformat(), "scenario": SCENARIO,
    })
    assert response.status_code == 201, response.json


def _close_not_modified(response):
    """Werkzeug answers a 304 with an empty body and leaves the static file it would have sent
    to the garbage collector (a ResourceWarning in whichever test runs next): close it now."""
    if response.status_code == 304:
        response.close()
    return response


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("live")
    app = create_app({
        "SECRET_KEY": "browser-tests",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'live.db'}",
        "PHOTO_DIR": str(folder / "photos"),
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "DEMO_PASSWORD": DEMO_PASSWORD,
        "TASK_MODE": "inline",
    })
    app.after_request(_close_not_modified)
    _load_and_seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live = LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    _plan_assignment(live)
    yield live
    server.shutdown()
    thread.join()


def wait_for_script(page, expression: str, what: str):
    """The first truthy value of `expression` in the page. Playwright's wait_for_function
    evaluates its predicate with eval(), which the app's Content-Security-Policy refuses."""
    return wait_until(lambda: page.evaluate(expression), what, every=0.1)


def settle(page) -> None:
    """Wait until no CSS animation or transition is running, so a screenshot shows the end."""
    wait_for_script(page, "document.getAnimations().every(a => a.playState !== 'running')",
                    "the animations to end")


# One sync Playwright may run at a time in a process: each browser test module starts its own.
@pytest.fixture(scope="module")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


@pytest.fixture(scope="module")
def browser(playwright):
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    new_context = chromium.new_context
    refused = []

    def patient_context(**options):
        """Every wait of a page in this context may take DEADLINE: a busy machine still passes.
        Whatever the page's Content-Security-Policy refuses is noted: the app must pass it."""
        context = new_context(**options)
        context.set_default_timeout(DEADLINE * 1000)
        context.on("console", lambda message: refused.append(message.text)
                   if "Content Security Policy" in message.text else None)
        return context

    chromium.new_context = patient_context
    yield chromium
    chromium.close()
    assert refused == [], "the pages broke their own Content-Security-Policy"


@pytest.fixture(scope="session")
def screenshots():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# ---------- As a user would ----------

LONG_TEXT = ("进门即有人问候，等候区整洁；柜台员工解释套餐清楚，但办理时未复述合约期。"
             "The greeting was quick and warm; the contract term was not repeated.")
RED_LINE_NOTE = "员工打断顾客：“合同里都写了。” / The clerk cut in: “It is in the contract.”"


def photo_file(tmp_path, name: str, size=(3000, 2000), hue=0) -> str:
    """A camera-sized JPEG file to pick (the app shrinks it to 1600 px before sending)."""
    path = tmp_path / name
    path.write_bytes(picture(*size, (180, 200 - hue, 210), quality=88))
    return str(path)


def new_page(browser, live_server, viewport: str, lang: str):
    size, mobile = VIEWPORTS[viewport]
    context = browser.new_context(
        viewport=size, is_mobile=mobile, has_touch=mobile, base_url=live_server.url,
        locale="zh-CN" if lang == "zh" else "en-US", service_workers="allow",
    )
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return context, page


def login(page, email: str) -> None:
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/(\?.*)?$"))
    page.wait_for_selector("#view:not([aria-busy])")


def shot(page, screenshots, name: str, top=True, full=False) -> None:
    """A screenshot of the viewport (`full`: the whole page) once nothing moves."""
    if top:
        page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_selector(".toast", state="hidden")
    settle(page)
    path = screenshots / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    assert path.stat().st_size > 10_000


def wait_for_worker(page) -> None:
    """The service worker is active, controls the page and has precached the app shell."""
    wait_for_script(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null",
                    "the service worker to control the page")
    wait_for_script(page, """async () => {
        const names = await caches.keys();
        const shell = names.find((n) => n.startsWith('shell-'));
        return shell && (await (await caches.open(shell)).match('/mystery')) !== undefined;
    }""", "the app shell in the cache")


def best(item: dict):
    if item["type"] == "yes_no":
        return "no" if item["inverse"] else "yes"
    if item["type"] == "scale":
        return "5"
    if item["type"] == "choice":
        return max(item["options"], key=lambda o: o["score"])["id"]
    return None


def answer_item(page, item: dict, choice, photo_files, notes=True) -> None:
    """Answer as the user would; a red-line finding gets its note (unless `notes` is false)."""
    key = item["id"]
    if item["type"] == "number":
        page.fill(f"#num-{key}", str(int(item["thresholds"]["good"])))
        page.press(f"#num-{key}", "Tab")
    elif item["type"] == "text":
        page.fill(f"#text-{key}", LONG_TEXT)
    else:
        page.click(f"[data-key='{key}:{choice}']")
        page.wait_for_selector(f"[data-key='{key}:{choice}'][aria-pressed=true]")
        if notes and page.locator(f"#note-{key}[required]").count():
            page.fill(f"#note-{key}", RED_LINE_NOTE)
    if photo_files and item["photo"]["rule"] == "required":
        have = page.locator(f"#item-{key} .thumb").count()
        for path in photo_files[: max(0, item["photo"]["min"] - have)]:
            page.set_input_files(f"#photo-{key}", path)
        count = f"document.querySelectorAll('#item-{key} .thumb').length"
        wait_for_script(page, f"{count} >= {item['photo']['min']}", f"the photos of {key}")


def walk_sections(page, definition: dict, choices: dict, photo_files, screenshot=None,
                  notes=True) -> None:
    """Answer every item that applies, section by section, as the user would."""
    for number, section in enumerate(definition["sections"]):
        page.wait_for_selector(f"section[aria-label='{section['title']['zh']}'], "
                               f"section[aria-label='{section['title']['en']}'], .empty")
        for item in section["items"]:
            if page.locator(f"#item-{item['id']}").count():
                answer_item(page, item, choices.get(item["id"], best(item)), photo_files, notes)
        if number == 0 and screenshot:
            screenshot()
        page.click("#next-section")


def checklist(live_server, slug: str) -> dict:
    answer = live_server.api("GET", f"/api/v1/checklists/{slug}", "admin@example.com")
    return answer.json["definition"]


def store_id(live_server, code: str) -> int:
    stores = live_server.api("GET", "/api/v1/stores", "admin@example.com").json
    return next(s["id"] for s in stores if s["code"] == code)


def wait_outbox_empty(page) -> None:
    page.wait_for_selector("#outbox-empty", timeout=DEADLINE * 1000)
