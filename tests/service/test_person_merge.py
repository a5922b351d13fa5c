"""Merging two person records: every record moves, duplicates settle, the ledger moves by
posting, nothing points at the merged person but the history; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import (
    AuditEvent,
    AwardCategory,
    AwardRound,
    Base,
    Grant,
    HoursEntry,
    Identity,
    LedgerTransaction,
    Nomination,
    Person,
    Review,
    Tranche,
    Vote,
    WorkingGroup,
    WorkingGroupMember,
    utcnow,
)
from bounty.services import audit, claims, identity_links, journal, ledger_check, people
from bounty.services import my_work as my_work_queries
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bounty.services.person_merge import HISTORY_COLUMNS, merge_people, person_columns
from tests import workflow_factories as wf
from tests.service.test_identities import merge_request

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@dataclass
class Pair:
    admin: Actor
    survivor: Person
    merged: Person
    round_id: int
    category_id: int


def row_counts(session: Session) -> dict[str, int]:
    return {table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables}


def pointing_at(session: Session, person_id: int) -> dict[str, int]:
    """Rows of every column with a foreign key to people that hold `person_id`."""
    found = {}
    for table, column in person_columns():
        count = session.execute(
            select(func.count()).select_from(table).where(column == person_id)).scalar_one()
        if count:
            found[f"{table.name}.{column.name}"] = count
    return found


def build(session: Session) -> Pair:
    """Two records of one human with something of everything, and shared duties to clash on."""
    pool = wf.reference(session)
    admin = wf.admin(session)
    survivor = wf.person(session, "ada", ("contributor", "reviewer"), "EU", display_name="Ada Lovelace")
    merged = wf.person(session, "ada.old", ("contributor", "reviewer", "program-admin"), "UK",
                       display_name="Ada L.")
    s_actor, m_actor = wf.actor_of(survivor), wf.actor_of(merged)

    # Earnings of both, in EUR for both and GBP for the merged one only.
    wf.approved_bounty(session, s_actor, title="Survivor's fix", amount="1000", currency="EUR")
    wf.approved_bounty(session, m_actor, title="Merged fix", amount="800", currency="EUR")
    wf.approved_bounty(session, m_actor, title="Merged doc", amount="1500", currency="GBP",
                       category_code="documentation")
    wf.claimed_bounty(session, m_actor, title="Merged active claim")
    # Both reviewed the same claim (a clash), and the merged one reviewed another alone.
    both = wf.submitted_bounty(session, wf.contributor(session, "zoe"), title="Reviewed by both")
    claims.review_claim(session, s_actor, both.bounty.id, "approve", "Fine.")
    claims.review_claim(session, m_actor, both.bounty.id, "approve", "Fine too.")
    alone = wf.submitted_bounty(session, wf.contributor(session, "yan"), title="Reviewed by merged")
    claims.review_claim(session, m_actor, alone.bounty.id, "reject", "Missing tests.")
    # A bounty the merged one created as admin.
    wf.draft_bounty(session, title="Created by merged").created_by_id = merged.id

    # Identities: linked, claimed, and merged work.
    merge_request(session, 1, username="ada-old", gitlab_id=None, commits=[("Ada", "ada@old.example")])
    identity_links.link_value(session, admin, "email", "ada@old.example", "ada.old")
    merge_request(session, 2, username="someone", gitlab_id=None, commits=[("?", "who@example.org")])
    identity_links.claim_identity(session, m_actor, "email", "who@example.org")
    session.add(Identity(kind="keycloak", value="test-ada.old", person_id=merged.id, is_verified=True))

    # Hours, working groups (a clash on WG1: the merged one leads it), a grant and its tranche.
    wg1, wg2 = (session.execute(select(WorkingGroup).where(WorkingGroup.code == c)).scalar_one()
                for c in ("WG1", "WG2"))
    session.add_all([
        HoursEntry(person_id=merged.id, worked_on=date(2026, 5, 4), quarter_hours=8, activity="code",
                   working_group_id=wg1.id),
        HoursEntry(person_id=survivor.id, worked_on=date(2026, 5, 5), quarter_hours=4, activity="review",
                   working_group_id=wg1.id, status="approved", reviewer_id=merged.id),
        WorkingGroupMember(working_group_id=wg1.id, person_id=survivor.id, role="member"),
        WorkingGroupMember(working_group_id=wg1.id, person_id=merged.id, role="lead"),
        WorkingGroupMember(working_group_id=wg2.id, person_id=merged.id, role="reviewer"),
    ])
    grant = Grant(title="Committer grant", grantee_person_id=merged.id, pool_id=pool.id, currency="EUR",
                  total_minor=5_000_000, created_by_id=merged.id)
    grant.tranches.append(Tranche(position=1, milestone="First", due_on=date(2026, 9, 1),
                                  amount_minor=5_000_000, signed_off_by_id=merged.id))
    session.add(grant)
    # Awards: the merged one set up the round, nominated, and voted where the survivor voted too.
    award_round = AwardRound(year=2026, nominations_open_at=NOW,
                             nominations_close_at=NOW + timedelta(days=30), created_by_id=merged.id)
    category = AwardCategory(code="contributor", name="Contributor of the year",
                             decision_rule="lazy_majority")
    session.add_all([award_round, category])
    session.flush()
    nomination = Nomination(round_id=award_round.id, category_id=category.id, nominee_person_id=merged.id,
                            nominator_id=merged.id, citation="Tireless.")
    session.add(nomination)
    session.flush()
    session.add_all([
        Vote(nomination_id=nomination.id, voter_id=merged.id, value="+1", is_binding=True, cast_at=NOW),
        Vote(nomination_id=nomination.id, voter_id=survivor.id, value="+0", is_binding=True, cast_at=NOW),
    ])
    # Someone merged into the merged one earlier.
    session.add(Person(username="ada.older", display_name="Ada", roles=[], merged_into_id=merged.id))
    session.commit()
    return Pair(admin, survivor, merged, award_round.id, category.id)


def test_merge_moves_every_record_and_keeps_every_row(session: Session) -> None:
    pair = build(session)
    s_id, m_id = pair.survivor.id, pair.merged.id
    before = row_counts(session)
    assert set(pointing_at(session, m_id)) >= {
        "identities.person_id", "identities.claimed_by_id", "merge_requests.person_id", "claims.person_id",
        "reviews.reviewer_id", "hours_entries.person_id", "hours_entries.reviewer_id",
        "working_group_members.person_id", "ledger_accounts.person_id", "grants.grantee_person_id",
        "grants.created_by_id", "tranches.signed_off_by_id", "bounties.created_by_id",
        "award_rounds.created_by_id", "nominations.nominee_person_id", "nominations.nominator_id",
        "votes.voter_id", "people.merged_into_id", "audit_events.actor_id", "ledger_transactions.actor_id"}
    payable = {cur: journal.balance(session, f"payable:person:{s_id}:{cur}").minor for cur in ("EUR",)}

    summary = merge_people(session, pair.admin, s_id, m_id)
    session.expire_all()

    # Every row is still there, but the clashing duplicates; the ledger only grew.
    after = row_counts(session)
    changed = {table: after[table] - before[table] for table in before if after[table] != before[table]}
    # Both held the same badge (their approved claims earned it): one row stays.
    assert changed == {"reviews": -1, "votes": -1, "working_group_members": -1, "person_badges": -1,
                       "ledger_transactions": 2, "ledger_lines": 4, "ledger_accounts": 1,
                       "audit_events": 1}
    assert summary.removed == {"reviews": 1, "votes": 1, "working_group_members": 1, "person_badges": 1}
    # Nothing points at the merged person but the record of who did what.
    assert set(pointing_at(session, m_id)) <= {f"{t}.{c}" for t, c in HISTORY_COLUMNS}
    merged = session.get(Person, m_id)
    assert merged is not None and merged.merged_into_id == s_id
    older = session.execute(select(Person).where(Person.username == "ada.older")).scalar_one()
    assert older.merged_into_id == s_id
    # The stronger role stays; the survivor's own vote and review stay.
    roles = dict(session.execute(select(WorkingGroup.code, WorkingGroupMember.role).join(
        WorkingGroupMember, WorkingGroupMember.working_group_id == WorkingGroup.id)
        .where(WorkingGroupMember.person_id == s_id)).all())
    assert roles == {"WG1": "lead", "WG2": "reviewer"}
    assert session.execute(select(Vote.value).where(Vote.voter_id == s_id)).scalars().all() == ["+0"]
    comments = session.execute(select(Review.comment).where(Review.reviewer_id == s_id)
                               .order_by(Review.id)).scalars().all()
    assert comments == ["Fine.", "Missing tests."]
    assert summary.moved["claims.person_id"] == 3
    assert summary.moved["merge_requests.person_id"] == 1

    # The payables moved by posting, one transaction per currency; the ledger is sound.
    assert journal.balance(session, f"payable:person:{m_id}:EUR").minor == 0
    assert journal.balance(session, f"payable:person:{m_id}:GBP").minor == 0
    assert journal.balance(session, f"payable:person:{s_id}:EUR").minor == payable["EUR"] + 80_000
    assert journal.balance(session, f"payable:person:{s_id}:GBP").minor == 150_000
    assert summary.transfers == {"EUR": "800.00", "GBP": "1500.00"}
    kinds = session.execute(select(LedgerTransaction.kind).where(
        LedgerTransaction.id.in_(summary.transactions))).scalars().all()
    assert kinds == ["person_merge", "person_merge"]
    assert ledger_check.check(session) == []
    # The survivor's earnings now include the merged record's, counted once.
    earnings = my_work_queries.my_work(session, wf.actor_of(session.get(Person, s_id))).earnings
    assert {cur: money.amount_str() for cur, money in earnings.items()} == {
        "EUR": "1800.00", "GBP": "1500.00"}

    # One audit event with the counts, and what the removed duplicates said.
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "person.merge")).scalars().all()
    assert (event.object_id, event.summary["merged"]) == (str(s_id), m_id)
    assert event.summary["moved"]["identities.person_id"] == 2
    assert event.summary["removed"]["reviews"][0]["comment"] == "Fine too."
    assert event.summary["removed"]["votes"][0]["value"] == "+1"
    assert audit.verify(session) == []


def test_signing_in_as_the_merged_person_reaches_the_survivor(session: Session) -> None:
    pair = build(session)
    merge_people(session, pair.admin, pair.survivor.id, pair.merged.id)

    signed = people.sign_in_from_claims(
        session, {"sub": "test-ada.old", "preferred_username": "ada.old", "email": "ada@old.example",
                  "email_verified": True}, {"contributor"}, "jurisdiction", "organisation")

    assert signed.id == pair.survivor.id
    keycloak = session.execute(select(Identity).where(Identity.value == "test-ada.old")).scalar_one()
    assert keycloak.person_id == pair.survivor.id


def test_merge_refusals_change_nothing(session: Session) -> None:
    pair = build(session)
    s_id, m_id = pair.survivor.id, pair.merged.id
    before = row_counts(session)

    with pytest.raises(PermissionDenied):
        merge_people(session, wf.actor_of(pair.survivor), s_id, m_id)
    with pytest.raises(InvalidInput):
        merge_people(session, pair.admin, s_id, s_id)
    with pytest.raises(NotFound):
        merge_people(session, pair.admin, s_id, 999_999)
    # Both nominated in the same round and category: an award decision is not rewritten.
    session.add(Nomination(round_id=pair.round_id, category_id=pair.category_id, nominee_person_id=s_id,
                           nominator_id=s_id, citation="Me."))
    session.commit()
    with pytest.raises(Conflict):
        merge_people(session, pair.admin, s_id, m_id)
    assert row_counts(session) | {"nominations": before["nominations"]} == before
    assert session.get(Person, m_id).merged_into_id is None


def test_merged_people_cannot_be_merged_again(session: Session) -> None:
    wf.reference(session)
    admin = wf.admin(session)
    a, b, c = (wf.person(session, name) for name in ("a", "b", "c"))
    merge_people(session, admin, a.id, b.id)

    with pytest.raises(Conflict):
        merge_people(session, admin, c.id, b.id)
    with pytest.raises(InvalidInput) as into_merged:
        merge_people(session, admin, b.id, c.id)
    assert into_merged.value.field == "into"
    assert session.get(Person, c.id).merged_into_id is None
    [event] = session.execute(select(AuditEvent).where(AuditEvent.action == "person.merge")).scalars().all()
    assert event.summary["moved"] == {} and event.summary["transactions"] == []
    assert utcnow() >= event.occurred_at
