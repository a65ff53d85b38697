"""The store's queries of a published mystery result: the window, the rulings (uphold, amend with
the visit scored again, re-shop with the visit left out of averages), the evidence photos, and
the shopper's identity kept from the store throughout."""

import json
import subprocess
import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from supervision.db import db
from tests.conftest import PEOPLE, ROOT
from tests.images import picture

SH = ZoneInfo("Asia/Shanghai")
PAGES = ROOT / "test-output" / "reports"
VISIT_AT = datetime.combine(date.today() - timedelta(days=3), datetime.min.time(),
                            SH).replace(hour=15)
ITEM = "arr_greeted_10s"  # yes/no: greeted within 10 seconds
SHOPPER_NAME, SHOPPER_EMAIL = "隐名访客", "hidden.visitor.q@example.com"
REASON = "监控显示顾客进门 6 秒内即被问候 / CCTV shows the greeting 6 s after entry"
RULING = "复核监控后更正 / corrected after checking the CCTV"


@pytest.fixture
def world(make_world):
    return make_world(
        stores={"store": {"region": "east"}, "neighbour": {"region": "east"}},
        people={**PEOPLE, "shopper": {"role": "shopper", "regions": ["east"],
                                      "name": SHOPPER_NAME, "email": SHOPPER_EMAIL},
                "other_shopper": ("shopper", "east"),
                "store_manager": {"role": "store_manager", "stores": ["store"]},
                "neighbour_manager": {"role": "store_manager", "stores": ["neighbour"]}})


def _published(client, world, make_visit, answers=None, author="shopper") -> str:
    """A mystery visit made by the shopper and published by the manager (the window opens)."""
    visit_id = make_visit(world["store"], world[author], "mystery-visit", answers=answers,
                          status="submitted", started_at=VISIT_AT)
    answer = client.post(f"/api/v1/visits/{visit_id}/review", headers=_h(world, "manager"),
                         json={"decision": "publish"})
    assert answer.status_code == 200, answer.json
    return str(visit_id)


def _h(world, who):
    return world["headers"][who]


def _raise(client, world, visit_id, item=ITEM, reason=REASON, who="store_manager", **extra):
    return client.post(f"/api/v1/visits/{visit_id}/queries", headers=_h(world, who),
                       json={"item": item, "reason": reason, **extra})


def _rule(client, world, query_id, who="manager", **body):
    return client.patch(f"/api/v1/queries/{query_id}", headers=_h(world, who), json=body)


def _visit(app, visit_id):
    from supervision.visits.models import Visit

    with app.app_context():
        visit = db.session.get(Visit, uuid.UUID(visit_id))
        db.session.expunge(visit)
        return visit


def _close_window(app, visit_id, minutes_ago=1):
    from supervision.visits.models import Visit

    with app.app_context():
        visit = db.session.get(Visit, uuid.UUID(visit_id))
        visit.queries_close_at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        db.session.commit()


def test_the_window_opens_at_publication_and_closes_on_time(app, client, world, make_visit):
    unpublished = make_visit(world["store"], world["shopper"], "mystery-visit",
                             answers={ITEM: False}, status="submitted", started_at=VISIT_AT)
    # before publication the visit does not exist for the store
    assert _raise(client, world, unpublished).status_code == 404

    before = datetime.now(UTC)
    visit_id = _published(client, world, make_visit, {ITEM: False})
    visit = _visit(app, visit_id)
    opened = visit.queries_close_at - visit.published_at
    assert opened == timedelta(hours=72) and visit.published_at >= before
    told = client.get("/api/v1/notifications", headers=_h(world, "store_manager")).json
    assert "query_window" in {n["kind"] for n in told}

    document = client.get(f"/api/v1/visits/{visit_id}", headers=_h(world, "store_manager")).json
    assert document["queries_close_at"] is not None

    _close_window(app, visit_id)
    late = _raise(client, world, visit_id)
    assert late.status_code == 409, late.json
    assert "query window closed" in late.json["message"]
    assert late.json["errors"]["json"]["item"] == ["The query window is closed."]
    zh = client.post(f"/api/v1/visits/{visit_id}/queries",
                     headers={**_h(world, "store_manager"), "Accept-Language": "zh-CN"},
                     json={"item": ITEM, "reason": REASON})
    assert zh.status_code == 409 and "申诉期" in zh.json["message"], zh.json
    with app.app_context():
        from supervision.followup.models import Query

        assert db.session.scalars(select(Query)).all() == []


