"""Query days mean one thing everywhere (supervision.schemas.LocalDay): a calendar day of the
years 2000–2100 in the TIMEZONE setting (or the store's own zone for its report), `to`
included; anything else answers 422 JSON naming the field."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from supervision import create_app
from supervision.db import db
from tests.test_admin_pages import logged_in

DAY = date(2026, 3, 11)
ZONES = ["Asia/Shanghai", "America/Los_Angeles"]


@pytest.fixture(params=ZONES)
def zone(request):
    return request.param


@pytest.fixture
def app_config(app_config, zone):
    return {**app_config, "TIMEZONE": zone}


@pytest.fixture
def world(app, make_region, make_store, make_user, auth_headers):
    region = make_region()
    admin = make_user("admin")
    return {"store": make_store(region), "region": region, "headers": auth_headers(admin),
            "manager": auth_headers(make_user("manager", [region])),
            "page": logged_in(app.test_client(), admin)}


def day_paths(world) -> list[tuple[str, str]]:
    """(path, who) of every endpoint whose query names days."""
    store, region = world["store"].id, world["region"].id
    return [
        ("/api/v1/visits", "headers"), ("/api/v1/disputes", "headers"),
        ("/api/v1/admin/audit", "headers"),
        *((f"/api/v1/exports/{what}.csv", "headers") for what in
          ("visits", "answers", "actions", "disputes")),
        ("/api/v1/exports/visits.xlsx", "headers"),
        ("/admin/exports?what=visits&fmt=csv", "page"),
        (f"/api/v1/stores/{store}/report.pdf", "manager"),
        (f"/api/v1/stores/{store}/report.html", "manager"),
        (f"/api/v1/regions/{region}/report.pdf", "manager"),
        (f"/api/v1/regions/{region}/report.html", "manager"),
    ]


@pytest.mark.parametrize(("query", "field"), [
    ("to=9999-12-31", "to"), ("from=1999-12-31", "from"), ("from=0001-01-01", "from"),
    ("to=2026-02-30", "to"), ("from=2026-03-01T00:00:00%2B08:00", "from"),
])
def test_a_day_out_of_range_or_malformed_answers_422_naming_the_field(client, world, query,
                                                                     field):
    for path, who in day_paths(world):
        joiner = "&" if "?" in path else "?"
        if who == "page":  # the pages know their user by the session cookie
            answer = world["page"].get(f"{path}{joiner}{query}")
        else:
            answer = client.get(f"{path}{joiner}{query}", headers=world[who])
        assert answer.status_code == 422, (path, answer.status_code)
        assert answer.is_json, path
        assert field in answer.json["errors"]["query"], path
        assert answer.json["message"].startswith(f"{field}: "), path


def test_an_empty_day_is_no_day(client, world):
    answer = client.get("/api/v1/exports/visits.csv?from=&to=", headers=world["headers"])
    assert answer.status_code == 200


def local(day: date, hour: int, minute: int, zone: str) -> datetime:
    return datetime.combine(day, time(hour, minute), ZoneInfo(zone))


@pytest.mark.parametrize("at", [time(23, 30), time(0, 30)], ids=["23:30", "00:30"])
def test_a_visit_belongs_to_its_local_day(app, client, world, zone, make_store, make_user,
                                          make_visit, at):
    """Late in the evening and just after midnight, local time: the day is the local one."""
    store = make_store(world["region"], timezone=zone)
    started = datetime.combine(DAY, at, ZoneInfo(zone))
    visit_id = str(make_visit(store, make_user("supervisor", [world["region"]]),
                              started_at=started))
    after, before = DAY + timedelta(days=1), DAY - timedelta(days=1)
    expected = {f"to={DAY}": True, f"from={DAY}": True, f"from={DAY}&to={DAY}": True,
                f"from={after}": False, f"to={before}": False}
    for query, included in expected.items():
        listed = client.get(f"/api/v1/visits?{query}", headers=world["headers"]).json
        assert (visit_id in {v["id"] for v in listed}) is included, ("list", query)
        export = client.get(f"/api/v1/exports/visits.csv?{query}", headers=world["headers"])
        assert (visit_id in export.get_data(as_text=True)) is included, ("export", query)
    with app.app_context():
        from supervision.reports.period import Period, visit_rows

        def reported(first: date, last: date) -> bool:
            return visit_id in {v["id"] for v in visit_rows([store.id], Period(first, last, zone))}

        assert reported(before, DAY) and reported(DAY, DAY) and not reported(after, after)


def test_a_dispute_belongs_to_its_local_day(app, client, world, zone):
    from supervision.followup.models import Dispute

    received = local(DAY, 23, 30, zone)
    with app.app_context():
        db.session.add(Dispute(store_id=world["store"].id, reference="D-LATE", category="service",
                               matter="账单有误", first_handler="王", received_at=received,
                               due_at=received + timedelta(hours=1)))
        db.session.commit()
    after = DAY + timedelta(days=1)
    for query, included in {f"to={DAY}": True, f"from={after}": False}.items():
        listed = client.get(f"/api/v1/disputes?{query}", headers=world["headers"]).json
        assert ("D-LATE" in {d["reference"] for d in listed}) is included, query


def test_new_stores_get_the_timezone_setting(client, world, zone):
    body = {"code": "NEW1", "name": "新店", "region_id": world["region"].id}
    created = client.post("/api/v1/admin/stores", json=body, headers=world["headers"])
    assert created.status_code == 201 and created.json["timezone"] == zone
    wrong = client.post("/api/v1/admin/stores", headers=world["headers"],
                        json={**body, "code": "NEW2", "timezone": "Mars/Olympus"})
    assert wrong.status_code == 422
    assert wrong.json["errors"]["json"]["timezone"] == [
        f"Unknown time zone; use a name like {zone}."]


def test_an_unknown_timezone_setting_stops_the_start(app_config):
    with pytest.raises(ZoneInfoNotFoundError):
        create_app({**app_config, "TIMEZONE": "Mars/Olympus"})
