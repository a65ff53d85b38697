"""credential generation of users; heartbeat of jobs

Revision ID: d15a1c0de001
Revises: c657b78303dc
Create Date: 2026-12-04 10:00:00

"""
from alembic import op
import sqlalchemy as sa

import supervision.db


revision = 'd15a1c0de001'
down_revision = 'c657b78303dc'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('credential_generation', sa.Integer(), server_default='0',
                                      nullable=False))
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', supervision.db.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade():
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('credential_generation')
