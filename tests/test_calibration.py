"""Calibration, the first step: a second supervisor scores a published audit again (a draft
naming it in `calibrates`); the calibration visit stays out of averages and of the follow-up;
the pair is compared item by item (API and the internal PDF), and the disagreement table over a
period is checked against hand-computed pairs (API and the region report)."""

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from supervision.db import db
from tests.conftest import OUTPUT
from tests.visit_support import DATA, new_id

CHECKLIST = Path(__file__).parent / "data" / "calibration" / "calibration-audit.yaml"
PAGES = OUTPUT / "reports"
NOTE = "柜台员工与顾客争吵 / The clerk argued with the customer."

# Each pair: (store, days ago, the first rater's answers, the second rater's answers).
# "na" answers N/A. Agreement, item by item (see supervision/reports/calibration.py):
PAIRS = [
    # signage agree, tidy partial (4) vs met (5): differ, queue met both, reply agree, argues
    # agree; the free text (remark) differs, but is never compared
    ("store", 10, {"signage": True, "tidy": 4, "queue": 10, "reply": "within", "argues": False,
                   "remark": "门口很干净"},
     {"signage": True, "tidy": 5, "queue": 10, "reply": "within", "argues": False,
      "remark": "一般"}),
    # signage failed vs met: differ; tidy 2 vs 4, both partial but two points apart: differ;
    # queue N/A vs partial: differ; reply agree; argues agree
    ("store", 8, {"signage": False, "tidy": 2, "queue": "na", "reply": "beyond", "argues": False},
     {"signage": True, "tidy": 4, "queue": 15, "reply": "beyond", "argues": False}),
    # signage agree, tidy 3 vs 3, queue N/A both: agree; reply failed vs partial: differ;
    # argues red line vs met: differ
    ("second_store", 5,
     {"signage": True, "tidy": 3, "queue": "na", "reply": "none", "argues": True},
     {"signage": True, "tidy": 3, "queue": "na", "reply": "beyond", "argues": False}),
]
# By hand: (item, pairs, disagreements, rate), the highest rate first, then checklist order.
EAST_TABLE = [("tidy", 3, 2, 0.667), ("signage", 3, 1, 0.333), ("queue", 3, 1, 0.333),
              ("reply", 3, 1, 0.333), ("argues", 3, 1, 0.333)]
# The west pair differs on signage only: all regions together (an administrator's table).
WEST_PAIR = ("west_store", 6,
             {"signage": True, "tidy": 5, "queue": 12, "reply": "within", "argues": False},
             {"signage": False, "tidy": 5, "queue": 13, "reply": "within", "argues": False})
ALL_TABLE = [("signage", 4, 2, 0.5), ("tidy", 4, 2, 0.5), ("queue", 4, 1, 0.25),
             ("reply", 4, 1, 0.25), ("argues", 4, 1, 0.25)]


def _ok(response, status=200):
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.json


def _at(days: int, minutes: int = 0) -> str:
    start = datetime.now(UTC).replace(hour=2, minute=0, second=0, microsecond=0)
    return (start - timedelta(days=days) + timedelta(minutes=minutes)).isoformat()


def body(store_id, answers: dict, started_at: str, **extra) -> dict:
    responses = []
    for item, value in answers.items():
        row = {"item": item, "value": None, "na": True} if value == "na" else \
            {"item": item, "value": value}
        if (item, value) == ("argues", True):
            row["note"] = NOTE
        responses.append(row)
    return {"store_id": store_id, "checklist": {"slug": "calib-audit", "version": 1},
            "kind": "audit", "started_at": started_at, "ended_at": started_at,
            "responses": responses, **extra}


def audit(client, headers, store_id, answers, started_at, **extra) -> str:
    """A submitted (so published) audit; its id."""
    visit_id = new_id()
    _ok(client.put(f"/api/v1/visits/{visit_id}", json=body(store_id, answers, started_at,
                                                           **extra), headers=headers), 201)
    _ok(client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers))
    return visit_id


def pair(client, world, spec, rater="supervisor", second="other_supervisor") -> tuple[str, str]:
    store, days, first, other = spec
    headers = world["headers"]
    original = audit(client, headers[rater], world[store].id, first, _at(days))
    calibration = audit(client, headers[second], world[store].id, other, _at(days, 40),
                        calibrates=original)
    return original, calibration


