"""Reading awards: categories, rounds and their phase, nominations with their votes, the
results of a year and the winners over years (docs/awards.md). Read only; never commits.

Results are decided once the vote has closed. Each nomination is tallied by its category's
rule (`bounty.governance.votes`); the winner of a category is the passing nomination with
the most binding +1, then the fewest binding -1, then the earliest nomination. No passing
nomination means no award in that category that year.

Privacy: program admins (MANAGE_AWARDS), the awards committee (CAST_BINDING_VOTE) and
auditors (READ_EVERYTHING) see every name. Anyone else (a visitor, a contributor) sees a
person's name only while that person has opted in to public listing (or is the viewer):
otherwise the name and id are None and `..._is_public` is False, and the caller shows
"Anonymous contributor". A citation describes its nominee, so it goes with the nominee's
name; a vote's reason likewise. Organisations are always named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.governance.votes import MINUS_ONE, PLUS_ONE, BallotVote, Tally, tally
from bounty.models import AwardCategory, AwardRound, Nomination, Organisation, Person, Vote, utcnow
from bounty.services.actors import Actor
from bounty.services.award_eligibility import category_by_code, eligible
from bounty.services.errors import NotFound

SEES_NAMES = (Permission.MANAGE_AWARDS, Permission.CAST_BINDING_VOTE, Permission.READ_EVERYTHING)
NOMINATING, WAITING, VOTING, CLOSED = "nominating", "waiting", "voting", "closed"

__all__ = ["CategoryResult", "NominationView", "VoteView", "Winner", "YearResults", "categories",
           "eligible", "nominations", "results", "round_of", "round_phase", "sees_names", "winners"]


@dataclass(frozen=True)
class VoteView:
    """A vote as the viewer may see it; `is_void_veto` marks a reasonless binding -1 in a
    lazy-consensus category (shown, never counted)."""

    id: int
    voter_id: int | None
    voter_name: str | None
    voter_is_public: bool
    value: str
    is_binding: bool
    non_binding_reason: str | None
    reason: str | None
    cast_at: datetime
    is_veto: bool
    is_void_veto: bool


@dataclass(frozen=True)
class NominationView:
    """A nomination with its votes and their tally under the category's rule."""

    id: int
    year: int
    category_code: str
    decision_rule: str
    nominee_person_id: int | None
    nominee_organisation_id: int | None
    nominee_name: str | None
    nominee_is_public: bool
    nominator_id: int | None
    nominator_name: str | None
    nominator_is_public: bool
    citation: str | None
    created_at: datetime
    votes: tuple[VoteView, ...]
    tally: Tally


@dataclass(frozen=True)
class CategoryResult:
    """A category's nominations (in nomination order) and its winner once decided."""

    category: AwardCategory
    nominations: list[NominationView]
    winner: NominationView | None
    decided: bool


@dataclass(frozen=True)
class YearResults:
    """The round of a year, its phase as of the query and every category's result."""

    year: int
    round: AwardRound
    phase: str
    decided: bool
    categories: list[CategoryResult]


@dataclass(frozen=True)
class Winner:
    """The winner of a category in a decided round: a person or an organisation."""

    year: int
    category_code: str
    person_id: int | None
    organisation_id: int | None
    nomination_id: int


def sees_names(actor: Actor | None) -> bool:
    """Whether `actor` sees every name in awards answers (see the module docstring)."""
    return actor is not None and any(actor.can(permission) for permission in SEES_NAMES)


def categories(session: Session) -> list[AwardCategory]:
    """Every award category, in display order."""
    return list(session.execute(select(AwardCategory).order_by(AwardCategory.position, AwardCategory.code))
                .scalars())


def round_of(session: Session, year: int) -> AwardRound | None:
    """The awards round of `year`, if one was opened."""
    return session.execute(select(AwardRound).where(AwardRound.year == year)).scalar_one_or_none()


