"""Audit plans on both databases: generation for each recurrence across month ends and time zones,
edits from the next occurrence, fulfilment by a submitted visit, overdue then missed, and the
API's checks and scope."""

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from supervision.db import db
from tests.followup_helpers import upload_photo
from tests.visit_support import VISIT_WORLD, audit_body, visit_config

D = date
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the stores' zone unless given (TIMEZONE)


def _today() -> date:
    return datetime.now(SHANGHAI).date()


@pytest.fixture
def app_config(database_url, tmp_path):
    return visit_config(database_url, tmp_path, PLAN_HORIZON_DAYS=62)


@pytest.fixture
def world(make_world):
    stores = {"store": {"region": "east", "code": "E1", "tags": ["A"]},
              "east_b": {"region": "east", "code": "E2", "tags": ["B"]},
              "la": {"region": "east", "code": "E3", "timezone": "America/Los_Angeles",
                     "tags": ["A"]},
              "west_store": {"region": "west", "code": "W1"}}
    people = {**VISIT_WORLD["people"], "west_supervisor": ("supervisor", "west")}
    return make_world(**{**VISIT_WORLD, "stores": stores, "people": people})


def _h(world, who="manager"):
    return world["headers"][who]


def _plan_body(world, **extra):
    return {"name": "每周巡店 / weekly round", "region_id": world["east"].id,
            "checklist": "test-audit", "recurrence": {"weekdays": [0]}, "window_days": 2,
            "starts_on": _today().isoformat(), **extra}


def _dues(app, plan_id=None, store=None):
    from supervision.plans.models import DueVisit

    with app.app_context():
        query = select(DueVisit).order_by(DueVisit.store_id, DueVisit.due_from)
        if plan_id:
            query = query.where(DueVisit.plan_id == plan_id)
        if store:
            query = query.where(DueVisit.store_id == store.id)
        return [(d.store_id, d.due_from, d.due_until, d.status) for d in db.session.scalars(query)]


def _create(app, world, now, who="manager", **extra):
    """A plan made through the service at a chosen instant (the API uses the clock)."""
    from supervision.accounts.models import User
    from supervision.plans.services import create_plan

    with app.app_context():
        user = db.session.get(User, world[who].id)
        data = _plan_body(world, **extra)
        for key in ("starts_on", "ends_on"):
            if isinstance(data.get(key), str):
                data[key] = D.fromisoformat(data[key])
        plan = create_plan(user, data, now=now)
        db.session.commit()
        return plan.id


def _sweep(app, now):
    from supervision.plans.services import sweep

    with app.app_context():
        changed = sweep(now)
        db.session.commit()
        return changed


# Generation ------------------------------------------------------------------------------------

def test_a_weekly_plan_generates_each_store_its_mondays_up_to_the_horizon(app, world):
    now = datetime(2027, 1, 30, 4, tzinfo=UTC)  # Saturday 12:00 in Shanghai
    plan = _create(app, world, now, store_ids=[world["store"].id], starts_on="2027-01-04")
    mondays = [D(2027, 2, 1) + timedelta(weeks=n) for n in range(9)]  # up to April 1
    assert _dues(app, plan) == [(world["store"].id, day, day + timedelta(days=1), "due")
                                for day in mondays]


def test_twice_a_month_across_february_with_a_window_cut_by_the_next_one(app, world):
    now = datetime(2028, 1, 31, 1, tzinfo=UTC)
    plan = _create(app, world, now, store_ids=[world["store"].id], starts_on="2028-01-01",
                   recurrence={"per_month": 2}, window_days=20)
    got = [(start, end) for _, start, end, _ in _dues(app, plan)]
    # Jan 16's window, cut by Feb 1, still holds today (Jan 31): due today; then Feb 1 and 15
    # (leap February), Mar 1 and 16, Apr 1 (the horizon is 62 days: April 2); a 20-day window
    # stops the day before the next.
    assert got == [(D(2028, 1, 16), D(2028, 1, 31)),
                   (D(2028, 2, 1), D(2028, 2, 14)), (D(2028, 2, 15), D(2028, 2, 29)),
                   (D(2028, 3, 1), D(2028, 3, 15)), (D(2028, 3, 16), D(2028, 3, 31)),
                   (D(2028, 4, 1), D(2028, 4, 15))]


