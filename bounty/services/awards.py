"""Awards: opening a year's round, nominating, opening the vote and voting (docs/awards.md).

Rules (DOMAIN.md "Decisions by vote", seed 003, the contract of issue 6):
- A program admin (MANAGE_AWARDS) opens the round of a year: nominations open at once and
  close at the given moment. One round per year.
- Any contributor (NOMINATE) nominates while the nomination window is open: never themselves;
  a citation of at least 50 characters (after trimming); one nomination per nominator per
  category; the nominee is eligible in the category for the round's year
  (`award_eligibility`). A nominee already nominated in the category is refused: the
  second nominator supports the first nomination with a +1 instead.
- A program admin opens the vote once the nominations have closed; the vote lasts at least
  72 hours (seed 003, 3.5).
- Anyone who may vote (VOTE_ON_AWARDS) votes +1, +0, -0 or -1 on a nomination while the vote
  is open, and may change the vote until it closes. The vote binds when the voter is on the
  awards committee (CAST_BINDING_VOTE) and has no conflict of interest: not the nominee, not
  the nominator, not a member of the nominee organisation. Other votes are recorded as
  non-binding with the reason (not_committee or conflict). A -1 may carry a reason; in a
  lazy-consensus category a binding -1 without one is a void veto (`governance.votes`).
Every change is audited. Each public function is one transaction and commits once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.governance.votes import VALUES
from bounty.models import AwardCategory, AwardRound, Nomination, Organisation, Person, Vote, utcnow
from bounty.services import audit
from bounty.services.actors import Actor
from bounty.services.award_eligibility import category_by_code, eligible
from bounty.services.errors import Conflict, InvalidInput, NotFound

MIN_CITATION = 50
MAX_CITATION = 5000
MAX_REASON = 2000
MIN_VOTE_WINDOW = timedelta(hours=72)
FIRST_YEAR = 2000
ALREADY_NOMINATED = "already nominated: support the nomination with a +1"

__all__ = ["ALREADY_NOMINATED", "MIN_CITATION", "MIN_VOTE_WINDOW", "cast_vote", "nominate", "open_round",
           "open_vote"]


def _moment(value: datetime, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(field, "give a moment with its time zone")
    return value


def _round(session: Session, year: int, *, lock: bool = False) -> AwardRound:
    query = select(AwardRound).where(AwardRound.year == year)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = session.execute(query).scalar_one_or_none()
    if found is None:
        raise NotFound(f"no awards round for {year}")
    return found


def _person_of(session: Session, actor: Actor, action: str) -> Person:
    person = session.get(Person, actor.person_id) if actor.person_id is not None else None
    if person is None:
        raise InvalidInput("actor", f"only a person may {action}")
    return person


def open_round(session: Session, actor: Actor, year: int, nominations_close_at: datetime,
               now: datetime | None = None) -> AwardRound:
    """Open the awards round of `year`: nominations open now and close at `nominations_close_at`
    (commits). A second round for the same year is a Conflict."""
    actor.require(Permission.MANAGE_AWARDS)
    now = now or utcnow()
    try:
        if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= now.year:
            raise InvalidInput("year", f"give a year from {FIRST_YEAR} to {now.year}")
        close_at = _moment(nominations_close_at, "nominations_close_at")
        if close_at <= now:
            raise InvalidInput("nominations_close_at", "must be after now")
        if session.execute(select(AwardRound.id).where(AwardRound.year == year)).scalar() is not None:
            raise Conflict(f"the awards round for {year} is already open")
        award_round = AwardRound(year=year, nominations_open_at=now, nominations_close_at=close_at,
                                 created_by_id=actor.person_id)
        session.add(award_round)
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(f"the awards round for {year} is already open") from None
        audit.record(session, actor, "award_round.open", "award_round", award_round.id,
                     {"year": year, "nominations_open_at": now, "nominations_close_at": close_at})
        session.commit()
        return award_round
    except BaseException:
        session.rollback()
        raise


def open_vote(session: Session, actor: Actor, year: int, closes_at: datetime,
              now: datetime | None = None) -> AwardRound:
    """Open the vote of `year`'s round now, until `closes_at`, at least 72 hours away (commits).

    The nominations must have closed; a vote opens once (Conflict otherwise).
    """
    actor.require(Permission.MANAGE_AWARDS)
    now = now or utcnow()
    try:
        award_round = _round(session, year, lock=True)
        closes_at = _moment(closes_at, "closes_at")
        if award_round.voting_opens_at is not None:
            raise Conflict(f"the vote of {year} was already opened")
        if now < award_round.nominations_close_at:
            raise Conflict(f"the nominations for {year} are still open until "
                           f"{award_round.nominations_close_at.isoformat()}")
        if closes_at - now < MIN_VOTE_WINDOW:
            raise InvalidInput("closes_at", "a vote stays open at least 72 hours")
        award_round.voting_opens_at, award_round.voting_closes_at = now, closes_at
        audit.record(session, actor, "award_round.open_vote", "award_round", award_round.id,
                     {"year": year, "voting_opens_at": now, "voting_closes_at": closes_at})
        session.commit()
        return award_round
    except BaseException:
        session.rollback()
        raise


def _nominee(session: Session, category: AwardCategory, nominee_person_id: int | None,
             nominee_organisation_id: int | None) -> tuple[Person | None, Organisation | None]:
    if (nominee_person_id is None) == (nominee_organisation_id is None):
        raise InvalidInput("nominee", "name exactly one nominee: a person or an organisation")
    if category.is_for_organisations:
        if nominee_organisation_id is None:
            raise InvalidInput("nominee_organisation_id", f"{category.code} is for organisations")
        organisation = session.get(Organisation, nominee_organisation_id)
        if organisation is None:
            raise InvalidInput("nominee_organisation_id", f"no organisation {nominee_organisation_id}")
        return None, organisation
    if nominee_person_id is None:
        raise InvalidInput("nominee_person_id", f"{category.code} is for people, not organisations")
    person = session.get(Person, nominee_person_id)
    if person is None or person.merged_into_id is not None:
        raise InvalidInput("nominee_person_id", f"no person {nominee_person_id}")
    return person, None


def _citation(text: str) -> str:
    cleaned = (text or "").strip()
    if len(cleaned) < MIN_CITATION:
        raise InvalidInput("citation", f"write at least {MIN_CITATION} characters, "
                                       f"{len(cleaned)} so far")
    if len(cleaned) > MAX_CITATION:
        raise InvalidInput("citation", f"at most {MAX_CITATION} characters")
    return cleaned


def _refuse_duplicates(session: Session, award_round: AwardRound, category: AwardCategory, nominator_id: int,
                       person: Person | None, organisation: Organisation | None) -> None:
    in_category = (Nomination.round_id == award_round.id, Nomination.category_id == category.id)
    mine = session.execute(select(Nomination.id).where(*in_category, Nomination.nominator_id == nominator_id)
                           ).scalar()
    if mine is not None:
        raise Conflict(f"you already made a nomination in {category.code} for {award_round.year} "
                       f"(nomination {mine}): one per category")
    nominee = (Nomination.nominee_person_id == person.id if person is not None
               else Nomination.nominee_organisation_id == organisation.id)  # type: ignore[union-attr]
    theirs = session.execute(select(Nomination.id).where(*in_category, nominee)).scalar()
    if theirs is not None:
        raise Conflict(f"{ALREADY_NOMINATED} (nomination {theirs})")


def nominate(session: Session, actor: Actor, year: int, category_code: str, citation: str, *,
             nominee_person_id: int | None = None, nominee_organisation_id: int | None = None,
             now: datetime | None = None) -> Nomination:
    """Nominate a person or an organisation in a category of `year`'s round (commits).

    Refusals: InvalidInput naming the field (nominee, self-nomination, citation, eligibility),
    Conflict (window not open, a second nomination by the nominator in the category, a
    nominee already nominated in the category), NotFound (no round).
    """
    actor.require(Permission.NOMINATE)
    now = now or utcnow()
    try:
        nominator = _person_of(session, actor, "nominate")
        award_round = _round(session, year)
        category = category_by_code(session, category_code)
        if not award_round.nominations_open_at <= now < award_round.nominations_close_at:
            raise Conflict(f"nominations for {year} are not open "
                           f"({award_round.nominations_open_at.isoformat()} to "
                           f"{award_round.nominations_close_at.isoformat()})")
        person, organisation = _nominee(session, category, nominee_person_id, nominee_organisation_id)
        if person is not None and person.id == nominator.id:
            raise InvalidInput("nominee_person_id", "you cannot nominate yourself")
        text = _citation(citation)
        _refuse_duplicates(session, award_round, category, nominator.id, person, organisation)
        ok, why = eligible(session, category, year, person.id if person else None,
                           organisation.id if organisation else None)
        if not ok:
            field = "nominee_person_id" if person is not None else "nominee_organisation_id"
            raise InvalidInput(field, f"not eligible for {category.code} in {year}: {why}")
        nomination = Nomination(round_id=award_round.id, category_id=category.id,
                                nominee_person_id=person.id if person else None,
                                nominee_organisation_id=organisation.id if organisation else None,
                                nominator_id=nominator.id, citation=text, created_at=now)
        session.add(nomination)
        try:
            session.flush()
        except IntegrityError:
            # A concurrent nomination won the unique constraint; say which rule it broke.
            session.rollback()
            _refuse_duplicates(session, award_round, category, nominator.id, person, organisation)
            raise Conflict(ALREADY_NOMINATED) from None
        audit.record(session, actor, "nomination.create", "nomination", nomination.id, {
            "year": year, "category": category.code, "nominee_person": nomination.nominee_person_id,
            "nominee_organisation": nomination.nominee_organisation_id, "nominator": nominator.id,
            "eligibility": why})
        session.commit()
        return nomination
    except BaseException:
        session.rollback()
        raise


def conflict_of_interest(session: Session, nomination: Nomination, voter: Person) -> bool:
    """Whether `voter` is the nominee, the nominator or a member of the nominee organisation."""
    if voter.id in (nomination.nominee_person_id, nomination.nominator_id):
        return True
    return (nomination.nominee_organisation_id is not None
            and voter.organisation_id == nomination.nominee_organisation_id)


def cast_vote(session: Session, actor: Actor, nomination_id: int, value: str, reason: str = "",
              now: datetime | None = None) -> Vote:
    """Cast (or change) the actor's vote on a nomination while the vote is open (commits).

    The vote binds only for the awards committee without a conflict of interest; otherwise
    it is recorded as non-binding with the reason. Refusals: InvalidInput (value, reason),
    Conflict (the vote is not open), NotFound (no nomination).
    """
    actor.require(Permission.VOTE_ON_AWARDS)
    now = now or utcnow()
    try:
        voter = _person_of(session, actor, "vote")
        nomination = session.get(Nomination, nomination_id)
        if nomination is None:
            raise NotFound(f"no nomination {nomination_id}")
        award_round = session.get(AwardRound, nomination.round_id)
        assert award_round is not None
        opens, closes = award_round.voting_opens_at, award_round.voting_closes_at
        if opens is None or closes is None or not opens <= now < closes:
            raise Conflict(f"the vote of {award_round.year} is not open")
        value = (value or "").strip()
        if value not in VALUES:
            raise InvalidInput("value", f"vote one of {', '.join(VALUES)}")
        text = (reason or "").strip()
        if len(text) > MAX_REASON:
            raise InvalidInput("reason", f"at most {MAX_REASON} characters")
        committee = actor.can(Permission.CAST_BINDING_VOTE)
        conflicted = conflict_of_interest(session, nomination, voter)
        binding = committee and not conflicted
        why_not = None if binding else ("not_committee" if not committee else "conflict")
        vote = session.execute(
            select(Vote).where(Vote.nomination_id == nomination.id, Vote.voter_id == voter.id)
            .with_for_update()).scalar_one_or_none()
        previous = None if vote is None else {"value": vote.value, "binding": vote.is_binding,
                                              "reason": vote.reason, "at": vote.cast_at}
        if vote is None:
            vote = Vote(nomination_id=nomination.id, voter_id=voter.id)
            session.add(vote)
        vote.value, vote.is_binding, vote.non_binding_reason = value, binding, why_not
        vote.reason, vote.cast_at = text, now
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("your vote on this nomination was recorded at the same moment: "
                           "look again and change it if needed") from None
        action = "vote.change" if previous else "vote.cast"
        audit.record(session, actor, action, "nomination", nomination.id, {
            "vote": vote.id, "voter": voter.id, "value": value, "binding": binding,
            "non_binding_reason": why_not, "reason": text, "previous": previous})
        session.commit()
        return vote
    except BaseException:
        session.rollback()
        raise
