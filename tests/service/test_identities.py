"""Identities: crediting merged work, the unlinked queue, claims, admin links and the verified
e-mail linked at sign-in, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from bounty.dco.rules import DcoChecker
from bounty.gitlab.client import GitLabClient
from bounty.models import AuditEvent, Identity, MergeRequest, MergeRequestCommit, Person
from bounty.services import audit, identities, identity_links, identity_queries, merged_work, people
from bounty.services.actors import SYSTEM
from bounty.services.errors import Conflict, InvalidInput, PermissionDenied
from tests import factories
from tests import workflow_factories as wf
from tests.fakes.gitlab import (  # noqa: F401 - fixtures
    TOKEN,
    FakeGitLab,
    fake_gitlab_fixture,
    make_fake_gitlab_fixture,
    shared_datasets_fixture,
)

MERGED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def merge_request(session: Session, iid: int, *, username: str | None = "ada", gitlab_id: int | None = 101,
                  commits: Sequence[tuple[str, str]] = (("Ada Lovelace", "ada@example.org"),),
                  merged_at: datetime = MERGED_AT, description: str = "", project_path: str = "coop/app",
                  credit: bool = True) -> MergeRequest:
    """A merged MR built with the models (as the sync stores one), credited like the sync does."""
    mr = MergeRequest(gitlab_project_id=7, project_path=project_path, iid=iid, title=f"Change {iid}",
                      description=description,
                      web_url=f"https://gitlab.example.org/{project_path}/-/merge_requests/{iid}",
                      author_username=username, author_gitlab_id=gitlab_id, merged_at=merged_at,
                      is_dco_ok=True)
    for position, (name, email) in enumerate(commits):
        mr.commits.append(MergeRequestCommit(
            position=position, sha=f"{iid:08d}{position:032d}", author_name=name, author_email=email,
            committer_name=name, committer_email=email, message="Change\n\nSigned-off-by: x <x@y.z>",
            authored_at=merged_at - timedelta(hours=position), is_dco_ok=True))
    session.add(mr)
    session.flush()
    if credit:
        identities.credit_merge_request(session, mr)
    session.commit()
    return mr


def identity(session: Session, kind: str, value: str) -> Identity:
    return session.execute(select(Identity).where(Identity.kind == kind, Identity.value == value)
                           ).scalar_one()


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                .order_by(AuditEvent.seq)).scalars())


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements `session` sends while the block runs."""
    sent: list[str] = []
    engine = session.get_bind()

    def listen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", listen)


@pytest.fixture
def admin(session: Session) -> Any:
    factories.jurisdictions(session)
    return wf.admin(session)


# ------------------------------------------------------------------------------ crediting


def test_a_new_author_is_recorded_unlinked_and_the_merge_request_is_not_credited(session: Session) -> None:
    mr = merge_request(session, 1, username="Ada-L", commits=[("Ada Lovelace", "Ada@Example.ORG"),
                                                             ("Bob Builder", "bob@example.org")])

    user, name = identity(session, "gitlab_user", "101"), identity(session, "gitlab_username", "ada-l")
    email = identity(session, "email", "ada@example.org")
    bob = identity(session, "email", "bob@example.org")
    assert {i.person_id for i in (user, name, email, bob)} == {None}
    assert (user.label, name.label, email.label, bob.label) == (
        "Ada-L", "Ada-L", "Ada Lovelace", "Bob Builder")
    assert user.first_seen_at == MERGED_AT
    assert (mr.author_identity_id, mr.person_id) == (user.id, None)
    assert session.execute(select(func.count(Identity.id))).scalar_one() == 4


