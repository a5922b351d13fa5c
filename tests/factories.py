"""Small builders for test data, going through the services wherever a service exists."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.orm import Session

from bounty.ledger import Money
from bounty.models import Jurisdiction, JurisdictionShare, Pool
from bounty.services import funds
from bounty.services.actors import SYSTEM

SHARES = {"EU": Decimal("0.5"), "UK": Decimal("0.25"), "CA": Decimal("0.15"), "AU": Decimal("0.1")}
CURRENCIES = {"EU": "EUR", "UK": "GBP", "CA": "CAD", "AU": "AUD"}


def jurisdictions(session: Session, year: int = 2026, shares: dict[str, Decimal] | None = None) -> None:
    """The four members and their shares from `year` on."""
    for code, share in (shares or SHARES).items():
        if session.get(Jurisdiction, code) is None:
            session.add(Jurisdiction(code=code, name=code, home_currency=CURRENCIES.get(code, "EUR")))
        session.add(JurisdictionShare(jurisdiction_code=code, year=year, share=share))
    session.commit()


def funded_pool(session: Session, amount: str = "500000", year: int = 2026,
                kind: str = "bounty_pool") -> Pool:
    """A pool of `amount` EUR, funded by share."""
    pool = funds.ensure_pool(session, SYSTEM, year, kind, kind.replace("_", " ").title(),
                             Money.parse(amount, "EUR"))
    funds.fund_pool(session, SYSTEM, pool)
    return pool