def test_a_plan_started_on_the_managers_today_keeps_its_first_audit_past_the_stores_midnight(
        app, world):
    # 16:06 UTC on Dec 5: the manager's browser (UTC) says Dec 5, the store's today is Dec 6.
    now = datetime(2026, 12, 5, 16, 6, tzinfo=UTC)
    plan = _create(app, world, now, store_ids=[world["store"].id], starts_on="2026-12-05",
                   recurrence={"every_days": 7}, window_days=2)
    assert _dues(app, plan)[:2] == [
        (world["store"].id, D(2026, 12, 5), D(2026, 12, 6), "due"),
        (world["store"].id, D(2026, 12, 12), D(2026, 12, 13), "due")]
    # a window that has already closed is not made only to be overdue: a day's window, daily
    daily = _create(app, world, now, store_ids=[world["store"].id], starts_on="2026-12-05",
                    recurrence={"every_days": 1}, window_days=1)
    assert _dues(app, daily)[0][1:] == (D(2026, 12, 6), D(2026, 12, 6), "due")


def test_stores_by_tag_and_by_region(app, world):
    now = datetime(2027, 3, 1, 4, tzinfo=UTC)
    tagged = _create(app, world, now, tag="A", recurrence={"per_month": 1},
                     starts_on="2027-03-01")
    whole = _create(app, world, now, recurrence={"per_month": 1}, starts_on="2027-03-01")
    assert {row[0] for row in _dues(app, tagged)} == {world["store"].id, world["la"].id}
    assert {row[0] for row in _dues(app, whole)} == {
        world[name].id for name in ("store", "east_b", "la")}


def test_each_store_counts_from_its_own_today(app, world):
    # 02:00 UTC on Feb 1: already Feb 1 in Shanghai, still Jan 31 in Los Angeles. Every other
    # day from Jan 1: Jan 31, Feb 2, Feb 4 …
    now = datetime(2027, 2, 1, 2, tzinfo=UTC)
    plan = _create(app, world, now, store_ids=[world["store"].id, world["la"].id],
                   recurrence={"every_days": 2}, window_days=1, starts_on="2027-01-01")
    first = {store_id: start for store_id, start, _, _ in reversed(_dues(app, plan))}
    assert first == {world["store"].id: D(2027, 2, 2), world["la"].id: D(2027, 1, 31)}

    def states():
        return {(s, start): status for s, start, _, status in _dues(app, plan)
                if start <= D(2027, 2, 2)}

    shanghai, la = world["store"].id, world["la"].id
    _sweep(app, datetime(2027, 2, 2, 2, tzinfo=UTC))  # Feb 2 in Shanghai, Feb 1 in LA
    assert states() == {(shanghai, D(2027, 2, 2)): "due", (la, D(2027, 1, 31)): "overdue",
                        (la, D(2027, 2, 2)): "due"}
    _sweep(app, datetime(2027, 2, 3, 2, tzinfo=UTC))  # Feb 3 in Shanghai, Feb 2 in LA
    assert states() == {(shanghai, D(2027, 2, 2)): "overdue", (la, D(2027, 1, 31)): "missed",
                        (la, D(2027, 2, 2)): "due"}


def test_the_sweep_extends_the_horizon_without_repeating_a_day(app, world):
    now = datetime(2027, 1, 4, 4, tzinfo=UTC)
    plan = _create(app, world, now, store_ids=[world["store"].id], starts_on="2027-01-04")
    before = _dues(app, plan)
    _sweep(app, now + timedelta(days=14))
    _sweep(app, now + timedelta(days=14))
    after = _dues(app, plan)
    assert [row[:3] for row in after[:len(before)]] == [row[:3] for row in before]
    assert [row[1] for row in after[len(before):]] == [D(2027, 3, 8), D(2027, 3, 15)]
    assert len({row[1] for row in after}) == len(after)


# Edits -----------------------------------------------------------------------------------------

def test_an_edit_applies_from_the_next_occurrence(app, world):
    from supervision.accounts.models import User
    from supervision.plans.models import DueVisit
    from supervision.plans.services import update_plan

    monday = datetime(2027, 2, 1, 4, tzinfo=UTC)
    plan = _create(app, world, monday, store_ids=[world["store"].id], starts_on="2027-02-01",
                   window_days=1)
    with app.app_context():  # the first Monday was done
        first = db.session.scalars(select(DueVisit).where(DueVisit.plan_id == plan)
                                   .order_by(DueVisit.due_from)).first()
        first.status = "done"
        db.session.commit()
        wednesday = monday + timedelta(days=2)
        update_plan(db.session.get(User, world["manager"].id), plan,
                    {"recurrence": {"weekdays": [4]}}, now=wednesday)
        db.session.commit()
    days = [(start, status) for _, start, _, status in _dues(app, plan)]
    assert days[0] == (D(2027, 2, 1), "done")  # kept
    assert {start.weekday() for start, _ in days[1:]} == {4}  # Fridays from Feb 5 on
    assert days[1][0] == D(2027, 2, 5)


