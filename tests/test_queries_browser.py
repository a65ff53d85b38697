"""A store's query in Debian's Chromium: the store manager reads a published mystery result on
the phone, queries an item with the facts and a photo; the manager rules on the tablet and amends
the answer; the store sees the item corrected, with the reason."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from supervision.db import db
from tests.browser_fixtures import login, new_page, photo_file, shot, store_id
from tests.conftest import best_value

pytestmark = pytest.mark.browser

ITEM = "arr_greeted_10s"  # "greeted within 10 seconds": answered no by the shopper
FACTS = {"zh": "监控显示顾客进门第 6 秒店员即上前问候。",
         "en": "The CCTV shows the clerk greeting the customer 6 seconds after entry."}
RULINGS = {"zh": "核对监控后确认已问候，更正为是。",
           "en": "Checked against the CCTV: the greeting happened; corrected to yes."}
CORRECTED = {"zh": "申诉后更正", "en": "Corrected after query"}


def _published_mystery(live_server) -> str:
    """A mystery visit of the demo store (SH001), made by the demo shopper, answered at its best
    but for ITEM, and published by the manager: its query window is open."""
    from supervision.accounts.models import User
    from supervision.checklists.models import Checklist, ChecklistVersion
    from supervision.checklists.services import definition_of
    from supervision.visits.models import Response, Visit
    from supervision.visits.snapshot import freeze_score

    app, started = live_server.app, datetime.now(UTC) - timedelta(hours=3)
    with app.app_context():
        version = db.session.scalars(select(ChecklistVersion).join(Checklist).where(
            Checklist.slug == "mystery-visit").order_by(ChecklistVersion.version.desc())).first()
        definition = definition_of(version)
        answers = {item.id: best_value(item) for _, item in definition.items()}
        answers.update({ITEM: False, "scenario_dispute": False})
        shopper = db.session.scalars(select(User).where(User.email == "shopper@example.com")).one()
        visit = Visit(id=uuid.uuid4(), store_id=store_id(live_server, "SH001"),
                      checklist_version_id=version.id, kind="mystery", status="submitted",
                      author_id=shopper.id, started_at=started, ended_at=started,
                      submitted_at=started, moments=[], flags=[],
                      responses=[Response(item_id=k, value=v) for k, v in answers.items()])
        freeze_score(visit, definition)
        db.session.add(visit)
        db.session.commit()
        visit_id = str(visit.id)
    published = live_server.api("POST", f"/api/v1/visits/{visit_id}/review",
                                "manager@example.com", json={"decision": "publish"})
    assert published.status_code == 200, published.json
    return visit_id


@pytest.mark.parametrize(("store_lang", "manager_lang"), [("zh", "en"), ("en", "zh")])
def test_the_store_queries_an_item_and_sees_it_corrected(
        browser, live_server, screenshots, tmp_path, store_lang, manager_lang):
    visit_id = _published_mystery(live_server)
    item = f".resp[data-item={ITEM}]"

    # The store manager queries the item on the phone, with the facts and a photo.
    phone, page = new_page(browser, live_server, "phone", store_lang)
    login(page, "store@example.com")
    page.goto(f"/visit?id={visit_id}")
    page.wait_for_selector("#queries-card")
    page.click(f"{item} .query-open")
    page.fill(f"#query-reason-{ITEM}", FACTS[store_lang])
    page.set_input_files(f"#query-photos-{ITEM}", photo_file(tmp_path, "cctv.jpg"))
    shot(page, screenshots, f"phone-{store_lang}-query-1-form", top=False)
    page.click(f"{item} .query-send")
    page.wait_for_selector(f"{item} .query [data-query-status=open]")
    shot(page, screenshots, f"phone-{store_lang}-query-2-sent", top=False)
    [query] = live_server.api("GET", f"/api/v1/visits/{visit_id}/queries",
                              "manager@example.com").json
    assert query["item"] == ITEM and query["reason"] == FACTS[store_lang]
    assert len(query["evidence"]) == 1  # the photo arrived, shrunk on the phone

    # The manager reads it on the tablet, sees the photo, and amends the answer.
    tablet, review = new_page(browser, live_server, "tablet", manager_lang)
    login(review, "manager@example.com")
    review.click(f"#queries-to-rule a[href*='{visit_id}']")  # found on the overview
    review.wait_for_selector(f"{item} .ruling-form")
    shot(review, screenshots, f"tablet-{manager_lang}-query-0-review")
    review.wait_for_function(
        "sel => { const img = document.querySelector(sel); return img && img.naturalWidth > 0; }",
        arg=f"{item} .query .thumb img")
    review.check(f"{item} input[value=amend]")
    review.select_option(f"#amend-{query['id']}", label="是" if manager_lang == "zh" else "Yes")
    review.fill(f"#ruling-comment-{query['id']}", RULINGS[manager_lang])
    shot(review, screenshots, f"tablet-{manager_lang}-query-3-ruling", top=False)
    review.click(f"{item} .rule")
    review.wait_for_selector(f"{item} [data-query-status=amended]")
    ruled = live_server.api("GET", f"/api/v1/queries/{query['id']}", "manager@example.com").json
    assert ruled["status"] == "amended" and ruled["new_value"] == {"value": True, "na": False}

    # The store sees the item corrected after its query, and why.
    page.reload()
    page.wait_for_selector(f"{item} [data-query-status=amended]")
    mark = page.inner_text(f"{item} .changed-mark")
    assert mark == CORRECTED[store_lang]
    assert page.inner_text(f"{item} .ruling-comment") == RULINGS[manager_lang]
    assert page.inner_text(f"{item} .a") in ("是", "Yes")
    page.locator(f"{item}").scroll_into_view_if_needed()
    shot(page, screenshots, f"phone-{store_lang}-query-4-corrected", top=False)
    # nothing on the store's page names the shopper
    assert "shopper@example.com" not in page.content()
    assert not page.errors and not review.errors, (page.errors, review.errors)
    phone.close()
    tablet.close()
