"""leaderboard indexes

Partial indexes for what leaderboards and badges count over a period: DCO-clean merged work
by merge time and person, approved hours by day, approved claims by approval time.

Revision ID: 20261122_0006
Revises: 20261122_0005
Create Date: 2026-11-22 13:33:45.358943
"""

import sqlalchemy as sa
from alembic import op


revision = '20261122_0006'
down_revision = '20261122_0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_approved_decided_at', ['decided_at'], unique=False, postgresql_where=sa.text("status = 'approved'"), sqlite_where=sa.text("status = 'approved'"))

    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.create_index('ix_hours_entries_approved_worked_on', ['worked_on', 'person_id', 'quarter_hours'], unique=False, postgresql_where=sa.text("status = 'approved'"), sqlite_where=sa.text("status = 'approved'"))

    with op.batch_alter_table('merge_requests', schema=None) as batch_op:
        batch_op.create_index('ix_merge_requests_dco_merged_at_person_id', ['merged_at', 'person_id'], unique=False, postgresql_where=sa.text('is_dco_ok'), sqlite_where=sa.text('is_dco_ok'))



def downgrade() -> None:
    with op.batch_alter_table('merge_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_merge_requests_dco_merged_at_person_id', postgresql_where=sa.text('is_dco_ok'), sqlite_where=sa.text('is_dco_ok'))

    with op.batch_alter_table('hours_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_hours_entries_approved_worked_on', postgresql_where=sa.text("status = 'approved'"), sqlite_where=sa.text("status = 'approved'"))

    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_approved_decided_at', postgresql_where=sa.text("status = 'approved'"), sqlite_where=sa.text("status = 'approved'"))