@pytest.fixture
def world(make_world):
    return make_world(
        checklists=(CHECKLIST, DATA / "audit.yaml"),
        stores={"store": {"region": "east", "code": "E1", "manager_name": "王店长"},
                "second_store": {"region": "east", "code": "E2"},
                "west_store": {"region": "west", "code": "W1"}},
        people={"admin": "admin", "manager": ("manager", "east"),
                "west_manager": ("manager", "west"),
                "supervisor": ("supervisor", "east"), "other_supervisor": ("supervisor", "east"),
                "west_supervisor": ("supervisor", "west"),
                "west_other": ("supervisor", "west"), "shopper": ("shopper", "east")})


@pytest.fixture
def pairs(client, world):
    made = [pair(client, world, spec) for spec in PAIRS]
    made.append(pair(client, world, WEST_PAIR, "west_supervisor", "west_other"))
    return made


def rows(answer) -> list[tuple]:
    return [(r["item"], r["pairs"], r["disagreements"], r["rate"]) for r in answer]


# The disagreement table ------------------------------------------------------------------------


def test_the_disagreement_table_matches_the_pairs_computed_by_hand(client, world, pairs):
    manager, admin = world["headers"]["manager"], world["headers"]["admin"]
    east = _ok(client.get("/api/v1/calibration", query_string={"region_id": world["east"].id},
                          headers=manager))
    assert rows(east) == EAST_TABLE
    assert {r["checklist"] for r in east} == {"calib-audit"}
    assert east[0]["text"] == {"zh": "厅内整洁", "en": "Hall tidy"}
    # The manager's own regions by default; an administrator's: all of them.
    assert rows(_ok(client.get("/api/v1/calibration", headers=manager))) == EAST_TABLE
    assert rows(_ok(client.get("/api/v1/calibration", headers=admin))) == ALL_TABLE
    assert rows(_ok(client.get("/api/v1/calibration", headers=admin, query_string={
        "checklist": "calib-audit", "region_id": world["west"].id}))) == [
        ("signage", 1, 1, 1.0), ("tidy", 1, 0, 0.0), ("queue", 1, 0, 0.0), ("reply", 1, 0, 0.0),
        ("argues", 1, 0, 0.0)]
    # The period: by the day the visit scored again started (the first pair was 10 days ago).
    recent = {"from": _at(9)[:10], "region_id": world["east"].id}
    assert rows(_ok(client.get("/api/v1/calibration", query_string=recent, headers=manager))) \
        == [("signage", 2, 1, 0.5), ("tidy", 2, 1, 0.5), ("queue", 2, 1, 0.5),
            ("reply", 2, 1, 0.5), ("argues", 2, 1, 0.5)]
    assert _ok(client.get("/api/v1/calibration", query_string={"checklist": "test-audit"},
                          headers=manager)) == []


def test_the_table_is_for_managers_in_their_regions(client, world, pairs):
    headers = world["headers"]
    for role in ("supervisor", "shopper"):
        assert client.get("/api/v1/calibration", headers=headers[role]).status_code == 403
        assert client.get(f"/api/v1/visits/{pairs[0][1]}/calibration",
                          headers=headers[role]).status_code == 403
    assert client.get("/api/v1/calibration", query_string={"region_id": world["west"].id},
                      headers=headers["manager"]).status_code == 404
    assert client.get(f"/api/v1/visits/{pairs[0][1]}/calibration",
                      headers=headers["west_manager"]).status_code == 404
    unknown = client.get("/api/v1/calibration", query_string={"checklist": "nope"},
                         headers=headers["manager"])
    assert unknown.status_code == 422 and "checklist" in unknown.json["errors"]["query"]
    backwards = client.get("/api/v1/calibration", query_string={"from": "2025-03-02",
                                                                "to": "2025-03-01"},
                           headers=headers["manager"])
    assert backwards.status_code == 422 and "from" in backwards.json["errors"]["query"]


# One pair ---------------------------------------------------------------------------------------


def test_a_pair_is_compared_item_by_item(client, world, pairs):
    manager = world["headers"]["manager"]
    original, calibration = pairs[1]
    document = _ok(client.get(f"/api/v1/visits/{calibration}/calibration", headers=manager))
    assert document == _ok(client.get(f"/api/v1/visits/{original}/calibration",
                                      headers=manager))
    assert document["visit"]["id"] == original and document["calibration"]["id"] == calibration
    assert document["visit"]["author_id"] == world["supervisor"].id
    assert document["calibration"]["author_id"] == world["other_supervisor"].id
    compared = {row["item"]: (row["a"]["status"], row["b"]["status"], row["agree"])
                for row in document["items"]}
    assert compared == {"signage": ("failed", "met", False), "tidy": ("partial", "partial", False),
                        "queue": ("na", "partial", False), "reply": ("partial", "partial", True),
                        "argues": ("met", "met", True)}  # free text (remark) is not compared
    tidy = next(row for row in document["items"] if row["item"] == "tidy")
    assert (tidy["a"]["value"], tidy["b"]["value"]) == (2, 4)
    lone = audit(client, world["headers"]["supervisor"], world["store"].id,
                 PAIRS[0][2], _at(3))
    assert client.get(f"/api/v1/visits/{lone}/calibration", headers=manager).status_code == 404