def test_ending_a_plan_drops_what_was_still_to_come_and_its_late_ones_become_missed(app, world):
    from supervision.accounts.models import User
    from supervision.plans.services import update_plan

    monday = datetime(2027, 2, 1, 4, tzinfo=UTC)
    plan = _create(app, world, monday, store_ids=[world["store"].id], starts_on="2027-02-01",
                   window_days=1)
    with app.app_context():  # the store closed meanwhile: the plan can still be ended
        from supervision.stores.models import Store

        db.session.get(Store, world["store"].id).active = False
        update_plan(db.session.get(User, world["manager"].id), plan, {"active": False},
                    now=monday + timedelta(days=3))
        db.session.commit()
    _sweep(app, monday + timedelta(days=3))
    assert [(start, status) for _, start, _, status in _dues(app, plan)] == [
        (D(2027, 2, 1), "missed")]


# Lateness --------------------------------------------------------------------------------------

def test_overdue_then_missed_once_the_next_one_begins(app, world):
    monday = datetime(2027, 2, 1, 4, tzinfo=UTC)
    plan = _create(app, world, monday, store_ids=[world["store"].id], starts_on="2027-02-01")
    _sweep(app, monday + timedelta(days=2))  # window Mon–Tue: Wednesday it is late
    assert _dues(app, plan)[0][3] == "overdue"
    _sweep(app, monday + timedelta(days=6))  # Sunday: the next has not begun
    assert _dues(app, plan)[0][3] == "overdue"
    _sweep(app, monday + timedelta(days=7))  # the next Monday
    assert [row[3] for row in _dues(app, plan)[:2]] == ["missed", "due"]


# Fulfilment ------------------------------------------------------------------------------------

def _submit_audit(client, world, store, started_at, who="supervisor", slug="test-audit"):
    """An audit made and submitted through the API, with its two required photos."""
    visit_id = str(uuid.uuid4())
    photos = [(uuid.uuid4(), "signage"), (uuid.uuid4(), "signage")]
    body = audit_body(store.id, photos=photos, started_at=started_at.isoformat(),
                      ended_at=(started_at + timedelta(minutes=40)).isoformat(),
                      checklist={"slug": slug, "version": 1})
    headers = _h(world, who)
    assert client.put(f"/api/v1/visits/{visit_id}", json=body, headers=headers).status_code == 201
    for photo_id, item in photos:
        upload_photo(client, headers, visit_id, item, photo_id=str(photo_id))
    answer = client.post(f"/api/v1/visits/{visit_id}/submit", headers=headers)
    assert answer.status_code == 200, answer.json
    return visit_id


def _api_plan(client, world, **extra):
    answer = client.post("/api/v1/plans", json=_plan_body(world, **extra), headers=_h(world))
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_submitted_audit_fulfils_the_due_one_of_its_store(client, app, world):
    today = _today()
    plan = _api_plan(client, world, store_ids=[world["store"].id, world["east_b"].id],
                     recurrence={"every_days": 7}, window_days=3,
                     supervisor_id=world["supervisor"].id)
    assert plan["figures"]["due"] == 2 * 9  # today, then every week up to 62 days ahead
    visit_id = _submit_audit(client, world, world["store"], datetime.now(UTC))
    mine = client.get("/api/v1/due-visits?status=done", headers=_h(world, "supervisor")).json
    assert [(d["store"]["code"], d["due_from"], d["visit_id"]) for d in mine] == [
        ("E1", today.isoformat(), visit_id)]
    figures = client.get(f"/api/v1/plans/{plan['id']}", headers=_h(world)).json["figures"]
    assert figures == {"due": 17, "done": 1, "overdue": 0, "missed": 0}


