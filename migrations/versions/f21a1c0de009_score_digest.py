"""visits keep a digest of their frozen score for the period reports and the dashboard

Revision ID: f21a1c0de009
Revises: e21a1c0de008
Create Date: 2026-12-05 15:00:00

"""
from alembic import op
import sqlalchemy as sa

import supervision.db
from supervision.scoring.digest import digest_of


revision = 'f21a1c0de009'
down_revision = 'e21a1c0de008'
branch_labels = None
depends_on = None

JSON = supervision.db.JSONType()
BATCH = 500


def upgrade():
    with op.batch_alter_table('visits') as batch:
        batch.add_column(sa.Column('score_digest', JSON, nullable=True))
    visits = sa.table('visits', sa.column('id', sa.Uuid()), sa.column('score', JSON),
                      sa.column('score_digest', JSON))
    connection = op.get_bind()
    last = None
    while True:
        query = sa.select(visits.c.id, visits.c.score).where(
            visits.c.score.is_not(None)).order_by(visits.c.id).limit(BATCH)
        if last is not None:
            query = query.where(visits.c.id > last)
        rows = connection.execute(query).all()
        if not rows:
            break
        connection.execute(
            visits.update().where(visits.c.id == sa.bindparam('visit_id')),
            [{'visit_id': row.id, 'score_digest': digest_of(row.score)} for row in rows])
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('visits') as batch:
        batch.drop_column('score_digest')
