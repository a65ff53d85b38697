"""api keys and their use log; the feed's change sequence on visits, actions and disputes

Revision ID: d21a1c0de007
Revises: c20a1c0de006
Create Date: 2026-12-05 12:30:00

"""
from alembic import op
import sqlalchemy as sa

import supervision.db


revision = 'd21a1c0de007'
down_revision = 'c20a1c0de006'
branch_labels = None
depends_on = None

UTC = supervision.db.UTCDateTime(timezone=True)
FOLLOWED = {'visits': 'coalesce(updated_at, received_at)', 'actions': 'created_at',
            'disputes': 'created_at'}


def upgrade():
    op.create_table(
        'api_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(120), nullable=False),
        sa.Column('prefix', sa.String(16), nullable=False),
        sa.Column('secret_hash', sa.String(64), nullable=False),
        sa.Column('access', sa.String(16), nullable=False),
        sa.Column('expires_at', UTC, nullable=False),
        sa.Column('revoked_at', UTC, nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('last_used_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL',
                                name='fk_api_keys_created_by_id_users'),
        sa.PrimaryKeyConstraint('id', name='pk_api_keys'),
        sa.UniqueConstraint('secret_hash', name='uq_api_keys_secret_hash'),
    )
    op.create_table(
        'api_key_regions',
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], ondelete='CASCADE',
                                name='fk_api_key_regions_api_key_id_api_keys'),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ondelete='CASCADE',
                                name='fk_api_key_regions_region_id_regions'),
        sa.PrimaryKeyConstraint('api_key_id', 'region_id', name='pk_api_key_regions'),
    )
    op.create_table(
        'api_key_uses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('api_key_id', sa.Integer(), nullable=False),
        sa.Column('at', UTC, nullable=False),
        sa.Column('method', sa.String(8), nullable=False),
        sa.Column('path', sa.String(500), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('address', sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], ondelete='CASCADE',
                                name='fk_api_key_uses_api_key_id_api_keys'),
        sa.PrimaryKeyConstraint('id', name='pk_api_key_uses'),
    )
    op.create_index('ix_api_key_uses_api_key_id', 'api_key_uses', ['api_key_id'])
    op.create_table(
        'feed_counter',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_feed_counter'),
    )
    for table, changed in FOLLOWED.items():
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('change_seq', sa.BigInteger(), nullable=True))
            batch.add_column(sa.Column('changed_at', UTC, nullable=True))
            batch.create_index(f'ix_{table}_change_seq', ['change_seq'])
        # What exists is the feed's first change, all of it at once.
        op.execute(f"UPDATE {table} SET change_seq = 1, changed_at = {changed}")
    op.execute("INSERT INTO feed_counter (id, value) VALUES (1, 1)")


def downgrade():
    for table in FOLLOWED:
        with op.batch_alter_table(table) as batch:
            batch.drop_index(f'ix_{table}_change_seq')
            batch.drop_column('changed_at')
            batch.drop_column('change_seq')
    op.drop_table('feed_counter')
    op.drop_index('ix_api_key_uses_api_key_id', table_name='api_key_uses')
    op.drop_table('api_key_uses')
    op.drop_table('api_key_regions')
    op.drop_table('api_keys')
