"""Returned visits: a reviewer returns a mystery visit with a comment, the shopper edits it and
submits it again; each submission is kept with what changed, for the author and the reviewers
only."""

import pytest
from sqlalchemy import func, select

from supervision.db import db
from tests.followup_helpers import upload_photo
from tests.visit_support import VISIT_WORLD, audit_body, mystery_body, new_id, visit_config

COMMENT = "请补拍问候的照片，礼貌分再核对 / add a photo of the greeting, check courtesy"


@pytest.fixture
def app_config(database_url, tmp_path):
    return visit_config(database_url, tmp_path)


@pytest.fixture
def world(make_world):
    people = {**VISIT_WORLD["people"], "west_manager": ("manager", "west"),
              "other_shopper": ("shopper", "east"),
              "store_manager": {"role": "store_manager", "stores": ["store"]}}
    return make_world(**{**VISIT_WORLD, "people": people})


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.json


def _first_version(client, world) -> tuple[str, dict, str]:
    """A mystery visit with a photo, submitted by the shopper; (id, body, photo id)."""
    shopper = world["headers"]["shopper"]
    visit_id, photo_id = new_id(), new_id()
    body = mystery_body(world["store"].id, notes="门口有保安。",
                        photos=[{"id": photo_id, "item": "greeted"}],
                        responses=[{"item": "greeted", "value": True},
                                   {"item": "courtesy", "value": 4}])
    _ok(client.put(f"/api/v1/visits/{visit_id}", json=body, headers=shopper), 201)
    upload_photo(client, shopper, visit_id, "greeted", photo_id=photo_id)
    _ok(client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper))
    return visit_id, body, photo_id


def _returned(client, world) -> tuple[str, dict, str]:
    visit_id, body, photo_id = _first_version(client, world)
    _ok(client.post(f"/api/v1/visits/{visit_id}/review", headers=world["headers"]["manager"],
                    json={"decision": "reject", "comment": COMMENT}))
    return visit_id, body, photo_id


def _fixed(body: dict, photo_id: str, added: str) -> dict:
    """The shopper's fix: courtesy 4 → 2 with a note, a second photo, new notes, a later call."""
    return {**body, "revision": 1, "notes": "门口有保安，问候时未起身。",
            "photos": [{"id": photo_id, "item": "greeted"}, {"id": added, "item": "greeted"}],
            "responses": [{"item": "greeted", "value": True},
                          {"item": "courtesy", "value": 2, "note": "语气生硬"}],
            "moments": [*body["moments"][:2],
                        {"moment": "called", "at": "2025-03-02T14:15:00+08:00"}]}


def _submissions(client, world, visit_id, who="shopper"):
    return client.get(f"/api/v1/visits/{visit_id}/submissions", headers=world["headers"][who])


def _count(app) -> int:
    from supervision.visits.models import Submission

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission))


def test_return_edit_resubmit_keeps_both_versions_and_what_changed(app, client, world):
    shopper = world["headers"]["shopper"]
    visit_id, body, photo_id = _returned(client, world)
    mine = _ok(client.get(f"/api/v1/visits/{visit_id}", headers=shopper))
    assert (mine["status"], mine["review_comment"]) == ("rejected", COMMENT)

    added = new_id()
    fixed = _ok(client.put(f"/api/v1/visits/{visit_id}", json=_fixed(body, photo_id, added),
                           headers=shopper))
    assert fixed["status"] == "rejected" and fixed["missing_photos"] == [added]
    upload_photo(client, shopper, visit_id, "greeted", colour="blue", photo_id=added)
    assert _ok(client.post(f"/api/v1/visits/{visit_id}/submit",
                           headers=shopper))["status"] == "submitted"

    first, second = _ok(_submissions(client, world, visit_id))
    assert (first["number"], first["answers_comment"], first["changes"]) == (1, None, [])
    assert first["submitted_by_id"] == world["shopper"].id
    assert (second["number"], second["answers_comment"]) == (2, COMMENT)
    assert second["submitted_at"] >= first["submitted_at"]
    assert second["total"] < first["total"]
    assert second["changes"] == [
        {"item": "courtesy", "field": "value", "old": 4, "new": 2},
        {"item": "courtesy", "field": "note", "old": None, "new": "语气生硬"},
        {"item": "photo", "field": "greeted", "old": [photo_id],
         "new": sorted([photo_id, added])},
        {"item": "moment", "field": "called", "old": "2025-03-02T14:13:30+08:00",
         "new": "2025-03-02T14:15:00+08:00"},
        {"item": "notes", "field": "notes", "old": "门口有保安。",
         "new": "门口有保安，问候时未起身。"},
    ]
    # the reviewer reads the same versions, and may return it again; a third version follows
    assert _ok(_submissions(client, world, visit_id, "manager")) == [first, second]
    _ok(client.post(f"/api/v1/visits/{visit_id}/review", headers=world["headers"]["manager"],
                    json={"decision": "reject", "comment": "再看看 / once more"}))
    _ok(client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper))
    third = _ok(_submissions(client, world, visit_id, "admin"))[-1]
    assert (third["number"], third["answers_comment"], third["changes"]) == (
        3, "再看看 / once more", [])


