"""Finance statements on a real database of each kind: jurisdiction statements add up to the
fund and to every payout, periods filter by effective date, organisation activity counts only
DCO-clean merged work and approved hours, and only finance readers may read any of it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bounty.ledger import EntryDraft, Money, TransactionDraft, allocate
from bounty.models import HoursEntry, Organisation, Person, Reservation, WorkingGroup, utcnow
from bounty.services import activity, funds, journal, journal_export, ledger_check, statements
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied
from bounty.services.hours import hours_of
from tests import workflow_factories as wf

YEAR = utcnow().year
JURISDICTIONS = ("AU", "CA", "EU", "UK")
FINANCE = Actor(label="person:fiona", roles=frozenset({"contributor", "finance"}), person_id=None)
AUDITOR = Actor(label="person:otto", roles=frozenset({"auditor"}))
BOUNTIES = (("1000.03", "EUR"), ("1234.57", "GBP"), ("2000.03", "CAD"))


def approve_three(session) -> list[wf.Work]:
    """Approved bug fixes in EUR, GBP and CAD, each by its own contributor and merge request."""
    works = []
    for index, (amount, currency) in enumerate(BOUNTIES):
        claimant = wf.contributor(session, f"dev{index}", ("EU", "UK", "CA")[index])
        url = f"{wf.GITLAB}/cloudstack/cloudstack/-/merge_requests/{200 + index}"
        works.append(wf.approved_bounty(session, claimant, urls=[url], amount=amount, currency=currency,
                                        title=f"Fix number {index}"))
    return works


def all_statements(session, span: statements.Period) -> dict[str, statements.JurisdictionStatement]:
    return {code: statements.jurisdiction_statement(session, FINANCE, code, span) for code in JURISDICTIONS}


def test_statements_add_up_to_the_fund_and_to_every_payout(session):
    wf.reference(session)
    works = approve_three(session)
    span = statements.period(YEAR)
    result = all_statements(session, span)
    pools = {status.pool_id: status for status in funds.pool_statuses(session, YEAR)}
    shares = funds.shares_for_year(session, YEAR)

    # What each member owes into each pool is its share of what the pool was funded with.
    for status in pools.values():
        parts = allocate(status.funded, shares)
        owed = {code: next(p.owed for p in s.pools if p.pool_id == status.pool_id)
                for code, s in result.items()}
        assert owed == parts
        assert sum(m.minor for m in owed.values()) == status.funded.minor
        for s in result.values():
            [row] = [p for p in s.pools if p.pool_id == status.pool_id]
            assert row.funded == status.funded and row.share == shares[s.jurisdiction_code]
            assert row.spent == status.spent
    assert sum(s.owed.minor for s in result.values()) == sum(p.funded.minor for p in pools.values())
    assert result["EU"].owed == Money.parse("5375000", "EUR")  # half of 10M + 500k + 250k

    # Every payout: the four parts sum to the payout, which is the EUR reserved for the bounty,
    # and the payable is the bounty's own amount in its own currency.
    for work, (amount, currency) in zip(works, BOUNTIES, strict=True):
        key = f"approve:claim:{work.claim.id}"
        reserved = session.execute(select(Reservation.amount_minor)
                                   .where(Reservation.subject_id == work.bounty.id)).scalar_one()
        rows = {code: [p for p in s.payouts if p.idempotency_key == key] for code, s in result.items()}
        assert all(len(found) == 1 for found in rows.values())
        payouts = {code: found[0] for code, found in rows.items()}
        assert {p.total.minor for p in payouts.values()} == {reserved}
        assert sum(p.part.minor for p in payouts.values()) == reserved
        assert {code: p.part for code, p in payouts.items()} == allocate(Money(reserved, "EUR"), shares)
        assert {p.payable for p in payouts.values()} == {Money.parse(amount, currency)}
        assert {p.payee_account for p in payouts.values()} == {
            f"payable:person:{work.claimant.person_id}:{currency}"}
        assert all(p.kind == "payable" and p.effective_on == utcnow().date() for p in payouts.values())

    bounty_pool = next(p for p in pools.values() if p.kind == "bounty_pool")
    assert bounty_pool.spent.minor > 0
    assert sum(s.borne.minor for s in result.values()) == bounty_pool.spent.minor
    # Balance: each member's part of what is still in the pools; together, exactly that.
    left = sum(p.available.minor + p.reserved.minor for p in pools.values())
    assert sum(s.balance.minor for s in result.values()) == left
    for s in result.values():
        assert s.borne == s.borne_to_date and s.owed == s.owed_to_date
        assert s.paid_in == Money(0, "EUR") and s.outstanding == s.owed_to_date
        assert s.balance == s.owed - s.borne
        assert s.payments == [] and s.jurisdiction_name
    assert ledger_check.check(session) == []


def receipt(session, code: str, amount: str, on: date, key: str, memo: str = "transfer received") -> int:
    """A member's contribution received at the bank: debit the bank, credit the pledge."""
    journal.ensure_account(session, "bank:EUR", "Bank account (EUR)", "asset", "EUR")
    posted = journal.post(session, TransactionDraft(
        kind="member_payment", memo=memo, idempotency_key=key, effective_on=on,
        entries=[EntryDraft("bank:EUR", Money.parse(amount, "EUR")),
                 EntryDraft(funds.pledged_code(code), -Money.parse(amount, "EUR"))]))
    session.commit()
    return posted.transaction_id