def round_phase(award_round: AwardRound, now: datetime | None = None) -> str:
    """"nominating" while nominations are open, "voting" while the vote is open, "closed" once
    the vote has closed, "waiting" otherwise (between the two windows)."""
    now = now or utcnow()
    if award_round.nominations_open_at <= now < award_round.nominations_close_at:
        return NOMINATING
    opens, closes = award_round.voting_opens_at, award_round.voting_closes_at
    if opens is not None and closes is not None:
        if opens <= now < closes:
            return VOTING
        if now >= closes:
            return CLOSED
    return WAITING


def is_decided(award_round: AwardRound, now: datetime | None = None) -> bool:
    """Whether the round's vote has closed, so its results stand."""
    return round_phase(award_round, now) == CLOSED


def ballot(votes: Iterable[Vote]) -> list[BallotVote]:
    """The votes as the pure tally takes them."""
    return [BallotVote(vote.voter_id, vote.value, vote.is_binding, vote.reason) for vote in votes]


def winner_of(tallied: Sequence[tuple[Nomination, Tally]]) -> Nomination | None:
    """The passing nomination with the most binding +1, then the fewest binding -1, then the
    earliest; None when none passes."""
    passing = [(nomination, result) for nomination, result in tallied if result.passed]
    if not passing:
        return None
    return min(passing, key=lambda pair: (-pair[1].binding[PLUS_ONE], pair[1].binding[MINUS_ONE],
                                          pair[0].created_at, pair[0].id))[0]


class _Names:
    """Names of the people and organisations of some nominations, as a viewer may see them."""

    def __init__(self, session: Session, viewer: Actor | None, person_ids: set[int],
                 organisation_ids: set[int]) -> None:
        self.all = sees_names(viewer)
        self.viewer_id = viewer.person_id if viewer is not None else None
        self.people = {p.id: p for p in session.execute(
            select(Person).where(Person.id.in_(person_ids))).scalars()} if person_ids else {}
        self.organisations = {o.id: o for o in session.execute(
            select(Organisation).where(Organisation.id.in_(organisation_ids))).scalars()
        } if organisation_ids else {}

    def person(self, person_id: int) -> tuple[int | None, str | None, bool]:
        """(id, name, is_public): id and name are None when the viewer may not see them."""
        person = self.people[person_id]
        if self.all or person.is_public_listing or person_id == self.viewer_id:
            return person.id, person.display_name, person.is_public_listing
        return None, None, False

    def organisation(self, organisation_id: int) -> str:
        return self.organisations[organisation_id].name


def _load(session: Session, rounds: Sequence[AwardRound], category_code: str | None = None
          ) -> tuple[list[Nomination], dict[int, list[Vote]]]:
    query = select(Nomination).where(Nomination.round_id.in_([r.id for r in rounds]))
    if category_code is not None:
        query = query.where(Nomination.category_id == category_by_code(session, category_code).id)
    found = list(session.execute(query.order_by(Nomination.created_at, Nomination.id)).scalars())
    votes: dict[int, list[Vote]] = defaultdict(list)
    if found:
        for vote in session.execute(select(Vote).where(Vote.nomination_id.in_([n.id for n in found]))
                                    .order_by(Vote.cast_at, Vote.id)).scalars():
            votes[vote.nomination_id].append(vote)
    return found, votes


