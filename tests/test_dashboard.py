"""The dashboard: figures against hand-computed data, equal to the region report's, with the
change since the period before, the heat map and the peak and end tiles, each linking to its
visits; who may see it."""

import uuid
from datetime import UTC, date, datetime

import pytest

from supervision.db import db
from supervision.reports.summaries import region_context
from supervision.stores.models import Region
from supervision.visits.models import Visit
from tests.test_api_keys import create_key, key_headers
from tests.visit_support import DATA

WORLD = {
    "checklists": (DATA / "audit.yaml",),
    "regions": {"east": {}, "west": {}},
    "stores": {"a": {"region": "east", "code": "E1"}, "b": {"region": "east", "code": "E2"},
               "c": {"region": "east", "code": "E3"}, "w": {"region": "west", "code": "W1"}},
    "people": {"admin": "admin", "manager": ("manager", "east"),
               "west_manager": ("manager", "west"), "supervisor": ("supervisor", "east"),
               "shopper": ("shopper", "east"),
               "boss": {"role": "store_manager", "stores": ["a"]}},
}
GOOD = {"signage": True, "tidy": 5, "has_queue": False, "argues": False}
UNTIDY = {**GOOD, "tidy": 2}
NO_SIGN = {**GOOD, "signage": False}
RED = {**GOOD, "argues": True}
MARCH = {"from": "2025-03-01", "to": "2025-03-31"}


