"""Coverage on both databases: the figures per store, plan and wave against hand-computed data,
last visits in each store's own days, the stores not visited, a bounded number of statements
whatever the number of stores, the API's roles and checks, and the region report's section."""

import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from supervision.db import db
from tests.conftest import PEOPLE
from tests.test_query_counts import counted
from tests.test_reports import normalise, pdf_text, save_pages

D = date
NOW = datetime(2026, 3, 20, 4, tzinfo=UTC)  # 12:00 in Shanghai; 21:00 on the 19th in LA
MARCH = (D(2026, 3, 1), D(2026, 3, 31))


@pytest.fixture
def world(make_world):
    stores = {"a": {"region": "east", "code": "E1", "name": "甲厅", "name_en": "Hall A"},
              "b": {"region": "east", "code": "E2", "timezone": "America/Los_Angeles"},
              "c": {"region": "east", "code": "E3"},
              "d": {"region": "east", "code": "E4", "active": False},
              "e": {"region": "east", "code": "E5", "active": False},
              "w": {"region": "west", "code": "W1"}}
    return make_world(stores=stores, people={**PEOPLE, "west_manager": ("manager", "west")})


def _checklist_id(slug="storefront-audit") -> int:
    from supervision.checklists.models import Checklist

    return db.session.scalars(select(Checklist.id).where(Checklist.slug == slug)).one()


def _plan(world, name, region="east"):
    from supervision.plans.models import AuditPlan

    plan = AuditPlan(name=name, region_id=world[region].id, checklist_id=_checklist_id(),
                     recurrence={"weekdays": [0]}, window_days=2, starts_on=D(2026, 1, 5),
                     created_by_id=world["manager"].id)
    db.session.add(plan)
    db.session.flush()
    return plan.id


def _due(world, store, day, status, plan_id=None, kind="plan"):
    from supervision.plans.models import DueVisit

    db.session.add(DueVisit(kind=kind, plan_id=plan_id, store_id=world[store].id,
                            checklist_id=_checklist_id(), due_from=day,
                            due_until=day + timedelta(days=1), status=status))


def _wave(world, name="三月暗访 / March wave"):
    from supervision.plans.models import Wave

    wave = Wave(name=name, region_id=world["east"].id, checklist_id=_checklist_id("mystery-visit"),
                starts_on=D(2026, 3, 1), ends_on=D(2026, 3, 31), status="confirmed",
                created_by_id=world["manager"].id)
    db.session.add(wave)
    db.session.flush()
    return wave.id


def _assignment(world, store, start, status, wave_id, hours=2):
    from supervision.followup.models import Assignment

    db.session.add(Assignment(store_id=world[store].id, checklist_id=_checklist_id("mystery-visit"),
                              shopper_id=world["shopper"].id, window_start=start,
                              window_end=start + timedelta(hours=hours), status=status,
                              wave_id=wave_id, created_by_id=world["manager"].id))


def _fill(app, world, make_visit):
    """The hand-computed month: see test_the_figures_of_a_month_by_store_plan_and_wave."""
    from supervision.visits.models import Visit

    author = world["supervisor"]
    make_visit(world["a"], author, started_at=datetime(2026, 3, 18, 10, tzinfo=UTC))
    left_out = make_visit(world["a"], author, started_at=datetime(2026, 3, 19, 5, tzinfo=UTC))
    make_visit(world["a"], author, status="draft",
               started_at=datetime(2026, 3, 19, 6, tzinfo=UTC))
    # 22:00 on Feb 28 in Los Angeles (March 1 in UTC)
    make_visit(world["b"], author, status="submitted",
               started_at=datetime(2026, 3, 1, 6, tzinfo=UTC))
    make_visit(world["b"], author, status="rejected",
               started_at=datetime(2026, 3, 15, 6, tzinfo=UTC))
    make_visit(world["w"], author, started_at=datetime(2026, 3, 19, 6, tzinfo=UTC))
    with app.app_context():
        db.session.get(Visit, left_out).excluded = "calibration"
        weekly, monthly = _plan(world, "每周巡店 / weekly"), _plan(world, "月度 / monthly")
        west = _plan(world, "西区 / west", region="west")
        for day, status in [(D(2026, 2, 23), "done"), (D(2026, 3, 2), "done"),
                            (D(2026, 3, 9), "missed"), (D(2026, 3, 16), "overdue"),
                            (D(2026, 3, 23), "due"), (D(2026, 3, 25), "cancelled"),
                            (D(2026, 3, 30), "due"), (D(2026, 4, 6), "due")]:
            _due(world, "a", day, status, weekly)
        _due(world, "b", D(2026, 3, 2), "done", weekly)
        _due(world, "b", D(2026, 3, 9), "done", weekly)
        _due(world, "e", D(2026, 3, 2), "missed", weekly)
        _due(world, "c", D(2026, 3, 1), "missed", monthly)
        _due(world, "w", D(2026, 3, 2), "due", west)
        _due(world, "a", D(2026, 3, 5), "done", kind="followup")
        _due(world, "c", D(2026, 3, 10), "overdue", kind="followup")
        wave = _wave(world)
        at = datetime(2026, 3, 5, 2, tzinfo=UTC)
        _assignment(world, "a", at, "done", wave)
        _assignment(world, "b", datetime(2026, 3, 10, 2, tzinfo=UTC), "planned", wave)
        # 00:30 on March 1 in Shanghai (the TIMEZONE setting): in the period
        _assignment(world, "b", datetime(2026, 2, 28, 16, 30, tzinfo=UTC), "planned", wave)
        _assignment(world, "c", datetime(2026, 3, 25, 2, tzinfo=UTC), "planned", wave)
        _assignment(world, "b", at, "proposed", wave)
        _assignment(world, "a", at, "cancelled", wave)
        _assignment(world, "c", datetime(2026, 4, 2, 2, tzinfo=UTC), "planned", wave)
        _assignment(world, "c", at, "planned", None)  # not of a wave
        db.session.commit()


