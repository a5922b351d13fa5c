"""The annual awards report's content: one year of the programme in figures, by name only
for people who agreed to be named.

Who may read it (docs/awards-report.md): program admins (MANAGE_AWARDS), auditors
(READ_EVERYTHING) and the system (the `bounty report awards` command, the job queue).

What it holds, all over the calendar year (UTC):
- the year in figures: DCO-clean merged merge requests, active contributors, bounties
  approved (clawed-back ones never count) and paid with their EUR value, approved hours,
  grant tranches signed off;
- the fund by jurisdiction (`bounty.services.annual_fund`): for the year's pools, what each
  member put in by its share (its pledges posted by the pool fundings), its share of what is
  reserved (largest remainder, so the parts add up) and its part of what was spent (its
  `borne` lines);
- bounties approved and paid by category and by working group, hours by jurisdiction;
- the top ten overall and per jurisdiction (`leaderboards.top`), each award category's
  outcome (`award_queries.results`, read in `bounty.services.annual_awards`), and the
  recognised contributors: people active in the year who agreed to be listed, with the
  badges they earned that year.

Privacy (the rule of docs/awards-report.md): a person's name, username and organisation
are read only while `is_public_listing` is true. Anyone else is "anonymous" (name None)
in the top tens and among award nominees, whose citation is withheld then (it may name
them), and is left out of the recognised contributors.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, exists, func, select, union
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.ledger import InvalidShares, Money
from bounty.models import (
    Bounty,
    BountyCategory,
    Claim,
    HoursEntry,
    MergeRequest,
    Organisation,
    PayoutItem,
    Person,
    Reservation,
    Review,
    Tranche,
    WorkingGroup,
    utcnow,
)
from bounty.models.recognition import Badge, PersonBadge
from bounty.services import funds, leaderboards
from bounty.services.actors import Actor
from bounty.services.annual_awards import AwardOutcome, award_outcomes
from bounty.services.annual_fund import FundRow, fund_by_jurisdiction
from bounty.services.errors import PermissionDenied
from bounty.services.hours import hours_of, year_bounds
from bounty.services.leaderboards import LeaderboardRow

READERS = (Permission.MANAGE_AWARDS, Permission.READ_EVERYTHING)
EUR = "EUR"


def require_reader(actor: Actor) -> None:
    """Refuse anyone but program admins, auditors and the system."""
    if not any(actor.can(permission) for permission in READERS):
        raise PermissionDenied(f"{actor.label} may not read the annual awards report")


@dataclass(frozen=True)
class YearFigures:
    merged_mrs: int
    active_contributors: int
    bounties_approved: int
    bounties_approved_eur: Money
    bounties_paid: int
    bounties_paid_eur: Money
    hours_approved: Decimal
    tranches_signed_off: int
    tranches_signed_off_eur: Money
    awards_given: int


@dataclass(frozen=True)
class BountyGroup:
    """Bounties of one category or working group (code None: without a working group)."""

    code: str | None
    name: str
    approved: int
    approved_eur: Money
    paid: int
    paid_eur: Money


@dataclass(frozen=True)
class HoursRow:
    jurisdiction_code: str | None
    hours: Decimal
    people: int


@dataclass(frozen=True)
class RecognisedContributor:
    name: str
    jurisdiction_code: str | None
    organisation: str | None
    badges: tuple[tuple[str, str], ...]  # (English, French) names of the badges earned that year


@dataclass(frozen=True)
class AnnualReport:
    year: int
    generated_at: datetime
    figures: YearFigures
    fund: list[FundRow]
    fund_total: FundRow
    pools: list[funds.PoolStatus]
    by_category: list[BountyGroup]
    by_working_group: list[BountyGroup]
    hours: list[HoursRow]
    top_overall: list[LeaderboardRow]
    top_by_jurisdiction: dict[str, list[LeaderboardRow]]
    awards: list[AwardOutcome]
    recognised: list[RecognisedContributor]


def annual_report(session: Session, actor: Actor, year: int, *, now: datetime | None = None) -> AnnualReport:
    """The report of `year` (reads only; InvalidInput on "year" outside 2000-9998)."""
    require_reader(actor)
    first, after = year_bounds(year)
    span = _Span(first, after)
    shares = _shares(session, year)
    active = _active_people(session, span)
    approved = _approved_bounties(session, span)
    paid = _paid_bounties(session, span)
    tranches = _signed_off_tranches(session, span)
    awards = award_outcomes(session, year)
    fund, fund_total, pools = fund_by_jurisdiction(session, year, shares)
    figures = YearFigures(
        merged_mrs=int(session.execute(
            select(func.count(MergeRequest.id)).where(MergeRequest.is_dco_ok.is_(True), span.has(
                MergeRequest.merged_at))).scalar_one()),
        active_contributors=int(session.execute(
            select(func.count()).select_from(active.subquery())).scalar_one()),
        bounties_approved=len(approved), bounties_approved_eur=_eur(sum(r.eur for r in approved)),
        bounties_paid=len(paid), bounties_paid_eur=_eur(sum(r.eur for r in paid)),
        hours_approved=hours_of(int(session.execute(
            select(func.coalesce(func.sum(HoursEntry.quarter_hours), 0))
            .where(HoursEntry.status == "approved", HoursEntry.worked_on >= first,
                   HoursEntry.worked_on < after)).scalar_one())),
        tranches_signed_off=len(tranches), tranches_signed_off_eur=_eur(sum(tranches)),
        awards_given=sum(1 for award in awards if award.winner is not None),
    )
    return AnnualReport(
        year=year, generated_at=now or utcnow(), figures=figures,
        fund=fund, fund_total=fund_total, pools=pools,
        by_category=_grouped(approved, paid, _category_names(session), with_empty=True),
        by_working_group=_grouped([r.by_group() for r in approved], [r.by_group() for r in paid],
                                  _group_names(session), with_empty=False),
        hours=_hours_by_jurisdiction(session, first, after, shares),
        top_overall=_top_ten(session, year),
        top_by_jurisdiction={code: _top_ten(session, year, code) for code in shares},
        awards=awards,
        recognised=_recognised(session, active, span),
    )


# --- the year's bounds ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Span:
    first: date
    after: date

    @property
    def start(self) -> datetime:
        return datetime(self.first.year, 1, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return datetime(self.after.year, 1, 1, tzinfo=UTC)

    def has(self, column: Any) -> Any:
        """`column` (a UTC timestamp) lies in the year."""
        return and_(column >= self.start, column < self.end)


def _eur(minor: int) -> Money:
    return Money(int(minor), EUR)


def _shares(session: Session, year: int) -> dict[str, Decimal]:
    try:
        shares = funds.shares_for_year(session, year)
    except InvalidShares:
        shares = {}
    return dict(sorted(shares.items(), key=lambda item: (-item[1], item[0])))


# --- who was active ---------------------------------------------------------------------------

def _active_people(session: Session, span: _Span) -> Select[Any]:
    """The ids of people active in the year (docs/awards.md, "active"): a DCO-clean merged merge
    request, an approved hours entry, an approved bounty claim or a review given (of a claim,
    of hours, a grant tranche signed off); people merged into another never count."""
    sources = union(
        select(MergeRequest.person_id.label("person_id"))
        .where(MergeRequest.is_dco_ok.is_(True), span.has(MergeRequest.merged_at)),
        select(HoursEntry.person_id).where(HoursEntry.status == "approved",
                                           HoursEntry.worked_on >= span.first,
                                           HoursEntry.worked_on < span.after),
        select(Claim.person_id).where(Claim.status == "approved", span.has(Claim.decided_at),
                                      ~_clawed_back("bounty", Claim.id)),
        select(Review.reviewer_id).where(span.has(Review.created_at)),
        select(HoursEntry.reviewer_id).where(HoursEntry.status != "pending",
                                             span.has(HoursEntry.reviewed_at)),
        select(Tranche.signed_off_by_id).where(span.has(Tranche.signed_off_at)),
    ).subquery()
    return (select(Person.id).join(sources, sources.c.person_id == Person.id)
            .where(Person.merged_into_id.is_(None)))


# --- bounties and grant tranches --------------------------------------------------------------

@dataclass(frozen=True)
class _BountyRow:
    category_code: str
    group_code: str | None
    eur: int

    def by_group(self) -> _BountyRow:
        return _BountyRow(self.group_code or "", self.group_code, self.eur)


def _clawed_back(kind: str, subject: Any) -> Any:
    return exists().where(PayoutItem.kind == kind, PayoutItem.subject_id == subject,
                          PayoutItem.status == "clawed_back")


def _approved_bounties(session: Session, span: _Span) -> list[_BountyRow]:
    """Claims approved in the year and not clawed back, at the EUR value reserved for them."""
    rows = session.execute(
        select(BountyCategory.code, WorkingGroup.code, Reservation.amount_minor)
        .select_from(Claim)
        .join(Bounty, Bounty.id == Claim.bounty_id)
        .join(BountyCategory, BountyCategory.id == Bounty.category_id)
        .outerjoin(WorkingGroup, WorkingGroup.id == Bounty.working_group_id)
        .join(Reservation, and_(Reservation.purpose == "bounty", Reservation.subject_id == Bounty.id,
                                Reservation.status == "consumed"))
        .where(Claim.status == "approved", span.has(Claim.decided_at), ~_clawed_back("bounty", Claim.id))
    ).all()
    return [_BountyRow(category, group, int(eur)) for category, group, eur in rows]


def _paid_bounties(session: Session, span: _Span) -> list[_BountyRow]:
    """Bounty payouts the bank confirmed paid in the year (still paid: not clawed back)."""
    rows = session.execute(
        select(BountyCategory.code, WorkingGroup.code, PayoutItem.eur_minor)
        .select_from(PayoutItem)
        .join(Claim, Claim.id == PayoutItem.subject_id)
        .join(Bounty, Bounty.id == Claim.bounty_id)
        .join(BountyCategory, BountyCategory.id == Bounty.category_id)
        .outerjoin(WorkingGroup, WorkingGroup.id == Bounty.working_group_id)
        .where(PayoutItem.kind == "bounty", PayoutItem.status == "paid",
               PayoutItem.paid_on >= span.first, PayoutItem.paid_on < span.after)
    ).all()
    return [_BountyRow(category, group, int(eur)) for category, group, eur in rows]


def _signed_off_tranches(session: Session, span: _Span) -> list[int]:
    """The EUR value of each grant tranche signed off in the year (not cancelled or clawed back)."""
    return [int(eur) for eur in session.execute(
        select(Reservation.amount_minor)
        .select_from(Tranche)
        .join(Reservation, and_(Reservation.purpose == "grant", Reservation.subject_id == Tranche.id,
                                Reservation.status == "consumed"))
        .where(span.has(Tranche.signed_off_at), Tranche.status.in_(("signed_off", "paid")),
               ~_clawed_back("tranche", Tranche.id))
    ).scalars()]


def _category_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(BountyCategory.code, BountyCategory.name).order_by(
        BountyCategory.id)).all())


def _group_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(WorkingGroup.code, WorkingGroup.name).order_by(
        WorkingGroup.code)).all())


def _grouped(approved: list[_BountyRow], paid: list[_BountyRow], names: dict[str, str], *,
             with_empty: bool) -> list[BountyGroup]:
    """Counts and EUR sums per category code (`names` order; the unnamed "" last)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in approved:
        counts[row.category_code][0] += 1
        counts[row.category_code][1] += row.eur
    for row in paid:
        counts[row.category_code][2] += 1
        counts[row.category_code][3] += row.eur
    codes = [code for code in names if with_empty or code in counts] + ([""] if "" in counts else [])
    return [BountyGroup(code or None, names.get(code, ""), counts[code][0], _eur(counts[code][1]),
                        counts[code][2], _eur(counts[code][3])) for code in codes]


