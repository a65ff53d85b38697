"""webhooks and their deliveries

Revision ID: e21a1c0de008
Revises: d21a1c0de007
Create Date: 2026-12-05 12:10:00

"""
from alembic import op
import sqlalchemy as sa

import supervision.db


revision = 'e21a1c0de008'
down_revision = 'd21a1c0de007'
branch_labels = None
depends_on = None

UTC = supervision.db.UTCDateTime(timezone=True)
JSON = supervision.db.JSONType()


def upgrade():
    op.create_table(
        'webhooks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(120), nullable=False),
        sa.Column('url', sa.String(2000), nullable=False),
        sa.Column('events', JSON, nullable=False),
        sa.Column('preset', sa.String(16), nullable=False),
        sa.Column('secret', sa.String(200), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.Text(), nullable=True),
        sa.Column('failures_in_a_row', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL',
                                name='fk_webhooks_created_by_id_users'),
        sa.PrimaryKeyConstraint('id', name='pk_webhooks'),
    )
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('webhook_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(32), nullable=False),
        sa.Column('event_key', sa.String(200), nullable=False),
        sa.Column('payload', JSON, nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', UTC, nullable=True),
        sa.Column('claimed_at', UTC, nullable=True),
        sa.Column('response_status', sa.Integer(), nullable=True),
        sa.Column('response_ms', sa.Integer(), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('log', JSON, nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('delivered_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhooks.id'], ondelete='CASCADE',
                                name='fk_webhook_deliveries_webhook_id_webhooks'),
        sa.PrimaryKeyConstraint('id', name='pk_webhook_deliveries'),
        sa.UniqueConstraint('webhook_id', 'event_key',
                            name='uq_webhook_deliveries_webhook_id_event_key'),
    )
    op.create_index('ix_webhook_deliveries_webhook_id', 'webhook_deliveries', ['webhook_id'])
    op.create_index('ix_webhook_deliveries_status', 'webhook_deliveries', ['status'])
    op.create_index('ix_webhook_deliveries_next_attempt_at', 'webhook_deliveries',
                    ['next_attempt_at'])


def downgrade():
    for name in ('ix_webhook_deliveries_next_attempt_at', 'ix_webhook_deliveries_status',
                 'ix_webhook_deliveries_webhook_id'):
        op.drop_index(name, table_name='webhook_deliveries')
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
