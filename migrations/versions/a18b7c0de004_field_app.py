"""the app in the field: a flag per answer, where a photo was taken, each submission of a visit,
what a notification is made from (rendered in the reader's language when read)

Revision ID: a18b7c0de004
Revises: f17a7c0de003
Create Date: 2026-12-04 20:40:00

"""
from alembic import op
import sqlalchemy as sa

import supervision.db


revision = 'a18b7c0de004'
down_revision = 'f17a7c0de003'
branch_labels = None
depends_on = None

UTC = supervision.db.UTCDateTime(timezone=True)


def upgrade():
    with op.batch_alter_table('responses') as batch:
        batch.add_column(sa.Column('flagged', sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table('photos') as batch:
        batch.add_column(sa.Column('lat', sa.Float(), nullable=True))
        batch.add_column(sa.Column('lon', sa.Float(), nullable=True))
        batch.add_column(sa.Column('accuracy_m', sa.Float(), nullable=True))
    with op.batch_alter_table('notifications') as batch:
        batch.add_column(sa.Column('params', supervision.db.JSONType(), nullable=True))
    op.create_table(
        'visit_submissions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('visit_id', sa.Uuid(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('submitted_at', UTC, nullable=False),
        sa.Column('submitted_by_id', sa.Integer(), nullable=False),
        sa.Column('answers_comment', sa.Text(), nullable=True),
        sa.Column('snapshot', supervision.db.JSONType(), nullable=False),
        sa.Column('changes', supervision.db.JSONType(), nullable=False),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('visit_id', 'number'),
    )
    op.create_index('ix_visit_submissions_visit_id', 'visit_submissions', ['visit_id'])


def downgrade():
    op.drop_index('ix_visit_submissions_visit_id', table_name='visit_submissions')
    op.drop_table('visit_submissions')
    with op.batch_alter_table('notifications') as batch:
        batch.drop_column('params')
    with op.batch_alter_table('photos') as batch:
        batch.drop_column('accuracy_m')
        batch.drop_column('lon')
        batch.drop_column('lat')
    with op.batch_alter_table('responses') as batch:
        batch.drop_column('flagged')
