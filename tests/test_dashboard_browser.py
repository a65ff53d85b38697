"""The dashboard in Debian's Chromium: a manager opens it, drills from a heat-map cell to the
visits behind it, opens one and sees its photo; screenshots in zh and en, on a tablet and a
desktop, for a person to look at."""

import pytest

from tests.browser_fixtures import login, new_page, shot, wait_for_script

pytestmark = pytest.mark.browser


def cell_with_a_photo(live_server) -> tuple[str, str]:
    """A heat-map cell of the demo region whose latest missed visit has a photo: (cell, visit)."""
    region = live_server.api("GET", "/api/v1/regions", "manager@example.com").json[0]
    body = live_server.api("GET", f"/api/v1/dashboard?region_id={region['id']}",
                           "manager@example.com").json
    for cell in sorted(body["heatmap"]["cells"], key=lambda c: -c["missed"]):
        for visit_id in cell["visit_ids"]:
            visit = live_server.api("GET", f"/api/v1/visits/{visit_id}", "manager@example.com").json
            if any(p["status"] in ("received", "processed") for p in visit["photos"]):
                return f"{cell['function']}-{cell['moment']}", visit_id
    raise AssertionError("no missed visit with a photo in the demo region")


@pytest.mark.parametrize(("viewport", "lang"), [("tablet", "zh"), ("desktop", "en"),
                                                ("tablet", "en"), ("desktop", "zh")])
def test_a_manager_drills_from_the_heat_map_to_a_photo(browser, live_server, screenshots,
                                                       viewport, lang):
    name = f"dashboard-{viewport}-{lang}"
    cell, visit_id = cell_with_a_photo(live_server)
    context, page = new_page(browser, live_server, viewport, lang)
    try:
        login(page, "manager@example.com")
        page.goto("/dashboard")
        page.wait_for_selector("#dashboard-heatmap .dash-cell")
        assert page.locator("#dashboard-league tbody tr").count() >= 3
        assert page.locator("#dashboard-tiles [data-figure=moment-dispute]").count() == 1
        shot(page, screenshots, f"{name}-01-overview", full=True)
        page.click(f".dash-cell[data-cell='{cell}']")
        page.wait_for_selector("#drill[open] .dash-visit")
        shot(page, screenshots, f"{name}-02-drill", top=False)
        page.click(f"#drill .dash-visit[data-visit='{visit_id}']")
        page.wait_for_url(f"**/visit?id={visit_id}")
        thumb = page.locator(".thumbs img").first
        thumb.scroll_into_view_if_needed()
        wait_for_script(page, "(() => { const i = document.querySelector('.thumbs img');"
                              " return i && i.complete && i.naturalWidth > 0; })()",
                        "the visit's photo to load")
        shot(page, screenshots, f"{name}-03-visit-photo", top=False)
        photo = page.request.get(page.locator(".thumbs a").first.get_attribute("href"))
        assert photo.ok and photo.headers["content-type"].startswith("image/")
        assert not page.errors
    finally:
        context.close()