def test_credit_follows_the_first_linked_identity_user_then_username_then_email(
        session: Session, admin: Any) -> None:
    by_email, by_name, by_user = (wf.person(session, n) for n in ("emma", "nora", "ursula"))
    mr = merge_request(session, 1)

    identity_links.link_value(session, admin, "email", "ADA@example.org", "emma")
    session.refresh(mr)
    email = identity(session, "email", "ada@example.org")
    assert (mr.person_id, mr.author_identity_id) == (by_email.id, email.id)
    identity_links.link_value(session, admin, "gitlab_username", "ada", "nora")
    session.refresh(mr)
    assert mr.person_id == by_name.id
    identity_links.link_value(session, admin, "gitlab_user", "101", "ursula")
    session.refresh(mr)
    assert (mr.person_id, mr.author_identity_id) == (by_user.id, identity(session, "gitlab_user", "101").id)
    # Merged work arriving later is credited at once.
    later = merge_request(session, 2)
    assert later.person_id == by_user.id


def test_emails_are_one_identity_whatever_their_case(session: Session, admin: Any) -> None:
    ada = wf.person(session, "ada")
    first = merge_request(session, 1, username=None, gitlab_id=None,
                          commits=[("Ada", "Ada.Lovelace@Example.ORG")])
    second = merge_request(session, 2, username=None, gitlab_id=None,
                           commits=[("Ada L.", " ada.lovelace@example.org ")])

    assert session.execute(select(func.count(Identity.id)).where(Identity.kind == "email")).scalar_one() == 1
    result = identity_links.link_value(session, admin, "email", "ADA.LOVELACE@EXAMPLE.ORG", "ada")

    assert result.recredited == 2
    for mr in (first, second):
        session.refresh(mr)
        assert mr.person_id == ada.id


def test_the_main_author_is_who_wrote_most_commits_ties_to_the_oldest(session: Session, admin: Any) -> None:
    wf.person(session, "bob")
    wf.person(session, "ada")
    identity_links.link_value(session, admin, "email", "bob@example.org", "bob")
    identity_links.link_value(session, admin, "email", "ada@example.org", "ada")
    most = merge_request(session, 1, username=None, gitlab_id=None, commits=[
        ("Ada", "ada@example.org"), ("Bob", "bob@example.org"), ("Bob", "bob@example.org")])
    # One commit each: the oldest (highest position here, an hour earlier each) wins.
    tie = merge_request(session, 2, username=None, gitlab_id=None, commits=[
        ("Ada", "ada@example.org"), ("Bob", "bob@example.org")])

    assert most.person_id == session.execute(select(Person.id).where(Person.username == "bob")).scalar_one()
    assert tie.person_id == most.person_id


def test_crediting_again_changes_nothing_and_costs_one_query(session: Session) -> None:
    mr = merge_request(session, 1, commits=[("Ada", "ada@example.org"), ("Bob", "bob@example.org")])
    before = session.execute(select(Identity.id, Identity.first_seen_at).order_by(Identity.id)).all()
    session.refresh(mr, ["commits"])

    with statements(session) as sent:
        identities.credit_merge_request(session, mr)

    assert len(sent) == 1 and sent[0].lstrip().upper().startswith("SELECT")
    assert session.execute(select(Identity.id, Identity.first_seen_at).order_by(Identity.id)).all() == before


def test_an_older_merge_request_moves_first_seen_back(session: Session) -> None:
    merge_request(session, 1)
    merge_request(session, 2, merged_at=MERGED_AT - timedelta(days=30))

    session.expire_all()
    assert identity(session, "email", "ada@example.org").first_seen_at == MERGED_AT - timedelta(days=30)


# ---------------------------------------------------------------------- claims and links


def test_claim_then_confirm_links_and_credits(session: Session, admin: Any) -> None:
    carla = wf.contributor(session, "carla")
    mr = merge_request(session, 1, username=None, gitlab_id=None, commits=[("C", "carla@old.example")])

    claimed = identity_links.claim_identity(session, carla, "email", " CARLA@old.example ")
    assert (claimed.claimed_by_id, claimed.person_id) == (carla.person_id, None)
    assert claimed.claimed_at is not None
    again = identity_links.claim_identity(session, carla, "email", "carla@old.example")
    assert again.id == claimed.id and len(events(session, "identity.claim")) == 1

    result = identity_links.confirm_claim(session, admin, claimed.id)

    session.refresh(mr)
    assert (result.identity.person_id, result.identity.claimed_by_id, result.recredited) == (
        carla.person_id, None, 1)
    assert mr.person_id == carla.person_id
    [confirmed] = events(session, "identity.confirm")
    assert confirmed.summary["claimed_by"] == carla.person_id
    assert confirmed.summary["merge_requests_recredited"] == 1
    assert audit.verify(session) == []


