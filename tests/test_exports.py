"""Exports: columns and row counts against the database in CSV and XLSX, manager scoping,
periods, and streaming with bounded memory over 100 000 answers."""

import csv
import io
import tracemalloc
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from supervision.admin.exports import (
    ACTION_COLUMNS,
    ANSWER_COLUMNS,
    DISPUTE_COLUMNS,
    VISIT_COLUMNS,
)
from supervision.db import db
from supervision.followup.models import Action, Dispute
from supervision.visits.models import Response, Visit
from tests.admin_data import CHECKLIST_V1

COLUMNS = {"visits": VISIT_COLUMNS, "answers": ANSWER_COLUMNS, "actions": ACTION_COLUMNS,
           "disputes": DISPUTE_COLUMNS}
MARCH = datetime(2026, 3, 10, 2, 30, tzinfo=UTC)


def read(response, fmt: str) -> list[list]:
    """The rows of a downloaded export, header first, every cell as text."""
    if fmt == "csv":
        text = response.get_data().decode("utf-8")
        assert text.startswith("\ufeff")
        return list(csv.reader(io.StringIO(text[1:])))
    sheet = load_workbook(io.BytesIO(response.get_data())).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def add_visit(version_id, store, author, started_at, answers, status="published"):
    """A scored visit of the admin test checklist, stored directly."""
    from supervision.checklists.models import ChecklistVersion
    from supervision.checklists.services import definition_of
    from supervision.visits.snapshot import freeze_score

    definition = definition_of(db.session.get(ChecklistVersion, version_id))
    visit = Visit(id=uuid.uuid4(), store_id=store.id, checklist_version_id=version_id,
                  kind="audit", status=status, author_id=author.id, started_at=started_at,
                  responses=[Response(item_id=k, value=v) for k, v in answers.items()])
    freeze_score(visit, definition)
    db.session.add(visit)
    return visit.id


@pytest.fixture
def world(app, make_world):
    from supervision.checklists.services import add_version

    world = make_world(
        regions={"east": {"name": "华东"}, "west": {"name": "华西"}},
        stores={"e1": {"region": "east", "code": "E1", "name": "东一营业厅"},
                "w1": {"region": "west", "code": "W1", "name": "西一营业厅"}},
        people={"admin": "admin", "manager": ("manager", "east"),
                "supervisor": ("supervisor", "east", "west")})
    e1, w1, supervisor = world["e1"], world["w1"], world["supervisor"]
    good, slow = {"greet_10s": True, "queue_minutes": 5}, {"greet_10s": False, "queue_minutes": 25}
    with app.app_context():
        version_id = add_version(CHECKLIST_V1, "v1.yaml")[0].id
        visits = [add_visit(version_id, e1, supervisor, MARCH, good),
                  add_visit(version_id, e1, supervisor, MARCH + timedelta(days=1), slow),
                  add_visit(version_id, w1, supervisor, MARCH, good),
                  add_visit(version_id, w1, supervisor, MARCH - timedelta(days=60), good),
                  add_visit(version_id, e1, supervisor, MARCH, good, status="draft")]
        for store, visit in ((e1, visits[0]), (w1, visits[2]), (w1, None)):
            db.session.add(Action(store_id=store.id, visit_id=visit, title="=HYPERLINK(\"x\")",
                                  owner="店长", due_date=date(2026, 3, 20), created_at=MARCH))
        for n, store in enumerate((e1, w1, w1)):
            db.session.add(Dispute(store_id=store.id, reference=f"D-{n}", category="service",
                                   matter="顾客对话费有异议", first_handler="张三",
                                   received_at=MARCH, due_at=MARCH + timedelta(days=1),
                                   customer_name="不应导出"))
        db.session.commit()
    return {**world, "visits": visits}


def expected_count(app, what: str, region_ids=None) -> int:
    """The rows in March 2026 counted straight from the tables."""
    from supervision.stores.models import Store

    start, end = datetime(2026, 2, 28, 16, tzinfo=UTC), datetime(2026, 3, 31, 16, tzinfo=UTC)
    model, column = {"visits": (Visit, Visit.started_at), "answers": (Visit, Visit.started_at),
                     "actions": (Action, Action.created_at),
                     "disputes": (Dispute, Dispute.received_at)}[what]
    query = select(func.count()).select_from(model).join(Store, Store.id == model.store_id)
    if what == "answers":
        query = query.join(Response, Response.visit_id == Visit.id)
    if model is Visit:
        query = query.where(Visit.status != "draft")
    query = query.where(column >= start, column < end)
    if region_ids is not None:
        query = query.where(Store.region_id.in_(region_ids))
    with app.app_context():
        return db.session.scalar(query)


