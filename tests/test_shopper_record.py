"""The shoppers' track record: the reviewer's grade of each shop (PUT /visits/{id}/grade), each
shopper's average grade and flag history for managers (GET /shoppers), and the store's side
never seeing a grade."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from supervision.db import db

NOW = datetime.now(UTC)


@pytest.fixture
def world(app, make_world, load_checklists):
    load_checklists()
    world = make_world(stores={"store": "east", "west_store": "west"}, people={
        "admin": "admin", "manager": ("manager", "east"), "west_manager": ("manager", "west"),
        "supervisor": ("supervisor", "east"),
        "store_manager": {"role": "store_manager", "stores": ["store"]},
        "shopper": {"role": "shopper", "regions": ["east"], "name": "甲 暗访员"},
        # of the west, sent once to the east (an assignment made before it moved region)
        "west_shopper": {"role": "shopper", "regions": ["west"], "name": "乙 暗访员"},
        "west_only": {"role": "shopper", "regions": ["west"], "name": "丙 暗访员"}})
    _assign(app, world, "west_shopper", "store")
    return world


def _assign(app, world, who, store):
    from supervision.checklists.models import Checklist
    from supervision.followup.models import Assignment

    with app.app_context():
        checklist = db.session.scalars(
            select(Checklist).where(Checklist.slug == "mystery-visit")).one()
        db.session.add(Assignment(
            store_id=world[store].id, checklist_id=checklist.id, shopper_id=world[who].id,
            window_start=NOW, window_end=NOW + timedelta(days=3),
            created_by_id=world["admin"].id))
        db.session.commit()


def _mystery(make_visit, world, who="shopper", store="store", status="submitted", days_ago=1,
             **values):
    return make_visit(world[store], world[who], "mystery-visit", status=status,
                      started_at=NOW - timedelta(days=days_ago), **values)


def _grade(client, world, visit_id, who="manager", **body):
    return client.put(f"/api/v1/visits/{visit_id}/grade", json=body,
                      headers=world["headers"][who])


def _visit(client, world, visit_id, who="manager"):
    return client.get(f"/api/v1/visits/{visit_id}", headers=world["headers"][who])


def _grades_logged(app, visit_id):
    from supervision.audit.models import AuditEntry

    with app.app_context():
        return [e.details for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "grade",
                                     AuditEntry.entity_id == str(visit_id))
            .order_by(AuditEntry.id))]


# The grade --------------------------------------------------------------------------------------


def test_a_reviewer_grades_a_shop_with_a_comment(app, client, world, make_visit):
    visit_id = _mystery(make_visit, world)
    graded = _grade(client, world, visit_id, grade=8, comment="  记录详尽，照片清楚 / thorough  ")
    assert graded.status_code == 200, graded.json
    assert graded.json == {"grade": 8, "comment": "记录详尽，照片清楚 / thorough"}
    shown = _visit(client, world, visit_id).json
    assert (shown["review_grade"], shown["review_grade_comment"]) == (
        8, "记录详尽，照片清楚 / thorough")
    # the same again changes nothing; another grade replaces it (the reviewer thought again)
    assert _grade(client, world, visit_id, grade=8,
                  comment="记录详尽，照片清楚 / thorough").status_code == 200
    regraded = _grade(client, world, visit_id, grade=6)
    assert regraded.json == {"grade": 6, "comment": None}
    assert _grades_logged(app, visit_id) == [
        {"grade": 8, "comment": "记录详尽，照片清楚 / thorough"}, {"grade": 6, "comment": None}]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "grade"),
    ({"grade": 0}, "grade"),
    ({"grade": 11}, "grade"),
    ({"grade": 7.5}, "grade"),
    ({"grade": "8"}, "grade"),
    ({"grade": None}, "grade"),
    ({"grade": 8, "comment": "长" * 4001}, "comment"),
])
def test_a_bad_grade_is_refused_naming_the_field(client, world, make_visit, body, field):
    visit_id = _mystery(make_visit, world)
    refused = client.put(f"/api/v1/visits/{visit_id}/grade", json=body,
                         headers=world["headers"]["manager"])
    assert refused.status_code == 422
    assert list(refused.json["errors"]["json"]) == [field]
    assert _visit(client, world, visit_id).json["review_grade"] is None


def test_a_bad_grade_reads_in_chinese(client, world, make_visit):
    visit_id = _mystery(make_visit, world)
    refused = client.put(f"/api/v1/visits/{visit_id}/grade?lang=zh", json={"grade": 12},
                         headers=world["headers"]["manager"])
    assert refused.json["errors"]["json"]["grade"] == ["必须是 1 到 10 的整数。"]


@pytest.mark.parametrize(("who", "status"), [
    ("manager", 200), ("admin", 200), ("west_manager", 404), ("supervisor", 403),
    ("store_manager", 403), ("shopper", 403),
])
def test_who_may_grade(client, world, make_visit, who, status):
    visit_id = _mystery(make_visit, world, status="published")
    assert _grade(client, world, visit_id, who, grade=7).status_code == status


@pytest.mark.parametrize(("kind", "status", "answer"), [
    ("mystery", "submitted", 200), ("mystery", "published", 200), ("mystery", "rejected", 200),
    ("mystery", "draft", 409), ("audit", "published", 409),
])
def test_only_a_sent_mystery_visit_is_graded(client, world, make_visit, kind, status, answer):
    slug, who = ("mystery-visit", "shopper") if kind == "mystery" else (
        "storefront-audit", "supervisor")
    visit_id = make_visit(world["store"], world[who], slug, status=status)
    graded = _grade(client, world, visit_id, "admin", grade=7)  # the admin sees drafts too
    assert graded.status_code == answer, graded.json
    if answer == 409:
        assert list(graded.json["errors"]["json"]) == ["grade"]


def test_the_store_side_never_sees_the_grade(client, world, make_visit):
    visit_id = _mystery(make_visit, world, status="published")
    _grade(client, world, visit_id, grade=3, comment="照片与别的到访重复 / reused photos")
    for who in ("store_manager", "supervisor"):
        shown = _visit(client, world, visit_id, who)
        assert shown.status_code == 200
        assert (shown.json["review_grade"], shown.json["review_grade_comment"]) == (None, None)
        listed = client.get("/api/v1/visits", headers=world["headers"][who]).json
        assert [(v["review_grade"], v["review_grade_comment"]) for v in listed
                if v["id"] == str(visit_id)] == [(None, None)]
        assert "reused photos" not in _visit(client, world, visit_id, who).get_data(as_text=True)
    # the shopper reads its own grade; the reviewers too
    for who in ("shopper", "manager"):
        assert _visit(client, world, visit_id, who).json["review_grade"] == 3


# The record --------------------------------------------------------------------------------------

DUPLICATE = {"code": "duplicate_photo", "message": "照片与另一次到访的照片完全相同 / …"}
SHORT = {"code": "short_dwell", "message": "到访仅 3 分钟 / …"}


def _flag(app, visit_id, *flags):
    from supervision.visits.models import Visit

    with app.app_context():
        db.session.get(Visit, visit_id).flags = list(flags)
        db.session.commit()


def _records(client, world, who="manager", **query):
    answer = client.get("/api/v1/shoppers", query_string=query, headers=world["headers"][who])
    assert answer.status_code == 200, answer.json
    return {record["name"]: record for record in answer.json}


def test_each_shoppers_average_grade_and_flag_history(app, client, world, make_visit):
    old = _mystery(make_visit, world, status="published", days_ago=5)
    middle = _mystery(make_visit, world, status="rejected", days_ago=3)
    new = _mystery(make_visit, world, days_ago=1)
    _mystery(make_visit, world, status="draft")  # not sent: not in the record
    _grade(client, world, old, grade=8)
    _grade(client, world, middle, grade=5)
    _flag(app, old, DUPLICATE, SHORT)
    _flag(app, new, DUPLICATE)

    record = _records(client, world)["甲 暗访员"]
    assert record["id"] == world["shopper"].id
    assert {k: record[k] for k in ("visits", "graded_visits", "average_grade", "flags")} == {
        "visits": 3, "graded_visits": 2, "average_grade": 6.5,
        "flags": {"duplicate_photo": 2, "short_dwell": 1}}
    assert [(f["visit_id"], f["code"]) for f in record["recent_flags"]] == [
        (str(new), "duplicate_photo"), (str(old), "duplicate_photo"), (str(old), "short_dwell")]
    assert record["recent_flags"][0]["message"] == DUPLICATE["message"]
    assert record["recent_flags"][0]["submitted_at"]


def test_a_shopper_without_visits_has_an_empty_record(client, world):
    record = _records(client, world)["甲 暗访员"]
    assert {k: record[k] for k in ("visits", "graded_visits", "average_grade", "flags",
                                   "recent_flags")} == {
        "visits": 0, "graded_visits": 0, "average_grade": None, "flags": {},
        "recent_flags": []}


def test_managers_see_the_shoppers_they_may_send_and_the_visits_they_may_see(
        client, world, make_visit):
    east = _mystery(make_visit, world, "west_shopper", "store")
    _mystery(make_visit, world, "west_shopper", "west_store")
    _grade(client, world, east, grade=9)

    mine = _records(client, world)
    assert sorted(mine) == ["乙 暗访员", "甲 暗访员"]  # its region's, and the one sent there
    assert (mine["乙 暗访员"]["visits"], mine["乙 暗访员"]["average_grade"]) == (1, 9.0)
    west = _records(client, world, "west_manager")
    assert sorted(west) == ["丙 暗访员", "乙 暗访员"]
    assert (west["乙 暗访员"]["visits"], west["乙 暗访员"]["average_grade"]) == (1, None)
    everyone = _records(client, world, "admin")
    assert sorted(everyone) == ["丙 暗访员", "乙 暗访员", "甲 暗访员"]
    assert everyone["乙 暗访员"]["visits"] == 2
    one = _records(client, world, shopper_id=world["west_shopper"].id)
    assert list(one) == ["乙 暗访员"]
    assert _records(client, world, shopper_id=world["west_only"].id) == {}


@pytest.mark.parametrize("who", ["supervisor", "store_manager", "shopper"])
def test_only_managers_read_the_record(client, world, who):
    answer = client.get("/api/v1/shoppers", headers=world["headers"][who])
    assert answer.status_code == 403 and answer.json["code"] == 403
