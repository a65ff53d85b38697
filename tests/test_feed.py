"""The incremental feed: pages in commit order behind a cursor, tombstones for what left the
caller's view, CSV with stable columns, and nothing skipped or repeated while visits change."""

import csv
import io
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from supervision.admin.exports import ACTION_COLUMNS, VISIT_COLUMNS
from supervision.db import db
from supervision.followup.models import Action
from supervision.visits.models import Visit
from tests.test_api_keys import create_key, key_headers


def feed(client, headers, kind="visits", **args) -> dict:
    response = client.get(f"/api/v1/feed/{kind}", query_string=args, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def read_all(client, headers, kind="visits", cursor=None, limit=2) -> tuple[list, str | None]:
    """Every page from `cursor` on; the items and the last cursor."""
    items = []
    while True:
        page = feed(client, headers, kind, limit=limit, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return items, cursor


def set_values(app, visit_id, **values) -> None:
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        for name, value in values.items():
            setattr(visit, name, value)
        db.session.commit()


def test_pages_follow_the_commits_and_a_change_comes_again(app, client, make_world, make_visit):
    world = make_world()
    headers = world["headers"]["manager"]
    visits = [make_visit(world["store"], world["supervisor"]) for _ in range(5)]
    make_visit(world["west_store"], world["supervisor"])  # not the manager's region
    make_visit(world["store"], world["supervisor"], status="draft")  # never in the feed
    items, cursor = read_all(client, headers)
    assert [item["visit_id"] for item in items] == [str(v) for v in visits]
    columns = [*VISIT_COLUMNS, "changed_at", "removed", "removed_reason", "cursor"]
    assert feed(client, headers)["columns"] == columns and set(items[0]) == set(columns)
    assert len({item["cursor"] for item in items}) == 5 and cursor == items[-1]["cursor"]
    assert not any(item["removed"] for item in items)
    nothing = feed(client, headers, cursor=cursor)
    assert nothing == {"columns": nothing["columns"], "items": [], "next_cursor": cursor,
                       "has_more": False}
    set_values(app, visits[1], total=12.5)
    with app.app_context():  # an answer changed: its visit changed
        answer = db.session.get(Visit, visits[3]).responses[0]
        answer.note = "补充说明"
        db.session.commit()
    again, _ = read_all(client, headers, cursor=cursor)
    assert [(item["visit_id"], item["total"]) for item in again] == [
        (str(visits[1]), 12.5), (str(visits[3]), again[1]["total"])]


def test_updated_since_starts_at_a_time(app, client, make_world, make_visit):
    world = make_world()
    old = make_visit(world["store"], world["supervisor"])
    with app.app_context():
        stamped = db.session.get(Visit, old).changed_at
    later = make_visit(world["store"], world["supervisor"])
    since = (stamped + timedelta(microseconds=1)).isoformat()
    page = feed(client, world["headers"]["manager"], updated_since=since)
    assert [item["visit_id"] for item in page["items"]] == [str(later)]
    bad = client.get("/api/v1/feed/visits", query_string={"cursor": "yesterday"},
                     headers=world["headers"]["manager"])
    assert bad.status_code == 422 and "cursor" in bad.json["errors"]["query"]
    bad = client.get("/api/v1/feed/visits", query_string={"updated_since": "2025-01-01"},
                     headers=world["headers"]["manager"])
    assert bad.status_code == 422 and "updated_since" in bad.json["errors"]["query"]


def test_what_leaves_the_view_is_a_tombstone(app, client, make_world, make_visit):
    world = make_world()
    audit = make_visit(world["store"], world["supervisor"])
    mystery = make_visit(world["store"], world["shopper"], slug="mystery-visit",
                         status="submitted")
    key = create_key(client, world)  # the store version
    items, cursor = read_all(client, key_headers(key))
    assert [(i["visit_id"], i["removed"], i["removed_reason"]) for i in items] == [
        (str(audit), False, None), (str(mystery), True, "not_visible")]
    assert items[1]["store_code"] is None and items[1]["total"] is None
    set_values(app, mystery, status="published", published_at=datetime.now(UTC))
    items, cursor = read_all(client, key_headers(key), cursor=cursor)
    assert [(i["visit_id"], i["removed"], i["author"]) for i in items] == [
        (str(mystery), False, None)]  # a store never learns the shopper
    internal = create_key(client, world, access="internal")
    assert read_all(client, key_headers(internal))[0][1]["author"] == world["shopper"].email
    set_values(app, audit, excluded="reshop")
    items, _ = read_all(client, key_headers(key), cursor=cursor)
    assert [(i["visit_id"], i["removed"], i["removed_reason"]) for i in items] == [
        (str(audit), True, "excluded_reshop")]
    answers, _ = read_all(client, key_headers(key), kind="answers", limit=5)
    assert {a["visit_id"] for a in answers if not a["removed"]} == {str(mystery)}
    assert [a["visit_id"] for a in answers if a["removed"]] == [str(audit)]
    assert all(a["item"] for a in answers if not a["removed"])


def test_actions_and_disputes_and_csv(app, client, make_world, make_visit):
    world = make_world()
    visit = make_visit(world["store"], world["supervisor"])
    headers = world["headers"]["supervisor"]
    body = {"store_id": world["store"].id, "visit_id": str(visit), "title": "门口地面清洁",
            "due_date": "2030-01-31", "owner": "王芳"}
    assert client.post("/api/v1/actions", json=body, headers=headers).status_code == 201
    items, cursor = read_all(client, world["headers"]["manager"], kind="actions")
    assert [(i["title"], i["status"]) for i in items] == [("门口地面清洁", "agreed")]
    with app.app_context():
        action = db.session.scalars(select(Action)).one()
        action.status, action.done_note = "done", "已清洁"
        db.session.commit()
        action_id = action.id
    response = client.get("/api/v1/feed/actions", query_string={"cursor": cursor},
                          headers={**world["headers"]["manager"], "Accept": "text/csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [*ACTION_COLUMNS, "changed_at", "removed", "removed_reason", "cursor"]
    assert [(row[0], row[8]) for row in rows[1:]] == [(str(action_id), "done")]
    assert response.headers["X-Next-Cursor"] == rows[1][-1] != cursor
    assert response.headers["X-Has-More"] == "false"
    assert f"cursor={rows[1][-1]}" in response.headers["Link"]
    dispute = {"store_id": world["store"].id, "category": "service", "matter": "话费多扣",
               "first_handler": "王芳", "received_at": datetime.now(UTC).isoformat(),
               "customer_name": "李先生", "customer_contact": "13800000000"}
    assert client.post("/api/v1/disputes", json=dispute, headers=headers).status_code == 201
    page = client.get("/api/v1/feed/disputes", query_string={"format": "csv"},
                      headers=world["headers"]["manager"])
    text = page.get_data(as_text=True)
    assert "话费多扣" in text and "李先生" not in text and "13800000000" not in text


def test_roles_of_the_feed(app, client, make_world, make_visit):
    world = make_world({"east": {}, "west": {}}, people={
        "manager": ("manager", "east"), "supervisor": ("supervisor", "east"),
        "shopper": ("shopper", "east"), "boss": {"role": "store_manager", "stores": ["store"]},
        "admin": "admin"})
    make_visit(world["store"], world["supervisor"])
    make_visit(world["west_store"], world["supervisor"])
    for role, count in (("admin", 2), ("manager", 1), ("supervisor", 1)):
        assert len(feed(client, world["headers"][role])["items"]) == count, role
    for role in ("shopper", "boss"):
        response = client.get("/api/v1/feed/visits", headers=world["headers"][role])
        assert response.status_code == 403


def test_nothing_skipped_or_repeated_while_visits_change(app, client, make_world, make_visit):
    """Writers keep changing visits on their own connections while a reader pages through the
    feed: each page's cursors follow the last page's, and once the writers stop, the last record
    read of each visit is the visit as it is."""
    world = make_world()
    visits = [make_visit(world["store"], world["supervisor"]) for _ in range(6)]
    headers = world["headers"]["manager"]
    rounds = 25
    errors: list = []

    def write(offset: int) -> None:
        try:
            for n in range(rounds):
                with app.app_context():
                    for visit_id in visits[offset::2]:
                        db.session.get(Visit, visit_id).total = float(n * 10 + offset)
                    db.session.commit()
        except Exception as error:  # reported by the test below
            errors.append(error)

    writers = [threading.Thread(target=write, args=(offset,)) for offset in (0, 1)]
    for writer in writers:
        writer.start()
    seen: list[dict] = []
    cursor = None
    while any(w.is_alive() for w in writers) or not seen or feed(
            client, headers, cursor=cursor)["items"]:
        page = feed(client, headers, limit=3, **({"cursor": cursor} if cursor else {}))
        seen += page["items"]
        cursor = page["next_cursor"] or cursor
    for writer in writers:
        writer.join()
    assert not errors
    more, cursor = read_all(client, headers, cursor=cursor)
    seen += more
    order = [tuple(map(_part, item["cursor"].split("."))) for item in seen]
    assert order == sorted(order) and len(set(order)) == len(order)  # nothing repeated
    last = {item["visit_id"]: item["total"] for item in seen}
    with app.app_context():
        now = {str(v.id): v.total for v in db.session.scalars(select(Visit))}
    assert last == now  # nothing skipped: the last change of each visit was read
    assert set(now.values()) == {float((rounds - 1) * 10), float((rounds - 1) * 10 + 1)}


def _part(text: str):
    return int(text) if text.isdigit() else text
