"""A payout batch as a SEPA credit transfer file (ISO 20022 pain.001.001.03), built with sepaxml.

What goes in (docs/exports.md, "SEPA credit transfer"):
- only the batch's EUR items still pending: an item in another currency cannot be paid by
  SEPA, so a batch holding one is refused unless the caller asks explicitly to leave those
  out (`skip_non_eur`), and then every item left out is reported (`SepaPlan.skipped`);
  items already paid, clawed back or withdrawn are left out and reported too;
- the debtor is the cooperative's paying account (settings SEPA_DEBTOR_NAME / IBAN / BIC),
  refused when missing or invalid;
- each payee's IBAN and BIC, validated with schwifty (IBAN in the SEPA zone); a refusal
  names the payee, never their bank details;
- the end-to-end id of each transfer is the item's `end_to_end_id`, the reference the bank
  echoes in its confirmation; amounts are integer cents.
Names and remittance texts are transliterated to the EPC's basic Latin character set.
The file is validated against the pain.001.001.03 schema that sepaxml ships before it is
returned: an invalid file is never handed out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError
from sqlalchemy.orm import Session
from text_unidecode import unidecode  # sepaxml's own transliteration, a dependency of sepaxml

from bounty.exports.payouts import InconsistentBatch
from bounty.services import bank_details
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput, PermissionDenied
from bounty.services.payouts import BatchItemView, BatchView

SCHEMA = "pain.001.001.03"
CURRENCY = "EUR"
NAME_MAX = 70
REMITTANCE_MAX = 140
END_TO_END_MAX = 35
# The EPC's basic Latin character set for SEPA texts; anything else becomes a space.
_NOT_SEPA = re.compile(r"[^A-Za-z0-9/\-?:().,'+ ]")
_END_TO_END = re.compile(r"[A-Za-z0-9/\-?:().,'+]{1,35}")

# Why schwifty refused, in words that never repeat the number itself (its own messages may).
_REASONS = {
    "InvalidChecksumDigits": "its check digits are wrong",
    "InvalidLength": "its length is wrong",
    "InvalidStructure": "its format is wrong",
    "InvalidCountryCode": "its country code is unknown",
    "InvalidBankCode": "its bank code is unknown",
    "InvalidBranchCode": "its branch code is unknown",
    "InvalidAccountCode": "its account number is wrong",
    "InvalidBBANChecksum": "its national check digits are wrong",
}


@dataclass(frozen=True)
class Debtor:
    """The account the transfers are paid from."""

    name: str
    iban: str
    bic: str | None = None


@dataclass(frozen=True)
class PayeeAccount:
    """Where one item is paid: the account holder's name, the full IBAN and the BIC if known."""

    holder_name: str
    iban: str
    bic: str | None = None


@dataclass(frozen=True)
class SkippedItem:
    """An item of the batch not in the SEPA file, and why."""

    item: BatchItemView
    reason: str
    # True when the item would be paid but for its currency (not EUR).
    other_currency: bool = False


@dataclass(frozen=True)
class SepaPlan:
    """Which items of a batch a SEPA file pays, and which it leaves out."""

    to_pay: tuple[BatchItemView, ...]
    skipped: tuple[SkippedItem, ...]

    @property
    def other_currencies(self) -> tuple[SkippedItem, ...]:
        """The items left out because they are not in EUR."""
        return tuple(s for s in self.skipped if s.other_currency)


def sepa_plan(batch: BatchView) -> SepaPlan:
    """Split the batch's items into those a SEPA file pays (pending, in EUR) and the others."""
    to_pay: list[BatchItemView] = []
    skipped: list[SkippedItem] = []
    for item in batch.items:
        if not item.is_live or item.status != "pending":
            skipped.append(SkippedItem(item, f"not to pay ({item.status})"))
        elif item.amount.currency != CURRENCY:
            skipped.append(SkippedItem(item, f"in {item.amount.currency}, not EUR: pay it another way",
                                       other_currency=True))
        else:
            to_pay.append(item)
    return SepaPlan(tuple(to_pay), tuple(skipped))


def sepa_text(text: str, limit: int) -> str:
    """`text` in the EPC's basic Latin set (transliterated, other characters as spaces,
    spaces collapsed), cut to `limit` characters; "-" when nothing is left."""
    cleaned = " ".join(_NOT_SEPA.sub(" ", unidecode(text)).split())[:limit].rstrip()
    return cleaned or "-"


def _iban_problem(value: str) -> str | None:
    try:
        iban = IBAN(value)
    except SchwiftyException as exc:
        return "the IBAN is not valid: " + _REASONS.get(type(exc).__name__, "it does not check")
    if not iban.in_sepa_zone:
        return "the IBAN is of a country outside the SEPA zone"
    return None


def _bic_problem(value: str | None) -> str | None:
    if not value:
        return None
    try:
        BIC(value)
    except SchwiftyException as exc:
        return "the BIC is not valid: " + _REASONS.get(type(exc).__name__, "it does not check")
    return None


def debtor_from_settings(name: str | None, iban: str | None, bic: str | None) -> Debtor:
    """The debtor named by settings SEPA_DEBTOR_NAME / SEPA_DEBTOR_IBAN / SEPA_DEBTOR_BIC,
    validated with schwifty; InvalidInput naming the setting when one is missing or invalid."""
    name = (name or "").strip()
    iban = "".join((iban or "").split()).upper()
    bic = "".join((bic or "").split()).upper() or None
    if not name:
        raise InvalidInput("SEPA_DEBTOR_NAME", "is not set (BOUNTY_SEPA_DEBTOR_NAME): the name of the "
                           "paying account is needed for a SEPA file")
    if not iban:
        raise InvalidInput("SEPA_DEBTOR_IBAN", "is not set (BOUNTY_SEPA_DEBTOR_IBAN): the IBAN of the "
                           "paying account is needed for a SEPA file")
    # The debtor is the cooperative's own account: naming the problem in full is safe here.
    problem = _iban_problem(iban)
    if problem:
        raise InvalidInput("SEPA_DEBTOR_IBAN", problem)
    problem = _bic_problem(bic)
    if problem:
        raise InvalidInput("SEPA_DEBTOR_BIC", problem)
    return Debtor(name=name, iban=iban, bic=bic)


