"""payouts: batches, their items, payee bank details, bank confirmations

Finance pays what was approved in batches; an item is in at most one live batch (a partial
unique index); payee IBANs are stored encrypted; a bank confirmation file is applied once.

Revision ID: 20261122_0004
Revises: 20261122_0003
Create Date: 2026-11-22 09:26:04.720726
"""

import sqlalchemy as sa
from alembic import op

revision = '20261122_0004'
down_revision = '20261122_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payee_bank_accounts',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('holder_name', sa.String(length=140), nullable=False),
    sa.Column('iban_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('iban_last4', sa.String(length=4), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(person_id IS NULL) <> (organisation_id IS NULL)', name=op.f('ck_payee_bank_accounts_one_payee')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_payee_bank_accounts_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_payee_bank_accounts_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payee_bank_accounts')),
    sa.UniqueConstraint('organisation_id', name=op.f('uq_payee_bank_accounts_organisation_id')),
    sa.UniqueConstraint('person_id', name=op.f('uq_payee_bank_accounts_person_id'))
    )
    op.create_table('payout_batches',
    sa.Column('selection_key', sa.String(length=100), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('jurisdiction_code', sa.String(length=2), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('open', 'exported', 'paid', 'cancelled')", name=op.f('ck_payout_batches_status_allowed')),
    sa.ForeignKeyConstraint(['created_by_id'], ['people.id'], name=op.f('fk_payout_batches_created_by_id_people')),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdictions.code'], name=op.f('fk_payout_batches_jurisdiction_code_jurisdictions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_batches'))
    )
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.create_index('uq_payout_batches_open_selection', ['selection_key'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.create_table('bank_confirmations',
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('imported_by_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_bank_confirmations_batch_id_payout_batches')),
    sa.ForeignKeyConstraint(['imported_by_id'], ['people.id'], name=op.f('fk_bank_confirmations_imported_by_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_confirmations')),
    sa.UniqueConstraint('digest', name=op.f('uq_bank_confirmations_digest'))
    )
    with op.batch_alter_table('bank_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bank_confirmations_batch_id'), ['batch_id'], unique=False)

    op.create_table('payout_items',
    sa.Column('batch_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('payee_person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payee_organisation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('amount_minor', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('eur_minor', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('rate_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payable_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('end_to_end_id', sa.String(length=35), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('is_live', sa.Boolean(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('paid_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('clawback_transaction_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.CheckConstraint("kind IN ('bounty', 'tranche')", name=op.f('ck_payout_items_kind_allowed')),
    sa.CheckConstraint("status IN ('pending', 'paid', 'clawed_back', 'withdrawn')", name=op.f('ck_payout_items_status_allowed')),
    sa.CheckConstraint('(payee_person_id IS NULL) <> (payee_organisation_id IS NULL)', name=op.f('ck_payout_items_one_payee')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_payout_items_amount_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['payout_batches.id'], name=op.f('fk_payout_items_batch_id_payout_batches')),
    sa.ForeignKeyConstraint(['clawback_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_payout_items_clawback_transaction_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['paid_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_payout_items_paid_transaction_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['payable_transaction_id'], ['ledger_transactions.id'], name=op.f('fk_payout_items_payable_transaction_id_ledger_transactions')),
    sa.ForeignKeyConstraint(['payee_organisation_id'], ['organisations.id'], name=op.f('fk_payout_items_payee_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['payee_person_id'], ['people.id'], name=op.f('fk_payout_items_payee_person_id_people')),
    sa.ForeignKeyConstraint(['rate_id'], ['exchange_rates.id'], name=op.f('fk_payout_items_rate_id_exchange_rates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_items')),
    sa.UniqueConstraint('end_to_end_id', name=op.f('uq_payout_items_end_to_end_id'))
    )
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payout_items_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payout_items_payee_person_id'), ['payee_person_id'], unique=False)
        batch_op.create_index('uq_payout_items_live_subject', ['kind', 'subject_id'], unique=True, sqlite_where=sa.text('is_live'), postgresql_where=sa.text('is_live'))



def downgrade() -> None:
    with op.batch_alter_table('payout_items', schema=None) as batch_op:
        batch_op.drop_index('uq_payout_items_live_subject', sqlite_where=sa.text('is_live'), postgresql_where=sa.text('is_live'))
        batch_op.drop_index(batch_op.f('ix_payout_items_payee_person_id'))
        batch_op.drop_index(batch_op.f('ix_payout_items_batch_id'))

    op.drop_table('payout_items')
    with op.batch_alter_table('bank_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bank_confirmations_batch_id'))

    op.drop_table('bank_confirmations')
    with op.batch_alter_table('payout_batches', schema=None) as batch_op:
        batch_op.drop_index('uq_payout_batches_open_selection', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))

    op.drop_table('payout_batches')
    op.drop_table('payee_bank_accounts')