# Validation --------------------------------------------------------------------------------------


def test_a_calibration_must_fit_the_visit_it_scores_again(client, world):
    headers = world["headers"]
    answers = PAIRS[0][2]
    original = audit(client, headers["supervisor"], world["store"].id, answers, _at(2))
    other = headers["other_supervisor"]

    def refused(headers, store, started_at, calibrates, **extra) -> str:
        draft = body(world[store].id, answers, started_at, calibrates=calibrates, **extra)
        answer = client.put(f"/api/v1/visits/{new_id()}", json=draft, headers=headers)
        assert answer.status_code == 422, answer.json
        [message] = answer.json["errors"]["json"]["calibrates"]
        return message

    assert "another store" in refused(other, "second_store", _at(2, 30), original)
    test_audit = {"checklist": {"slug": "test-audit", "version": 1},
                  "responses": [{"item": "signage", "value": True}]}
    assert "another checklist" in refused(other, "store", _at(2, 30), original, **test_audit)
    assert "Your own visit" in refused(headers["supervisor"], "store", _at(2, 30), original)
    assert "4 hours" in refused(other, "store", _at(2, 4 * 60 + 1), original)
    assert "4 hours" in refused(other, "store", _at(2, -4 * 60 - 1), original)
    assert "published audit" in refused(other, "store", _at(2, 30), new_id())
    # A draft is no one's finding yet (and other supervisors do not see it).
    draft = new_id()
    _ok(client.put(f"/api/v1/visits/{draft}", headers=headers["supervisor"],
                   json=body(world["store"].id, answers, _at(2))), 201)
    assert "published audit" in refused(other, "store", _at(2, 30), draft)
    assert "published audit" in refused(headers["admin"], "store", _at(2, 30), draft)
    calibration = audit(client, other, world["store"].id, answers, _at(2, 30),
                        calibrates=original)
    assert "itself" in refused(headers["admin"], "store", _at(2, 40), calibration)
    # Within four hours either way is fine; the same draft again is a replay.
    early = body(world["store"].id, answers, _at(2, -4 * 60), calibrates=original)
    draft_id = new_id()
    _ok(client.put(f"/api/v1/visits/{draft_id}", json=early, headers=other), 201)
    again = _ok(client.put(f"/api/v1/visits/{draft_id}", json=early, headers=other))
    assert again["calibrates"] == original and again["excluded"] == "calibration"
    # Chinese for a Chinese reader.
    zh = client.put(f"/api/v1/visits/{new_id()}", headers={**other, "Accept-Language": "zh"},
                    json=body(world["store"].id, answers, _at(2, 30),
                              calibrates=new_id()))
    assert zh.status_code == 422
    assert zh.json["errors"]["json"]["calibrates"] == ["不是你可以查看的已发布督导记录。"]


# Left out of averages and of the follow-up -----------------------------------------------------