def test_claim_then_decline_leaves_it_unlinked(session: Session, admin: Any) -> None:
    carla = wf.contributor(session, "carla")
    merge_request(session, 1)
    claimed = identity_links.claim_identity(session, carla, "gitlab_username", "ADA")

    identity_links.decline_claim(session, admin, claimed.id, "Ada is someone else.")

    session.refresh(claimed)
    assert (claimed.person_id, claimed.claimed_by_id, claimed.claimed_at) == (None, None, None)
    [declined] = events(session, "identity.decline")
    assert declined.summary["reason"] == "Ada is someone else."
    assert declined.summary["claimed_by"] == carla.person_id
    with pytest.raises(Conflict):
        identity_links.confirm_claim(session, admin, claimed.id)


def test_claim_refusals(session: Session, admin: Any) -> None:
    carla, dan = wf.contributor(session, "carla"), wf.contributor(session, "dan")
    auditor = wf.actor_of(wf.person(session, "audrey", ("auditor",)))
    merge_request(session, 1)

    with pytest.raises(InvalidInput) as unknown:
        identity_links.claim_identity(session, carla, "email", "nobody@example.org")
    assert unknown.value.field == "value"
    with pytest.raises(InvalidInput) as keycloak:
        identity_links.claim_identity(session, carla, "keycloak", "test-admin")
    assert keycloak.value.field == "kind"
    with pytest.raises(InvalidInput):
        identity_links.claim_identity(session, carla, "email", "not an address")
    with pytest.raises(PermissionDenied):
        identity_links.claim_identity(session, auditor, "email", "ada@example.org")
    with pytest.raises(PermissionDenied):
        identity_links.claim_identity(session, wf.ANONYMOUS, "email", "ada@example.org")
    claimed = identity_links.claim_identity(session, carla, "email", "ada@example.org")
    with pytest.raises(Conflict):
        identity_links.claim_identity(session, dan, "email", "ada@example.org")
    with pytest.raises(PermissionDenied):
        identity_links.withdraw_claim(session, dan, claimed.id)
    identity_links.withdraw_claim(session, carla, claimed.id)
    session.refresh(claimed)
    assert claimed.claimed_by_id is None
    identity_links.link_value(session, admin, "email", "ada@example.org", "carla")
    with pytest.raises(InvalidInput) as yours:
        identity_links.claim_identity(session, carla, "email", "ada@example.org")
    assert yours.value.reason == identity_links.ALREADY_YOURS
    with pytest.raises(InvalidInput):
        identity_links.claim_identity(session, dan, "email", "ada@example.org")


def test_admin_link_refusals_and_moving_an_identity(session: Session, admin: Any) -> None:
    carla = wf.contributor(session, "carla")
    dan = wf.person(session, "dan")
    merge_request(session, 1)
    email = identity(session, "email", "ada@example.org")
    keycloak = Identity(kind="keycloak", value="some-subject")
    session.add(keycloak)
    session.commit()

    with pytest.raises(PermissionDenied):
        identity_links.link_identity(session, carla, email.id, "carla")
    with pytest.raises(InvalidInput) as unknown:
        identity_links.link_identity(session, admin, email.id, "nobody")
    assert (unknown.value.field, unknown.value.reason) == ("username", identity_links.NO_SUCH_PERSON)
    with pytest.raises(InvalidInput):
        identity_links.link_identity(session, admin, keycloak.id, "carla")
    identity_links.link_identity(session, admin, email.id, "carla")
    moved = identity_links.link_identity(session, admin, email.id, "dan")

    assert moved.identity.person_id == dan.id
    last = events(session, "identity.link")[-1]
    assert (last.summary["previous_person"], last.summary["person"]) == (carla.person_id, dan.id)
    dan.merged_into_id = carla.person_id
    session.commit()
    with pytest.raises(InvalidInput) as merged:
        identity_links.link_identity(session, admin, email.id, "dan")
    assert merged.value.reason == identity_links.PERSON_MERGED