@pytest.mark.parametrize("what", ["visits", "answers", "actions", "disputes"])
def test_export_columns_and_rows_match_the_database(app, client, world, auth_headers, what):
    for fmt, mimetype in (("csv", "text/csv"), ("xlsx", "application/vnd.openxmlformats")):
        response = client.get(f"/api/v1/exports/{what}.{fmt}?from=2026-03-01&to=2026-03-31",
                              headers=auth_headers(world["admin"]))
        assert response.status_code == 200 and response.mimetype.startswith(mimetype)
        assert response.headers["Content-Disposition"] == (
            f'attachment; filename="{what}-2026-03-01-2026-03-31.{fmt}"')
        header, *rows = read(response, fmt)
        assert tuple(header) == COLUMNS[what]
        assert len(rows) == expected_count(app, what) > 0
        assert all(len(row) == len(header) for row in rows)


@pytest.mark.parametrize("what", ["visits", "answers", "actions", "disputes"])
def test_manager_export_holds_only_its_regions(app, client, world, auth_headers, what):
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/api/v1/exports/{what}.{fmt}?from=2026-03-01&to=2026-03-31",
                              headers=auth_headers(world["manager"]))
        header, *rows = read(response, fmt)
        assert {row[header.index("region_code")] for row in rows} == {"EAST"}
        assert len(rows) == expected_count(app, what, [world["east"].id])


def test_answers_carry_item_texts_and_scores(client, world, auth_headers):
    response = client.get("/api/v1/exports/answers.csv?from=2026-03-11&to=2026-03-11",
                          headers=auth_headers(world["admin"]))
    header, *rows = read(response, "csv")
    by_item = {row[header.index("item")]: dict(zip(header, row, strict=True)) for row in rows}
    assert set(by_item) == {"greet_10s", "queue_minutes"}
    greet, queue = by_item["greet_10s"], by_item["queue_minutes"]
    assert greet["visit_id"] == str(world["visits"][1])
    assert greet["value"] == "false" and greet["item_status"] == "failed"
    assert greet["item_text_zh"] == "顾客进厅10秒内主动问候"
    assert greet["section"] == "service" and greet["moment"] == "arrival"
    assert greet["started_at"] == "2026-03-11T10:30:00+08:00"
    assert float(greet["earned"]) == 0 and float(greet["possible"]) > 0
    assert queue["value"] == "25" and float(queue["fraction"]) == 0


def test_text_that_looks_like_a_formula_stays_text(client, world, auth_headers):
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/api/v1/exports/actions.{fmt}",
                              headers=auth_headers(world["admin"]))
        header, *rows = read(response, fmt)
        assert {row[header.index("title")] for row in rows} == {"'=HYPERLINK(\"x\")"}


def test_disputes_leave_out_the_customer(client, world, auth_headers):
    response = client.get("/api/v1/exports/disputes.csv", headers=auth_headers(world["admin"]))
    assert "不应导出" not in response.get_data(as_text=True)
    assert "顾客对话费有异议" in response.get_data(as_text=True)


# Every free text column the exports read (statuses and kinds are the code's own words).
STORED_TEXT = {"regions": ("code", "name"), "stores": ("code", "name"), "users": ("email",),
               "checklists": ("slug",), "visits": ("grade",), "responses": ("note", "staff"),
               "actions": ("item_id", "title", "owner"),
               "disputes": ("reference", "matter", "customer_request", "first_handler",
                            "result")}


def store_bad_text(app) -> None:
    """Control characters around every stored text, as text stored before they were refused;
    the item texts of the checklist version too."""
    from sqlalchemy import literal, update
    from sqlalchemy.orm.attributes import flag_modified

    from supervision.checklists.models import ChecklistVersion

    with app.app_context():
        for name, columns in STORED_TEXT.items():
            table = db.metadata.tables[name]
            db.session.execute(update(table).values({
                column: literal("\x0b").concat(table.c[column]).concat("\x1f\x7f")
                for column in columns}))
        for version in db.session.scalars(select(ChecklistVersion)):
            for section in version.definition["sections"]:
                for item in section["items"]:
                    item["text"] = {lang: f"\x08{text}\x0c" for lang, text in item["text"].items()}
            flag_modified(version, "definition")
        db.session.commit()