def test_a_calibration_visit_is_left_out_of_averages_and_of_the_follow_up(app, client, world):
    from supervision.followup.models import Action
    from supervision.notifications.models import Notification
    from supervision.reports.summaries import store_context
    from supervision.stores.models import Store

    headers, store = world["headers"], world["store"]
    first = audit(client, headers["supervisor"], store.id, PAIRS[1][2], _at(4))
    with app.app_context():  # a fix agreed long ago on signage, waiting for a visit to verify
        agreed = Action(store_id=store.id, item_id="signage", title="门头保洁", status="agreed",
                        due_date=datetime.now(UTC).date(),
                        created_at=datetime.now(UTC) - timedelta(days=200),
                        agreed_at=datetime.now(UTC) - timedelta(days=200))
        db.session.add(agreed)
        db.session.commit()
        agreed_id = agreed.id
        told = db.session.query(Notification).count()
    # The second rater finds signage met and the queue too long (a gap the first did not rate).
    second = audit(client, headers["other_supervisor"], store.id, PAIRS[1][3], _at(4, 20),
                   calibrates=first)
    document = _ok(client.get(f"/api/v1/visits/{second}", headers=headers["manager"]))
    assert document["excluded"] == "calibration" and document["calibrates"] == first
    assert document["status"] == "published" and document["total"] is not None
    assert _ok(client.get(f"/api/v1/visits/{first}", headers=headers["manager"]))[
        "excluded"] is None
    with app.app_context():
        assert db.session.query(Action).filter_by(visit_id=uuid.UUID(second)).count() == 0
        assert db.session.query(Action).filter_by(visit_id=uuid.UUID(first)).count() > 0
        assert db.session.get(Action, agreed_id).status == "agreed"
        assert db.session.query(Notification).count() == told
        context = store_context(db.session.get(Store, store.id), None, None, "en",
                                datetime.now(UTC))
    totals = {v: _ok(client.get(f"/api/v1/visits/{v}", headers=headers["manager"]))["total"]
              for v in (first, second)}
    assert totals[first] != totals[second]
    assert context["kpis"]["visits"] == 1
    [checklist] = context["checklists"]
    assert checklist["n"] == 1 and checklist["average"] == totals[first]


# The reports -------------------------------------------------------------------------------------


def pdf_text(data: bytes, path: Path) -> str:
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def page_pictures(data: bytes, name: str) -> None:
    """The pages as pictures under test-output/reports, for a person to look at."""
    PAGES.mkdir(parents=True, exist_ok=True)
    source = PAGES / f"{name}.pdf"
    source.write_bytes(data)
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(source), str(PAGES / name)], check=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_internal_report_compares_the_two_and_the_store_version_does_not(
        client, world, pairs, lang, tmp_path, database_url):
    manager = world["headers"]["manager"]
    original, calibration = pairs[1]
    url = f"/api/v1/visits/{calibration}/report.pdf"
    internal = client.get(url, query_string={"lang": lang, "audience": "internal"},
                          headers=manager)
    assert internal.status_code == 200, internal.get_data(as_text=True)[:300]
    text = pdf_text(internal.data, tmp_path / "internal.pdf")
    if database_url.startswith("sqlite"):
        page_pictures(internal.data, f"calibration-visit-{lang}")
    title, summary = {"zh": ("校准：两位督导逐项对比", "2 / 5 项一致"),
                      "en": ("Calibration: two raters, item by item", "2 of 5 items agree")}[lang]
    assert title in text and summary in text
    assert world["supervisor"].name in text and world["other_supervisor"].name in text
    differ = {"zh": "不一致", "en": "differ"}[lang]
    assert text.count(differ) == 3
    store_version = client.get(url, query_string={"lang": lang}, headers=manager)
    assert title not in pdf_text(store_version.data, tmp_path / "store.pdf")
    # The visit scored again shows the same comparison.
    first = client.get(f"/api/v1/visits/{original}/report.pdf",
                       query_string={"lang": lang, "audience": "internal"}, headers=manager)
    assert summary in pdf_text(first.data, tmp_path / "first.pdf")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_region_report_lists_the_items_raters_score_differently(
        client, world, pairs, lang, tmp_path, database_url):
    from supervision import tasks

    manager = world["headers"]["manager"]
    base = f"/api/v1/regions/{world['east'].id}/report"
    html = client.get(f"{base}.html", query_string={"lang": lang}, headers=manager)
    assert html.status_code == 200
    title, footnote, tidy = {
        "zh": ("评分分歧最多的检查项（校准）", "共 3 对校准访问。", "厅内整洁"),
        "en": ("Items raters score differently (calibration)",
               "3 calibration pair(s) in the period.", "Hall tidy")}[lang]
    section = html.get_data(as_text=True).split(title)[1]
    assert footnote in section
    cells = [c.split(">", 1)[1].split("<", 1)[0] for c in section.split("<td")[1:5]]
    assert cells == [tidy, "3", "2", "67%"]  # the highest rate first
    assert client.get(f"{base}.pdf", query_string={"lang": lang},
                      headers=manager).status_code == 202
    tasks.drain()
    pdf = client.get(f"{base}.pdf", query_string={"lang": lang}, headers=manager)
    assert pdf.status_code == 200
    text = pdf_text(pdf.data, tmp_path / "region.pdf")
    assert title in text and footnote in text
    if database_url.startswith("sqlite"):
        page_pictures(pdf.data, f"calibration-region-{lang}")
