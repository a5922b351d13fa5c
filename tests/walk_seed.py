"""The permission walk's data for awards, documents and public profiles
(tests/web/test_permission_walk.py).

Award rounds in each phase, so every award write of the walk has a valid target at the real
moment of the request: a round whose nominations are open now, one whose vote is open now
(with a nomination per vote case), a round waiting for its vote per open-vote case, a closed
round, and years without a round for opening one. Rounds are opened in the past through the
services' `now=` arguments. Also a finished document (the finance walker's trial balance,
built by its real builder) and people whose public profile is or is not listed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from bounty.models import Person, utcnow
from bounty.services import awards, document_jobs
from bounty.services.actors import SYSTEM, Actor
from bounty.tasks.finance_documents import BUILDERS
from tests import award_factories as af
from tests import workflow_factories as wf

NOMINATING_YEAR = utcnow().year
VOTING_YEAR = NOMINATING_YEAR - 1
CLOSED_YEAR = NOMINATING_YEAR - 4
# One round waiting for its vote per open-vote case; one year without a round per open-round case.
WAITING_YEARS = {"open_vote_html": NOMINATING_YEAR - 2, "open_vote_api": NOMINATING_YEAR - 3}
NEW_ROUND_YEARS = {"open_round_html": 2010, "open_round_api": 2011}
# Each viewer nominates the nominee once in each of these categories (one per nominator and
# category, one nomination per nominee and category): a category per nomination case.
NOMINATION_CATEGORIES = {"nominate_html": "contributor_of_the_year", "nominate_api": "jurisdiction_eu"}
# The nominations of the voting round, by vote case (`Seeded.refs`).
VOTE_TARGETS = dict(zip(("vote_html", "vote_api"), NOMINATION_CATEGORIES.values(), strict=True))
# The finished document of the walk, asked for by the finance walker (`Seeded.refs`).
DOCUMENT_TARGET = "document_finance"
# Eligible in every round's year, not listed publicly; and someone who opted in to listing.
NOMINEE = "walk.nominee"
LISTED = "walk.listed"
NOMINATOR = "walk.nominator"
# The names (as `workflow_factories.person` makes them) of the unlisted nominee and nominator,
# which only those who may see names are ever shown.
UNLISTED_NAMES = ("Walk Nominee", "Walk Nominator")


def _past_round(session: Session, admin: Actor, year: int) -> None:
    """The round of `year`, nominations from 1 to 15 November."""
    awards.open_round(session, admin, year, datetime(year, 11, 15, tzinfo=UTC),
                      now=datetime(year, 11, 1, tzinfo=UTC))


def seed_awards(session: Session) -> dict[str, int]:
    """The rounds (see the module's docstring); the voting round's nominations by vote case
    and the nominee's person id ("nominee_person")."""
    admin = wf.admin(session)
    nominee = af.member(session, NOMINEE)
    nominator = af.member(session, NOMINATOR)
    af.member(session, LISTED, public=True)
    today = utcnow().date()
    for year in (CLOSED_YEAR, VOTING_YEAR):
        af.hours(session, nominee, date(year, 6, 15))
    af.hours(session, nominee, today)
    now = utcnow()
    awards.open_round(session, admin, NOMINATING_YEAR, now + timedelta(days=30), now=now - timedelta(hours=1))
    for year in WAITING_YEARS.values():
        _past_round(session, admin, year)

    refs: dict[str, int] = {"nominee_person": nominee.person_id or 0}
    _past_round(session, admin, VOTING_YEAR)
    for purpose, category in VOTE_TARGETS.items():
        nomination = awards.nominate(session, nominator, VOTING_YEAR, category, af.CITATION,
                                     nominee_person_id=nominee.person_id,
                                     now=datetime(VOTING_YEAR, 11, 2, tzinfo=UTC))
        refs[purpose] = nomination.id
    awards.open_vote(session, admin, VOTING_YEAR, now + timedelta(days=30),
                     now=datetime(VOTING_YEAR, 11, 16, tzinfo=UTC))

    _past_round(session, admin, CLOSED_YEAR)
    closed = awards.nominate(session, nominator, CLOSED_YEAR, "contributor_of_the_year", af.CITATION,
                             nominee_person_id=nominee.person_id,
                             now=datetime(CLOSED_YEAR, 11, 2, tzinfo=UTC))
    awards.open_vote(session, admin, CLOSED_YEAR, datetime(CLOSED_YEAR, 11, 26, tzinfo=UTC),
                     now=datetime(CLOSED_YEAR, 11, 16, tzinfo=UTC))
    judge = wf.actor_of(wf.person(session, "walk.awards-committee", ("awards-committee",)))
    awards.cast_vote(session, judge, closed.id, "+1", now=datetime(CLOSED_YEAR, 11, 20, tzinfo=UTC))
    return refs


def seed_documents(session: Session, finance: Person) -> dict[str, int]:
    """The finance walker's trial balance as XLSX, built and stored as the worker would."""
    actor = wf.actor_of(finance)
    job = document_jobs.request_document(session, actor, "trial_balance_xlsx", {})
    document_jobs.mark_running(session, SYSTEM, job.id)
    content = BUILDERS["trial_balance_xlsx"](session, actor, dict(job.params), lambda percent, stage: None)
    document_jobs.complete(session, SYSTEM, job.id, content, 168)
    return {DOCUMENT_TARGET: job.id}