def test_a_photo_removed_or_moved_while_fixing_leaves_the_server_too(client, world):
    """The reopened visit carries all its received photos: one left out was removed on the
    device, one under another item was moved (a draft's received photos never are)."""
    shopper = world["headers"]["shopper"]
    visit_id, body, photo_id = _returned(client, world)
    moved = {**body, "revision": 1, "photos": [{"id": photo_id, "item": "courtesy"}]}
    assert [p["item"] for p in _ok(client.put(f"/api/v1/visits/{visit_id}", json=moved,
                                              headers=shopper))["photos"]] == ["courtesy"]
    removed = {**body, "revision": 2, "photos": []}
    assert _ok(client.put(f"/api/v1/visits/{visit_id}", json=removed,
                          headers=shopper))["photos"] == []
    _ok(client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper))
    second = _ok(_submissions(client, world, visit_id))[-1]
    assert second["changes"] == [{"item": "photo", "field": "greeted", "old": [photo_id],
                                  "new": []}]


def test_replays_keep_one_version_per_submission(app, client, world):
    shopper = world["headers"]["shopper"]
    visit_id, body, photo_id = _first_version(client, world)
    for _ in range(2):  # a submit replayed by the outbox
        _ok(client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper))
    assert _count(app) == 1
    # a late replay of the first body on the submitted visit is harmless; a change is not
    _ok(client.put(f"/api/v1/visits/{visit_id}", json=body, headers=shopper))
    changed = client.put(f"/api/v1/visits/{visit_id}", headers=shopper,
                         json={**body, "revision": 1, "notes": "改了"})
    assert changed.status_code == 409 and changed.json["code"] == 409

    for _ in range(2):  # the reviewer's double tap
        _ok(client.post(f"/api/v1/visits/{visit_id}/review", headers=world["headers"]["manager"],
                        json={"decision": "reject", "comment": COMMENT}))
    added = new_id()
    fixed = _fixed(body, photo_id, added)
    for _ in range(2):
        _ok(client.put(f"/api/v1/visits/{visit_id}", json=fixed, headers=shopper))
    upload_photo(client, shopper, visit_id, "greeted", colour="blue", photo_id=added)
    for _ in range(3):
        _ok(client.post(f"/api/v1/visits/{visit_id}/submit", headers=shopper))
    assert [s["number"] for s in _ok(_submissions(client, world, visit_id))] == [1, 2]
    assert _count(app) == 2


def test_an_audit_keeps_its_one_submission_for_its_author(client, world):
    supervisor = world["headers"]["supervisor"]
    visit_id = new_id()
    photos = [(new_id(), "signage"), (new_id(), "signage")]
    _ok(client.put(f"/api/v1/visits/{visit_id}", json=audit_body(world["store"].id, photos=photos),
                   headers=supervisor), 201)
    for photo_id, item in photos:
        upload_photo(client, supervisor, visit_id, item, photo_id=photo_id)
    _ok(client.post(f"/api/v1/visits/{visit_id}/submit", headers=supervisor))
    [only] = _ok(_submissions(client, world, visit_id, "supervisor"))
    assert (only["number"], only["changes"], only["answers_comment"]) == (1, [], None)
    # another supervisor of the region reads the published audit, not its versions
    assert _ok(client.get(f"/api/v1/visits/{visit_id}",
                          headers=world["headers"]["other_supervisor"]))
    assert _submissions(client, world, visit_id, "other_supervisor").status_code == 404


@pytest.mark.parametrize(("who", "status"), [
    ("shopper", 200), ("admin", 200), ("manager", 200), ("west_manager", 404),
    ("supervisor", 404), ("store_manager", 404), ("other_shopper", 404),
])
def test_who_reads_the_versions_of_a_published_mystery_visit(client, world, who, status):
    """The store's side reads the published visit but never its versions: they would show the
    shopper's edits (and the reviewer's word)."""
    visit_id, _, _ = _first_version(client, world)
    _ok(client.post(f"/api/v1/visits/{visit_id}/review", headers=world["headers"]["manager"],
                    json={"decision": "publish"}))
    answer = _submissions(client, world, visit_id, who)
    assert answer.status_code == status, answer.json
    if status == 404:
        assert answer.json["code"] == 404 and "not found" in answer.json["message"]


def test_bad_input_names_the_field(client, world):
    shopper, manager = world["headers"]["shopper"], world["headers"]["manager"]
    visit_id, body, photo_id = _first_version(client, world)
    for review, field in (({"decision": "reject"}, "comment"),
                          ({"decision": "reject", "comment": "  "}, "comment"),
                          ({"decision": "return", "comment": COMMENT}, "decision")):
        answer = client.post(f"/api/v1/visits/{visit_id}/review", json=review, headers=manager)
        assert answer.status_code == 422 and field in answer.json["errors"]["json"], answer.json
    _ok(client.post(f"/api/v1/visits/{visit_id}/review", headers=manager,
                    json={"decision": "reject", "comment": COMMENT}))
    wrong = {**body, "revision": 1, "responses": [{"item": "courtesy", "value": "very"}]}
    answer = client.put(f"/api/v1/visits/{visit_id}", json=wrong, headers=shopper)
    assert answer.status_code == 422 and "responses" in answer.json["errors"]["json"], answer.json
    unknown = client.get(f"/api/v1/visits/{new_id()}/submissions", headers=shopper)
    assert unknown.status_code == 404 and unknown.json["code"] == 404
    # the returned visit is still version 1 only: nothing was resubmitted
    assert [s["number"] for s in _ok(_submissions(client, world, visit_id))] == [1]
