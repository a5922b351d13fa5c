"""bounty board index: bounties by publication, newest first

The board lists bounties newest first, by publication, and reads them in that order from
this index instead of sorting every visible bounty for each page.

Revision ID: 20261122_0002
Revises: 20261122_0001
Create Date: 2026-11-22 18:00:00.000000
"""

from alembic import op

revision = '20261122_0002'
down_revision = '20261122_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_bounties_published_at_id', 'bounties', ['published_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_bounties_published_at_id', table_name='bounties')
