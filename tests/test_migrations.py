"""`flask db upgrade` builds the schema from empty, and the migrations agree with the models."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from supervision import create_app
from supervision.db import db
from tests.servers import create_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.db'}"
    return create_database(request.getfixturevalue("postgres_url"), "migrations_test")


def test_upgrade_from_empty_matches_the_models(empty_database, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x",
                      "PHOTO_DIR": str(tmp_path / "photos")})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"visits", "photos", "responses", "checklist_versions", "audit_log"} <= tables
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_the_score_digest_is_filled_in_for_visits_scored_before_it(empty_database, tmp_path):
    """f21a1c0de009 adds visits.score_digest and computes it from each frozen score."""
    import uuid
    from datetime import UTC, datetime
    from pathlib import Path

    from supervision.accounts.models import User
    from supervision.checklists.services import add_version, definition_of
    from supervision.scoring import score_visit
    from supervision.scoring.digest import digest_of
    from supervision.stores.models import Region, Store
    from supervision.visits.models import Visit

    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database, "SECRET_KEY": "x",
                      "PHOTO_DIR": str(tmp_path / "photos"), "ACTION_SWEEP_SECONDS": 0,
                      "WEBHOOK_RETRY_SECONDS": 0})
    checklist = Path(__file__).resolve().parent.parent / "checklists" / "storefront-audit.yaml"
    with app.app_context():
        upgrade()
        version, _ = add_version(checklist.read_text(encoding="utf-8"), checklist.name)
        definition = definition_of(version)
        answers = {item.id: {"value": n % 4 > 0} for n, (_, item) in
                   enumerate(definition.items()) if item.type == "yes_no"}
        region = Region(code="R", name="区", name_en="R")
        store = Store(code="S1", name="店", region=region, timezone="Asia/Shanghai")
        author = User(email="s@example.com", name="督导", role="supervisor")
        author.set_password("a-long-password")
        db.session.add_all([region, store, author])
        db.session.flush()
        ids = [uuid.uuid4() for _ in range(3)]
        for visit_id in ids:
            db.session.add(Visit(id=visit_id, store_id=store.id, checklist_version_id=version.id,
                                 kind="audit", status="published", author_id=author.id,
                                 started_at=datetime.now(UTC),
                                 score=score_visit(definition, answers).to_dict()))
        db.session.add(Visit(id=uuid.uuid4(), store_id=store.id, kind="audit", status="draft",
                             checklist_version_id=version.id, author_id=author.id,
                             started_at=datetime.now(UTC)))
        db.session.commit()
        downgrade(revision="e21a1c0de008")  # as it was before the digest
        upgrade()
        db.session.expire_all()
        visits = db.session.scalars(db.select(Visit)).all()
        scored = [v for v in visits if v.id in ids]
        assert len(scored) == 3 and all(v.score_digest == digest_of(v.score) for v in scored)
        assert scored[0].score_digest["missed"]  # every fourth item answered no
        assert [v.score_digest for v in visits if v.id not in ids] == [None]
        db.session.remove()
        db.engine.dispose()