# --- the top tens -----------------------------------------------------------------------------

def _top_ten(session: Session, year: int, jurisdiction: str | None = None) -> list[LeaderboardRow]:
    """The year's top ten as the public sees it: who has not agreed to be listed is anonymous."""
    rows = leaderboards.top(session, leaderboards.parse_period(str(year)), 10, jurisdiction)
    return [row if row.is_public else replace(row, name=None, username=None, organisation_name=None)
            for row in rows]


# --- hours and the recognised contributors ----------------------------------------------------

def _hours_by_jurisdiction(session: Session, first: date, after: date,
                           shares: dict[str, Decimal]) -> list[HoursRow]:
    rows = session.execute(
        select(Person.jurisdiction_code, func.sum(HoursEntry.quarter_hours),
               func.count(func.distinct(HoursEntry.person_id)))
        .join(Person, Person.id == HoursEntry.person_id)
        .where(HoursEntry.status == "approved", HoursEntry.worked_on >= first, HoursEntry.worked_on < after)
        .group_by(Person.jurisdiction_code)
    ).all()
    found = {code: (int(quarters), int(people)) for code, quarters, people in rows}
    codes = list(shares) + sorted((code for code in found if code not in shares), key=lambda c: c or "~")
    return [HoursRow(code, hours_of(found.get(code, (0, 0))[0]), found.get(code, (0, 0))[1])
            for code in codes]


def _recognised(session: Session, active: Select[Any], span: _Span) -> list[RecognisedContributor]:
    """Active people of the year who agreed to be listed, by name; nobody else."""
    ids = active.subquery()
    people = session.execute(
        select(Person.id, Person.display_name, Person.username, Person.jurisdiction_code, Organisation.name)
        .join(ids, ids.c.id == Person.id)
        .outerjoin(Organisation, Organisation.id == Person.organisation_id)
        .where(Person.is_public_listing.is_(True))
    ).all()
    badges: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for person_id, name, name_fr in session.execute(
        select(PersonBadge.person_id, Badge.name, Badge.name_fr)
        .join(Badge, Badge.id == PersonBadge.badge_id)
        .join(ids, ids.c.id == PersonBadge.person_id)
        .where(span.has(PersonBadge.earned_at))
        .order_by(PersonBadge.person_id, Badge.position, Badge.code)
    ):
        badges[person_id].append((name, name_fr or name))
    ordered = sorted(people, key=lambda row: ((row.display_name or row.username).casefold(), row.username))
    return [RecognisedContributor(row.display_name or row.username, row.jurisdiction_code, row.name,
                                  tuple(badges.get(row.id, ()))) for row in ordered]

