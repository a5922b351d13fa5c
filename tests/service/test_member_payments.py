"""Members' payments against what they owe: posted once per bank reference, into the
settlement account, and read back by the jurisdiction statement as paid in."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import bounty.cli
from bounty.ledger import Money
from bounty.models import LedgerTransaction
from bounty.services import funds, journal, ledger_check, statements
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import Conflict, InvalidInput, PermissionDenied
from tests import factories

FINANCE_ADMIN = Actor(label="treasurer", roles=frozenset({"program-admin"}), person_id=None)


def eur(text: str) -> Money:
    return Money.parse(text, "EUR")


@pytest.fixture
def funded(session: Session) -> None:
    factories.jurisdictions(session)
    factories.funded_pool(session, "1000000", kind="development_fund")


def test_a_payment_credits_the_members_pledges_and_debits_the_bank(session: Session, funded: None) -> None:
    posted = funds.record_member_payment(session, SYSTEM, "uk", eur("100000.00"),
                                         paid_on=date(2026, 3, 31), reference="UK-2026-Q1")
    assert posted.created
    assert journal.balance(session, "bank:EUR") == eur("100000.00")
    # UK owed a quarter of the fund; what it paid in now counts against that.
    assert journal.balance(session, funds.pledged_code("UK")) == eur("150000.00")
    statement = statements.jurisdiction_statement(session, SYSTEM, "UK", statements.period(2026))
    assert statement.paid_in == eur("100000.00")
    assert ledger_check.check(session) == []


def test_the_same_payment_recorded_twice_changes_nothing(session: Session, funded: None) -> None:
    first = funds.record_member_payment(session, SYSTEM, "EU", eur("5.00"), paid_on=date(2026, 1, 5),
                                        reference="EU  ref 1")
    again = funds.record_member_payment(session, SYSTEM, "EU", eur("5.00"), paid_on=date(2026, 1, 5),
                                        reference="EU ref 1")
    assert (again.created, again.transaction_id) == (False, first.transaction_id)
    count = session.execute(select(func.count()).select_from(LedgerTransaction)
                            .where(LedgerTransaction.kind == "member_payment")).scalar_one()
    assert count == 1
    with pytest.raises(Conflict):
        funds.record_member_payment(session, SYSTEM, "EU", eur("6.00"), paid_on=date(2026, 1, 5),
                                    reference="EU ref 1")


@pytest.mark.parametrize(("jurisdiction", "amount", "reference", "field"), [
    ("XX", eur("1.00"), "r", "jurisdiction"),
    ("EU", eur("0.00"), "r", "amount"),
    ("EU", eur("-1.00"), "r", "amount"),
    ("EU", Money.parse("1.00", "GBP"), "r", "currency"),
    ("EU", eur("1.00"), "   ", "reference"),
    ("EU", eur("1.00"), "x" * 101, "reference"),
])
def test_bad_payments_are_refused_naming_the_field(session: Session, funded: None, jurisdiction: str,
                                                   amount: Money, reference: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        funds.record_member_payment(session, SYSTEM, jurisdiction, amount, paid_on=date(2026, 1, 5),
                                    reference=reference)
    assert refused.value.field == field
    assert session.execute(select(func.count()).select_from(LedgerTransaction)
                           .where(LedgerTransaction.kind == "member_payment")).scalar_one() == 0


def test_only_those_who_manage_the_fund_record_payments(session: Session, funded: None) -> None:
    with pytest.raises(PermissionDenied):
        funds.record_member_payment(session, Actor(label="carla", roles=frozenset({"contributor"})), "EU",
                                    eur("1.00"), paid_on=date(2026, 1, 5), reference="r")
    assert funds.record_member_payment(session, FINANCE_ADMIN, "EU", eur("1.00"), paid_on=date(2026, 1, 5),
                                       reference="r").created


def test_the_command_records_once_and_refuses_bad_dates(db_url: str, session: Session, funded: None) -> None:
    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(bounty.cli.cli, ["fund", "record-payment", *args],
                                    env={"BOUNTY_DATABASE_URL": db_url})
        return result.exit_code, result.stdout, result.stderr

    args = ["--jurisdiction", "CA", "--amount", "1500", "--on", "2026-02-01", "--reference", "CA-1"]
    code, out, _ = run(*args)
    assert code == 0 and "CA paid" in out and "recorded" in out
    code, out, _ = run(*args)
    assert code == 0 and "already recorded" in out
    code, _, err = run("--jurisdiction", "CA", "--amount", "1500", "--on", "1 Feb", "--reference", "CA-2")
    assert code == 2 and err.count("\n") == 1 and "--on" in err
    session.expire_all()
    assert journal.balance(session, "bank:EUR") == eur("1500.00")
