"""Ledger accounts, transactions and their lines, and reservations held in pools.

Lines are append-only: on PostgreSQL a trigger (see the migrations) refuses UPDATE and
DELETE of lines and transactions; a correction is a reversing transaction. Each
transaction stores a digest of its lines, so `bounty ledger check` notices a line changed
by hand on a database without the trigger.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bounty.models.base import Base, CurrencyCode, Id, IdMixin, MinorUnits, UTCDateTime, one_of, utcnow

ACCOUNT_KINDS = ("asset", "liability", "equity", "income", "expense")
NORMAL_SIDES = ("debit", "credit")
RESERVATION_STATUSES = ("held", "released", "consumed")
RESERVATION_PURPOSES = ("bounty", "grant")


class Account(IdMixin, Base):
    """A ledger account in one currency, named by a stable code such as
    `pool:2026:bounty_pool:available` or `member:UK:receivable`."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("id", "currency", name="uq_ledger_accounts_id_currency"),
        one_of("kind", ACCOUNT_KINDS),
        one_of("normal_side", NORMAL_SIDES),
    )

    code: Mapped[str] = mapped_column(String(160), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))
    normal_side: Mapped[str] = mapped_column(String(6))
    currency: Mapped[str] = mapped_column(CurrencyCode)
    pool_id: Mapped[int | None] = mapped_column(ForeignKey("pools.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    jurisdiction_code: Mapped[str | None] = mapped_column(ForeignKey("jurisdictions.code"))
    # Pools' available and reserved accounts must never go below zero on their normal side.
    is_negative_allowed: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LedgerTransaction(IdMixin, Base):
    """A balanced set of lines posted at once. The idempotency key makes a repeat post a no-op."""

    __tablename__ = "ledger_transactions"

    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    memo: Mapped[str] = mapped_column(String(500))
    effective_on: Mapped[date] = mapped_column(index=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"), unique=True)
    lines_digest: Mapped[str] = mapped_column(String(64))

    lines: Mapped[list[LedgerLine]] = relationship(back_populates="transaction", order_by="LedgerLine.id")


class LedgerLine(IdMixin, Base):
    """One signed amount (debit positive) on one account, in that account's currency.

    When the amount was converted, `rate_id` points at the stored rate and `original_*`
    keep the amount it was converted from.
    """

    __tablename__ = "ledger_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["account_id", "currency"],
            ["ledger_accounts.id", "ledger_accounts.currency"],
            name="fk_ledger_lines_account_currency",
        ),
        CheckConstraint("amount_minor <> 0", name="amount_not_zero"),
        CheckConstraint(
            "(original_minor IS NULL) = (original_currency IS NULL)", name="original_complete"
        ),
        Index("ix_ledger_lines_account_id_transaction_id", "account_id", "transaction_id"),
    )

    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(Id)
    currency: Mapped[str] = mapped_column(CurrencyCode)
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    rate_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_rates.id"))
    original_minor: Mapped[int | None] = mapped_column(MinorUnits)
    original_currency: Mapped[str | None] = mapped_column(CurrencyCode)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="lines")
    account: Mapped[Account] = relationship(
        primaryjoin="LedgerLine.account_id == Account.id", foreign_keys=[account_id], viewonly=True
    )


class Reservation(IdMixin, Base):
    """Money set aside in a pool for a bounty or a grant until it is consumed or released.

    The sum of held reservations of a pool equals the balance of its reserved account;
    `bounty ledger check` verifies that.
    """

    __tablename__ = "reservations"
    __table_args__ = (
        one_of("status", RESERVATION_STATUSES),
        one_of("purpose", RESERVATION_PURPOSES),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        Index(
            "uq_reservations_one_held_per_subject",
            "purpose",
            "subject_id",
            unique=True,
            sqlite_where=text("status = 'held'"),
            postgresql_where=text("status = 'held'"),
        ),
    )

    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[int]
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    currency: Mapped[str] = mapped_column(CurrencyCode)
    status: Mapped[str] = mapped_column(String(10), default="held")
    # The conversion from the subject's currency, when it was not the pool's.
    rate_id: Mapped[int | None] = mapped_column(ForeignKey("exchange_rates.id"))
    original_minor: Mapped[int | None] = mapped_column(MinorUnits)
    original_currency: Mapped[str | None] = mapped_column(CurrencyCode)
    reserve_transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"))
    close_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
