"""No N+1: the SQL statements the visit list and the region report run do not grow with the
number of visits and stores."""

import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy import event

from supervision.db import db


@contextmanager
def counted(app):
    """Every SQL statement the app's engine sends while the block runs."""
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def fill(app, make_store, make_visit, region, author, stores: int, visits: int) -> None:
    """`visits` scored visits spread over `stores` new stores: one made and scored for real,
    the others its copies (scoring each would only make the test slow)."""
    from supervision.visits.models import Photo, Response, Visit

    made = [make_store(region) for _ in range(stores)]
    template_id = make_visit(made[0], author, started_at=datetime(2025, 3, 1, 9, tzinfo=UTC))
    with app.app_context():
        template = db.session.get(Visit, template_id)
        columns = {c.key: getattr(template, c.key) for c in Visit.__table__.columns}
        for n in range(1, visits):
            copy = Visit(**{**columns, "id": uuid.uuid4(), "store_id": made[n % stores].id,
                            "started_at": datetime(2025, 3, 1 + n % 27, 9, tzinfo=UTC)})
            copy.responses = [Response(item_id=r.item_id, value=r.value)
                              for r in template.responses]
            copy.photos = [Photo(id=uuid.uuid4(), item_id=copy.responses[0].item_id)]
            db.session.add(copy)
        db.session.commit()


def list_statements(app, client, headers) -> int:
    with counted(app) as statements:
        answer = client.get("/api/v1/visits?limit=200", headers=headers)
    assert answer.status_code == 200
    return len(answer.json), len(statements)


def test_the_visit_list_runs_the_same_queries_for_5_or_50_visits(
        app, client, make_region, make_store, make_user, make_visit, auth_headers):
    region = make_region()
    author, manager = make_user("supervisor", [region]), make_user("manager", [region])
    headers = auth_headers(manager)
    fill(app, make_store, make_visit, region, author, stores=2, visits=5)
    few, few_statements = list_statements(app, client, headers)
    fill(app, make_store, make_visit, region, author, stores=3, visits=45)
    many, many_statements = list_statements(app, client, headers)
    assert (few, many) == (5, 50)
    assert many_statements == few_statements <= 8


def region_statements(app, region_id) -> int:
    from supervision.reports.summaries import region_context
    from supervision.stores.models import Region

    with counted(app) as statements, app.app_context():
        region = db.session.get(Region, region_id)
        context = region_context(region, date(2025, 3, 1), date(2025, 3, 31), "zh",
                                 datetime(2025, 4, 1, tzinfo=UTC))
    return context["kpis"]["visits"], len(statements)


def test_the_region_report_runs_the_same_queries_for_few_or_many_stores_and_visits(
        app, make_region, make_store, make_user, make_visit):
    region = make_region()
    author = make_user("supervisor", [region])
    fill(app, make_store, make_visit, region, author, stores=2, visits=4)
    few, few_statements = region_statements(app, region.id)
    fill(app, make_store, make_visit, region, author, stores=8, visits=36)
    many, many_statements = region_statements(app, region.id)
    assert (few, many) == (4, 40)
    assert many_statements == few_statements <= 13  # 4 of them: the coverage section


def dashboard_statements(app, client, region_id, headers) -> tuple[int, int]:
    with counted(app) as statements:
        answer = client.get(f"/api/v1/dashboard?region_id={region_id}&from=2025-03-01"
                            "&to=2025-03-31", headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json["kpis"]["visits"], len(statements)


def test_the_dashboard_runs_the_same_queries_for_few_or_many_stores_and_visits(
        app, client, make_region, make_store, make_user, make_visit, auth_headers):
    region = make_region()
    author, manager = make_user("supervisor", [region]), make_user("manager", [region])
    fill(app, make_store, make_visit, region, author, stores=2, visits=4)
    few, few_statements = dashboard_statements(app, client, region.id, auth_headers(manager))
    fill(app, make_store, make_visit, region, author, stores=8, visits=36)
    many, many_statements = dashboard_statements(app, client, region.id, auth_headers(manager))
    assert (few, many) == (4, 40)
    assert few_statements == many_statements <= 20
