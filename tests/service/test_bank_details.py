"""Payee bank details: validated IBAN and BIC, encrypted at rest, masked for everyone but
finance, never in clear in the audit log. On both databases."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bounty.models import AuditEvent, PayeeBankAccount
from bounty.services import audit, bank_details
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests import payout_factories as pf
from tests import workflow_factories as wf

KEY = pf.KEY
IBAN = "DE89370400440532013000"


def setup(session):
    wf.reference(session)
    return wf.contributor(session, "pia", "EU"), pf.finance(session)


def set_own(session, actor, **overrides):
    fields = {"holder_name": "Pia Paulsen", "iban": "de89 3704 0044 0532 0130 00", "bic": "cobadeffxxx",
              "key": KEY, **overrides}
    return bank_details.set_bank_details(session, actor, person_id=actor.person_id, **fields)


def test_a_person_sets_their_own_details_and_sees_them_masked(session):
    pia, fin = setup(session)
    view = set_own(session, pia)
    assert view == bank_details.BankDetailsView("Pia Paulsen", "•••• •••• 3000", "COBADEFFXXX", None)
    row = session.execute(select(PayeeBankAccount)).scalar_one()
    assert row.iban_last4 == "3000"
    assert IBAN.encode() not in row.iban_encrypted and b"3704" not in row.iban_encrypted
    assert Fernet(KEY.encode()).decrypt(row.iban_encrypted).decode() == IBAN
    assert bank_details.decrypt_iban(row, KEY) == IBAN
    own = bank_details.bank_details_for(session, pia, person_id=pia.person_id, key=KEY)
    assert own.iban is None and own.iban_masked == "•••• •••• 3000"
    full = bank_details.bank_details_for(session, fin, person_id=pia.person_id, key=KEY)
    assert full.iban == IBAN and full.country == "DE" and full.iban_masked == own.iban_masked
    masked = bank_details.bank_details_for(session, pf.auditor(session), person_id=pia.person_id, key=KEY)
    assert masked.iban is None and masked.holder_name == "Pia Paulsen"


def test_nobody_else_sees_or_changes_them(session):
    pia, fin = setup(session)
    set_own(session, pia)
    other = wf.contributor(session, "otto", "EU")
    with pytest.raises(PermissionDenied):
        bank_details.bank_details_for(session, other, person_id=pia.person_id, key=KEY)
    with pytest.raises(PermissionDenied):
        bank_details.set_bank_details(session, other, person_id=pia.person_id, holder_name="Otto",
                                      iban=pf.IBANS["FR"], bic=None, key=KEY)
    assert bank_details.decrypt_iban(session.execute(select(PayeeBankAccount)).scalar_one(), KEY) == IBAN
    # Finance may set them for anyone; a missing payee is not found.
    view = bank_details.set_bank_details(session, fin, person_id=other.person_id, holder_name="Otto",
                                         iban=pf.IBANS["FR"], bic=None, key=KEY)
    assert view.iban == pf.IBANS["FR"] and view.bic is None
    with pytest.raises(NotFound):
        bank_details.bank_details_for(session, fin, person_id=999, key=KEY)
    assert bank_details.bank_details_for(session, fin, person_id=fin.person_id, key=KEY) is None


@pytest.mark.parametrize(("fields", "field", "reason"), [
    ({"iban": "DE89370400440532013001"}, "iban", "check digits do not match"),
    ({"iban": "DE8937040044053201300"}, "iban", "wrong length"),
    ({"iban": "XX89370400440532013000"}, "iban", "not a country that uses IBANs"),
    ({"iban": "DE89-3704-0044-0532-0130"}, "iban", ""),
    ({"iban": "  "}, "iban", "give the IBAN"),
    ({"bic": "COBADEFF1"}, "bic", "8 or 11 characters"),
    ({"bic": "COBAZZFF"}, "bic", "not a country code"),
    ({"holder_name": ""}, "holder_name", "1 to 70"),
    ({"holder_name": "x" * 71}, "holder_name", "1 to 70"),
    ({"key": ""}, "bank_details", "BOUNTY_BANK_DETAILS_KEY is not set"),
    ({"key": "not-a-key"}, "bank_details", "not a valid Fernet key"),
])
def test_bad_input_is_refused_naming_the_field(session, fields, field, reason):
    pia, _ = setup(session)
    with pytest.raises(InvalidInput) as bad:
        set_own(session, pia, **fields)
    assert bad.value.field == field and reason in bad.value.reason
    assert "0532013" not in str(bad.value)  # the IBAN is never repeated in a refusal
    assert session.execute(select(PayeeBankAccount)).first() is None


def test_replacing_details_and_the_audit_log_never_holds_the_iban(session):
    pia, _ = setup(session)
    set_own(session, pia)
    set_own(session, pia, iban=pf.IBANS["UK"], bic="NWBKGB2L", holder_name="Pia P.")
    row = session.execute(select(PayeeBankAccount)).scalar_one()
    assert (row.holder_name, row.iban_last4, row.bic) == ("Pia P.", "6819", "NWBKGB2L")
    assert bank_details.decrypt_iban(row, KEY) == pf.IBANS["UK"]
    events = session.execute(select(AuditEvent).where(AuditEvent.action.like("bank_details.%"))
                             .order_by(AuditEvent.seq)).scalars().all()
    assert [e.action for e in events] == ["bank_details.set", "bank_details.update"]
    assert events[1].summary == {"holder_name": "Pia P.", "iban_last4": "6819", "iban_country": "GB",
                                 "bic": "NWBKGB2L"}
    whole_log = json.dumps([e.summary for e in session.execute(select(AuditEvent)).scalars()])
    for secret in (IBAN, pf.IBANS["UK"], "3704 0044", "NWBK60161331"):
        assert secret not in whole_log
    assert audit.verify(session) == []


def test_a_changed_key_is_reported_not_crashed(session):
    pia, fin = setup(session)
    set_own(session, pia)
    other_key = Fernet.generate_key().decode()
    with pytest.raises(Conflict, match="was the key changed"):
        bank_details.bank_details_for(session, fin, person_id=pia.person_id, key=other_key)
    # Masked views need no key at all.
    assert bank_details.bank_details_for(session, pia, person_id=pia.person_id, key="").iban is None


def test_an_organisations_details_are_set_by_finance_and_seen_by_its_members(session):
    _, fin = setup(session)
    org = pf.organisation(session)
    member = wf.person(session, "mona", ("contributor",), "EU")
    member.organisation_id = org.id
    session.commit()
    member_actor = wf.actor_of(member)
    with pytest.raises(PermissionDenied):
        bank_details.set_bank_details(session, member_actor, organisation_id=org.id, holder_name="Acme",
                                      iban=IBAN, bic=None, key=KEY)
    bank_details.set_bank_details(session, fin, organisation_id=org.id, holder_name="Acme Cloud GmbH",
                                  iban=pf.IBANS["FR"], bic=None, key=KEY)
    seen = bank_details.bank_details_for(session, member_actor, organisation_id=org.id, key=KEY)
    assert seen.iban is None and seen.iban_masked.endswith("2606")
    otto = wf.contributor(session, "otto")
    with pytest.raises(PermissionDenied):
        bank_details.bank_details_for(session, otto, organisation_id=org.id, key=KEY)
    with pytest.raises(InvalidInput) as bad:
        bank_details.bank_details_for(session, fin, person_id=member.id, organisation_id=org.id, key=KEY)
    assert bad.value.field == "payee"
