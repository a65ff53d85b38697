"""time of each answer, time a photo was taken, both languages of generated actions

Revision ID: e16a7c0de002
Revises: d15a1c0de001
Create Date: 2026-12-04 12:30:00

"""
from alembic import op
import sqlalchemy as sa

import supervision.db


revision = 'e16a7c0de002'
down_revision = 'd15a1c0de001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('at', supervision.db.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('taken_at', supervision.db.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('texts', supervision.db.JSONType(), nullable=True))


def downgrade():
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_column('texts')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_column('taken_at')
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.drop_column('at')
