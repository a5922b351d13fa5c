"""Consent to be named on public pages: each change recorded with its time and source, in
force at once, asking again for the same changes nothing, one's own only. On both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bounty.models import AuditEvent, ListingConsent, Person
from bounty.services import listing_consent
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests import payout_factories as pf
from tests import recognition_factories as rf
from tests import workflow_factories as wf


def events(session, action="person.listing_consent"):
    return session.execute(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
                           ).scalars().all()


def consents(session):
    return session.execute(select(func.count(ListingConsent.id))).scalar_one()


def test_giving_and_withdrawing_consent_is_recorded_with_time_and_source(session):
    wf.reference(session)
    ada = rf.person(session, "ada")
    actor = wf.actor_of(ada)

    given = listing_consent.record_public_listing(session, actor, True, source="web", now=rf.at(2026, 3, 1))
    withdrawn = listing_consent.record_public_listing(session, actor, False, source="api",
                                                      now=rf.at(2026, 3, 2, 8))

    assert (given.changed, given.recorded_at) == (True, rf.at(2026, 3, 1))
    assert withdrawn.changed and "anonymous" in withdrawn.message
    person = session.get(Person, ada.id)
    session.refresh(person)
    assert (person.is_public_listing, person.public_listing_changed_at) == (False, rf.at(2026, 3, 2, 8))
    history = listing_consent.consent_history(session, actor, ada.id)
    assert [(h.is_public, h.recorded_at, h.source) for h in history] == [
        (True, rf.at(2026, 3, 1), "web"), (False, rf.at(2026, 3, 2, 8), "api")]
    recorded = events(session)
    assert [(e.object_id, e.actor_id, e.summary["is_public"], e.summary["source"]) for e in recorded] == [
        (str(ada.id), ada.id, True, "web"), (str(ada.id), ada.id, False, "api")]


def test_withdrawal_takes_effect_at_once_on_the_leaderboard(session):
    from bounty.services import leaderboards

    wf.reference(session)
    rf.weights(session)
    bea = rf.person(session, "bea")
    rf.merged_mr(session, bea.id, rf.at(2025, 4, 1))
    period = leaderboards.parse_period("2025")
    actor = wf.actor_of(bea)

    listing_consent.set_public_listing(session, actor, True)
    assert leaderboards.leaderboard(session, period).rows[0].name == "Bea"
    seq_before = events(session)[-1].seq

    listing_consent.set_public_listing(session, actor, False)

    assert leaderboards.leaderboard(session, period).rows[0].name is None
    # The audit chain moved: what the public page cache keys on.
    assert events(session)[-1].seq > seq_before


def test_asking_for_the_consent_in_force_records_nothing_and_says_so(session):
    wf.reference(session)
    cat = rf.person(session, "cat")
    actor = wf.actor_of(cat)

    never_given = listing_consent.record_public_listing(session, actor, False)
    assert (never_given.changed, never_given.recorded_at) == (False, None)
    assert "nothing changed" in never_given.message
    assert (consents(session), len(events(session))) == (0, 0)

    listing_consent.record_public_listing(session, actor, True, now=rf.at(2026, 5, 1))
    again = listing_consent.record_public_listing(session, actor, True, now=rf.at(2026, 5, 2))

    assert not again.changed and "already listed by name" in again.message
    assert (consents(session), len(events(session))) == (1, 1)
    assert session.get(Person, cat.id).public_listing_changed_at == rf.at(2026, 5, 1)
    assert listing_consent.set_public_listing(session, actor, True).id == cat.id


def test_only_ones_own_consent_and_history(session):
    wf.reference(session)
    dan, eva = rf.person(session, "dan"), rf.person(session, "eva")
    listing_consent.set_public_listing(session, wf.actor_of(eva), True)

    with pytest.raises(PermissionDenied):
        listing_consent.consent_history(session, wf.actor_of(dan), eva.id)
    with pytest.raises(PermissionDenied):
        listing_consent.set_public_listing(session, wf.ANONYMOUS, True)
    # An auditor reads everyone's history; an auditor has no consent of their own to set here.
    read_by_auditor = listing_consent.consent_history(session, pf.auditor(session), eva.id)
    assert [h.is_public for h in read_by_auditor] == [True]
    with pytest.raises(PermissionDenied):
        listing_consent.set_public_listing(session, pf.auditor(session), True)
    # The system has every permission but is nobody: it has no consent to give.
    with pytest.raises(PermissionDenied):
        listing_consent.set_public_listing(session, SYSTEM, True)
    assert listing_consent.consent_history(session, wf.actor_of(dan), dan.id) == []
    assert session.get(Person, dan.id).is_public_listing is False


def test_bad_source_and_merged_accounts_are_refused(session):
    wf.reference(session)
    fay, kept = rf.person(session, "fay"), rf.person(session, "kept")
    actor = wf.actor_of(fay)
    with pytest.raises(InvalidInput):
        listing_consent.set_public_listing(session, actor, True, source="email")
    fay.merged_into_id = kept.id
    session.commit()
    with pytest.raises(Conflict):
        listing_consent.set_public_listing(session, actor, True)
    assert consents(session) == 0
    impostor = Actor(label="person:ghost", roles=frozenset({"contributor"}), person_id=999999)
    with pytest.raises(NotFound):
        listing_consent.set_public_listing(session, impostor, True)