def test_the_window_follows_the_checklist(app, client, world, make_visit, load_checklists):
    from supervision.checklists.services import add_version

    load_checklists()
    text = (ROOT / "checklists" / "mystery-visit.yaml").read_text(encoding="utf-8")
    with app.app_context():
        add_version(text.replace("query_window_hours: 72", "query_window_hours: 24"),
                    "mystery-visit.yaml")
        db.session.commit()
    visit_id = _published(client, world, make_visit, {ITEM: False})
    visit = _visit(app, visit_id)
    assert visit.queries_close_at - visit.published_at == timedelta(hours=24)


def test_queries_are_checked_and_replays_are_harmless(app, client, world, make_visit):
    visit_id = _published(client, world, make_visit, {ITEM: False})
    for body, field, status in (({"item": "no_such_item"}, "item", 422),
                                ({"reason": "   "}, "reason", 422),
                                ({"reason": None}, "reason", 422)):
        answer = client.post(f"/api/v1/visits/{visit_id}/queries",
                             headers=_h(world, "store_manager"),
                             json={"item": ITEM, "reason": REASON, **body})
        assert answer.status_code == status and field in answer.json["errors"]["json"], body
    first = _raise(client, world, visit_id)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "open" and first.json["item"] == ITEM
    again = _raise(client, world, visit_id)
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    other = _raise(client, world, visit_id, reason="另一个理由 / another reason")
    assert other.status_code == 409 and "item" in other.json["errors"]["json"]
    # only the store's managers query; the neighbour's manager does not see the visit
    assert _raise(client, world, visit_id, who="supervisor").status_code == 403
    assert _raise(client, world, visit_id, who="manager").status_code == 403
    assert _raise(client, world, visit_id, who="neighbour_manager").status_code == 404
    # the reviewers learn of it
    told = client.get("/api/v1/notifications", headers=_h(world, "manager")).json
    assert "query_raised" in {n["kind"] for n in told}
    # audits are not queried (they are signed off with the store)
    audit = make_visit(world["store"], world["supervisor"], answers={}, started_at=VISIT_AT)
    assert _raise(client, world, audit, item="img_signage_clean").status_code == 409


def test_evidence_photos_go_with_an_open_query(app, client, world, make_visit):
    visit_id = _published(client, world, make_visit, {ITEM: False})
    photo = str(uuid.uuid4())
    query = _raise(client, world, visit_id, evidence=[photo]).json
    url = f"/api/v1/queries/{query['id']}/evidence/{photo}"
    jpeg = picture(80, 60, "blue", "JPEG", gps=True)
    headers = {**_h(world, "store_manager"), "Content-Type": "image/jpeg"}
    assert client.put(url, data=jpeg, headers=headers).status_code == 201
    assert client.put(url, data=jpeg, headers=headers).status_code == 200
    assert client.put(url, data=b"not an image", headers=headers).status_code in (400, 415, 422)
    shown = client.get(f"/api/v1/queries/{query['id']}", headers=_h(world, "manager")).json
    assert [e["id"] for e in shown["evidence"]] == [photo]
    served = client.get(url + "?size=display", headers=_h(world, "manager"))
    content = served.get_data()
    served.close()
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert b"GPS" not in content and b"Exif" not in content[:200]
    assert client.get(url, headers=_h(world, "neighbour_manager")).status_code == 404
    _rule(client, world, query["id"], ruling="uphold", comment=RULING)
    late = client.put(f"/api/v1/queries/{query['id']}/evidence/{uuid.uuid4()}", data=jpeg,
                      headers=headers)
    assert late.status_code == 409


