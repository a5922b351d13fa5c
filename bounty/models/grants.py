"""Grants to people or organisations, paid in tranches against signed-off milestones."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bounty.models.base import Base, CreatedMixin, CurrencyCode, IdMixin, MinorUnits, UTCDateTime, one_of

GRANT_STATUSES = ("draft", "active", "completed", "cancelled")
TRANCHE_STATUSES = ("pending", "signed_off", "paid", "cancelled")


class Grant(IdMixin, CreatedMixin, Base):
    """A grant of `total_minor` in `currency` to exactly one person or organisation."""

    __tablename__ = "grants"
    __table_args__ = (
        one_of("status", GRANT_STATUSES),
        CheckConstraint("total_minor > 0", name="total_positive"),
        CheckConstraint(
            "(grantee_person_id IS NULL) <> (grantee_organisation_id IS NULL)", name="one_grantee"
        ),
    )

    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    grantee_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    grantee_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    working_group_id: Mapped[int | None] = mapped_column(ForeignKey("working_groups.id"))
    pool_id: Mapped[int] = mapped_column(ForeignKey("pools.id"), index=True)
    currency: Mapped[str] = mapped_column(CurrencyCode)
    total_minor: Mapped[int] = mapped_column(MinorUnits)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    tranches: Mapped[list[Tranche]] = relationship(back_populates="grant", order_by="Tranche.position")


class Tranche(IdMixin, Base):
    """A part of a grant, payable once a reviewer (not the grantee) signs off its milestone."""

    __tablename__ = "tranches"
    __table_args__ = (
        UniqueConstraint("grant_id", "position"),
        one_of("status", TRANCHE_STATUSES),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"))
    position: Mapped[int]
    milestone: Mapped[str] = mapped_column(String(300))
    due_on: Mapped[date]
    amount_minor: Mapped[int] = mapped_column(MinorUnits)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grant: Mapped[Grant] = relationship(back_populates="tranches")