def at(month: int, day: int) -> datetime:
    return datetime(2025, month, day, 2, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def world(make_world, make_visit):
    world = make_world(**WORLD)

    def visit(store, answers, when):
        return str(make_visit(world[store], world["supervisor"], slug="test-audit",
                              answers=answers, started_at=when))

    world["visits"] = {
        "a1": visit("a", GOOD, at(3, 3)), "a2": visit("a", UNTIDY, at(3, 10)),
        "a3": visit("a", NO_SIGN, at(3, 17)),
        "b1": visit("b", RED, at(3, 5)), "b2": visit("b", GOOD, at(3, 12)),
        "b3": visit("b", UNTIDY, at(3, 19)),
        "c1": visit("c", NO_SIGN, at(3, 20)),  # one visit: listed, not ranked
        "a0": visit("a", NO_SIGN, at(2, 10)), "b0": visit("b", GOOD, at(2, 11)),  # before
        "w1": visit("w", GOOD, at(3, 4)),  # another region
        "old": visit("a", GOOD, at(1, 2)),  # before the period before
    }
    return world


def totals(app, ids) -> list[float]:
    with app.app_context():
        return [db.session.get(Visit, uuid.UUID(visit_id)).total for visit_id in ids]


def grid(app, visit_id, function, moment):
    with app.app_context():
        score = db.session.get(Visit, uuid.UUID(visit_id)).score
    return next(g["percent"] for g in score["grid"]
                if (g["function"], g["moment"]) == (function, moment))


def get(client, world, who="manager", **args):
    response = client.get("/api/v1/dashboard", query_string={
        "region_id": world["east"].id, **MARCH, **args}, headers=world["headers"][who])
    assert response.status_code == 200, response.json
    return response.json


def mean(values) -> float:
    return round(sum(values) / len(values), 1)


def test_figures_against_hand_computed_data(app, client, world):
    body = get(client, world, lang="en")
    v = world["visits"]
    assert body["period"] == {"from": "2025-03-01", "to": "2025-03-31"}
    assert body["previous"] == {"from": "2025-01-29", "to": "2025-02-28"}
    assert body["checklist"]["slug"] == "test-audit" and body["checklist"]["visits"] == 7
    assert body["kpis"]["visits"] == 7 and body["kpis"]["red_line_visits"] == 1
    league = {row["code"]: row for row in body["league"]}
    a = totals(app, [v["a1"], v["a2"], v["a3"]])
    b = totals(app, [v["b1"], v["b2"], v["b3"]])
    assert totals(app, [v["b1"]]) == [0.0]  # a red line: 100 − 1 = 0
    assert league["E1"]["score"] == min(mean(a), 99.9) and league["E2"]["score"] == mean(b)
    assert league["E1"]["previous"] == totals(app, [v["a0"]])[0]
    assert league["E1"]["change"] == round(mean(a) - totals(app, [v["a0"]])[0], 1)
    assert league["E2"]["change"] == round(mean(b) - totals(app, [v["b0"]])[0], 1)
    assert [row["code"] for row in body["league"] if row["rank"]] == ["E1", "E2"]
    assert league["E3"]["rank"] is None and league["E3"]["small"] is True
    assert league["E3"]["previous"] is None and league["E3"]["change"] is None
    assert league["E2"]["red_lines"] == 1 and league["E1"]["red_lines"] == 0
    assert set(league["E1"]["visit_ids"]) == {v["a1"], v["a2"], v["a3"]}
    assert "W1" not in league
    items = {row["item"]: row for row in body["items"]}
    # signage failed in a3 and c1 of the 7 visits that rated it
    assert (items["signage"]["missed"], items["signage"]["scored"], items["signage"]["rate"]) \
        == (2, 7, 29)
    assert items["signage"]["visit_ids"] == [v["c1"], v["a3"]]  # latest first
    assert items["argues"]["visit_ids"] == [v["b1"]]
    cells = {(c["function"], c["moment"]): c for c in body["heatmap"]["cells"]}
    arrival = cells["image", "arrival"]
    expected = [grid(app, v[k], "image", "arrival") for k in ("a1", "a2", "a3", "b1", "b2",
                                                              "b3", "c1")]
    assert arrival["percent"] == min(mean(expected), 99.9)
    assert arrival["rated"] == 7 and set(arrival["visit_ids"]) == {v["a3"], v["c1"]}
    assert [m["id"] for m in body["heatmap"]["moments"]] == [
        "arrival", "waiting", "experience", "dispute", "departure"]
    dispute = next(t for t in body["peak_end"] if t["moment"] == "dispute")
    assert dispute["label"] == "Dispute" and dispute["visit_ids"] == [v["b1"]]
    assert dispute["rated"] == 7 and dispute["previous"] == 100.0
    assert set(body["visits"]) >= {v["a3"], v["c1"], v["b1"]}
    assert body["visits"][v["b1"]]["code"] == "E2" and body["visits"][v["b1"]]["red_line"]
    assert v["w1"] not in body["visits"] and v["old"] not in body["visits"]


def test_the_same_figures_as_the_region_report(app, client, world):
    body = get(client, world, lang="zh")
    with app.app_context():
        report = region_context(db.session.get(Region, world["east"].id), date(2025, 3, 1),
                                date(2025, 3, 31), "zh", datetime.now(UTC))
    [checklist] = report["checklists"]
    assert [(r["code"], r["average_value"], r["visits"], r["red_lines"], r["rank"])
            for r in checklist["ranking"]] == [
        (r["code"], r["score"], r["visits"], r["red_lines"], r["rank"]) for r in body["league"]]
    assert [(w["item"], w["rate"], w["missed"]) for w in checklist["weakest"]] == [
        (i["item"], i["rate"], i["missed"]) for i in body["items"]]
    assert report["kpis"]["visits"] == body["kpis"]["visits"]
    assert report["closure"]["region"]["agreed"] == body["actions"]["agreed"]
    assert report["coverage"]["totals"] == body["coverage"]
    assert body["heatmap"]["moments"][0]["label"] == "到来"


def test_a_checklist_without_visits_and_a_bad_period(app, client, world):
    body = get(client, world, checklist="storefront-audit")
    assert body["checklist"] is None and body["league"] == [] and body["heatmap"]["cells"] == []
    bad = client.get("/api/v1/dashboard", query_string={
        "region_id": world["east"].id, "from": "2025-03-31", "to": "2025-03-01"},
        headers=world["headers"]["manager"])
    assert bad.status_code == 422 and "from" in bad.json["errors"]["query"]
    missing = client.get("/api/v1/dashboard", headers=world["headers"]["manager"])
    assert missing.status_code == 422 and "region_id" in missing.json["errors"]["query"]


def test_who_sees_the_dashboard(app, client, world):
    assert get(client, world, who="admin")["kpis"]["visits"] == 7
    response = client.get("/api/v1/dashboard", query_string={"region_id": world["east"].id},
                          headers=world["headers"]["west_manager"])
    assert response.status_code == 404
    for who in ("supervisor", "shopper", "boss"):
        response = client.get("/api/v1/dashboard", query_string={
            "region_id": world["east"].id}, headers=world["headers"][who])
        assert response.status_code == 403, who
    internal = create_key(client, world, access="internal")
    assert client.get("/api/v1/dashboard", query_string={"region_id": world["east"].id, **MARCH},
                      headers=key_headers(internal)).json["kpis"]["visits"] == 7
    store_side = create_key(client, world)
    assert client.get("/api/v1/dashboard", query_string={"region_id": world["east"].id},
                      headers=key_headers(store_side)).status_code == 403


def test_a_visit_scored_again_moves_the_figures(app, client, world):
    """The figures read the digest kept with the score (scoring/digest.py): a correction after
    publication, which scores the visit again, reaches them."""
    from supervision.accounts.models import User
    from supervision.checklists.services import definition_of
    from supervision.followup.review import correct_answer
    from supervision.scoring.digest import digest_of

    visit_id = world["visits"]["a1"]
    before = {row["item"]: row for row in get(client, world)["items"]}
    assert before["signage"]["missed"] == 2 and "tidy" in before
    with app.app_context():
        visit = db.session.get(Visit, uuid.UUID(visit_id))
        correct_answer(db.session.get(User, world["manager"].id), visit,
                       definition_of(visit.checklist_version),
                       {"item": "signage", "value": False, "na": False}, "监控复核 / camera")
        db.session.commit()
        assert visit.score_digest == digest_of(visit.score)
        assert ["signage", "image", "arrival"] in visit.score_digest["missed"]
    after = {row["item"]: row for row in get(client, world)["items"]}
    assert (after["signage"]["missed"], after["signage"]["scored"]) == (3, 7)
    assert after["signage"]["visit_ids"][-1] == visit_id
    league = {row["code"]: row for row in get(client, world)["league"]}
    assert league["E1"]["score"] == min(mean(totals(app, [world["visits"][k] for k in (
        "a1", "a2", "a3")])), 99.9)