def _figures(due=0, done=0, overdue=0, missed=0) -> dict:
    return {"due": due, "done": done, "overdue": overdue, "missed": missed}


def _coverage(app, world, days=30, span=MARCH):
    from supervision.plans.coverage import coverage

    with app.app_context():
        return coverage(world["east"].id, *span, days, now=NOW)


def test_the_figures_of_a_month_by_store_plan_and_wave(app, world, make_visit):
    _fill(app, world, make_visit)
    result = _coverage(app, world, days=10)
    stores = {row["code"]: row for row in result["stores"]}
    assert list(stores) == ["E1", "E2", "E3", "E5"]  # E4: inactive, nothing expected
    assert {code: row["figures"] for code, row in stores.items()} == {
        "E1": _figures(due=2, done=3, overdue=1, missed=1),
        "E2": _figures(done=2, overdue=2),
        "E3": _figures(due=1, overdue=1, missed=1),
        "E5": _figures(missed=1),
    }
    assert result["totals"] == _figures(due=3, done=5, overdue=4, missed=3)
    assert [(p["name"], p["kind"], p["figures"]) for p in result["plans"]] == [
        ("月度 / monthly", "plan", _figures(missed=1)),
        ("每周巡店 / weekly", "plan", _figures(due=2, done=3, overdue=1, missed=2)),
        (None, "followup", _figures(done=1, overdue=1)),
    ]
    assert [(w["name"], w["figures"]) for w in result["waves"]] == [
        ("三月暗访 / March wave", _figures(due=1, done=1, overdue=2))]


def test_last_visits_in_each_stores_own_days_and_the_stores_not_visited(app, world, make_visit):
    _fill(app, world, make_visit)
    result = _coverage(app, world, days=10)
    last = {row["code"]: (row["last_visit"], row["days_since"]) for row in result["stores"]}
    # E1: the calibration (left out) and the draft of the 19th do not count; E2 (Los Angeles):
    # 22:00 on Feb 28 there, today is the 19th there; its rejected visit does not count.
    assert last == {"E1": ("2026-03-18", 2), "E2": ("2026-02-28", 19), "E3": (None, None),
                    "E5": (None, None)}
    assert [row["code"] for row in result["not_visited"]] == ["E3", "E2"]  # never first
    assert [row["code"] for row in _coverage(app, world, days=19)["not_visited"]] == ["E3"]


def test_a_period_counts_only_what_was_due_in_it(app, world, make_visit):
    _fill(app, world, make_visit)
    april = _coverage(app, world, span=(D(2026, 4, 1), D(2026, 4, 30)))
    assert april["totals"] == _figures(due=2)  # E1's April 6 and E3's wave visit of April 2
    february = _coverage(app, world, span=(D(2026, 2, 1), D(2026, 2, 28)))
    assert february["totals"] == _figures(done=1)


# A bounded number of statements ----------------------------------------------------------------

