"""A live server on loopback (SQLite file, shipped checklists, demo data) and Debian's Chromium."""

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from supervision import create_app
from supervision.db import db
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
