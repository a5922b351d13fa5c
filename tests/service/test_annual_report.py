"""The annual awards report's content: exact figures for a built year, the fund's parts adding
up, who may read it, and nobody named who did not agree to be."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bounty.ledger import Money
from bounty.services import funds
from bounty.services.actors import SYSTEM
from bounty.services.annual_report import annual_report
from bounty.services.errors import InvalidInput, PermissionDenied
from tests import payout_factories as pf
from tests import report_factories as rp
from tests import workflow_factories as wf


def eur(amount: str) -> Money:
    return Money.parse(amount, "EUR")


@pytest.fixture
def people(session) -> rp.Year:
    made = rp.year(session)
    rp.closed_round(session, made)
    return made


def test_the_year_in_figures(session, people):
    figures = annual_report(session, SYSTEM, rp.YEAR).figures
    # Three bounties' merge requests and Oscar's own; not the unsigned one, not last year's.
    assert figures.merged_mrs == 4
    # Alice, Oscar, the two bounty reviewers, Rita (hours reviewed), the tranche's signer;
    # not Bruno, whose only work was clawed back.
    assert figures.active_contributors == 6
    assert (figures.bounties_approved, figures.bounties_approved_eur) == (2, eur("3000"))
    assert (figures.bounties_paid, figures.bounties_paid_eur) == (1, eur("1000"))
    assert figures.hours_approved == Decimal("4.50")
    assert (figures.tranches_signed_off, figures.tranches_signed_off_eur) == (1, eur("5000"))
    assert figures.awards_given == 1


def test_the_fund_by_jurisdiction_adds_up_to_the_pools(session, people):
    report = annual_report(session, SYSTEM, rp.YEAR)
    rows = {row.jurisdiction_code: row for row in report.fund}
    assert list(rows) == ["EU", "UK", "CA", "AU"]
    assert [rows[c].share for c in rows] == [Decimal("0.5"), Decimal("0.25"), Decimal("0.15"), Decimal("0.1")]
    # The seeded pools of the year: 10,000,000 + 500,000 + 250,000, funded by share.
    assert [rows[c].allocated for c in rows] == [
        eur("5375000"), eur("2687500"), eur("1612500"), eur("1075000")]
    # The open bounty's 3,000 held, split by share.
    assert [rows[c].reserved for c in rows] == [eur("1500"), eur("750"), eur("450"), eur("300")]
    # 1,000 + 2,000 + 5,000 paid out; Bruno's 700 spent and then reversed.
    assert [rows[c].spent for c in rows] == [eur("4000"), eur("2000"), eur("1200"), eur("800")]
    total = report.fund_total
    statuses = funds.pool_statuses(session, rp.YEAR)
    for field in ("allocated", "reserved", "spent", "available"):
        assert sum((getattr(row, field) for row in report.fund), eur("0")) == getattr(total, field), field
    assert total.allocated == sum((s.funded for s in statuses), eur("0")) == eur("10750000")
    assert total.reserved == eur("3000") and total.spent == eur("8000")
    assert total.available == sum((s.available for s in statuses), eur("0"))
    assert total.share == 1
    assert [pool.kind for pool in report.pools] == [s.kind for s in statuses]


def test_bounties_by_category_and_working_group_and_hours_by_jurisdiction(session, people):
    report = annual_report(session, SYSTEM, rp.YEAR)
    by_category = {g.code: (g.approved, g.approved_eur, g.paid, g.paid_eur) for g in report.by_category}
    assert by_category == {
        "critical_security_fix": (0, eur("0"), 0, eur("0")), "major_feature": (0, eur("0"), 0, eur("0")),
        "documentation": (1, eur("2000"), 0, eur("0")), "bug_fix": (1, eur("1000"), 1, eur("1000"))}
    assert [(g.code, g.name, g.approved, g.paid) for g in report.by_working_group] == [
        ("WG1", "Platform Engineering", 1, 0), ("WG4", "Networking", 1, 1)]
    assert [(h.jurisdiction_code, h.hours, h.people) for h in report.hours] == [
        ("EU", Decimal("2.00"), 1), ("UK", Decimal("2.50"), 1), ("CA", Decimal("0.00"), 0),
        ("AU", Decimal("0.00"), 0)]


def test_only_people_who_agreed_are_named(session, people):
    report = annual_report(session, SYSTEM, rp.YEAR)
    # Recognised: active and listed (Alice, Rita); not Bruno (listed, not active), not Oscar.
    assert [(p.name, p.jurisdiction_code, p.organisation) for p in report.recognised] == [
        ("Alice Public", "EU", "Acme Cloud GmbH"), ("Rita Reviewer", "EU", None)]
    alice = report.recognised[0]
    assert ("First merge", "Première fusion") in alice.badges
    assert ("10 merges", "10 fusions") not in alice.badges  # earned the year before
    # Top tens: Oscar ranks, without his name, username or organisation.
    everyone = report.top_overall + [row for rows in report.top_by_jurisdiction.values() for row in rows]
    oscar_rows = [row for row in everyone if row.person_id == people.oscar.id]
    assert len(oscar_rows) == 2  # overall and the UK
    assert all((row.name, row.username, row.organisation_name) == (None, None, None) for row in oscar_rows)
    assert [row.rank for row in report.top_overall] == list(range(1, len(report.top_overall) + 1))
    assert "Alice Public" in {row.name for row in report.top_overall}
    assert not any(row.name for row in everyone if not row.is_public)
    # The award: Alice wins with her citation; Oscar's nomination is anonymous, its citation withheld.
    award = next(a for a in report.awards if a.code == "contributor_of_the_year")
    assert award.decided and award.winner is award.nominees[0]
    assert (award.winner.name, award.winner.citation) == ("Alice Public", rp.ALICE_CITATION)
    assert award.winner.binding["+1"] == 3 and award.winner.passed
    oscar = award.nominees[1]
    assert (oscar.name, oscar.citation, oscar.passed) == (None, None, False)
    assert (oscar.binding["-1"], oscar.binding["+0"]) == (1, 2)
    assert "Oscar Hidden" not in repr(report)


def test_who_may_read_the_report(session, people):
    auditor = pf.auditor(session)
    for reader in (wf.admin(session), auditor, SYSTEM):
        assert annual_report(session, reader, rp.YEAR).year == rp.YEAR
    for stranger in (wf.actor_of(people.alice), pf.finance(session)):
        with pytest.raises(PermissionDenied, match="may not read the annual awards report"):
            annual_report(session, stranger, rp.YEAR)
    with pytest.raises(InvalidInput) as refused:
        annual_report(session, SYSTEM, 1999)
    assert refused.value.field == "year"


def test_a_year_without_activity_or_round(session):
    wf.reference(session)
    report = annual_report(session, SYSTEM, 2025)
    assert report.figures.bounties_approved == 0 and report.figures.active_contributors == 0
    assert report.awards == [] and report.recognised == [] and report.top_overall == []
    assert report.fund_total.allocated == eur("0") and report.pools == []
    # No shares were on record before 2026: no member rows either.
    assert report.fund == [] and report.hours == []
