"""Payee bank details: where a person or an organisation is paid, stored encrypted at rest.

Rules chosen here (issue 5, "Payout batches and exports"; docs/payouts.md):
- The IBAN is validated with schwifty (checksum, length, country structure) and stored
  encrypted with Fernet under the key from the environment (`BOUNTY_BANK_DETAILS_KEY`, passed
  in as `key`); only its last four characters are kept in clear, for the masked display. The
  BIC is optional (SEPA no longer needs it inside the EEA) and validated when given.
- Who sets them: the person themself, or finance (MANAGE_PAYOUTS). An organisation's are set
  by finance only.
- Who reads them: the person themself, the members of an organisation for its own, finance
  and auditors. Everyone allowed sees the IBAN masked ("•••• •••• 1234"); only finance sees
  it in full (and only finance exports decrypt it).
- Audit events name the holder, the BIC, the IBAN's country and its last four characters,
  never the IBAN itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from schwifty import BIC, IBAN
from schwifty.exceptions import (
    InvalidChecksumDigits,
    InvalidCountryCode,
    InvalidLength,
    InvalidStructure,
    SchwiftyException,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.models import Organisation, PayeeBankAccount, Person, utcnow
from bounty.services import audit
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied

# SEPA's limit for a creditor's name (pain.001 <Nm>): longer names could not be exported.
MAX_HOLDER_NAME = 70
MASK = "•••• ••••"
KEY_NOT_SET = ("BOUNTY_BANK_DETAILS_KEY is not set: generate one with "
               "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`")


@dataclass(frozen=True)
class BankDetailsView:
    """Bank details as a viewer may see them: `iban` is the full IBAN for finance, else None."""

    holder_name: str
    iban_masked: str
    bic: str | None
    iban: str | None
    country: str | None = None


def _fernet(key: str) -> Fernet:
    if not (key or "").strip():
        raise InvalidInput("bank_details", KEY_NOT_SET)
    try:
        return Fernet(key.strip().encode())
    except (ValueError, TypeError):
        raise InvalidInput("bank_details", "BOUNTY_BANK_DETAILS_KEY is not a valid Fernet key "
                                           "(32 url-safe base64-encoded bytes)") from None


def masked(last4: str) -> str:
    """The masked display of an IBAN ending in `last4`."""
    return f"{MASK} {last4}"


def _iban(text: str) -> IBAN:
    cleaned = "".join((text or "").split()).upper()
    if not cleaned:
        raise InvalidInput("iban", "give the IBAN")
    try:
        return IBAN(cleaned)
    except InvalidCountryCode:
        reason = f"{cleaned[:2]!r} is not a country that uses IBANs"
    except InvalidLength:
        reason = f"wrong length for an IBAN of {cleaned[:2]} ({len(cleaned)} characters)"
    except InvalidChecksumDigits:
        reason = "the check digits do not match: a character is probably mistyped"
    except InvalidStructure:
        reason = f"does not have the structure of an IBAN of {cleaned[:2]}"
    except SchwiftyException:
        reason = "the bank or account number part is not valid"
    # The reason never repeats the IBAN: refusals end up in logs.
    raise InvalidInput("iban", reason)


def _bic(text: str | None) -> str | None:
    cleaned = "".join((text or "").split()).upper()
    if not cleaned:
        return None
    try:
        return str(BIC(cleaned).compact)
    except InvalidLength:
        reason = f"a BIC has 8 or 11 characters, not {len(cleaned)}"
    except InvalidCountryCode:
        reason = f"{cleaned[4:6]!r} (its 5th and 6th characters) is not a country code"
    except SchwiftyException:
        reason = f"{cleaned!r} does not have the structure of a BIC (e.g. COBADEFFXXX)"
    raise InvalidInput("bic", reason)


def _holder(text: str) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned or len(cleaned) > MAX_HOLDER_NAME:
        raise InvalidInput("holder_name", f"give 1 to {MAX_HOLDER_NAME} characters")
    if any(not ch.isprintable() for ch in cleaned):
        raise InvalidInput("holder_name", "no control characters")
    return cleaned


def _payee(session: Session, person_id: int | None, organisation_id: int | None) -> tuple[str, int]:
    if (person_id is None) == (organisation_id is None):
        raise InvalidInput("payee", "name exactly one payee: a person or an organisation")
    if person_id is not None:
        if session.get(Person, person_id) is None:
            raise NotFound(f"no person {person_id}")
        return "person", person_id
    assert organisation_id is not None
    if session.get(Organisation, organisation_id) is None:
        raise NotFound(f"no organisation {organisation_id}")
    return "organisation", organisation_id


def _row(session: Session, kind: str, payee_id: int, *, lock: bool = False) -> PayeeBankAccount | None:
    column = PayeeBankAccount.person_id if kind == "person" else PayeeBankAccount.organisation_id
    query = select(PayeeBankAccount).where(column == payee_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def _may_write(actor: Actor, kind: str, payee_id: int) -> None:
    if actor.can(Permission.MANAGE_PAYOUTS):
        return
    if kind == "person" and actor.person_id is not None and actor.person_id == payee_id:
        return
    raise PermissionDenied(f"{actor.label} may not change the bank details of {kind} {payee_id}")


def _may_read(session: Session, viewer: Actor, kind: str, payee_id: int) -> None:
    if viewer.can(Permission.MANAGE_PAYOUTS) or viewer.can(Permission.READ_EVERYTHING):
        return
    if viewer.person_id is not None:
        if kind == "person" and viewer.person_id == payee_id:
            return
        me = session.get(Person, viewer.person_id)
        if kind == "organisation" and me is not None and me.organisation_id == payee_id:
            return
    raise PermissionDenied(f"{viewer.label} may not see the bank details of {kind} {payee_id}")


def decrypt_iban(row: PayeeBankAccount, key: str) -> str:
    """The IBAN of `row` in clear (compact form). For finance only: the caller checks that."""
    try:
        return _fernet(key).decrypt(row.iban_encrypted).decode()
    except InvalidToken:
        raise Conflict("the stored IBAN cannot be decrypted with BOUNTY_BANK_DETAILS_KEY: "
                       "was the key changed?") from None


def view_of(row: PayeeBankAccount, viewer: Actor, key: str) -> BankDetailsView:
    """`row` as `viewer` may see it (full IBAN for finance only)."""
    full = decrypt_iban(row, key) if viewer.can(Permission.MANAGE_PAYOUTS) else None
    return BankDetailsView(row.holder_name, masked(row.iban_last4), row.bic, full,
                           full[:2] if full else None)


def set_bank_details(session: Session, actor: Actor, *, person_id: int | None = None,
                     organisation_id: int | None = None, holder_name: str, iban: str,
                     bic: str | None, key: str) -> BankDetailsView:
    """Record (or replace) where a payee is paid, the IBAN encrypted (commits).

    Raises InvalidInput naming the field (`iban`, `bic`, `holder_name`, or `bank_details`
    when the key is missing), PermissionDenied for anyone but the person themself or finance.
    """
    try:
        kind, payee_id = _payee(session, person_id, organisation_id)
        _may_write(actor, kind, payee_id)
        fernet = _fernet(key)
        holder, checked, bic_code = _holder(holder_name), _iban(iban), _bic(bic)
        compact = str(checked.compact)
        row = _row(session, kind, payee_id, lock=True)
        action = "bank_details.update" if row is not None else "bank_details.set"
        if row is None:
            row = PayeeBankAccount(person_id=person_id, organisation_id=organisation_id)
            session.add(row)
        row.holder_name, row.bic, row.iban_last4 = holder, bic_code, compact[-4:]
        row.iban_encrypted = fernet.encrypt(compact.encode())
        row.updated_at = utcnow()
        session.flush()
        audit.record(session, actor, action, kind, payee_id, {
            "holder_name": holder, "iban_last4": compact[-4:], "iban_country": compact[:2],
            "bic": bic_code})
        view = view_of(row, actor, key)
        session.commit()
        return view
    except IntegrityError:
        session.rollback()
        raise Conflict("the bank details were changed at the same moment: try again") from None
    except BaseException:
        session.rollback()
        raise


def bank_details_for(session: Session, viewer: Actor, *, person_id: int | None = None,
                     organisation_id: int | None = None, key: str) -> BankDetailsView | None:
    """The payee's bank details as `viewer` may see them, None when none are recorded.

    Raises PermissionDenied for a viewer who may not see them (see the module).
    """
    kind, payee_id = _payee(session, person_id, organisation_id)
    _may_read(session, viewer, kind, payee_id)
    row = _row(session, kind, payee_id)
    return view_of(row, viewer, key) if row is not None else None


def account_of(session: Session, *, person_id: int | None = None,
               organisation_id: int | None = None) -> PayeeBankAccount | None:
    """The stored row of a payee (encrypted), for exports that check finance themselves."""
    kind, payee_id = _payee(session, person_id, organisation_id)
    return _row(session, kind, payee_id)
