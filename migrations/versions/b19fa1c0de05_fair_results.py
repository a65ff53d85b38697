"""fair results: store queries with evidence, the change record of submitted visits, the
query window, re-shops and calibration visits left out of averages, the reviewer's grade

Revision ID: b19fa1c0de05
Revises: a18b7c0de004
Create Date: 2026-12-04 23:30:00

"""
from alembic import op
import sqlalchemy as sa

import supervision.db


revision = 'b19fa1c0de05'
down_revision = 'a18b7c0de004'
branch_labels = None
depends_on = None

UTC = supervision.db.UTCDateTime(timezone=True)
JSON = supervision.db.JSONType()


def upgrade():
    with op.batch_alter_table('visits') as batch:
        batch.add_column(sa.Column('queries_close_at', UTC, nullable=True))
        batch.add_column(sa.Column('excluded', sa.String(16), nullable=True))
        batch.add_column(sa.Column('calibrates_id', sa.Uuid(), nullable=True))
        batch.add_column(sa.Column('review_grade', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('review_grade_comment', sa.Text(), nullable=True))
        batch.create_index('ix_visits_calibrates_id', ['calibrates_id'])
        batch.create_foreign_key('fk_visits_calibrates_id_visits', 'visits',
                                 ['calibrates_id'], ['id'])
    op.create_table(
        'visit_queries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Uuid(), nullable=False),
        sa.Column('item_id', sa.String(64), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('raised_by_id', sa.Integer(), nullable=False),
        sa.Column('raised_at', UTC, nullable=False),
        sa.Column('body_hash', sa.String(64), nullable=False),
        sa.Column('ruling_comment', sa.Text(), nullable=True),
        sa.Column('ruled_by_id', sa.Integer(), nullable=True),
        sa.Column('ruled_at', UTC, nullable=True),
        sa.Column('old_value', JSON, nullable=True),
        sa.Column('new_value', JSON, nullable=True),
        sa.Column('reshop_assignment_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['raised_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['ruled_by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['reshop_assignment_id'], ['assignments.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('visit_id', 'item_id'),
    )
    op.create_index('ix_visit_queries_visit_id', 'visit_queries', ['visit_id'])
    op.create_index('ix_visit_queries_status', 'visit_queries', ['status'])
    op.create_table(
        'query_evidence',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('query_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('content_hash', sa.String(64), nullable=False),
        sa.Column('content_type', sa.String(32), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('size_bytes', sa.Integer(), nullable=True),
        sa.Column('taken_at', UTC, nullable=True),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('received_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['query_id'], ['visit_queries.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_query_evidence_query_id', 'query_evidence', ['query_id'])
    op.create_index('ix_query_evidence_content_hash', 'query_evidence', ['content_hash'])
    op.create_table(
        'visit_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Uuid(), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('at', UTC, nullable=False),
        sa.Column('by_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('query_id', sa.Integer(), nullable=True),
        sa.Column('changes', JSON, nullable=False),
        sa.Column('total_before', sa.Float(), nullable=True),
        sa.Column('total_after', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['by_id'], ['users.id']),
        sa.ForeignKeyConstraint(['query_id'], ['visit_queries.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_visit_changes_visit_id', 'visit_changes', ['visit_id'])


def downgrade():
    op.drop_index('ix_visit_changes_visit_id', table_name='visit_changes')
    op.drop_table('visit_changes')
    op.drop_index('ix_query_evidence_content_hash', table_name='query_evidence')
    op.drop_index('ix_query_evidence_query_id', table_name='query_evidence')
    op.drop_table('query_evidence')
    op.drop_index('ix_visit_queries_status', table_name='visit_queries')
    op.drop_index('ix_visit_queries_visit_id', table_name='visit_queries')
    op.drop_table('visit_queries')
    with op.batch_alter_table('visits') as batch:
        batch.drop_constraint('fk_visits_calibrates_id_visits', type_='foreignkey')
        batch.drop_index('ix_visits_calibrates_id')
        batch.drop_column('review_grade_comment')
        batch.drop_column('review_grade')
        batch.drop_column('calibrates_id')
        batch.drop_column('excluded')
        batch.drop_column('queries_close_at')