def test_a_visit_fulfils_nothing_of_another_supervisor_store_or_day(client, app, world):
    _api_plan(client, world, store_ids=[world["store"].id], recurrence={"every_days": 7},
              window_days=1, supervisor_id=world["supervisor"].id)
    _submit_audit(client, world, world["store"], datetime.now(UTC), who="other_supervisor")
    _submit_audit(client, world, world["east_b"], datetime.now(UTC))
    _submit_audit(client, world, world["store"], datetime.now(UTC) - timedelta(days=3))
    assert [row[3] for row in _dues(app, store=world["store"])].count("done") == 0


def test_a_late_visit_fulfils_the_overdue_one(client, app, world):
    from supervision.plans.models import DueVisit

    plan = _api_plan(client, world, store_ids=[world["store"].id], recurrence={"every_days": 7},
                     window_days=1)
    with app.app_context():  # move the first one two days back: now it is late
        first = db.session.scalars(select(DueVisit).where(DueVisit.plan_id == plan["id"])
                                   .order_by(DueVisit.due_from)).first()
        first.due_from = first.due_until = _today() - timedelta(days=2)
        db.session.commit()
    _sweep(app, datetime.now(UTC))
    assert _dues(app, plan["id"])[0][3] == "overdue"
    _submit_audit(client, world, world["store"], datetime.now(UTC), who="other_supervisor")
    assert _dues(app, plan["id"])[0][3] == "done"


# The API's checks and scope ------------------------------------------------------------------

@pytest.mark.parametrize(("extra", "field"), [
    ({"recurrence": {"every_days": 0}}, "recurrence"),
    ({"recurrence": {"monthly": 1}}, "recurrence"),
    ({"checklist": "test-mystery"}, "checklist"),
    ({"window_days": 0}, "window_days"),
    ({"ends_on": "2000-01-01"}, "ends_on"),
    ({"tag": "Z"}, "tag"),
    ({"name": "  "}, "name"),
])
def test_a_wrong_plan_is_refused_naming_the_field(client, world, extra, field):
    answer = client.post("/api/v1/plans", json=_plan_body(world, **extra), headers=_h(world))
    assert answer.status_code == 422, answer.json
    assert field in str(answer.json["errors"])


def test_stores_and_supervisors_of_another_region_are_refused(client, world):
    for extra, field in (({"store_ids": [world["west_store"].id]}, "store_ids"),
                         ({"supervisor_id": world["west_supervisor"].id}, "supervisor_id")):
        answer = client.post("/api/v1/plans", json=_plan_body(world, **extra), headers=_h(world))
        assert answer.status_code == 422 and field in str(answer.json["errors"])
    west = client.post("/api/v1/plans", json=_plan_body(world, region_id=world["west"].id),
                       headers=_h(world))
    assert west.status_code == 404


def test_who_reads_and_who_plans(client, world):
    plan = _api_plan(client, world, store_ids=[world["store"].id])
    assert client.post("/api/v1/plans", json=_plan_body(world),
                       headers=_h(world, "supervisor")).status_code == 403
    assert client.patch(f"/api/v1/plans/{plan['id']}", json={"name": "x"},
                        headers=_h(world, "supervisor")).status_code == 403
    assert client.get(f"/api/v1/plans/{plan['id']}",
                      headers=_h(world, "supervisor")).status_code == 200
    assert client.get(f"/api/v1/plans/{plan['id']}",
                      headers=_h(world, "west_supervisor")).status_code == 404
    assert client.get("/api/v1/due-visits", headers=_h(world, "west_supervisor")).json == []
    for who in ("shopper",):
        assert client.get("/api/v1/plans", headers=_h(world, who)).status_code == 403
        assert client.get("/api/v1/due-visits", headers=_h(world, who)).status_code == 403


def test_a_supervisor_sees_its_own_due_visits_and_those_for_anyone(client, world):
    weekly = {"recurrence": {"every_days": 7}}
    _api_plan(client, world, store_ids=[world["store"].id], supervisor_id=world["supervisor"].id,
              **weekly)
    _api_plan(client, world, store_ids=[world["east_b"].id], **weekly)
    _api_plan(client, world, store_ids=[world["la"].id],
              supervisor_id=world["other_supervisor"].id, **weekly)
    seen = client.get("/api/v1/due-visits?to=" + _today().isoformat(),
                      headers=_h(world, "supervisor")).json
    assert {d["store"]["code"] for d in seen} == {"E1", "E2"}
    assert all(d["plan"]["name"] and d["checklist"] == "test-audit" for d in seen)