def test_linking_lets_merged_work_submit_the_claim(session: Session, admin: Any) -> None:
    wf.reference(session)
    carla = wf.contributor(session, "carla")
    work = wf.claimed_bounty(session, carla, gitlab_project_path="coop/app", gitlab_issue_iid=12)
    mr = merge_request(session, 5, username="carla-gl", gitlab_id=555, description="Closes #12")
    session.refresh(work.claim)
    assert (mr.person_id, work.claim.status) == (None, "active")

    identity_links.link_value(session, admin, "gitlab_username", "carla-gl", "carla")

    session.refresh(work.claim)
    session.refresh(mr)
    assert mr.person_id == carla.person_id
    assert work.claim.status == "submitted"


# ------------------------------------------------------------------------- pages' reads


def test_the_queue_lists_unlinked_identities_with_counts_and_claims(session: Session, admin: Any) -> None:
    carla = wf.contributor(session, "carla")
    merge_request(session, 1)
    merge_request(session, 2, merged_at=MERGED_AT + timedelta(days=1),
                  commits=[("Ada", "ada@example.org"), ("Zed", "zed@example.org")])
    identity_links.claim_identity(session, carla, "email", "zed@example.org")

    queue = identity_queries.unlinked_queue(session, admin)

    assert [(row.kind, row.value, row.merge_requests) for row in queue.claims] == [
        ("email", "zed@example.org", 1)]
    assert queue.claims[0].claimed_by_username == "carla"
    assert {(row.kind, row.value, row.merge_requests) for row in queue.unlinked} == {
        ("gitlab_user", "101", 2), ("gitlab_username", "ada", 2), ("email", "ada@example.org", 2)}
    assert queue.total == 3
    assert [r.value for r in identity_queries.unlinked_queue(session, admin, text="EXAMPLE").unlinked] == [
        "ada@example.org"]
    auditor = wf.actor_of(wf.person(session, "audrey", ("auditor",)))
    assert identity_queries.unlinked_queue(session, auditor).total == 3
    with pytest.raises(PermissionDenied):
        identity_queries.unlinked_queue(session, carla)


def test_my_identities_with_claims_and_suggestions(session: Session, admin: Any) -> None:
    carla = wf.actor_of(wf.person(session, "carla", display_name="Carla Díaz"))
    merge_request(session, 1, username="carla", gitlab_id=None, commits=[("Carla  Díaz", "cd@home.example")])
    merge_request(session, 2, username="other", gitlab_id=None, commits=[("Zed", "zed@example.org")])
    identity_links.link_value(session, admin, "email", "carla@example.org", "carla")
    identity_links.claim_identity(session, carla, "email", "zed@example.org")

    mine = identity_queries.identities_of(session, carla)

    assert [(r.kind, r.value) for r in mine.linked] == [("email", "carla@example.org")]
    assert [r.value for r in mine.claims] == ["zed@example.org"]
    assert [(r.kind, r.value, r.merge_requests) for r in mine.suggestions] == [
        ("gitlab_username", "carla", 1)]
    with pytest.raises(PermissionDenied):
        identity_queries.identities_of(session, wf.ANONYMOUS)


# --------------------------------------------------------------------------- sign-in


def sign_in(session: Session, **claims: Any) -> Person:
    token = {"sub": "sub-ada", "preferred_username": "ada", "name": "Ada Lovelace",
             "email": "Ada@Example.org", "email_verified": True, **claims}
    return people.sign_in_from_claims(session, token, {"contributor"}, "jurisdiction", "organisation")