def _views(session: Session, viewer: Actor | None, award_round: AwardRound, found: list[Nomination],
           votes: dict[int, list[Vote]], by_id: dict[int, AwardCategory]) -> list[NominationView]:
    people = {n.nominator_id for n in found} | {n.nominee_person_id for n in found if n.nominee_person_id}
    people |= {v.voter_id for vs in votes.values() for v in vs}
    names = _Names(session, viewer, people, {n.nominee_organisation_id for n in found
                                             if n.nominee_organisation_id})
    views = []
    for nomination in found:
        category = by_id[nomination.category_id]
        result = tally(ballot(votes[nomination.id]), category.decision_rule)
        if nomination.nominee_person_id is not None:
            nominee_id, nominee_name, nominee_public = names.person(nomination.nominee_person_id)
            shown = nominee_id is not None
        else:
            nominee_id, nominee_name, nominee_public = None, names.organisation(
                nomination.nominee_organisation_id or 0), True
            shown = True
        nominator_id, nominator_name, nominator_public = names.person(nomination.nominator_id)
        vote_views = []
        for vote in votes[nomination.id]:
            voter_id, voter_name, voter_public = names.person(vote.voter_id)
            vote_views.append(VoteView(
                vote.id, voter_id, voter_name, voter_public, vote.value, vote.is_binding,
                vote.non_binding_reason, vote.reason if shown else None, vote.cast_at,
                vote.voter_id in result.vetoes, vote.voter_id in result.void_vetoes))
        views.append(NominationView(
            nomination.id, award_round.year, category.code, category.decision_rule, nominee_id,
            nomination.nominee_organisation_id, nominee_name, nominee_public, nominator_id, nominator_name,
            nominator_public, nomination.citation if shown else None, nomination.created_at,
            tuple(vote_views), result))
    return views


def _round_or_404(session: Session, year: int) -> AwardRound:
    award_round = round_of(session, year)
    if award_round is None:
        raise NotFound(f"no awards round for {year}")
    return award_round


def nominations(session: Session, actor: Actor | None, year: int, category_code: str | None = None
                ) -> list[NominationView]:
    """The nominations of `year` (of one category if given), by category order then nomination
    order, with their votes and running tallies; names per the privacy rule."""
    award_round = _round_or_404(session, year)
    ordered = categories(session)
    by_id = {category.id: category for category in ordered}
    found, votes = _load(session, [award_round], category_code)
    position = {category.id: index for index, category in enumerate(ordered)}
    found.sort(key=lambda n: (position[n.category_id], n.created_at, n.id))
    return _views(session, actor, award_round, found, votes, by_id)


def results(session: Session, actor: Actor | None, year: int, now: datetime | None = None) -> YearResults:
    """Every category's nominations and tallies for `year`; winners only once decided."""
    award_round = _round_or_404(session, year)
    decided = is_decided(award_round, now)
    ordered = categories(session)
    by_id = {category.id: category for category in ordered}
    found, votes = _load(session, [award_round])
    views = _views(session, actor, award_round, found, votes, by_id)
    per_category: dict[str, list[tuple[Nomination, NominationView]]] = defaultdict(list)
    for nomination, view in zip(found, views, strict=True):
        per_category[view.category_code].append((nomination, view))
    outcome = []
    for category in ordered:
        pairs = per_category.get(category.code, [])
        winner = None
        if decided:
            chosen = winner_of([(nomination, view.tally) for nomination, view in pairs])
            winner = next((view for nomination, view in pairs if nomination is chosen), None)
        outcome.append(CategoryResult(category, [view for _, view in pairs], winner, decided))
    return YearResults(year, award_round, round_phase(award_round, now), decided, outcome)


def winners(session: Session, first_year: int, last_year: int, now: datetime | None = None) -> list[Winner]:
    """The winners of the decided rounds from `first_year` to `last_year` (inclusive), by year
    then category order. Ids only: callers apply the privacy rule when they name them."""
    rounds = [r for r in session.execute(
        select(AwardRound).where(AwardRound.year >= first_year, AwardRound.year <= last_year)
        .order_by(AwardRound.year)).scalars() if is_decided(r, now)]
    if not rounds:
        return []
    ordered = categories(session)
    found, votes = _load(session, rounds)
    grouped: dict[tuple[int, int], list[tuple[Nomination, Tally]]] = defaultdict(list)
    by_id = {category.id: category for category in ordered}
    for nomination in found:
        grouped[(nomination.round_id, nomination.category_id)].append(
            (nomination, tally(ballot(votes[nomination.id]), by_id[nomination.category_id].decision_rule)))
    chosen = []
    for award_round in rounds:
        for category in ordered:
            nomination = winner_of(grouped.get((award_round.id, category.id), []))
            if nomination is not None:
                chosen.append(Winner(award_round.year, category.code, nomination.nominee_person_id,
                                     nomination.nominee_organisation_id, nomination.id))
    return chosen
