"""recognition, awards and document jobs

Badges and who earned them, the leaderboard's score weights, the history of consent to be
named in public, GitLab projects per working group; award categories gain French names, an
eligibility rule and an order, a nominee is nominated once per category and round, a vote says
why it does not bind; documents built on the job queue.

Revision ID: 20261122_0005
Revises: 20261122_0004
Create Date: 2026-11-22 12:24:32.704697
"""

import sqlalchemy as sa
from alembic import op


revision = '20261122_0005'
down_revision = '20261122_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('badges',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('name_fr', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('description_fr', sa.Text(), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint("metric IN ('merged_mrs', 'earnings_eur', 'approved_hours', 'reviews_given', 'awards_won', 'bounties_approved', 'security_fixes', 'documentation_hours', 'mentoring_hours', 'documentation_bounties')", name=op.f('ck_badges_metric_allowed')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_badges')),
    sa.UniqueConstraint('code', name=op.f('uq_badges_code'))
    )
    op.create_table('score_weights',
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('weight', sa.Numeric(precision=12, scale=4), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint("metric IN ('merged_mrs', 'earnings_eur', 'approved_hours', 'reviews_given', 'awards_won', 'bounties_approved', 'security_fixes', 'documentation_hours', 'mentoring_hours', 'documentation_bounties')", name=op.f('ck_score_weights_metric_allowed')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_weights')),
    sa.UniqueConstraint('metric', name=op.f('uq_score_weights_metric'))
    )
    op.create_table('working_group_projects',
    sa.Column('working_group_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_path', sa.String(length=255), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['working_group_id'], ['working_groups.id'], name=op.f('fk_working_group_projects_working_group_id_working_groups')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_group_projects')),
    sa.UniqueConstraint('project_path', name=op.f('uq_working_group_projects_project_path'))
    )
    with op.batch_alter_table('working_group_projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_working_group_projects_working_group_id'), ['working_group_id'], unique=False)

    op.create_table('document_jobs',
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('request_key', sa.String(length=300), nullable=False),
    sa.Column('requested_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('progress', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=200), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f('ck_document_jobs_status_allowed')),
    sa.CheckConstraint('progress BETWEEN 0 AND 100', name=op.f('ck_document_jobs_progress_range')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['people.id'], name=op.f('fk_document_jobs_requested_by_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_jobs'))
    )
    with op.batch_alter_table('document_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_jobs_request_key'), ['request_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_document_jobs_requested_by_id'), ['requested_by_id'], unique=False)

    op.create_table('listing_consents',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint("source IN ('web', 'api', 'cli', 'admin')", name=op.f('ck_listing_consents_source_allowed')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_listing_consents_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_consents'))
    )
    with op.batch_alter_table('listing_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_consents_person_id'), ['person_id'], unique=False)

    op.create_table('person_badges',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('badge_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('earned_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['badge_id'], ['badges.id'], name=op.f('fk_person_badges_badge_id_badges')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_person_badges_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_badges')),
    sa.UniqueConstraint('person_id', 'badge_id', name=op.f('uq_person_badges_person_id_badge_id'))
    )
    with op.batch_alter_table('person_badges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_badges_person_id'), ['person_id'], unique=False)

    with op.batch_alter_table('award_categories', schema=None) as batch_op:
        # Categories already on record get their French texts and rule from `bounty seed`.
        batch_op.add_column(sa.Column('name_fr', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('eligibility_fr', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('eligibility_rule', sa.String(length=20), nullable=False,
                                      server_default='active'))
        batch_op.add_column(sa.Column('position', sa.Integer(), nullable=False, server_default='0'))
        batch_op.create_check_constraint(
            op.f('ck_award_categories_eligibility_rule_allowed'),
            "eligibility_rule IN ('active', 'security', 'documentation', 'newcomer', 'mentor', "
            "'jurisdiction', 'organisation')")

    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_nominations_one_per_organisation_nominee', ['round_id', 'category_id', 'nominee_organisation_id'])
        batch_op.create_unique_constraint('uq_nominations_one_per_person_nominee', ['round_id', 'category_id', 'nominee_person_id'])

    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('non_binding_reason', sa.String(length=16), nullable=True))
        batch_op.create_check_constraint(op.f('ck_votes_non_binding_reason_allowed'),
                                         "non_binding_reason IN ('not_committee', 'conflict')")



def downgrade() -> None:
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_votes_non_binding_reason_allowed'), type_='check')
        batch_op.drop_column('non_binding_reason')

    with op.batch_alter_table('nominations', schema=None) as batch_op:
        batch_op.drop_constraint('uq_nominations_one_per_person_nominee', type_='unique')
        batch_op.drop_constraint('uq_nominations_one_per_organisation_nominee', type_='unique')

    with op.batch_alter_table('award_categories', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_award_categories_eligibility_rule_allowed'), type_='check')
        batch_op.drop_column('position')
        batch_op.drop_column('eligibility_rule')
        batch_op.drop_column('eligibility_fr')
        batch_op.drop_column('name_fr')

    with op.batch_alter_table('person_badges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_badges_person_id'))

    op.drop_table('person_badges')
    with op.batch_alter_table('listing_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_consents_person_id'))

    op.drop_table('listing_consents')
    with op.batch_alter_table('document_jobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_jobs_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_document_jobs_request_key'))

    op.drop_table('document_jobs')
    with op.batch_alter_table('working_group_projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_working_group_projects_working_group_id'))

    op.drop_table('working_group_projects')
    op.drop_table('score_weights')
    op.drop_table('badges')
