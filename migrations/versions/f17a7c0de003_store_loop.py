"""store managers and their stores, staff rosters, sign-offs, the agreed action plan with
evidence and decisions, notifications sent once per step

Revision ID: f17a7c0de003
Revises: e16a7c0de002
Create Date: 2026-12-04 16:30:00

"""
from alembic import op
import sqlalchemy as sa

import supervision.db


revision = 'f17a7c0de003'
down_revision = 'e16a7c0de002'
branch_labels = None
depends_on = None

UTC = supervision.db.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        'user_stores',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'store_id'),
    )
    op.create_table(
        'staff',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('badge', sa.String(length=32), nullable=True),
        sa.Column('position', sa.String(length=64), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_staff_store_id'), 'staff', ['store_id'], unique=False)
    op.create_table(
        'signoffs',
        sa.Column('visit_id', sa.Uuid(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('signed_at', UTC, nullable=False),
        sa.Column('lat', sa.Float(), nullable=True),
        sa.Column('lon', sa.Float(), nullable=True),
        sa.Column('accuracy_m', sa.Float(), nullable=True),
        sa.Column('signature_hash', sa.String(length=64), nullable=True),
        sa.Column('signer_id', sa.Integer(), nullable=True),
        sa.Column('recorded_by_id', sa.Integer(), nullable=False),
        sa.Column('body_hash', sa.String(length=64), nullable=False),
        sa.Column('received_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['signer_id'], ['users.id']),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('visit_id'),
    )
    op.create_table(
        'action_evidence',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('action_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('content_hash', sa.String(length=64), nullable=False),
        sa.Column('content_type', sa.String(length=32), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('size_bytes', sa.Integer(), nullable=True),
        sa.Column('taken_at', UTC, nullable=True),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('received_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['action_id'], ['actions.id']),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_action_evidence_action_id'), 'action_evidence', ['action_id'],
                    unique=False)
    op.create_index(op.f('ix_action_evidence_content_hash'), 'action_evidence',
                    ['content_hash'], unique=False)
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_staff_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('agreed_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('dismiss_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', UTC, nullable=True))
        batch_op.add_column(sa.Column('decision_comment', sa.Text(), nullable=True))
        batch_op.create_foreign_key('fk_actions_owner_staff_id_staff', 'staff',
                                    ['owner_staff_id'], ['id'])
        batch_op.create_foreign_key('fk_actions_decided_by_id_users', 'users',
                                    ['decided_by_id'], ['id'])
    # "open" was the agreed state: it is called so now, agreed when it was created.
    op.execute("UPDATE actions SET status = 'agreed', agreed_at = created_at "
               "WHERE status = 'open'")
    op.execute("UPDATE actions SET agreed_at = created_at "
               "WHERE status IN ('done', 'verified') AND agreed_at IS NULL")
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('once_key', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint('uq_notifications_once_key', ['once_key'])


def downgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint('uq_notifications_once_key', type_='unique')
        batch_op.drop_column('once_key')
    op.execute("UPDATE actions SET status = 'open' WHERE status IN ('agreed', 'reopened')")
    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_actions_decided_by_id_users', type_='foreignkey')
        batch_op.drop_constraint('fk_actions_owner_staff_id_staff', type_='foreignkey')
        batch_op.drop_column('decision_comment')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('dismiss_reason')
        batch_op.drop_column('agreed_at')
        batch_op.drop_column('owner_staff_id')
    op.drop_index(op.f('ix_action_evidence_content_hash'), table_name='action_evidence')
    op.drop_index(op.f('ix_action_evidence_action_id'), table_name='action_evidence')
    op.drop_table('action_evidence')
    op.drop_table('signoffs')
    op.drop_index(op.f('ix_staff_store_id'), table_name='staff')
    op.drop_table('staff')
    op.drop_table('user_stores')
