"""A visit's reports are rendered in the background when it is submitted or published, so that a
reader's first download is served from the cache."""

from pathlib import Path

import pytest

from supervision import tasks
from tests.images import picture
from tests.visit_support import VISIT_WORLD, audit_body, mystery_body, new_id, visit_config

LANGS = ("zh", "en")


@pytest.fixture(params=["inline", "thread"])
def app_config(request, database_url, tmp_path):
    return visit_config(database_url, tmp_path, TASK_MODE=request.param, REPORT_PRERENDER=LANGS)


@pytest.fixture
def world(make_world):
    return make_world(**VISIT_WORLD)


def _cached(app) -> set[str]:
    """The cache keys of the rendered reports in the storage."""
    tasks.drain()  # thread mode: the renders handed over by the last commit
    return {path.stem for path in Path(app.config["PHOTO_DIR"], "reports").rglob("*.pdf")}


def _send(client, world, visit_id, body, who, photos=()):
    headers = world["headers"][who]
    body["photos"] = [{"id": photo_id, "item": item} for photo_id, item in photos]
    assert client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers).status_code == 201
    for index, (photo_id, item) in enumerate(photos):
        sent = client.put(f"/api/v1/visits/{visit_id}/photos/{photo_id}?item={item}",
                          data=picture(color=(9, index, 9)),
                          headers={**headers, "Content-Type": "image/jpeg"})
        assert sent.status_code in (200, 201), sent.json
    submitted = client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers)
    assert submitted.status_code == 200, submitted.json
    return submitted.json


def _download(client, world, visit_id, lang, audience, who="manager"):
    answer = client.get(f"/api/v1/visits/{visit_id}/report.pdf?lang={lang}&audience={audience}",
                        headers=world["headers"][who])
    assert answer.status_code == 200 and answer.data.startswith(b"%PDF")
    return answer.headers["ETag"].strip('"')


def test_a_submitted_audit_has_every_version_in_the_cache_before_anyone_asks(app, client, world):
    assert _cached(app) == set()
    visit_id = new_id()
    signage = [(new_id(), "signage"), (new_id(), "signage")]
    assert _send(client, world, visit_id, audit_body(world["store"].id), "supervisor",
                 signage)["status"] == "published"
    rendered = _cached(app)
    assert len(rendered) == 4  # zh and en, store and internal versions
    served = {_download(client, world, visit_id, lang, audience)
              for lang in LANGS for audience in ("store", "internal")}
    assert served == rendered
    assert _cached(app) == rendered  # nothing rendered on demand


def test_a_mystery_visit_is_rendered_for_its_reviewer_then_again_once_published(
        app, client, world):
    visit_id = new_id()
    assert _send(client, world, visit_id, mystery_body(world["store"].id), "shopper")[
        "status"] == "submitted"
    for_review = _cached(app)
    assert len(for_review) == 2  # the internal version, in both languages
    assert {_download(client, world, visit_id, lang, "internal") for lang in LANGS} == for_review

    published = client.post(f"/api/v1/visits/{visit_id}/review", json={"decision": "publish"},
                            headers=world["headers"]["manager"])
    assert published.status_code == 200, published.json
    after = _cached(app) - for_review
    assert len(after) == 4  # published: both versions in both languages, afresh
    served = {_download(client, world, visit_id, lang, audience)
              for lang in LANGS for audience in ("store", "internal")}
    assert served == after
    assert _cached(app) == for_review | after


def test_nothing_is_rendered_ahead_when_turned_off(app, client, world):
    app.config["REPORT_PRERENDER"] = ()
    _send(client, world, new_id(), audit_body(world["store"].id), "supervisor",
          [(new_id(), "signage"), (new_id(), "signage")])
    assert _cached(app) == set()
