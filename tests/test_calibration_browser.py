"""A calibration visit in Debian's Chromium: a second supervisor opens /audit?store=…&calibrates=…
(the link on a published audit), scores the same store again, submits; the server keeps it as
a calibration visit of the first, out of averages, and the manager sees the two compared."""

import re

import pytest

from supervision.db import db
from tests.browser_fixtures import (
    DEMO_PASSWORD,
    checklist,
    login,
    new_page,
    photo_file,
    shot,
    store_id,
    wait_outbox_empty,
    walk_sections,
)
from tests.conftest import password_hash
from tests.test_pwa_browser import submit_audit_sign_later

pytestmark = pytest.mark.browser

CALIBRATOR = "calibrator@example.com"


def second_supervisor(live_server) -> None:
    """Another supervisor of the east region, once per server."""
    from sqlalchemy import select

    from supervision.accounts.models import User
    from supervision.stores.models import Region

    with live_server.app.app_context():
        if db.session.scalars(select(User).where(User.email == CALIBRATOR)).first():
            return
        east = db.session.scalars(select(Region).where(Region.code == "EAST")).one()
        user = User(email=CALIBRATOR, name="刘校准", role="supervisor", regions=[east])
        user.password_hash = password_hash(DEMO_PASSWORD)
        db.session.add(user)
        db.session.commit()


@pytest.mark.parametrize(("viewport", "lang"), [("tablet", "zh"), ("phone", "en")])
def test_a_second_supervisor_scores_the_same_audit_again(browser, live_server, screenshots,
                                                         tmp_path, viewport, lang):
    name = f"calibration-{viewport}-{lang}"
    second_supervisor(live_server)
    store = "SH001"
    definition = checklist(live_server, "storefront-audit")
    context, page = new_page(browser, live_server, viewport, lang)
    login(page, "supervisor@example.com")
    page.click("#start-audit")
    page.click(f"[data-store={store}]")
    page.wait_for_url(re.compile(r"/audit\?visit="))
    original = page.url.split("visit=")[1].split("#")[0]
    walk_sections(page, definition, {}, [photo_file(tmp_path, "signage.jpg")])
    page.wait_for_selector("#submit-visit:not([disabled])")
    submit_audit_sign_later(page)
    wait_outbox_empty(page)
    page.click(".user-menu summary")
    page.click("#logout-form button")
    page.wait_for_url(re.compile(r"/login"))

    login(page, CALIBRATOR)
    page.goto(f"/audit?store={store_id(live_server, store)}&calibrates={original}")
    page.wait_for_url(re.compile(r"/audit\?visit="))
    calibration = page.url.split("visit=")[1].split("#")[0]
    page.wait_for_selector(".calibration-note")
    shot(page, screenshots, f"{name}-01-calibration-visit")
    walk_sections(page, definition, {"img_grooming_counter": "3"},
                  [photo_file(tmp_path, "signage-again.jpg", hue=90)])
    page.wait_for_selector("#submit-visit:not([disabled])")
    page.click("#submit-visit")
    page.wait_for_url(re.compile(r"/outbox"))  # no sign-off: the store has nothing to sign
    wait_outbox_empty(page)
    shot(page, screenshots, f"{name}-02-sent")
    assert page.errors == []
    context.close()

    server = live_server.api("GET", f"/api/v1/visits/{calibration}", "manager@example.com").json
    assert server["status"] == "published"
    assert (server["calibrates"], server["excluded"]) == (original, "calibration")
    compared = live_server.api("GET", f"/api/v1/visits/{original}/calibration",
                               "manager@example.com").json
    differ = [row["item"] for row in compared["items"] if not row["agree"]]
    assert compared["calibration"]["id"] == calibration and differ == ["img_grooming_counter"]