def _bulk(app, world, stores: int):
    """`stores` new stores of the east, each with a plan's due visits in every state, a wave's
    assignments and a visit."""
    from supervision.followup.models import Assignment
    from supervision.plans.models import DueVisit
    from supervision.stores.models import Store
    from supervision.visits.models import Visit

    with app.app_context():
        checklist = _checklist_id()
        plan, wave = _plan(world, f"plan {stores}"), _wave(world, f"wave {stores}")
        template = db.session.scalars(select(Visit)).first()
        columns = {c.key: getattr(template, c.key) for c in Visit.__table__.columns}
        offset = db.session.scalar(select(Store.id).order_by(Store.id.desc()).limit(1))
        for n in range(stores):
            store = Store(region_id=world["east"].id, code=f"B{offset}-{n}", name=f"店 {n}")
            db.session.add(store)
            db.session.flush()
            for k, status in enumerate(("due", "done", "overdue", "missed")):
                day = D(2026, 3, 2 + 7 * k)
                db.session.add(DueVisit(plan_id=plan, store_id=store.id, checklist_id=checklist,
                                        due_from=day, due_until=day, status=status))
            db.session.add(Assignment(
                store_id=store.id, checklist_id=checklist, shopper_id=world["shopper"].id,
                window_start=datetime(2026, 3, 3 + n % 20, 2, tzinfo=UTC),
                window_end=datetime(2026, 3, 3 + n % 20, 4, tzinfo=UTC),
                status="planned" if n % 2 else "done", wave_id=wave,
                created_by_id=world["manager"].id))
            db.session.add(Visit(**{**columns, "id": uuid.uuid4(),
                                    "store_id": store.id}))
        db.session.commit()


def _statements(app, client, world) -> tuple[int, int]:
    with counted(app) as statements:
        answer = client.get(f"/api/v1/coverage?region_id={world['east'].id}&from=2026-03-01"
                            "&to=2026-03-31", headers=world["headers"]["manager"])
    assert answer.status_code == 200, answer.json
    coverage_only = [s for s in statements if re.search(r"due_visits|assignments|visits|stores",
                                                        s)]
    return len(answer.json["stores"]), len(statements), len(coverage_only)


def test_the_same_statements_for_5_or_50_stores(app, client, world, make_visit):
    make_visit(world["a"], world["supervisor"])
    _bulk(app, world, 5)
    few_stores, few, few_own = _statements(app, client, world)
    _bulk(app, world, 45)
    many_stores, many, many_own = _statements(app, client, world)
    assert (few_stores, many_stores) == (3 + 5, 3 + 50)  # E1–E3 and the new ones
    assert many == few <= 10
    assert many_own == few_own


# The API ---------------------------------------------------------------------------------------

def _get(client, world, who="manager", **args):
    query = "&".join(f"{key}={value}" for key, value in
                     {"region_id": world["east"].id, **args}.items() if value is not None)
    return client.get(f"/api/v1/coverage?{query}", headers=world["headers"][who])


def test_the_api_answers_managers_and_admins_of_the_region(app, client, world, make_visit):
    _fill(app, world, make_visit)
    answer = _get(client, world, **{"from": "2026-03-01", "to": "2026-03-31", "days": 10})
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert (body["from"], body["to"], body["days"]) == ("2026-03-01", "2026-03-31", 10)
    assert body["region"]["code"] == "EAST"
    assert {row["code"]: row["figures"]["done"] for row in body["stores"]}["E1"] == 3
    assert _get(client, world, "admin", **{"from": "2026-03-01"}).json["to"] == "2026-03-31"
    assert _get(client, world, "admin", to="2026-02-10").json["from"] == "2026-02-01"
    assert _get(client, world, "supervisor").status_code == 403
    assert _get(client, world, "shopper").status_code == 403
    assert _get(client, world, "west_manager").status_code == 404


def test_the_default_period_is_this_month(app, client, world):
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    body = _get(client, world).json
    assert body["from"] == today.replace(day=1).isoformat()
    assert body["to"][:7] == today.isoformat()[:7] and body["to"] >= today.isoformat()
    assert body["days"] == 30


@pytest.mark.parametrize(("args", "field"), [
    ({"region_id": None}, "region_id"),
    ({"region_id": "x"}, "region_id"),
    ({"from": "2026-03-31", "to": "2026-03-01"}, "from"),
    ({"from": "2026-02-30"}, "from"),
    ({"days": 0}, "days"),
    ({"days": 99999}, "days"),
])
def test_the_api_names_the_field_it_refuses(app, client, world, args, field):
    answer = _get(client, world, **args)
    assert answer.status_code == 422
    assert field in answer.get_data(as_text=True)


# The region report -----------------------------------------------------------------------------

def test_the_region_report_has_the_coverage_section(app, client, world, make_visit, tmp_path):
    from supervision.reports.summaries import region_context
    from supervision.stores.models import Region

    _fill(app, world, make_visit)
    with app.app_context():
        context = region_context(db.session.get(Region, world["east"].id), *MARCH, "en", NOW)
    assert context["coverage"]["totals"] == _figures(due=3, done=5, overdue=4, missed=3)
    for lang, title in (("en", "Coverage"), ("zh", "覆盖")):
        html = client.get(f"/api/v1/regions/{world['east'].id}/report.html?lang={lang}"
                          "&from=2026-03-01&to=2026-03-31",
                          headers=world["headers"]["manager"]).get_data(as_text=True)
        assert title in html
        assert "E3" in html
        pdf = _region_pdf(client, world, lang)
        save_pages(pdf, f"coverage-region-{lang}", pages=6)
        text = normalise(pdf_text(pdf, tmp_path, f"region-{lang}"))
        assert normalise(title) in text and "E3" in text