def test_money_paid_in_and_periods_by_effective_date(session):
    wf.reference(session)
    wf.approved_bounty(session, amount="1000")
    early = receipt(session, "UK", "1000000", date(YEAR, 3, 1), "receipt:uk:1", "UK first instalment")
    receipt(session, "UK", "250000.50", date(YEAR, 12, 31), "receipt:uk:2")

    year = statements.jurisdiction_statement(session, FINANCE, "uk", statements.period(YEAR))
    assert year.jurisdiction_code == "UK"
    assert year.paid_in == Money.parse("1250000.50", "EUR") == year.paid_in_to_date
    assert year.owed == Money.parse("2687500", "EUR")  # a quarter of 10.75M
    assert year.outstanding == Money.parse("1437499.50", "EUR")
    assert next((p.transaction_id, p.memo, p.amount) for p in year.payments) == (
        early, "UK first instalment", Money.parse("1000000", "EUR"))

    # Spring only: the first instalment; the funding and the payout (dated today) come later.
    spring = statements.jurisdiction_statement(
        session, FINANCE, "UK", statements.period(start=date(YEAR, 1, 1), end=date(YEAR, 6, 30)))
    assert [p.idempotency_key for p in spring.payments] == ["receipt:uk:1"]
    assert spring.pools == [] and spring.payouts == []
    assert spring.owed == spring.borne == spring.owed_to_date == Money(0, "EUR")
    assert spring.outstanding == Money.parse("-1000000", "EUR")  # paid ahead of its pledge
    assert spring.period.label() == f"{YEAR}-01-01 to {YEAR}-06-30"

    # The year before: nothing at all.
    before = statements.jurisdiction_statement(session, FINANCE, "UK", statements.period(YEAR - 1))
    assert (before.pools, before.payments, before.payouts) == ([], [], [])
    assert before.balance == Money(0, "EUR") and before.period.label() == str(YEAR - 1)


def test_a_reversed_payout_gives_each_member_its_part_back(session):
    wf.reference(session)
    work = wf.approved_bounty(session, amount="999.99")
    original = session.execute(select(Reservation.close_transaction_id)
                               .where(Reservation.subject_id == work.bounty.id)).scalar_one()
    journal.reverse(session, original, "clawback:test", "security fix reverted")
    session.commit()
    span = statements.period(YEAR)
    for code in JURISDICTIONS:
        s = statements.jurisdiction_statement(session, FINANCE, code, span)
        assert [p.kind for p in s.payouts] == ["payable", "reversal"]
        paid, back = s.payouts
        assert back.part == -paid.part and back.total == -paid.total
        assert back.payable == -Money.parse("999.99", "EUR")
        assert s.borne == Money(0, "EUR") and s.balance == s.owed


def test_only_finance_readers_may_read_statements(session):
    wf.reference(session)
    span = statements.period(YEAR)
    for reader in (FINANCE, AUDITOR, wf.admin(session), SYSTEM):
        assert statements.jurisdiction_statement(session, reader, "EU", span).jurisdiction_code == "EU"
    for outsider in (wf.contributor(session), wf.reviewer(session, "rev.eu", "EU"), wf.ANONYMOUS):
        with pytest.raises(PermissionDenied):
            statements.jurisdiction_statement(session, outsider, "EU", span)
        with pytest.raises(PermissionDenied):
            journal_export.journal_chunks(session, outsider)  # refused at the call, not the first row
        with pytest.raises(PermissionDenied):
            statements.trial_balance(session, outsider)
        with pytest.raises(PermissionDenied):
            activity.organisation_activity(session, outsider, span)
    with pytest.raises(NotFound, match="no jurisdiction 'XX'"):
        statements.jurisdiction_statement(session, FINANCE, "XX", span)


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"year": 2026, "start": date(2026, 1, 1)}, "period"),
    ({"start": date(2026, 1, 1)}, "period"),
    ({}, "period"),
    ({"year": 1999}, "year"),
    ({"start": date(2026, 2, 1), "end": date(2026, 1, 31)}, "to"),
])
def test_bad_periods_are_refused(kwargs, field):
    with pytest.raises(InvalidInput) as refused:
        statements.period(**kwargs)
    assert refused.value.field == field


