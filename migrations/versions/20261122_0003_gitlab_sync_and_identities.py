"""gitlab sync cursors, webhook deliveries, identity labels and claims

The incremental GitLab sync keeps a cursor per project; webhook deliveries are recorded
so a redelivery has no second effect; identities carry the name they arrived under and a
contributor's pending claim; merge requests keep their author's GitLab id and head commit.

Revision ID: 20261122_0003
Revises: 20261122_0002
Create Date: 2026-11-22 09:02:48.692629
"""

import sqlalchemy as sa
from alembic import op

revision = '20261122_0003'
down_revision = '20261122_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gitlab_sync_cursors',
    sa.Column('gitlab_project_id', sa.Integer(), nullable=False),
    sa.Column('project_path', sa.String(length=255), nullable=False),
    sa.Column('updated_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_full_sync_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('merge_requests_seen', sa.Integer(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gitlab_sync_cursors')),
    sa.UniqueConstraint('gitlab_project_id', name=op.f('uq_gitlab_sync_cursors_gitlab_project_id'))
    )
    op.create_table('webhook_deliveries',
    sa.Column('delivery_key', sa.String(length=200), nullable=False),
    sa.Column('event_kind', sa.String(length=80), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('gitlab_project_id', sa.Integer(), nullable=True),
    sa.Column('merge_request_iid', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=500), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'ignored', 'done', 'failed')", name=op.f('ck_webhook_deliveries_status_allowed')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_deliveries')),
    sa.UniqueConstraint('delivery_key', name=op.f('uq_webhook_deliveries_delivery_key'))
    )
    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=255), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('first_seen_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_identities_claimed_by_id_people'), 'people', ['claimed_by_id'], ['id'])

    with op.batch_alter_table('merge_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('author_gitlab_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('head_sha', sa.String(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('merge_requests', schema=None) as batch_op:
        batch_op.drop_column('head_sha')
        batch_op.drop_column('author_gitlab_id')

    with op.batch_alter_table('identities', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_identities_claimed_by_id_people'), type_='foreignkey')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_by_id')
        batch_op.drop_column('first_seen_at')
        batch_op.drop_column('label')

    op.drop_table('webhook_deliveries')
    op.drop_table('gitlab_sync_cursors')