def _region_pdf(client, world, lang) -> bytes:
    url = (f"/api/v1/regions/{world['east'].id}/report.pdf?lang={lang}"
           "&from=2026-03-01&to=2026-03-31")
    answer = client.get(url, headers=world["headers"]["manager"])
    if answer.status_code == 202:  # rendered by a job (inline here), then the PDF
        answer = client.get(url, headers=world["headers"]["manager"])
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return answer.data


# The page ---------------------------------------------------------------------------------------

def _demo_month(live_server) -> None:
    """In the demo region, this month: a weekly plan's audits in every state, a follow-up and a
    confirmed wave's visits."""
    from supervision.accounts.models import User
    from supervision.followup.models import Assignment
    from supervision.plans.models import AuditPlan, DueVisit, Wave
    from supervision.stores.models import Store

    with live_server.app.app_context():
        manager = db.session.scalars(select(User).where(User.email == "manager@example.com")).one()
        shopper = db.session.scalars(select(User).where(User.email == "shopper@example.com")).one()
        region = manager.regions[0]
        stores = db.session.scalars(select(Store).where(Store.region_id == region.id)
                                    .order_by(Store.code)).all()
        first = datetime.now(UTC).date().replace(day=1)
        plan = AuditPlan(name="每周巡店 / Weekly round", region_id=region.id,
                         checklist_id=_checklist_id(), recurrence={"weekdays": [0]},
                         window_days=3, starts_on=first, created_by_id=manager.id)
        wave = Wave(name="本月暗访 / This month", region_id=region.id,
                    checklist_id=_checklist_id("mystery-visit"), starts_on=first,
                    ends_on=first + timedelta(days=27), status="confirmed",
                    created_by_id=manager.id)
        db.session.add_all([plan, wave])
        db.session.flush()
        states = ("done", "missed", "overdue", "due")
        for n, store in enumerate(stores):
            for k, status in enumerate(states[n % 2:]):
                day = first + timedelta(days=7 * k)
                db.session.add(DueVisit(plan_id=plan.id, store_id=store.id, status=status,
                                        checklist_id=plan.checklist_id, due_from=day,
                                        due_until=day + timedelta(days=2)))
            at = datetime.combine(first + timedelta(days=3 + n), datetime.min.time(), UTC)
            db.session.add(Assignment(
                store_id=store.id, checklist_id=wave.checklist_id, shopper_id=shopper.id,
                window_start=at, window_end=at + timedelta(hours=3), wave_id=wave.id,
                status="done" if n % 2 else "planned", created_by_id=manager.id))
        db.session.add(DueVisit(kind="followup", store_id=stores[0].id, status="due",
                                checklist_id=plan.checklist_id, due_from=first + timedelta(days=2),
                                due_until=first + timedelta(days=16), items=["x"]))
        db.session.commit()


@pytest.mark.browser
def test_the_coverage_page_on_a_tablet_in_chinese_and_a_phone_in_english(
        browser, live_server, screenshots):
    from tests.browser_fixtures import login, new_page, shot

    _demo_month(live_server)
    for viewport, lang, days in (("tablet", "zh", 30), ("phone", "en", 10)):
        context, page = new_page(browser, live_server, viewport, lang)
        login(page, "manager@example.com")
        page.goto(f"/coverage?days={days}")
        page.wait_for_selector("#coverage-stores")
        text = page.inner_text("#view")
        words = {"zh": ("待完成", "漏访", "按计划与波次", "每周巡店", "复访", "暗访波次"),
                 "en": ("Due", "Missed", "By plan and wave", "Weekly round", "Follow-up visits",
                        "Wave: ")}[lang]
        for word in words:
            assert word in text, (word, text[:500])
        done = page.locator("#coverage-totals [data-figure=done] .value").inner_text()
        assert int(done) > 0
        late = page.locator("#coverage-not-visited li").count()
        assert late > 0 if days == 10 else late == 0  # the demo's last visits: 3 to 30 days ago
        shot(page, screenshots, f"coverage-{viewport}-{lang}", full=True)
        assert page.errors == []
        context.close()
    context, page = new_page(browser, live_server, "tablet", "zh")
    login(page, "supervisor@example.com")
    page.goto("/coverage")
    page.wait_for_selector("#view:not([aria-busy])")
    assert "巡访覆盖仅供区域经理查看" in page.inner_text("#view")
    context.close()
