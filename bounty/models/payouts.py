"""Paying what was approved: payout batches and their items, payee bank details, bank
confirmations imported, and claw-backs of paid items.

An item (an approved bounty's payable or a signed-off grant tranche's) is in at most one
live batch: a partial unique index over live items enforces it on both databases.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bounty.models.base import Base, CreatedMixin, CurrencyCode, IdMixin, MinorUnits, UTCDateTime, one_of

BATCH_STATUSES = ("open", "exported", "paid", "cancelled")
ITEM_KINDS = ("bounty", "tranche")
ITEM_STATUSES = ("pending", "paid", "clawed_back", "withdrawn")


class PayoutBatch(IdMixin, CreatedMixin, Base):
    """A selection of payable items finance pays together.

    `selection_key` names the filters (currency, jurisdiction); asking again for the same
    selection while a batch for it is open returns that batch.
    """

    __tablename__ = "payout_batches"
    __table_args__ = (
        one_of("status", BATCH_STATUSES),
        Index("uq_payout_batches_open_selection", "selection_key", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    selection_key: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str | None] = mapped_column(CurrencyCode)
    jurisdiction_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    items: Mapped[list[PayoutItem]] = relationship(back_populates="batch", order_by="PayoutItem.id")


class PayoutItem(IdMixin, Base):
    """One payable in a batch: who is paid, how much, and the ledger transactions behind it.

    `end_to_end_id` is the reference the bank echoes in its confirmation.
    """

    __tablename__ = "payout_items"
    __table_args__ = (
        one_of("kind", ITEM_KINDS),
        one_of("status", ITEM_STATUSES),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("(payee_person_id IS NULL) <> (payee_organisation_id IS NULL)", name="one_payee"),
        Index("uq_payout_items_live_subject", "kind", "subject_id", unique=True,
              sqlite_where=text("is_live"), postgresql_where=text("is_live")),
    )

    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    # The claim (kind bounty) or the tranche (kind tranche) paid.
    subject_id: Mapped[int]
    payee_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    payee_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    description: Mapped[str] = mapped_column(String(300))
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(CurrencyCode)
    eur_minor: Mapped[int] = mapped_column(MinorUnits)
    rate_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_rates.id"))
    payable_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    end_to_end_id: Mapped[str] = mapped_column(String(35), unique=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    # False once the item left its batch (batch cancelled, item withdrawn), so it may be batched again.
    is_live: Mapped[bool] = mapped_column(default=True)
    paid_on: Mapped[date | None]
    paid_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    clawback_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))

    batch: Mapped[PayoutBatch] = relationship(back_populates="items")


class PayeeBankAccount(IdMixin, CreatedMixin, Base):
    """Where a payee is paid. The IBAN is stored encrypted with a key from the environment;
    only its last four characters are kept in clear, for the masked display."""

    __tablename__ = "payee_bank_accounts"
    __table_args__ = (
        CheckConstraint("(person_id IS NULL) <> (organisation_id IS NULL)", name="one_payee"),
        UniqueConstraint("person_id"),
        UniqueConstraint("organisation_id"),
    )

    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    holder_name: Mapped[str] = mapped_column(String(140))
    iban_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    iban_last4: Mapped[str] = mapped_column(String(4))
    bic: Mapped[str | None] = mapped_column(String(11))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BankConfirmation(IdMixin, CreatedMixin, Base):
    """A bank confirmation file applied to a batch; its digest makes a re-import a no-op."""

    __tablename__ = "bank_confirmations"

    batch_id: Mapped[int] = mapped_column(ForeignKey("payout_batches.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    lines: Mapped[int]
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