@pytest.mark.parametrize("what", ["visits", "answers", "actions", "disputes"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_stored_control_characters_never_break_an_export(app, client, world, auth_headers, what,
                                                         fmt):
    with app.app_context():  # the columns that are empty in the world hold text too
        db.session.execute(Response.__table__.update().values(note="门口有杂物", staff="王芳"))
        db.session.execute(Dispute.__table__.update().values(customer_request="退费",
                                                             result="已退费"))
        db.session.execute(Action.__table__.update().values(item_id="greet_10s"))
        db.session.commit()
    path, headers = f"/api/v1/exports/{what}.{fmt}", auth_headers(world["admin"])
    clean = read(client.get(path, headers=headers), fmt)
    store_bad_text(app)
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200
    assert read(answer, fmt) == clean
    assert len(clean) > 1


@pytest.mark.parametrize(("query", "status"), [
    ("?from=March", 422), ("?to=2026-03-01T00:00:00", 422),
    # Query days are days (supervision.schemas.LocalDay): a time, even with its offset, is not.
    ("?from=2026-03-01T00:00:00%2B08:00", 422), ("?from=2026-03-01&to=", 200),
])
def test_period_values(client, make_user, auth_headers, query, status):
    response = client.get(f"/api/v1/exports/visits.csv{query}",
                          headers=auth_headers(make_user("admin")))
    assert response.status_code == status


@pytest.mark.parametrize(("role", "path", "status"), [
    ("supervisor", "/api/v1/exports/visits.csv", 403),
    ("admin", "/api/v1/exports/photos.csv", 404),
    ("admin", "/api/v1/exports/visits.pdf", 404),
])
def test_who_and_what_may_be_exported(client, world, auth_headers, role, path, status):
    assert client.get(path, headers=auth_headers(world[role])).status_code == status


BIG_VISITS, ITEMS_PER_VISIT = 2000, 50


def big_checklist() -> str:
    items = "".join(
        f"      - {{id: item_{n:02d}, moment: arrival, type: yes_no, kano: performance, "
        f"text: {{zh: 第{n}项检查, en: Check number {n}}}}}\n" for n in range(ITEMS_PER_VISIT))
    return ("slug: big-export\ntitle: {zh: 大检查表, en: Big checklist}\nkind: audit\n"
            "sections:\n  - id: all\n    function: service\n    title: {zh: 全部, en: All}\n"
            f"    items:\n{items}")


@pytest.fixture
def hundred_thousand_answers(app, make_region, make_store, make_user):
    """2 000 scored visits of 50 answers each, written with bulk inserts."""
    from supervision.checklists.services import add_version, definition_of
    from supervision.scoring import score_visit

    store, author = make_store(make_region()), make_user("supervisor")
    with app.app_context():
        version, _ = add_version(big_checklist(), "big.yaml")
        definition = definition_of(version)
        answers = {item.id: {"value": n % 3 > 0} for n, (_, item) in enumerate(definition.items())}
        score = score_visit(definition, answers).to_dict()
        ids = [uuid.uuid4() for _ in range(BIG_VISITS)]
        db.session.execute(insert(Visit), [
            {"id": i, "store_id": store.id, "checklist_version_id": version.id, "kind": "audit",
             "status": "published", "author_id": author.id, "started_at": MARCH, "score": score,
             "total": score["total"], "grade": score["grade"]["id"], "red_line": False,
             "moments": [], "flags": []} for i in ids])
        db.session.execute(insert(Response), [
            {"visit_id": i, "item_id": item, "value": answer["value"], "na": False}
            for i in ids for item, answer in answers.items()])
        db.session.commit()
    return BIG_VISITS * ITEMS_PER_VISIT


# On PostgreSQL only: there the rows come through a server-side cursor, the case that matters
# for large databases; tracemalloc slows the run sevenfold, so it is not repeated on SQLite.
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_large_export_streams_in_bounded_memory(client, make_user, auth_headers,
                                                  hundred_thousand_answers):
    headers = auth_headers(make_user("admin"))
    tracemalloc.start()
    try:
        response = client.get("/api/v1/exports/answers.csv", headers=headers, buffered=False)
        assert response.is_streamed
        lines = 0
        for chunk in response.response:
            lines += chunk.count(b"\n")
        response.close()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines == hundred_thousand_answers + 1
    # Holding the 100 000 rows would take well over 100 MB; a batch takes a few.
    assert peak < 25 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB"
