"""Mystery waves: proposals that never break a rule (property tests over random stores, shoppers,
histories and rules), and on both databases the wave's life — proposed unseen by shoppers,
adjusted within the rules, confirmed and notified."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supervision.plans.waves import (
    HOURS,
    day_kind,
    peak_count,
    propose,
    shares,
    slot_of,
    window,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


# The proposer, pure ------------------------------------------------------------------------------

@st.composite
def waves(draw):
    stores = draw(st.lists(st.integers(1, 60), min_size=1, max_size=25, unique=True))
    shoppers = draw(st.lists(st.integers(100, 130), max_size=8, unique=True))
    first = draw(st.dates(date(2027, 1, 1), date(2028, 12, 1)))
    days = [first + timedelta(days=n) for n in range(draw(st.integers(1, 40)))]
    lockout = draw(st.integers(0, 60))
    history = {}
    for _ in range(draw(st.integers(0, 30))):
        if not shoppers:
            break
        key = (draw(st.sampled_from(shoppers)), draw(st.sampled_from(stores)))
        history.setdefault(key, []).append(first + timedelta(days=draw(st.integers(-70, 70))))
    names = draw(st.lists(st.sampled_from(["咨询", "争议", "办理", "投诉"]), max_size=4,
                          unique=True))
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=max(len(names) - 1, 0),
                                max_size=max(len(names) - 1, 0))))
    bounds = [0, *cuts, 100]
    mix = {name: bounds[n + 1] - bounds[n] for n, name in enumerate(names)}
    rules = {"lockout_days": lockout, "peak_percent": draw(st.integers(0, 100))}
    return stores, shoppers, history, days, rules, mix, draw(st.integers(0, 2**31))


@settings(max_examples=300, deadline=None)
@given(waves())
def test_proposals_never_break_a_rule(wave):
    stores, shoppers, history, days, rules, mix, seed = wave
    proposals, unfilled = propose(stores, shoppers, history, days, rules, mix, seed)
    placed = [p.store_id for p in proposals]
    # one visit per store at most; every store either placed or reported with a reason
    assert len(placed) == len(set(placed))
    assert sorted(placed + [u["store_id"] for u in unfilled]) == sorted(stores)
    assert all(u["reason"] in ("no_shopper", "no_day", "lockout") for u in unfilled)
    peaks = peak_count(len(stores), rules["peak_percent"])
    assert sum(p.slot == "peak" for p in proposals) <= peaks
    assert sum(p.slot == "offpeak" for p in proposals) <= len(stores) - peaks
    allowed = shares(len(stores), mix)
    for name, count in allowed.items():
        assert sum(p.scenario == name for p in proposals) <= count
    for p in proposals:
        assert p.shopper_id in shoppers
        assert p.day in days and (p.slot, day_kind(p.day)) in HOURS
        for other in history.get((p.shopper_id, p.store_id), ()):
            assert abs((p.day - other).days) >= rules["lockout_days"]


@settings(max_examples=150, deadline=None)
@given(waves())
def test_without_history_every_store_is_placed_and_loads_are_even(wave):
    stores, shoppers, _, days, rules, mix, seed = wave
    weekdays = any(day.weekday() < 5 for day in days)
    proposals, unfilled = propose(stores, shoppers, {}, days, rules, mix, seed)
    if shoppers and weekdays:
        assert unfilled == []
        loads = [sum(p.shopper_id == s for p in proposals) for s in shoppers]
        assert max(loads) - min(loads) <= 1
        assert sum(p.slot == "peak" for p in proposals) == peak_count(len(stores),
                                                                     rules["peak_percent"])
        if mix:
            assert sum(p.scenario is not None for p in proposals) == len(stores)
    assert propose(stores, shoppers, {}, days, rules, mix, seed) == (proposals, unfilled)


def test_shares_by_largest_remainder():
    assert shares(7, {"consultation": 60, "dispute": 40}) == {"consultation": 4, "dispute": 3}
    assert shares(3, {"a": 33.4, "b": 33.3, "c": 33.3}) == {"a": 1, "b": 1, "c": 1}
    assert shares(0, {"a": 100}) == {"a": 0}
    assert peak_count(5, 50) == 3 and peak_count(4, 50) == 2 and peak_count(5, 0) == 0


def test_windows_and_slots_in_the_store_zone():
    saturday, monday = date(2027, 3, 6), date(2027, 3, 8)
    start, end = window(saturday, "peak", "Asia/Shanghai")
    assert (start.astimezone(SHANGHAI).hour, end.astimezone(SHANGHAI).hour) == (10, 16)
    start, _ = window(monday, "offpeak", "Asia/Shanghai")
    assert start == datetime(2027, 3, 8, 6, tzinfo=UTC)  # 14:00 in Shanghai
    assert slot_of(start, "Asia/Shanghai") == "offpeak"
    assert slot_of(datetime(2027, 3, 8, 1, tzinfo=UTC), "Asia/Shanghai") is None  # 9:00
    assert slot_of(datetime(2027, 3, 8, 10, tzinfo=UTC), "Asia/Shanghai") == "peak"  # 18:00


# The wave's life, on both databases -----------------------------------------------------------

STORES = {f"s{n}": {"region": "east", "code": f"E{n}"} for n in range(1, 7)}


@pytest.fixture
def world(make_world, load_checklists):
    load_checklists()
    people = {"admin": "admin", "manager": ("manager", "east"),
              "west_manager": ("manager", "west"), "supervisor": ("supervisor", "east"),
              "shopper": ("shopper", "east"), "shopper2": ("shopper", "east"),
              "shopper3": ("shopper", "east"), "west_shopper": ("shopper", "west")}
    return make_world(stores={**STORES, "west_store": "west"}, people=people)


def _today():
    return datetime.now(SHANGHAI).date()


def _body(world, **extra):
    start = _today() + timedelta(days=1)
    return {"name": "2027 第一波 / wave 1", "region_id": world["east"].id,
            "checklist": "mystery-visit", "starts_on": start.isoformat(),
            "ends_on": (start + timedelta(days=27)).isoformat(),
            "scenario_mix": {"咨询 / consultation": 60, "争议 / dispute": 40},
            "rules": {"lockout_days": 30, "peak_percent": 50}, **extra}


def _create(client, world, **extra):
    answer = client.post("/api/v1/waves", json=_body(world, **extra),
                         headers=world["headers"]["manager"])
    assert answer.status_code == 201, answer.json
    return answer.json


def test_a_wave_proposes_a_visit_per_store_unseen_by_shoppers_until_confirmed(client, world):
    wave = _create(client, world)
    visits = wave["assignments"]
    assert wave["status"] == "draft" and wave["unfilled"] == []
    assert sorted(a["store"]["code"] for a in visits) == [f"E{n}" for n in range(1, 7)]
    assert {a["status"] for a in visits} == {"proposed"}
    assert sorted(a["slot"] for a in visits) == ["offpeak"] * 3 + ["peak"] * 3
    scenarios = sorted(a["scenario"] for a in visits)
    assert scenarios.count("咨询 / consultation") == 4 and scenarios.count("争议 / dispute") == 2
    loads = sorted(sum(a["shopper_id"] == world[s].id for a in visits)
                   for s in ("shopper", "shopper2", "shopper3"))
    assert loads == [2, 2, 2]
    for who in ("shopper", "shopper2", "shopper3"):
        mine = client.get("/api/v1/assignments", headers=world["headers"][who]).json
        assert mine == []
        assert client.get("/api/v1/notifications", headers=world["headers"][who]).json == []

    confirmed = client.post(f"/api/v1/waves/{wave['id']}/confirm",
                            headers=world["headers"]["manager"])
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert {a["status"] for a in confirmed.json["assignments"]} == {"planned"}
    again = client.post(f"/api/v1/waves/{wave['id']}/confirm",
                        headers=world["headers"]["manager"])
    assert again.status_code == 200
    seen = client.get("/api/v1/assignments", headers=world["headers"]["shopper"]).json
    assert len(seen) == 2 and all(a["wave_id"] == wave["id"] for a in seen)
    told = client.get("/api/v1/notifications", headers=world["headers"]["shopper"]).json
    assert sorted(n["kind"] for n in told) == ["assignment_created"] * 2


def test_the_lockout_keeps_a_shopper_from_a_store_visited_lately(client, world, make_visit, app):
    # shoppers 1 and 2 visited every store ten days ago: for the next fortnight (a lockout
    # of 30 days), only shopper 3 may go
    before = datetime.now(UTC) - timedelta(days=10)
    for name in STORES:
        for who in ("shopper", "shopper2"):
            make_visit(world[name], world[who], "mystery-visit", status="published",
                       started_at=before)
    two_weeks = (_today() + timedelta(days=14)).isoformat()
    wave = _create(client, world, ends_on=two_weeks)
    assert {a["shopper_id"] for a in wave["assignments"]} == {world["shopper3"].id}
    # a second wave over the same fortnight: shopper 3 is now locked out too (its proposals)
    second = _create(client, world, ends_on=two_weeks)
    assert second["assignments"] == []
    assert {u["reason"] for u in second["unfilled"]} == {"lockout"}


def test_a_proposal_adjusted_by_hand_keeps_the_rules(client, world, make_visit):
    wave = _create(client, world, rules={"lockout_days": 30, "peak_percent": 50,
                                         "shopper_ids": [world["shopper"].id,
                                                         world["shopper2"].id]})
    proposal = wave["assignments"][0]
    store = next(world[n] for n in STORES if world[n].id == proposal["store_id"])
    other = next(world[s] for s in ("shopper", "shopper2") if world[s].id != proposal["shopper_id"])
    headers = world["headers"]["manager"]
    path = f"/api/v1/assignments/{proposal['id']}"
    # not one of the wave's shoppers
    answer = client.patch(path, json={"shopper_id": world["shopper3"].id}, headers=headers)
    assert answer.status_code == 409 and "shopper_id" in answer.json["errors"]["json"]
    # the other shopper was at this store 5 days ago: the lockout
    make_visit(store, other, "mystery-visit", started_at=datetime.now(UTC) - timedelta(days=5))
    answer = client.patch(path, json={"shopper_id": other.id}, headers=headers)
    assert answer.status_code == 409 and "Lockout" in str(answer.json["errors"])
    # outside the period, and at no slot time
    late = datetime.combine(_today() + timedelta(days=60), datetime.min.time(), SHANGHAI)
    answer = client.patch(path, json={"window_start": late.replace(hour=18).isoformat(),
                                      "window_end": late.replace(hour=20).isoformat()},
                          headers=headers)
    assert answer.status_code == 409 and "window_start" in answer.json["errors"]["json"]
    # a fitting change is kept, with its slot
    day = _today() + timedelta(days=8)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), SHANGHAI).replace(hour=14)
    answer = client.patch(path, json={"window_start": start.isoformat(),
                                      "window_end": start.replace(hour=16).isoformat()},
                          headers=headers)
    assert answer.status_code == 200, answer.json
    assert answer.json["slot"] == "offpeak" and answer.json["status"] == "proposed"


@pytest.mark.parametrize(("extra", "field"), [
    ({"scenario_mix": {"a": 50, "b": 40}}, "scenario_mix"),
    ({"checklist": "storefront-audit"}, "checklist"),
    ({"ends_on": "2001-01-01"}, "ends_on"),
    ({"rules": {"lockout_days": -1}}, "lockout_days"),
    ({"rules": {"peak_percent": 101}}, "peak_percent"),
    ({"name": ""}, "name"),
])
def test_a_wrong_wave_is_refused_naming_the_field(client, world, extra, field):
    answer = client.post("/api/v1/waves", json=_body(world, **extra),
                         headers=world["headers"]["manager"])
    assert answer.status_code == 422 and field in str(answer.json["errors"])


def test_stores_and_shoppers_of_another_region_are_refused(client, world):
    for extra, field in (({"store_ids": [world["west_store"].id]}, "store_ids"),
                         ({"rules": {"shopper_ids": [world["west_shopper"].id]}},
                          "shopper_ids")):
        answer = client.post("/api/v1/waves", json=_body(world, **extra),
                             headers=world["headers"]["manager"])
        assert answer.status_code == 422 and field in str(answer.json["errors"])


def test_who_sees_waves(client, world):
    wave = _create(client, world)
    assert client.post("/api/v1/waves", json=_body(world),
                       headers=world["headers"]["west_manager"]).status_code == 404
    assert client.get(f"/api/v1/waves/{wave['id']}",
                      headers=world["headers"]["west_manager"]).status_code == 404
    for who in ("supervisor", "shopper"):
        assert client.get("/api/v1/waves", headers=world["headers"][who]).status_code == 403
        assert client.post(f"/api/v1/waves/{wave['id']}/confirm",
                           headers=world["headers"][who]).status_code == 403
    listed = client.get("/api/v1/waves", headers=world["headers"]["manager"]).json
    assert [w["id"] for w in listed] == [wave["id"]]
