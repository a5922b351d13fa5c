"""A payout batch as the file asked for: CSV, XLSX or a SEPA pain.001 credit transfer.

The pages and the API both serve these files; the choices live here once. Only finance
decrypts payees' accounts, so a SEPA file is refused to anyone else before any setting is
read; the debtor and the bank-details key come from the application's settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from bounty.exports import payouts as batch_exports
from bounty.exports import sepa
from bounty.governance.permissions import Permission
from bounty.services.actors import Actor
from bounty.services.payouts import BatchView


def batch_file(session: Session, actor: Actor, view: BatchView, fmt: str, settings: Mapping[str, Any], *,
               execution_date: date | None = None, skip_non_eur: bool = False) -> bytes:
    """The batch as `fmt` (csv, xlsx, sepa). SEPA refusals (InvalidInput naming the setting,
    the batch or the payees; PermissionDenied for anyone but finance) are raised."""
    if fmt == "csv":
        return batch_exports.batch_csv(view)
    if fmt == "xlsx":
        return batch_exports.batch_xlsx(view)
    actor.require(Permission.MANAGE_PAYOUTS)
    debtor = sepa.debtor_from_settings(settings.get("SEPA_DEBTOR_NAME"), settings.get("SEPA_DEBTOR_IBAN"),
                                       settings.get("SEPA_DEBTOR_BIC"))
    day = sepa.check_execution_date(execution_date or datetime.now(UTC).date())
    accounts = sepa.payee_accounts(session, actor, view, key=settings.get("BANK_DETAILS_KEY") or "")
    return sepa.batch_sepa(view, debtor=debtor, ibans=accounts, execution_date=day, skip_non_eur=skip_non_eur)
