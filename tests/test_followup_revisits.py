"""Follow-up re-visits on both databases: a failed visit proposes one (the failed items, within
the checklist's delay), a passed or calibration one does not; the visit that does it carries a
before/after comparison in its report, read back from the PDF with both photos."""

import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from supervision.db import db
from tests.conftest import OUTPUT
from tests.followup_helpers import upload_photo
from tests.visit_support import VISIT_WORLD, audit_body, mystery_body, visit_config

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGES = OUTPUT / "reports"
FAILING = {"signage": False, "tidy": 2, "has_queue": False, "argues": True}
FIXED = {"signage": True, "tidy": 5, "has_queue": False, "argues": False}


@pytest.fixture
def app_config(database_url, tmp_path):
    return visit_config(database_url, tmp_path)


@pytest.fixture
def world(make_world):
    return make_world(**VISIT_WORLD)


def _today():
    return datetime.now(SHANGHAI).date()


def _audit(client, world, answers, colour, who="supervisor", started_at=None, **extra) -> str:
    """An audit made and submitted through the API, with its two signage photos."""
    visit_id, headers = str(uuid.uuid4()), world["headers"][who]
    photos = [(uuid.uuid4(), "signage"), (uuid.uuid4(), "signage")]
    started = started_at or datetime.now(UTC) - timedelta(minutes=50)
    body = audit_body(world["store"].id, answers, photos, started_at=started.isoformat(),
                      ended_at=(started + timedelta(minutes=40)).isoformat(), **extra)
    answer = client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    for photo_id, item in photos:
        upload_photo(client, headers, visit_id, item, colour=colour, photo_id=str(photo_id))
    answer = client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers)
    assert answer.status_code == 200, answer.json
    return visit_id


def _followups(app):
    from supervision.plans.models import DueVisit

    with app.app_context():
        return [{"id": d.id, "source": str(d.source_visit_id), "items": d.items,
                 "from": d.due_from, "until": d.due_until, "status": d.status,
                 "supervisor_id": d.supervisor_id, "visit": str(d.visit_id)}
                for d in db.session.scalars(select(DueVisit).where(DueVisit.kind == "followup")
                                            .order_by(DueVisit.id))]


def test_a_failed_audit_proposes_a_follow_up_of_its_failed_items(client, app, world):
    source = _audit(client, world, FAILING, "red")
    [due] = _followups(app)
    assert due["source"] == source and due["status"] == "due"
    assert due["items"] == ["signage", "tidy", "has_queue", "argues"]  # checklist order
    assert (due["from"], due["until"]) == (_today() + timedelta(days=1),
                                          _today() + timedelta(days=15))
    assert due["supervisor_id"] == world["supervisor"].id
    seen = client.get("/api/v1/due-visits?kind=followup", headers=world["headers"]["supervisor"])
    assert [(d["source_visit_id"], d["items"]) for d in seen.json] == [
        (source, ["signage", "tidy", "has_queue", "argues"])]


def test_a_passed_audit_proposes_none(client, app, world):
    _audit(client, world, FIXED, "green")
    assert _followups(app) == []


def test_an_excluded_visit_proposes_none(app, world, make_visit):
    from supervision.checklists.services import definition_of
    from supervision.plans.followups import propose_followup
    from supervision.visits.models import Visit

    visit_id = make_visit(world["store"], world["supervisor"], "test-audit", answers=FAILING)
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        definition = definition_of(visit.checklist_version)
        visit.excluded = "calibration"
        assert propose_followup(visit, definition, visit.score) is None
        visit.excluded = None
        made = propose_followup(visit, definition, visit.score)
        assert made is not None
        assert propose_followup(visit, definition, visit.score).id == made.id  # once per visit
        db.session.rollback()


def test_a_failed_mystery_visit_proposes_one_at_publication_for_anyone(client, app, world):
    headers = world["headers"]
    visit_id = str(uuid.uuid4())
    body = mystery_body(world["store"].id, responses=[{"item": "greeted", "value": False},
                                                      {"item": "courtesy", "value": 1}])
    assert client.put(f"/api/v1/visits/{visit_id}", json=body,
                      headers=headers["shopper"]).status_code == 201
    assert client.post(f"/api/v1/visits/{visit_id}/submit",
                       headers=headers["shopper"]).status_code == 200
    assert _followups(app) == []  # nothing reaches the store's side before publication
    assert client.post(f"/api/v1/visits/{visit_id}/review", headers=headers["manager"],
                       json={"decision": "publish"}).status_code == 200
    [due] = _followups(app)
    assert due["source"] == visit_id and due["supervisor_id"] is None
    assert set(due["items"]) == {"greeted", "courtesy"}
    # a shopper's re-visit, for the manager to assign: not on a supervisor's list of audits
    listed = {who: [d["id"] for d in client.get("/api/v1/due-visits?kind=followup",
                                                headers=headers[who]).json]
              for who in ("manager", "supervisor")}
    assert listed == {"manager": [due["id"]], "supervisor": []}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_follow_up_visit_compares_before_and_after_with_both_photos(client, app, world,
                                                                       lang):
    from supervision.followup.models import Action
    from supervision.plans.models import DueVisit

    source = _audit(client, world, FAILING, "red")
    with app.app_context():  # three days later; the store agreed to fix the signage
        due = db.session.scalars(select(DueVisit).where(DueVisit.kind == "followup")).one()
        due.due_from -= timedelta(days=3)
        due.due_until -= timedelta(days=3)
        signage = db.session.scalars(select(Action).where(
            Action.visit_id == uuid.UUID(source), Action.item_id == "signage")).one()
        signage.status = "agreed"
        db.session.commit()
    again = _audit(client, world, {**FIXED, "tidy": 2}, "green")
    [done] = _followups(app)
    assert (done["status"], done["visit"]) == ("done", again)

    answer = client.get(f"/api/v1/visits/{again}/report.pdf?lang={lang}",
                        headers=world["headers"]["manager"])
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    PAGES.mkdir(parents=True, exist_ok=True)
    path = PAGES / f"followup-{lang}.pdf"
    path.write_bytes(answer.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    expected = {"zh": ("复访对比", "2 项已改进，2 项仍未达标", "已由本次确认整改到位", "当时",
                       "本次"),
                "en": ("Follow-up: the items that fell short", "2 improved, 2 still short",
                       "Shown fixed at this visit", "Then", "Now")}[lang]
    for words in expected:
        assert words in text, words
    reader = PdfReader(path)
    [page_no] = [n for n, page in enumerate(reader.pages)
                 if ("复访对比" if lang == "zh" else "Follow-up:") in page.extract_text()]
    assert len(reader.pages[page_no].images) >= 2  # the signage then (red) and now (green)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page_no + 1), "-l",
                    str(page_no + 1), str(path), str(PAGES / f"followup-{lang}")], check=True)
    store = client.get(f"/api/v1/visits/{again}/report.pdf?lang={lang}&audience=store",
                       headers=world["headers"]["manager"])
    assert store.status_code == 200
    store_text = subprocess.run(["pdftotext", "-", "-"], input=store.data, check=True,
                                capture_output=True).stdout.decode()
    assert expected[0] in store_text
