"""visit plans: audit plans and their due visits (follow-up re-visits too), mystery waves
whose proposals are assignments, store tags

Revision ID: c20a1c0de006
Revises: b19fa1c0de05
Create Date: 2026-12-05 04:10:00

"""
from alembic import op
import sqlalchemy as sa

import supervision.db


revision = 'c20a1c0de006'
down_revision = 'b19fa1c0de05'
branch_labels = None
depends_on = None

UTC = supervision.db.UTCDateTime(timezone=True)
JSON = supervision.db.JSONType()


def upgrade():
    with op.batch_alter_table('stores') as batch:
        batch.add_column(sa.Column('tags', JSON, nullable=True))
    op.create_table(
        'audit_plans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(160), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('checklist_id', sa.Integer(), nullable=False),
        sa.Column('store_ids', JSON, nullable=True),
        sa.Column('tag', sa.String(32), nullable=True),
        sa.Column('recurrence', JSON, nullable=False),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('supervisor_id', sa.Integer(), nullable=True),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('generated_until', sa.Date(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('updated_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id']),
        sa.ForeignKeyConstraint(['checklist_id'], ['checklists.id']),
        sa.ForeignKeyConstraint(['supervisor_id'], ['users.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_audit_plans_region_id', 'audit_plans', ['region_id'])
    op.create_table(
        'due_visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(16), nullable=False),
        sa.Column('plan_id', sa.Integer(), nullable=True),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('checklist_id', sa.Integer(), nullable=False),
        sa.Column('supervisor_id', sa.Integer(), nullable=True),
        sa.Column('due_from', sa.Date(), nullable=False),
        sa.Column('due_until', sa.Date(), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('visit_id', sa.Uuid(), nullable=True),
        sa.Column('done_at', UTC, nullable=True),
        sa.Column('source_visit_id', sa.Uuid(), nullable=True),
        sa.Column('items', JSON, nullable=True),
        sa.Column('created_at', UTC, nullable=False),
        sa.ForeignKeyConstraint(['plan_id'], ['audit_plans.id']),
        sa.ForeignKeyConstraint(['store_id'], ['stores.id']),
        sa.ForeignKeyConstraint(['checklist_id'], ['checklists.id']),
        sa.ForeignKeyConstraint(['supervisor_id'], ['users.id']),
        sa.ForeignKeyConstraint(['visit_id'], ['visits.id']),
        sa.ForeignKeyConstraint(['source_visit_id'], ['visits.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('plan_id', 'store_id', 'due_from'),
    )
    op.create_index('ix_due_visits_store_due', 'due_visits', ['store_id', 'due_from'])
    op.create_index('ix_due_visits_status_until', 'due_visits', ['status', 'due_until'])
    op.create_index('ix_due_visits_supervisor_id', 'due_visits', ['supervisor_id'])
    op.create_index('ix_due_visits_visit_id', 'due_visits', ['visit_id'])
    op.create_index('ix_due_visits_source_visit_id', 'due_visits', ['source_visit_id'])
    op.create_table(
        'waves',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(160), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('checklist_id', sa.Integer(), nullable=False),
        sa.Column('starts_on', sa.Date(), nullable=False),
        sa.Column('ends_on', sa.Date(), nullable=False),
        sa.Column('scenario_mix', JSON, nullable=False),
        sa.Column('store_ids', JSON, nullable=True),
        sa.Column('rules', JSON, nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', UTC, nullable=False),
        sa.Column('confirmed_at', UTC, nullable=True),
        sa.ForeignKeyConstraint(['region_id'], ['regions.id']),
        sa.ForeignKeyConstraint(['checklist_id'], ['checklists.id']),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_waves_region_id', 'waves', ['region_id'])
    with op.batch_alter_table('assignments') as batch:
        batch.add_column(sa.Column('wave_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('slot', sa.String(16), nullable=True))
        batch.create_index('ix_assignments_wave_id', ['wave_id'])
        batch.create_foreign_key('fk_assignments_wave_id_waves', 'waves', ['wave_id'], ['id'])


def downgrade():
    with op.batch_alter_table('assignments') as batch:
        batch.drop_constraint('fk_assignments_wave_id_waves', type_='foreignkey')
        batch.drop_index('ix_assignments_wave_id')
        batch.drop_column('slot')
        batch.drop_column('wave_id')
    op.drop_index('ix_waves_region_id', table_name='waves')
    op.drop_table('waves')
    for name in ('ix_due_visits_source_visit_id', 'ix_due_visits_visit_id',
                 'ix_due_visits_supervisor_id', 'ix_due_visits_status_until',
                 'ix_due_visits_store_due'):
        op.drop_index(name, table_name='due_visits')
    op.drop_table('due_visits')
    op.drop_index('ix_audit_plans_region_id', table_name='audit_plans')
    op.drop_table('audit_plans')
    with op.batch_alter_table('stores') as batch:
        batch.drop_column('tags')
