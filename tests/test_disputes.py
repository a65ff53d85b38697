"""Dispute records (争议记录单): due times by class in the store's zone, callbacks, scope."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from supervision.followup.duedates import action_due, dispute_due, is_overdue_date

SH = "Asia/Shanghai"
NY = "America/New_York"
BERLIN = "Europe/Berlin"


def at(text: str, tz: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz))


@pytest.mark.parametrize(("category", "received", "tz", "due"), [
    # service: the same local day, to 23:59:59
    ("service", "2024-03-08 15:00", SH, "2024-03-08 23:59:59"),
    ("service", "2024-03-08 00:00", SH, "2024-03-08 23:59:59"),
    ("service", "2024-03-08 23:59", NY, "2024-03-08 23:59:59"),
    # return: 2 calendar days — Friday → Sunday, across the month end, leap and common years
    ("return", "2024-03-08 10:00", SH, "2024-03-10 23:59:59"),
    ("return", "2024-01-30 18:00", SH, "2024-02-01 23:59:59"),
    ("return", "2024-02-28 09:00", SH, "2024-03-01 23:59:59"),
    ("return", "2023-02-28 09:00", SH, "2023-03-02 23:59:59"),
    ("return", "2024-12-30 09:00", SH, "2025-01-01 23:59:59"),
    # New York switches to summer time on Sunday 2024-03-10: the due time keeps 23:59:59 local
    ("return", "2024-03-08 15:00", NY, "2024-03-10 23:59:59"),
    # Berlin returns to winter time on Sunday 2024-10-27
    ("return", "2024-10-25 15:00", BERLIN, "2024-10-27 23:59:59"),
    # quality check: 15 calendar days, ending on a Sunday in the next month
    ("quality_check", "2024-01-20 11:00", SH, "2024-02-04 23:59:59"),
    ("quality_check", "2024-04-30 20:00", NY, "2024-05-15 23:59:59"),
    # factory repair: 30 calendar days from the last day of January
    ("factory_repair", "2024-01-31 16:00", SH, "2024-03-01 23:59:59"),
    ("factory_repair", "2023-01-31 16:00", SH, "2023-03-02 23:59:59"),
    ("factory_repair", "2024-08-31 16:00", BERLIN, "2024-09-30 23:59:59"),
])
def test_dispute_due_times(category, received, tz, due):
    assert dispute_due(category, at(received, tz), tz) == at(due, tz)


@pytest.mark.parametrize(("received_utc", "tz", "due"), [
    # 17:30 UTC on 31 January is already 1 February in Shanghai: the store's day counts
    ("2024-01-31T17:30:00+00:00", SH, "2024-02-01 23:59:59"),
    # 03:30 UTC on 9 March is still the evening of 8 March in New York
    ("2024-03-09T03:30:00+00:00", NY, "2024-03-08 23:59:59"),
])
def test_the_local_day_of_the_store_counts_not_the_utc_day(received_utc, tz, due):
    assert dispute_due("service", datetime.fromisoformat(received_utc), tz) == at(due, tz)


def test_due_times_are_utc_and_honour_summer_time():
    due = dispute_due("return", at("2024-03-08 15:00", NY), NY)
    assert due.tzinfo == UTC
    assert due == datetime(2024, 3, 11, 3, 59, 59, tzinfo=UTC)  # 23:59:59 EDT (UTC−4)
    winter = dispute_due("service", at("2024-03-08 15:00", NY), NY)
    assert winter == datetime(2024, 3, 9, 4, 59, 59, tzinfo=UTC)  # 23:59:59 EST (UTC−5)


def test_emergencies_have_no_computed_due_time():
    assert dispute_due("emergency", at("2024-03-08 15:00", SH), SH) is None
    with pytest.raises(KeyError):
        dispute_due("complaint", at("2024-03-08 15:00", SH), SH)


@pytest.mark.parametrize(("kind", "found", "tz", "due"), [
    # red line within 24 h, must-be within 48 h, others within 7 days (calendar days)
    ("red_line", "2024-03-29 16:00", SH, date(2024, 3, 30)),
    ("must_be", "2024-03-29 16:00", SH, date(2024, 3, 31)),
    ("other", "2024-03-29 16:00", SH, date(2024, 4, 5)),
    ("red_line", "2024-12-30 23:30", NY, date(2024, 12, 31)),  # the store's day, not UTC's
])
def test_action_due_dates(kind, found, tz, due):
    assert action_due(kind, at(found, tz), tz) == due


def test_an_action_is_overdue_once_its_local_day_is_over():
    due = date(2024, 3, 8)
    assert not is_overdue_date(due, at("2024-03-08 23:59", SH), SH)
    assert is_overdue_date(due, at("2024-03-09 00:00", SH), SH)
    # 16:30 UTC on 8 March is already 9 March in Shanghai, still 8 March in New York
    moment = datetime(2024, 3, 8, 16, 30, tzinfo=UTC)
    assert is_overdue_date(due, moment, SH)
    assert not is_overdue_date(due, moment, NY)
    assert not is_overdue_date(None, moment, SH)


# Through the API ------------------------------------------------------------------------------



@pytest.fixture
def world(make_world):
    return make_world(
        stores={"store": {"region": "east", "timezone": SH, "manager_name": "王主任"},
                "ny_store": {"region": "east", "timezone": NY}, "west_store": "west"},
        people={"supervisor": ("supervisor", "east"), "manager": ("manager", "east"),
                "west_supervisor": ("supervisor", "west"), "shopper": ("shopper", "east")})


def _body(store, **values) -> dict:
    received = datetime.now(UTC) - timedelta(hours=1)
    return {"store_id": store.id, "category": "service",
            "matter": "对上月话费有异议 / disputes a charge", "first_handler": "李娜",
            "received_at": received.isoformat(),
            "customer_name": "张先生", "customer_contact": "138****0000", **values}


def _post(client, headers, body):
    return client.post("/api/v1/disputes", json=body, headers=headers)


@pytest.mark.parametrize(("category", "received", "due"), [
    ("service", "2024-03-08T15:00:00+08:00", "2024-03-08T15:59:59+00:00"),
    ("return", "2024-03-08T15:00:00+08:00", "2024-03-10T15:59:59+00:00"),
    ("quality_check", "2024-01-20T11:00:00+08:00", "2024-02-04T15:59:59+00:00"),
    ("factory_repair", "2024-01-31T16:00:00+08:00", "2024-03-01T15:59:59+00:00"),
])
def test_recording_a_dispute_computes_its_due_time(client, world, auth_headers, category,
                                                   received, due):
    response = _post(client, auth_headers(world["supervisor"]),
                     _body(world["store"], category=category, received_at=received))
    assert response.status_code == 201, response.json
    dispute = response.json
    assert datetime.fromisoformat(dispute["due_at"]) == datetime.fromisoformat(due)
    assert dispute["status"] == "open" and dispute["callbacks"] == []
    assert dispute["reference"].startswith("ZY-" + received[:10].replace("-", ""))
    assert dispute["complaint_class"] == ("service" if category == "service" else "quality")
    assert dispute["overdue"] is True  # 2024 is long past


def test_the_store_time_zone_decides_the_due_time(client, world, auth_headers):
    body = _body(world["ny_store"], category="return", received_at="2024-03-08T15:00:00-05:00")
    response = _post(client, auth_headers(world["manager"]), body)
    assert datetime.fromisoformat(response.json["due_at"]) == at("2024-03-10 23:59:59", NY)


def test_an_emergency_needs_its_due_time_stated(client, world, auth_headers):
    headers = auth_headers(world["supervisor"])
    missing = _post(client, headers, _body(world["store"], category="emergency"))
    assert missing.status_code == 422
    assert missing.json["errors"]["json"]["due_at"] == ["Required for an emergency."]
    due = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    stated = _post(client, headers, _body(world["store"], category="emergency",
                                          due_at=due.isoformat()))
    assert stated.status_code == 201
    assert datetime.fromisoformat(stated.json["due_at"]) == due
    assert stated.json["complaint_class"] == "emergency" and stated.json["overdue"] is False


@pytest.mark.parametrize(("change", "field"), [
    ({"category": "complaint"}, "category"),
    ({"matter": ""}, "matter"),
    ({"received_at": "2024-03-08T15:00:00"}, "received_at"),  # no offset
    ({"received_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "received_at"),
    ({"due_at": "2030-01-01T00:00:00+08:00"}, "due_at"),  # computed for a service complaint
    ({"promised_reply_at": "2000-01-01T00:00:00+08:00"}, "promised_reply_at"),
    ({"store_id": "one"}, "store_id"),
    ({"store_id": 2**40}, "store_id"),
    ({"received_at": "0001-01-01T00:00:00+01:00"}, "received_at"),
    ({"colour": "red"}, "colour"),
])
def test_bad_dispute_input_names_the_field(client, world, auth_headers, change, field):
    response = _post(client, auth_headers(world["supervisor"]), _body(world["store"], **change))
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert response.json["message"]


def test_callbacks_then_closing_with_the_result(app, client, world, auth_headers):
    headers = auth_headers(world["supervisor"])
    dispute = _post(client, headers, _body(world["store"], category="return")).json
    url = f"/api/v1/disputes/{dispute['id']}"
    callback = {"at": datetime.now(UTC).isoformat(), "by": "王主任",
                "outcome": "已致电，客户同意退款"}
    response = client.patch(url, json={"callback": callback}, headers=headers)
    assert response.status_code == 200
    assert [c["by"] for c in response.json["callbacks"]] == ["王主任"]
    second = {**callback, "by": "李娜", "outcome": "退款到账，客户满意"}
    assert len(client.patch(url, json={"callback": second}, headers=headers).json["callbacks"]) == 2

    no_result = client.patch(url, json={"status": "closed"}, headers=headers)
    assert no_result.status_code == 422 and "result" in no_result.json["errors"]["json"]
    closed = client.patch(url, json={"status": "closed", "result": "已退款 / refunded"},
                          headers=headers)
    assert closed.status_code == 200
    assert closed.json["status"] == "closed" and closed.json["closed_at"]
    assert closed.json["overdue"] is False
    again = client.patch(url, json={"callback": second}, headers=headers)
    assert again.status_code == 409
    assert len(client.get(url, headers=headers).json["callbacks"]) == 2

    from supervision.audit.models import AuditEntry
    from supervision.db import db

    with app.app_context():
        actions = db.session.scalars(db.select(AuditEntry.action).where(
            AuditEntry.entity == "dispute").order_by(AuditEntry.id)).all()
    assert actions == ["create", "callback", "callback", "close"]


@pytest.mark.parametrize(("callback", "field"), [
    ({"at": "2000-01-01T00:00:00+00:00", "by": "王", "outcome": "x"}, "at"),
    ({"at": "2999-01-01T00:00:00+00:00", "by": "王", "outcome": "x"}, "at"),
    ({"by": "王", "outcome": "x"}, "at"),
    ({"at": datetime.now(UTC).isoformat(), "by": "", "outcome": "x"}, "by"),
])
def test_bad_callbacks_are_refused(client, world, auth_headers, callback, field):
    headers = auth_headers(world["supervisor"])
    dispute = _post(client, headers, _body(world["store"])).json
    response = client.patch(f"/api/v1/disputes/{dispute['id']}", json={"callback": callback},
                            headers=headers)
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]["callback"]


def test_overdue_disputes_are_listed(client, world, auth_headers):
    headers = auth_headers(world["manager"])
    now = datetime.now(UTC)
    late = _post(client, headers, _body(world["store"], category="service",
                                        received_at=(now - timedelta(days=3)).isoformat())).json
    in_time = _post(client, headers, _body(world["store"], category="quality_check")).json
    closed = _post(client, headers, _body(world["store"], category="service",
                                          received_at=(now - timedelta(days=4)).isoformat())).json
    client.patch(f"/api/v1/disputes/{closed['id']}", json={"status": "closed", "result": "ok"},
                 headers=headers)
    overdue = client.get("/api/v1/disputes?overdue=true", headers=headers).json
    assert [d["id"] for d in overdue] == [late["id"]]
    not_overdue = client.get("/api/v1/disputes?overdue=false", headers=headers).json
    assert {d["id"] for d in not_overdue} == {in_time["id"], closed["id"]}
    assert client.get("/api/v1/disputes?overdue=maybe", headers=headers).status_code == 422


def test_reply_overdue_until_the_first_callback(client, world, auth_headers):
    headers = auth_headers(world["supervisor"])
    now = datetime.now(UTC)
    dispute = _post(client, headers, _body(
        world["store"], category="quality_check",
        received_at=(now - timedelta(hours=5)).isoformat(),
        promised_reply_at=(now - timedelta(hours=1)).isoformat())).json
    assert dispute["reply_overdue"] is True
    callback = {"at": now.isoformat(), "by": "李娜", "outcome": "告知检测进度"}
    updated = client.patch(f"/api/v1/disputes/{dispute['id']}", json={"callback": callback},
                           headers=headers).json
    assert updated["reply_overdue"] is False


def test_disputes_are_scoped(client, world, auth_headers):
    dispute = _post(client, auth_headers(world["supervisor"]), _body(world["store"])).json
    url = f"/api/v1/disputes/{dispute['id']}"
    shopper = auth_headers(world["shopper"])
    assert client.get("/api/v1/disputes", headers=shopper).status_code == 403
    assert client.get(url, headers=shopper).status_code == 403
    assert _post(client, shopper, _body(world["store"])).status_code == 403
    west = auth_headers(world["west_supervisor"])
    assert client.get("/api/v1/disputes", headers=west).json == []
    assert client.get(url, headers=west).status_code == 404
    assert client.patch(url, json={"result": "x"}, headers=west).status_code == 404
    assert _post(client, west, _body(world["store"])).status_code == 404
    listed = client.get(f"/api/v1/disputes?store_id={world['store'].id}",
                        headers=auth_headers(world["manager"])).json
    assert [d["id"] for d in listed] == [dispute["id"]]