def test_a_verified_email_links_at_sign_in_and_credits_its_work(session: Session) -> None:
    factories.jurisdictions(session)
    mr = merge_request(session, 1, username=None, gitlab_id=None, commits=[("Ada", "ada@example.org")])

    ada = sign_in(session)

    email = identity(session, "email", "ada@example.org")
    assert (email.person_id, email.is_verified) == (ada.id, True)
    session.refresh(mr)
    assert mr.person_id == ada.id
    [linked] = [e for e in events(session, "identity.link")
                if (e.object_type, e.object_id) == ("identity", str(email.id))]
    assert (linked.summary["source"], linked.summary["merge_requests_recredited"]) == ("verified_email", 1)
    assert audit.verify(session) == []


def test_a_new_verified_email_becomes_a_linked_identity(session: Session) -> None:
    factories.jurisdictions(session)
    ada = sign_in(session, email="new@example.org")
    assert identity(session, "email", "new@example.org").person_id == ada.id


def test_an_unverified_email_links_nothing(session: Session) -> None:
    factories.jurisdictions(session)
    merge_request(session, 1, username=None, gitlab_id=None, commits=[("Ada", "ada@example.org")])
    sign_in(session, email_verified=False)
    assert identity(session, "email", "ada@example.org").person_id is None


def test_the_verified_owner_wins_over_a_claim_but_not_over_a_link(session: Session, admin: Any) -> None:
    carla = wf.contributor(session, "carla")
    merge_request(session, 1, username=None, gitlab_id=None, commits=[("Ada", "ada@example.org"),
                                                                     ("Bo", "bo@example.org")])
    identity_links.claim_identity(session, carla, "email", "ada@example.org")
    identity_links.link_value(session, admin, "email", "bo@example.org", "carla")

    ada = sign_in(session)
    sign_in(session, email="bo@example.org")

    claimed = identity(session, "email", "ada@example.org")
    assert (claimed.person_id, claimed.claimed_by_id) == (ada.id, None)
    assert identity(session, "email", "bo@example.org").person_id == carla.person_id


def test_a_person_made_before_identities_gets_a_keycloak_identity_at_sign_in(session: Session) -> None:
    factories.jurisdictions(session)
    made = wf.person(session, "ada")  # no identity rows, as seeds and imports make people
    assert session.execute(select(Identity).where(Identity.person_id == made.id)).first() is None

    signed = sign_in(session, sub="test-ada", email_verified=False)

    assert signed.id == made.id
    assert identity(session, "keycloak", "test-ada").person_id == made.id


# ------------------------------------------------------------------ the GitLab datasets


@pytest.mark.parametrize("path, usernames, emails", [
    ("SovereignCloudStack/standards", 42, 45), ("helm/helm", 94, 96)])
def test_a_sync_of_a_dataset_records_the_identities_its_readme_counts(
        session: Session, fake_gitlab: FakeGitLab, path: str, usernames: int, emails: int) -> None:
    """The dataset README: distinct MR author usernames and distinct (lower-cased) commit
    author e-mails; one GitLab user id per username. Nothing is credited before a link."""
    client = GitLabClient(fake_gitlab.url, TOKEN)
    merged_work.sync_projects(session, SYSTEM, client, [path], checker=DcoChecker())

    by_kind = dict(session.execute(
        select(Identity.kind, func.count(Identity.id)).group_by(Identity.kind)).all())
    assert by_kind == {"gitlab_user": usernames, "gitlab_username": usernames, "email": emails}
    assert session.execute(select(func.count(MergeRequest.id)).where(
        MergeRequest.author_identity_id.is_(None))).scalar_one() == 0
    assert session.execute(select(func.count(MergeRequest.id)).where(
        MergeRequest.person_id.is_not(None))).scalar_one() == 0