def test_uphold_keeps_the_result(app, client, world, make_visit):
    visit_id = _published(client, world, make_visit, {ITEM: False})
    total = _visit(app, visit_id).total
    query = _raise(client, world, visit_id).json
    assert _rule(client, world, query["id"], ruling="uphold", comment="").status_code == 422
    assert _rule(client, world, query["id"], who="store_manager", ruling="uphold",
                 comment=RULING).status_code == 403
    ruled = _rule(client, world, query["id"], ruling="uphold", comment=RULING)
    assert ruled.status_code == 200 and ruled.json["status"] == "upheld"
    assert _visit(app, visit_id).total == total
    assert _rule(client, world, query["id"], ruling="uphold", comment=RULING).status_code == 200
    assert _rule(client, world, query["id"], ruling="amend", value=True,
                 comment=RULING).status_code == 409
    seen = client.get(f"/api/v1/visits/{visit_id}/queries",
                      headers=_h(world, "store_manager")).json
    assert seen[0]["status"] == "upheld" and seen[0]["ruling_comment"] == RULING
    assert seen[0]["ruled_by_id"] is None  # the store learns the ruling, not who ruled
    told = client.get("/api/v1/notifications", headers=_h(world, "store_manager")).json
    ruled_note = next(n for n in told if n["kind"] == "query_ruled")
    assert RULING in ruled_note["body"]


def test_amend_changes_the_answer_and_scores_the_visit_again(app, client, world, make_visit):
    from supervision.checklists.services import definition_of
    from supervision.scoring import score_visit
    from supervision.visits.snapshot import answers_of

    visit_id = _published(client, world, make_visit, {ITEM: False})
    before = _visit(app, visit_id)
    query = _raise(client, world, visit_id).json
    assert _rule(client, world, query["id"], ruling="amend", comment=RULING).status_code == 422
    bad = _rule(client, world, query["id"], ruling="amend", value=7, comment=RULING)
    assert bad.status_code == 422 and "value" in bad.json["errors"]["json"]
    ruled = _rule(client, world, query["id"], ruling="amend", value=True, comment=RULING)
    assert ruled.status_code == 200, ruled.json
    assert ruled.json["old_value"] == {"value": False, "na": False}
    assert ruled.json["new_value"] == {"value": True, "na": False}

    with app.app_context():
        from supervision.visits.models import Visit

        visit = db.session.get(Visit, uuid.UUID(visit_id))
        expected = score_visit(definition_of(visit.checklist_version), answers_of(visit))
        assert visit.total == expected.total and visit.score == expected.to_dict()
        assert visit.grade == expected.to_dict()["grade"]["id"]
        assert _status(before.score, ITEM) == "failed" and _status(visit.score, ITEM) == "met"
    history = client.get(f"/api/v1/visits/{visit_id}/history", headers=_h(world, "manager")).json
    amend = [h for h in history if h["kind"] == "query_amend"]
    assert len(amend) == 1 and amend[0]["reason"] == RULING
    assert amend[0]["total_before"] == before.total and amend[0]["query_id"] == query["id"]
    assert {"item": ITEM, "field": "value", "old": False, "new": True} in amend[0]["changes"]
    proposals = client.get(f"/api/v1/actions?visit_id={visit_id}",
                           headers=_h(world, "manager")).json
    corrected = [a for a in proposals if a["item_id"] == ITEM]
    assert corrected and all(a["status"] == "dismissed" for a in corrected)
    assert any(a["status"] == "proposed" for a in proposals if a["item_id"] != ITEM)
    store_view = client.get(f"/api/v1/visits/{visit_id}", headers=_h(world, "store_manager")).json
    row = next(r for r in store_view["responses"] if r["item"] == ITEM)
    assert row["value"] is True and "query_amend" in row["changes"]
    assert store_view["total"] == _visit(app, visit_id).total