def test_trial_balance_balances_per_currency(session):
    wf.reference(session)
    approve_three(session)
    rows = statements.trial_balance(session, FINANCE)
    totals = journal.trial_balance_totals(rows)
    assert set(totals) == {"EUR", "GBP", "CAD"}
    assert all(debit == credit for debit, credit in totals.values())


def org_person(session, username: str, organisation: Organisation | None) -> Person:
    person = wf.person(session, username, ("contributor",), "EU")
    person.organisation_id = organisation.id if organisation else None
    session.commit()
    return person


def hours(session, person: Person, day: date, quarters: int, status: str = "approved") -> None:
    group = session.execute(select(WorkingGroup).where(WorkingGroup.code == "WG1")).scalar_one()
    session.add(HoursEntry(person_id=person.id, worked_on=day, quarter_hours=quarters, activity="code",
                           working_group_id=group.id, description="work", status=status))
    session.commit()


def merged(session, person: Person, number: int, *, dco_ok: bool | None = True,
           merged_at: datetime | None = None) -> None:
    mr = wf.merged_work(session, f"{wf.GITLAB}/scs/k8s/-/merge_requests/{number}", person_id=person.id,
                        dco_ok=dco_ok, author=person.username)
    if merged_at is not None:
        mr.merged_at = merged_at
        session.commit()


def figures(row: activity.OrganisationActivity) -> tuple[int, int, Decimal]:
    return row.active_contributors, row.merged_merge_requests, row.approved_hours


def test_organisation_activity_counts_clean_merged_work_and_approved_hours(session):
    wf.reference(session)
    acme = Organisation(name="Acme Cloud GmbH", jurisdiction_code="EU", kind="supplier")
    beta = Organisation(name="Beta Systems Ltd", jurisdiction_code="UK", kind="supplier")
    idle = Organisation(name="Idle Corp", jurisdiction_code="CA", kind="supplier")
    session.add_all([acme, beta, idle])
    session.commit()
    today = utcnow().date()
    ann, bob, old = (org_person(session, name, acme) for name in ("ann", "bob", "old.ann"))
    cid = org_person(session, "cid", beta)
    solo = org_person(session, "solo", None)
    merged(session, ann, 1)
    merged(session, ann, 2)
    merged(session, bob, 3, dco_ok=False)           # not DCO-clean: does not count
    merged(session, bob, 4, dco_ok=None)            # not checked: does not count
    merged(session, cid, 5, merged_at=datetime(YEAR - 1, 12, 31, 23, 0, tzinfo=utcnow().tzinfo))  # last year
    hours(session, bob, today, 10)
    hours(session, bob, today, 4, status="pending")  # not approved: does not count
    hours(session, cid, today, 3)
    merged(session, old, 6)                          # a record merged into Ann's: counts as Ann
    old.merged_into_id = ann.id
    session.commit()
    hours(session, solo, today, 8)

    rows = activity.organisation_activity(session, FINANCE, statements.period(YEAR))
    by_name = {row.name: row for row in rows}
    assert [row.name for row in rows] == ["Acme Cloud GmbH", "Beta Systems Ltd", "Idle Corp",
                                          activity.UNAFFILIATED]
    assert figures(by_name["Acme Cloud GmbH"]) == (2, 3, hours_of(10))
    assert figures(by_name["Beta Systems Ltd"]) == (1, 0, Decimal("0.75"))
    assert by_name["Idle Corp"].active_contributors == 0 and by_name["Idle Corp"].jurisdiction_code == "CA"
    assert (by_name[activity.UNAFFILIATED].active_contributors,
            by_name[activity.UNAFFILIATED].approved_quarter_hours) == (1, 8)

    # Last year: only Cid's merge request of New Year's Eve.
    last = {row.name: row for row in activity.organisation_activity(session, FINANCE,
                                                                       statements.period(YEAR - 1))}
    assert figures(last["Beta Systems Ltd"]) == (1, 1, 0)
    assert last["Acme Cloud GmbH"].active_contributors == 0 and activity.UNAFFILIATED not in last
    # A period ending the day before today excludes today's work; one starting today includes it.
    yesterday = today - timedelta(days=1)
    if yesterday.year == YEAR:
        early = activity.organisation_activity(session, FINANCE, statements.period(
            start=date(YEAR, 1, 1), end=yesterday))
        assert sum(row.active_contributors for row in early) == 0
    from_today = activity.organisation_activity(session, FINANCE, statements.period(start=today, end=today))
    totals: dict[str, int] = defaultdict(int)
    for row in from_today:
        totals["people"] += row.active_contributors
        totals["mrs"] += row.merged_merge_requests
    assert totals == {"people": 4, "mrs": 3}
