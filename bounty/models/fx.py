"""Exchange rates, EUR based like the ECB reference rates, each with its date and source."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bounty.models.base import Base, CurrencyCode, IdMixin, UTCDateTime, utcnow


class ExchangeRate(IdMixin, Base):
    """1 `base` = `rate` `quote` on `rate_date`, as published by `source`."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        UniqueConstraint("base", "quote", "rate_date", "source"),
        CheckConstraint("rate > 0", name="rate_positive"),
    )

    base: Mapped[str] = mapped_column(CurrencyCode, default="EUR")
    quote: Mapped[str] = mapped_column(CurrencyCode)
    rate: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    rate_date: Mapped[date]
    source: Mapped[str] = mapped_column(String(40))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