def _status(score: dict, item: str) -> str:
    return next(row["status"] for row in score["items"] if row["item"] == item)


def _store_average(app, world) -> tuple[set[str], float | None]:
    """The visits the store report averages, and their average."""
    from supervision.reports.period import average, period_of, visit_rows

    with app.app_context():
        period = period_of(None, None, "Asia/Shanghai", date.today())
        rows = visit_rows([world["store"].id], period)
        return {str(r["id"]) for r in rows}, average(r["total"] for r in rows)


def _mean(*totals) -> float:
    from supervision.reports.period import average

    return average(totals)


def test_reshop_leaves_the_visit_out_of_averages_until_the_reshop_counts(
        app, client, world, make_visit):
    from supervision.followup.models import Assignment

    good = _published(client, world, make_visit, {})
    queried = _published(client, world, make_visit, {ITEM: False, "arr_signage": False})
    good_total, queried_total = _visit(app, good).total, _visit(app, queried).total
    assert _store_average(app, world) == ({good, queried}, _mean(good_total, queried_total))

    query = _raise(client, world, queried).json
    same_shopper = _rule(client, world, query["id"], ruling="reshop", comment=RULING,
                         shopper_id=world["shopper"].id)
    assert same_shopper.status_code == 422 and "shopper_id" in same_shopper.json["errors"]["json"]
    ruled = _rule(client, world, query["id"], ruling="reshop", comment=RULING)
    assert ruled.status_code == 200 and ruled.json["status"] == "reshop", ruled.json
    with app.app_context():
        assignment = db.session.get(Assignment, ruled.json["reshop_assignment_id"])
        assert assignment.shopper_id == world["other_shopper"].id
        assert assignment.store_id == world["store"].id and assignment.status == "planned"
    assert _visit(app, queried).excluded == "reshop"
    assert _store_average(app, world) == ({good}, _mean(good_total))
    seen = client.get(f"/api/v1/visits/{queried}/queries", headers=_h(world, "store_manager"))
    assert seen.json[0]["reshop_assignment_id"] is None
    told = client.get("/api/v1/notifications", headers=_h(world, "other_shopper")).json
    assert "assignment_created" in {n["kind"] for n in told}

    reshop = make_visit(world["store"], world["other_shopper"], "mystery-visit",
                        answers={"arr_signage": False, "arr_uniform_badge": False},
                        status="submitted", started_at=VISIT_AT)
    with app.app_context():
        from supervision.visits.models import Visit

        db.session.get(Visit, reshop).assignment_id = assignment.id
        db.session.commit()
    published = client.post(f"/api/v1/visits/{reshop}/review", headers=_h(world, "manager"),
                            json={"decision": "publish"})
    assert published.status_code == 200, published.json
    reshop_total = _visit(app, str(reshop)).total
    assert _store_average(app, world) == ({good, str(reshop)}, _mean(good_total, reshop_total))


