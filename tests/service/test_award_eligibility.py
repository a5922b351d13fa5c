"""Who may be nominated in each award category: activity in the round's year, rule by rule,
with the year's boundaries; on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from bounty.models import Person, utcnow
from bounty.services import award_queries, claims, payouts
from bounty.services.award_eligibility import eligible, is_active
from bounty.services.errors import InvalidInput, NotFound
from tests import award_factories as af
from tests import payout_factories as pf
from tests import workflow_factories as wf

YEAR = af.YEAR
# Claims, reviews and merged work made through the workflow are dated now.
THIS_YEAR = utcnow().year


@pytest.fixture
def ready(session: Session) -> Session:
    af.setup(session)
    return session


def check(session: Session, category: str, person_id: int, year: int = YEAR) -> tuple[bool, str]:
    return eligible(session, category, year, person_id=person_id)


def test_approved_hours_in_the_year_make_a_contributor_active(ready: Session):
    who = af.member(ready, "hana")
    assert check(ready, "contributor_of_the_year", who.person_id) == (
        False, "no activity in 2026 (merged work, approved hours or bounty, or a review)")
    af.hours(ready, who, date(YEAR, 6, 1), status="pending")
    af.hours(ready, who, date(YEAR, 6, 2), status="rejected")
    af.hours(ready, who, date(YEAR + 1, 1, 1))
    af.hours(ready, who, date(YEAR - 1, 12, 31))
    assert not check(ready, "contributor_of_the_year", who.person_id)[0]
    af.hours(ready, who, date(YEAR, 12, 31))
    assert check(ready, "contributor_of_the_year", who.person_id) == (True, "active in 2026")
    af.hours(ready, af.member(ready, "ike"), date(YEAR, 1, 1))
    assert is_active(ready, af.member(ready, "ike").person_id, YEAR)


def test_dco_clean_merged_work_counts_and_unclean_work_does_not(ready: Session):
    clean, unclean = af.member(ready, "cleo"), af.member(ready, "ugo")
    wf.merged_work(ready, f"{wf.GITLAB}/g/p/-/merge_requests/7", person_id=unclean.person_id, dco_ok=False)
    wf.merged_work(ready, f"{wf.GITLAB}/g/p/-/merge_requests/8", person_id=clean.person_id)
    assert is_active(ready, clean.person_id, THIS_YEAR)
    assert not is_active(ready, unclean.person_id, THIS_YEAR)
    assert not is_active(ready, clean.person_id, THIS_YEAR - 1)


def test_reviews_given_count_bounty_reviews_and_hours_reviewed(ready: Session):
    wf.approved_bounty(ready, wf.contributor(ready, "carla"))
    reviewer = ready.query(Person).filter_by(username="rev.eu").one()
    assert is_active(ready, reviewer.id, THIS_YEAR)
    hours_reviewer = af.member(ready, "hugo", jurisdiction="UK")
    af.hours(ready, af.member(ready, "pat"), date(YEAR, 3, 1), reviewer="hugo")
    assert is_active(ready, hours_reviewer.person_id, YEAR)


def test_security_needs_security_work(ready: Session):
    who = af.member(ready, "sara")
    af.active(ready, who, activity="code")
    assert check(ready, "security_champion", who.person_id) == (
        False, "no approved security-fix bounty or security hours in 2026")
    af.hours(ready, who, date(YEAR, 5, 1), "security", status="pending")
    assert not check(ready, "security_champion", who.person_id)[0]
    af.active(ready, who, activity="security")
    assert check(ready, "security_champion", who.person_id) == (True, "approved security work in 2026")


def test_an_approved_security_fix_bounty_qualifies_for_security(ready: Session):
    # Embargoed work is claimed and reviewed within the security council.
    claimant = wf.reviewer(ready, "sven", "CA", council=True)
    work = wf.submitted_bounty(ready, claimant, **wf.security_fix())
    for name, jurisdiction in (("sec.eu", "EU"), ("sec.uk", "UK")):
        claims.review_claim(ready, wf.reviewer(ready, name, jurisdiction, council=True), work.bounty.id,
                            "approve", "Fixed.")
    assert check(ready, "security_champion", claimant.person_id, THIS_YEAR)[0]
    assert not check(ready, "documentation_champion", claimant.person_id, THIS_YEAR)[0]


def test_documentation_counts_documentation_bounties_until_clawed_back(ready: Session):
    finance = pf.finance(ready)
    writer = pf.payee(ready, "doris")
    wf.approved_bounty(ready, writer, category_code="documentation", title="Deployment guide",
                       amount="2000", currency="EUR")
    assert check(ready, "documentation_champion", writer.person_id, THIS_YEAR) == (
        True, f"approved documentation work in {THIS_YEAR}")
    batch = payouts.create_batch(ready, finance, currency="EUR")
    view = payouts.get_batch(ready, finance, batch.id)
    payouts.import_confirmation(ready, finance, batch.id, pf.confirmation_csv(view))
    [item] = payouts.get_batch(ready, finance, batch.id).items
    payouts.claw_back(ready, finance, item.id, "the guide was plagiarised")
    assert not check(ready, "documentation_champion", writer.person_id, THIS_YEAR)[0]
    # Documentation hours qualify too.
    af.active(ready, writer, year=THIS_YEAR, activity="documentation")
    assert check(ready, "documentation_champion", writer.person_id, THIS_YEAR)[0]


def test_mentor_needs_mentoring_hours(ready: Session):
    who = af.member(ready, "mia")
    af.active(ready, who, activity="review")
    assert not check(ready, "mentor_of_the_year", who.person_id)[0]
    af.active(ready, who, activity="mentoring")
    assert check(ready, "mentor_of_the_year", who.person_id) == (True, "approved mentoring hours in 2026")


def test_a_newcomer_is_active_in_the_year_and_never_before(ready: Session):
    new, old = af.member(ready, "nell"), af.member(ready, "olaf")
    af.active(ready, new)
    af.active(ready, old)
    af.hours(ready, old, date(YEAR - 3, 2, 1))
    assert check(ready, "newcomer_of_the_year", new.person_id) == (True, "active in 2026 for the first time")
    assert check(ready, "newcomer_of_the_year", old.person_id) == (False, "already active before 2026")
    # Activity after the year does not make anyone less new.
    af.hours(ready, new, date(YEAR + 1, 2, 1))
    assert check(ready, "newcomer_of_the_year", new.person_id)[0]


def test_jurisdiction_awards_need_activity_and_the_jurisdiction(ready: Session):
    brit, european = af.member(ready, "bo", jurisdiction="UK"), af.member(ready, "eva", jurisdiction="EU")
    for who in (brit, european):
        af.active(ready, who)
    assert check(ready, "jurisdiction_uk", brit.person_id) == (True, "active in 2026, of jurisdiction UK")
    assert check(ready, "jurisdiction_uk", european.person_id) == (False, "not of jurisdiction UK")
    assert check(ready, "jurisdiction_eu", european.person_id)[0]


def test_an_organisation_needs_an_active_member(ready: Session):
    acme = af.organisation(ready, "Acme Cloud GmbH")
    member = af.member(ready, "ali", organisation=acme)
    assert eligible(ready, "organisation_of_the_year", YEAR, organisation_id=acme.id) == (
        False, "no member of Acme Cloud GmbH was active in 2026")
    af.active(ready, member, year=YEAR - 1)
    assert not eligible(ready, "organisation_of_the_year", YEAR, organisation_id=acme.id)[0]
    af.active(ready, member)
    assert eligible(ready, "organisation_of_the_year", YEAR, organisation_id=acme.id) == (
        True, "has an active contributor in 2026")


def test_a_merged_person_is_never_eligible(ready: Session):
    who = af.member(ready, "max")
    af.active(ready, who)
    survivor = af.member(ready, "maxi")
    person = ready.get(Person, who.person_id)
    person.merged_into_id = survivor.person_id
    ready.commit()
    assert check(ready, "contributor_of_the_year", who.person_id) == (
        False, "max was merged into another person")


def test_the_nominee_must_match_the_category(ready: Session):
    acme = af.organisation(ready, "Acme Cloud GmbH")
    who = af.member(ready, "nat")
    with pytest.raises(InvalidInput) as refused:
        eligible(ready, "organisation_of_the_year", YEAR, person_id=who.person_id)
    assert refused.value.field == "nominee_organisation_id"
    with pytest.raises(InvalidInput) as refused:
        eligible(ready, "contributor_of_the_year", YEAR, organisation_id=acme.id)
    assert refused.value.field == "nominee_person_id"
    with pytest.raises(InvalidInput) as refused:
        eligible(ready, "contributor_of_the_year", YEAR)
    assert refused.value.field == "nominee"
    with pytest.raises(InvalidInput) as refused:
        eligible(ready, "no_such_award", YEAR, person_id=who.person_id)
    assert refused.value.field == "category"
    with pytest.raises(NotFound):
        eligible(ready, "contributor_of_the_year", YEAR, person_id=999_999)
    # award_queries offers the same function.
    [category] = [c for c in award_queries.categories(ready) if c.code == "mentor_of_the_year"]
    assert award_queries.eligible(ready, category, YEAR, person_id=who.person_id)[0] is False
