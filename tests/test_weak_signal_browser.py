"""A weak signal in Debian's Chromium: the browser says "online" but the API's requests stall
(route handlers that never answer). Every main screen draws within 3 s from what the device
holds, or shows its honest "waiting for the network" state, and the pill says so; an outbox step
that failed is retried quickly once the link recovers."""

import re
import time

import pytest

from tests.browser_fixtures import (
    login,
    new_page,
    shot,
    wait_for_worker,
)
from tests.servers import DEADLINE
from tests.test_pwa_browser import plan_assignment, submit_mystery_visit

pytestmark = pytest.mark.browser

BUDGET_S = 3.0  # the product's promise: no screen waits longer on the network
# Who sees which main screens; the last one of each is never opened online before the stall,
# so the device holds nothing for it.
SCREENS = {
    "supervisor@example.com": ["/", "/stores", "/visits", "/actions", "/notifications"],
    "shopper@example.com": ["/", "/visits", "/notifications"],
    "manager@example.com": ["/", "/visits?queue=review", "/actions", "/notifications"],
    "store@example.com": ["/", "/actions", "/visits", "/notifications"],
}
SLOW = {"zh": "网络慢", "en": "Slow link"}
ON_DEVICE = {"zh": "设备数据", "en": "On device"}


class Stall:
    """Every API request of the context waits for ever (until released or aborted)."""

    def __init__(self, context):
        self.context = context
        self.held = []

    def __enter__(self):
        self.context.route("**/api/v1/**", self.hold)
        return self

    def hold(self, route):
        self.held.append(route)

    def release(self):
        """The link comes back: the held requests go through, new ones are not held."""
        self.context.unroute("**/api/v1/**")
        for route in self.held:
            try:
                route.continue_()
            except Exception:  # noqa: BLE001 — its page is gone: nobody waits for it
                pass
        self.held = []

    def __exit__(self, *exc):
        for route in self.held:
            try:
                route.abort()
            except Exception:  # noqa: BLE001 — the page may have gone with its request
                pass
        if self.held:
            self.context.unroute("**/api/v1/**")


def usable_within_budget(page, path: str, cold: bool) -> float:
    """Open `path` and wait until its content (or honest empty state) and the pill show it."""
    started = time.monotonic()
    page.goto(path, wait_until="commit")
    page.wait_for_selector("#view:not([aria-busy])", timeout=DEADLINE * 1000)
    pill = "#net-pill[data-link=slow]" if cold else "#net-pill[data-device=true]"
    page.wait_for_selector(pill, timeout=DEADLINE * 1000)
    if cold:
        page.wait_for_selector("[data-waiting=network]", timeout=DEADLINE * 1000)
    return time.monotonic() - started


@pytest.mark.parametrize(("viewport", "lang"), [("tablet", "zh"), ("phone", "en")])
def test_every_main_screen_draws_within_3_s_on_a_stalled_link(browser, live_server, screenshots,
                                                              viewport, lang):
    for email, paths in SCREENS.items():
        who = email.split("@")[0]
        context, page = new_page(browser, live_server, viewport, lang)
        login(page, email)
        wait_for_worker(page)
        for path in paths[1:-1]:  # the device keeps what was seen online
            page.goto(path)
            page.wait_for_selector("#view:not([aria-busy])")
        # What this machine, as busy as it is now, takes to open a screen on a good link: the
        # stalled link may add at most the budget to it.
        started = time.monotonic()
        page.goto("/", wait_until="commit")
        page.wait_for_selector("#view:not([aria-busy])", timeout=DEADLINE * 1000)
        page.wait_for_selector("#net-pill[data-device=false]")
        baseline = time.monotonic() - started

        with Stall(context) as stall:
            times = {}
            for number, path in enumerate(paths):
                cold = path == paths[-1]
                times[path] = usable_within_budget(page, path, cold)
                label = page.inner_text("#net-pill")
                assert (SLOW[lang] if cold else ON_DEVICE[lang]) in label, (path, label)
                if not cold:
                    assert page.locator("[data-waiting=network]").count() == 0, path
                    page.wait_for_selector("#net-pill[data-link=slow]")  # as the screenshot shows
                shot(page, screenshots, f"{viewport}-{lang}-50-stalled-{who}-{number}")
            assert page.errors == []
            assert all(t - baseline < BUDGET_S for t in times.values()), (baseline, times)

            # The link comes back: the screen with nothing on the device fills in by itself.
            stall.release()
            page.wait_for_selector("[data-waiting=network]", state="detached")
            page.wait_for_selector("#notification-list, .empty")
        context.close()


def test_a_failed_step_is_retried_within_5_s_once_the_link_recovers(browser, live_server,
                                                                    screenshots, tmp_path):
    """Two visit PUTs, then two photo PUTs answer 503: the backoff restarts after the visit went
    through, so the photo is sent again soon after the link lets it through."""
    assignment = plan_assignment(live_server, "HZ002")
    context, page = new_page(browser, live_server, "phone", "zh")
    login(page, "shopper@example.com")
    wait_for_worker(page)
    page.wait_for_selector("body[data-checklists=ready]")

    failures = {"visit": 2, "photo": 2}
    recovered = {}

    def flaky(route):
        request = route.request
        photo = "/photos/" in request.url
        kind = "photo" if photo else "visit"
        if request.method == "PUT" and failures[kind] > 0:
            failures[kind] -= 1
            if photo and failures[kind] == 0:
                recovered["at"] = time.monotonic()  # from now on the photos go through
            route.fulfill(status=503, content_type="application/json",
                          body='{"code": 503, "status": "Service Unavailable"}')
        else:
            if photo and "at" in recovered:
                recovered.setdefault("retried", time.monotonic())
            route.continue_()

    context.route(re.compile(r".*/api/v1/visits/[0-9a-f-]+(/photos/.*)?$"), flaky)

    visit_id = submit_mystery_visit(page, live_server, assignment, tmp_path)
    shot(page, screenshots, "phone-zh-51-outbox-after-retries")

    assert failures == {"visit": 0, "photo": 0}
    # The backoff restarted when the visit went through: 1 s, then 2 s, not 4 s and 8 s.
    waited = recovered["retried"] - recovered["at"]
    assert waited < 5, waited
    server = live_server.api("GET", f"/api/v1/visits/{visit_id}", "admin@example.com").json
    assert server["status"] == "submitted" and server["missing_photos"] == []
    assert len(server["photos"]) == 4
    context.close()