def test_query_counts_in_the_store_report(app, client, world, make_visit):
    visits = [_published(client, world, make_visit, {ITEM: False}) for _ in range(4)]
    first = _raise(client, world, visits[0]).json
    second = _raise(client, world, visits[1]).json
    _rule(client, world, first["id"], ruling="amend", value=True, comment=RULING)
    _rule(client, world, second["id"], ruling="uphold", comment=RULING)
    with app.app_context():
        from supervision.reports.period import period_of, query_counts, query_rows

        period = period_of(None, None, "Asia/Shanghai", date.today())
        counts = query_counts(query_rows([world["store"].id], period))[world["store"].id]
    assert counts == {"published": 4, "queried": 2, "rate": 50, "upheld": 1, "amended": 1,
                      "reshop": 0, "open": 0}
    report = client.get(f"/api/v1/stores/{world['store'].id}/report.html?lang=en",
                        headers=_h(world, "manager"))
    assert report.status_code == 200
    text = report.get_data(as_text=True)
    assert "Queries" in text and "2 of 4" in text
    region = client.get(f"/api/v1/regions/{world['east'].id}/report.html?lang=zh",
                        headers=_h(world, "manager")).get_data(as_text=True)
    assert "申诉率" in region and "50%" in region
    pdf = client.get(f"/api/v1/stores/{world['store'].id}/report.pdf?lang=zh",
                     headers=_h(world, "manager"))
    assert pdf.status_code == 200
    PAGES.mkdir(parents=True, exist_ok=True)
    (PAGES / "queries-store-zh.pdf").write_bytes(pdf.data)
    printed = subprocess.run(["pdftotext", str(PAGES / "queries-store-zh.pdf"), "-"],
                             capture_output=True, text=True, check=True).stdout
    assert "4 次暗访结果中 2 次被申诉（50%）" in printed
    subprocess.run(["pdftoppm", "-r", "70", "-png", str(PAGES / "queries-store-zh.pdf"),
                    str(PAGES / "queries-store-zh")], check=True)


def test_the_store_never_learns_the_shopper_through_a_query(app, client, world, make_visit,
                                                            tmp_path):
    visit_id = _published(client, world, make_visit, {ITEM: False})
    amended = _raise(client, world, visit_id).json
    reshopped = _raise(client, world, visit_id, item="arr_signage").json
    _rule(client, world, amended["id"], ruling="amend", value=True, comment=RULING)
    _rule(client, world, reshopped["id"], ruling="reshop", comment=RULING)
    headers = _h(world, "store_manager")
    seen = [client.get(path, headers=headers) for path in (
        f"/api/v1/visits/{visit_id}/queries", f"/api/v1/queries/{amended['id']}",
        f"/api/v1/queries/{reshopped['id']}", "/api/v1/queries", "/api/v1/notifications",
        f"/api/v1/visits/{visit_id}/history", f"/api/v1/visits/{visit_id}")]
    assert all(answer.status_code == 200 for answer in seen)
    texts = [json.dumps(answer.json, ensure_ascii=False) for answer in seen]
    pdf = client.get(f"/api/v1/visits/{visit_id}/report.pdf?lang=zh", headers=headers)
    assert pdf.status_code == 200
    (tmp_path / "visit.pdf").write_bytes(pdf.data)
    texts.append(subprocess.run(["pdftotext", str(tmp_path / "visit.pdf"), "-"],
                                capture_output=True, text=True, check=True).stdout)
    secrets = (SHOPPER_NAME, SHOPPER_EMAIL, f'"author_id": {world["shopper"].id}',
               f'"ruled_by_id": {world["manager"].id}',
               f'"shopper_id": {world["other_shopper"].id}')
    assert not [(s, t[:80]) for t in texts for s in secrets if s in t]
    assert all('"ruled_by_id": null' in t for t in texts[1:3])


def test_who_sees_which_queries(app, client, world, make_visit):
    visit_id = _published(client, world, make_visit, {ITEM: False})
    query = _raise(client, world, visit_id).json
    for who, count in (("manager", 1), ("admin", 1), ("supervisor", 1), ("store_manager", 1),
                       ("neighbour_manager", 0), ("shopper", 0)):
        listed = client.get("/api/v1/queries", headers=_h(world, who))
        assert listed.status_code == 200 and len(listed.json) == count, who
    assert client.get(f"/api/v1/queries/{query['id']}",
                      headers=_h(world, "shopper")).status_code == 404
    assert client.get(f"/api/v1/visits/{visit_id}/queries",
                      headers=_h(world, "shopper")).status_code == 404
    assert client.get("/api/v1/queries?status=open",
                      headers=_h(world, "manager")).json[0]["id"] == query["id"]
    assert client.get("/api/v1/queries?status=upheld", headers=_h(world, "manager")).json == []