def _payee(item: BatchItemView) -> str:
    return f"{item.payee_name} ({item.payee_kind} {item.payee_id}, item {item.id})"


def _checked_accounts(items: Sequence[BatchItemView],
                      accounts: Mapping[int, PayeeAccount]) -> dict[int, PayeeAccount]:
    """The account of each item, normalised; InvalidInput naming every payee whose account is
    missing or invalid (all of them at once, so finance can fix them in one go)."""
    problems: list[str] = []
    checked: dict[int, PayeeAccount] = {}
    for item in items:
        account = accounts.get(item.id)
        if account is None:
            problems.append(f"{_payee(item)}: no bank details on file")
            continue
        iban = "".join(account.iban.split()).upper()
        bic = "".join((account.bic or "").split()).upper() or None
        problem = _iban_problem(iban) or _bic_problem(bic)
        if problem:
            problems.append(f"{_payee(item)}: {problem}")
            continue
        checked[item.id] = PayeeAccount(holder_name=account.holder_name, iban=iban, bic=bic)
    if problems:
        raise InvalidInput("bank_details", "; ".join(problems))
    return checked


def _check_end_to_end(item: BatchItemView) -> None:
    if not _END_TO_END.fullmatch(item.end_to_end_id):
        raise InconsistentBatch(f"item {item.id}: end-to-end id {item.end_to_end_id!r} is not a SEPA "
                                "reference")


def check_execution_date(day: date, today: date | None = None) -> date:
    """`day` when a bank can still execute on it (today or later, UTC), else InvalidInput."""
    today = today or datetime.now(UTC).date()
    if day < today:
        raise InvalidInput("execution_date", f"{day.isoformat()} is in the past: give today or a later date")
    return day


def batch_sepa(batch: BatchView, *, debtor: Debtor, ibans: Mapping[int, PayeeAccount],
               execution_date: date, skip_non_eur: bool = False) -> bytes:
    """The batch's pending EUR items as a pain.001.001.03 credit transfer file (UTF-8 XML),
    one transfer per item, all in one payment of `execution_date` from `debtor`.

    `ibans` maps an item id to its payee's account. Refused with InvalidInput when the batch
    holds items in another currency and `skip_non_eur` is false, when nothing is left to pay,
    or when a payee's account is missing or invalid (naming the payee, not the account).
    """
    plan = sepa_plan(batch)
    others = plan.other_currencies
    if others and not skip_non_eur:
        listed = ", ".join(f"item {s.item.id} ({s.item.amount})" for s in others)
        raise InvalidInput("batch", f"batch {batch.id} holds {len(others)} item(s) not in EUR, which SEPA "
                           f"cannot pay: {listed}; export the EUR items only on purpose, or make a EUR batch")
    if not plan.to_pay:
        raise InvalidInput("batch", f"batch {batch.id} has no pending EUR item to pay by SEPA")
    for item in plan.to_pay:
        _check_end_to_end(item)
        if item.amount.minor <= 0:
            raise InconsistentBatch(f"item {item.id}: amount {item.amount} is not positive")
    accounts = _checked_accounts(plan.to_pay, ibans)

    config: dict[str, object] = {
        "name": sepa_text(debtor.name, NAME_MAX), "IBAN": debtor.iban, "batch": True, "currency": CURRENCY,
    }
    if debtor.bic:
        config["BIC"] = debtor.bic
    transfer = SepaTransfer(config, schema=SCHEMA, clean=True)
    for item in plan.to_pay:
        account = accounts[item.id]
        payment: dict[str, object] = {
            "name": sepa_text(account.holder_name, NAME_MAX),
            "IBAN": account.iban,
            "amount": item.amount.minor,  # integer cents: EUR has two minor digits
            "execution_date": execution_date,
            "description": sepa_text(item.description, REMITTANCE_MAX),
            "endtoend_id": item.end_to_end_id,
        }
        if account.bic:
            payment["BIC"] = account.bic
        transfer.add_payment(payment)
    try:
        return transfer.export(validate=True)
    except ValidationError as exc:
        # Every input was checked above, so this is a bug: say so rather than hand out the file.
        raise InconsistentBatch(f"batch {batch.id}: the SEPA file does not validate against "
                                f"{SCHEMA}") from exc


def payee_accounts(session: Session, viewer: Actor, batch: BatchView, *, key: str) -> dict[int, PayeeAccount]:
    """The bank account of the payee of each item a SEPA file of `batch` pays, by item id, read
    and decrypted through the bank-details service (finance only; PermissionDenied otherwise).
    Payees without bank details are simply absent: `batch_sepa` names them."""
    accounts: dict[int, PayeeAccount] = {}
    for item in sepa_plan(batch).to_pay:
        if item.payee_kind == "person":
            view = bank_details.bank_details_for(session, viewer, person_id=item.payee_id, key=key)
        else:
            view = bank_details.bank_details_for(session, viewer, organisation_id=item.payee_id, key=key)
        if view is None:
            continue
        if view.iban is None:
            raise PermissionDenied(f"{viewer.label} may not see payees' full bank details (finance only)")
        accounts[item.id] = PayeeAccount(holder_name=view.holder_name, iban=view.iban, bic=view.bic)
    return accounts
