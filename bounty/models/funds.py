"""Pools of money per year, and the bounty categories with their value bands."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bounty.models.base import Base, CreatedMixin, CurrencyCode, IdMixin, MinorUnits, one_of

POOL_KINDS = ("development_fund", "bounty_pool", "conference_sponsorship")


class Pool(IdMixin, CreatedMixin, Base):
    """A year's pool (development fund, bounty pool, conference sponsorship).

    `planned_minor` is the size the Technical Board set; what was actually put in, what is
    reserved and what is available are ledger balances of the pool's accounts.
    """

    __tablename__ = "pools"
    __table_args__ = (
        UniqueConstraint("year", "kind"),
        one_of("kind", POOL_KINDS),
        CheckConstraint("planned_minor >= 0", name="planned_not_negative"),
    )

    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(CurrencyCode, default="EUR")
    planned_minor: Mapped[int] = mapped_column(MinorUnits)


class BountyCategory(IdMixin, Base):
    """A kind of bounty with its value band (in the band's currency) and its special rules."""

    __tablename__ = "bounty_categories"
    __table_args__ = (
        CheckConstraint("min_minor > 0 AND max_minor >= min_minor", name="band_order"),
    )

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    band_currency: Mapped[str] = mapped_column(CurrencyCode)
    min_minor: Mapped[int] = mapped_column(MinorUnits)
    max_minor: Mapped[int] = mapped_column(MinorUnits)
    # Security fixes are hidden from everyone but the security council, admins and the claimant.
    is_embargoed: Mapped[bool] = mapped_column(default=False)
    # Hours from claim to remediation (48 for critical security fixes); None when no clock runs.
    remediation_hours: Mapped[int | None]
    example: Mapped[str] = mapped_column(String(200), default="")
