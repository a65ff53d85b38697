"""A returned mystery visit in Debian's Chromium: the shopper submits on the phone, the manager
returns it on the tablet with a comment, the shopper reads the comment, reopens the visit on the
device, changes an answer, adds a photo and submits again through the outbox; the server keeps
both versions and the manager sees what changed."""

import re

import pytest

from tests.browser_fixtures import (
    checklist,
    login,
    new_page,
    photo_file,
    shot,
    wait_for_script,
    wait_for_worker,
    wait_outbox_empty,
)
from tests.test_pwa_browser import plan_assignment, submit_mystery_visit

pytestmark = pytest.mark.browser

CHANGED = "arr_no_expired_posters"  # answered yes, then no with a photo of the old poster
COMMENTS = {"zh": "门口的海报请再核对一次，并补拍照片。",
            "en": "Check the posters at the entrance again and add a photo."}


def _submit_first_version(page, live_server, assignment, tmp_path) -> str:
    return submit_mystery_visit(page, live_server, assignment, tmp_path)


@pytest.mark.parametrize(("shopper_lang", "manager_lang", "store"), [
    ("zh", "en", "SZ001"), ("en", "zh", "HZ002")])
def test_a_returned_visit_is_fixed_on_the_phone_and_the_manager_sees_the_change(
        browser, live_server, screenshots, tmp_path, shopper_lang, manager_lang, store):
    shopper_name, manager_name = f"phone-{shopper_lang}", f"tablet-{manager_lang}"
    assignment = plan_assignment(live_server, store)
    phone, page = new_page(browser, live_server, "phone", shopper_lang)
    login(page, "shopper@example.com")
    wait_for_worker(page)
    page.wait_for_selector(f"[data-assignment='{assignment}']")
    page.wait_for_selector("body[data-checklists=ready]")
    visit_id = _submit_first_version(page, live_server, assignment, tmp_path)

    # The manager returns it from the tablet, with a comment.
    comment = COMMENTS[manager_lang]
    tablet, review = new_page(browser, live_server, "tablet", manager_lang)
    login(review, "manager@example.com")
    review.goto(f"/visit?id={visit_id}")
    review.wait_for_selector("#review-card")
    review.fill("#review-comment", comment)
    review.click("#return-visit")
    review.wait_for_selector("#returned-card")  # the page reloaded: the comment, no buttons
    assert review.locator("#review-card, #reopen-visit").count() == 0

    # The shopper reads the comment on the visit, reopens it and fixes it.
    page.goto(f"/visit?id={visit_id}")
    page.wait_for_selector("#returned-card #reopen-visit")
    assert page.inner_text("#review-comment-shown") == comment
    shot(page, screenshots, f"{shopper_name}-returned-01-comment")
    page.click("#reopen-visit")
    page.wait_for_url(re.compile(rf"/mystery\?visit={visit_id}"))
    assert page.inner_text("#returned-note .quote") == comment  # what to fix, on top
    # The photos already on the server show from their thumbnails and are not sent again.
    page.wait_for_selector("#item-arr_signage .thumb img")
    assert page.locator(f"[data-key='{CHANGED}:yes'][aria-pressed=true]").count() == 1
    page.click(f"[data-key='{CHANGED}:no']")
    page.wait_for_selector(f"[data-key='{CHANGED}:no'][aria-pressed=true]")
    page.set_input_files(f"#photo-{CHANGED}", photo_file(tmp_path, "poster.jpg", hue=90))
    wait_for_script(page, f"document.querySelectorAll('#item-{CHANGED} .thumb').length === 1",
                    "the new photo")
    page.locator(f"#item-{CHANGED}").scroll_into_view_if_needed()
    shot(page, screenshots, f"{shopper_name}-returned-02-reopened", top=False)
    sections = len(checklist(live_server, "mystery-visit")["sections"])
    page.evaluate(f"window.location.hash = 's={sections}'")
    page.wait_for_selector("#submit-visit:not([disabled])")
    page.click("#submit-visit")
    page.wait_for_url(re.compile(r"/outbox"))
    wait_outbox_empty(page)

    # The server keeps both versions: the second answers the comment and lists the change.
    versions = live_server.api("GET", f"/api/v1/visits/{visit_id}/submissions",
                               "manager@example.com").json
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[1]["answers_comment"] == comment
    changes = {(c["item"], c["field"]): c for c in versions[1]["changes"]}
    assert (changes[(CHANGED, "value")]["old"], changes[(CHANGED, "value")]["new"]) == (True,
                                                                                        False)
    [added] = changes[("photo", CHANGED)]["new"]
    assert changes[("photo", CHANGED)]["old"] == []
    server = live_server.api("GET", f"/api/v1/visits/{visit_id}", "manager@example.com").json
    assert server["status"] == "submitted" and server["missing_photos"] == []
    assert len(server["photos"]) == 5 and added in {p["id"] for p in server["photos"]}
    page.goto(f"/visit?id={visit_id}")
    page.wait_for_selector("#view:not([aria-busy])")
    assert page.locator("#reopen-visit").count() == 0

    # The manager sees what changed, next to the review.
    review.goto(f"/visit?id={visit_id}")
    review.wait_for_selector("#visit-changes")
    review.wait_for_selector("#review-card")
    listed = review.locator(f"#visit-changes li[data-item='{CHANGED}'][data-field=value]")
    assert listed.count() == 1
    assert review.locator(f"#visit-changes li[data-item=photo][data-field='{CHANGED}']").count()
    assert comment in review.inner_text("#visit-changes")
    assert listed.locator(".old .badge").count() == 1 and listed.locator(".new .badge").count() == 1
    shot(review, screenshots, f"{manager_name}-returned-03-changes")
    assert page.errors == [] and review.errors == []
    phone.close()
    tablet.close()
