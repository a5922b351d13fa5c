"""Linking identities to people: admin links, contributors' claims and their confirmation,
and what a sign-in links by itself (the Keycloak account, the verified e-mail).

Each public function that changes something is one transaction, audited against the
identity (`identity.link`, `identity.claim`, `identity.withdraw`, `identity.confirm`,
`identity.decline`). A link settles any pending claim on the identity and credits again the
merge requests it carries (`identities.recredit`); the badges that work earns its new owner
are awarded in the same transaction. The rules are in docs/identities.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.governance.permissions import Permission
from bounty.models import Identity, Person, utcnow
from bounty.services import audit, badges, identities
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied

T = TypeVar("T")

# Kinds a person may claim or an admin may link; a Keycloak account links itself at sign-in.
LINKABLE_KINDS = ("email", "gitlab_username", "gitlab_user")
# Claims one person may have waiting at once: enough for every address they ever used.
MAX_PENDING_CLAIMS = 20
# Refusal reasons (the web pages translate them; see bounty/web/identities.py).
NO_SUCH_PERSON = "no person has this username"
PERSON_MERGED = "this person was merged into another: link to that one"
NOT_LINKABLE = "Keycloak accounts link themselves when their owner signs in"
NO_UNLINKED = "no unlinked identity has this value"
ALREADY_YOURS = "this identity is already linked to you"
CLAIMED_BY_OTHER = "someone else has claimed this identity; an administrator will decide"
TOO_MANY_CLAIMS = f"you have {MAX_PENDING_CLAIMS} claims waiting: wait for an administrator first"
NOT_CLAIMED = "nobody has claimed this identity"
ALREADY_LINKED = "this identity is already linked to a person"


@dataclass(frozen=True)
class LinkResult:
    """An identity linked to a person, and how many merge requests were credited anew."""

    identity: Identity
    person: Person
    recredited: int


def person_by_username(session: Session, username: str, field: str = "username") -> Person:
    """The live person called `username` (refusing unknown and merged ones)."""
    person = session.execute(
        select(Person).where(Person.username == (username or "").strip())).scalar_one_or_none()
    if person is None:
        raise InvalidInput(field, NO_SUCH_PERSON)
    if person.merged_into_id is not None:
        raise InvalidInput(field, PERSON_MERGED)
    return person


def _locked(session: Session, identity_id: int) -> Identity:
    identity = session.execute(
        select(Identity).where(Identity.id == identity_id).with_for_update()
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if identity is None:
        raise NotFound(f"no identity {identity_id}")
    return identity


def _link(session: Session, actor: Actor, identity: Identity, person: Person, action: str,
          **extra: object) -> LinkResult:
    """Link (flushes, audits as `action`): the claim on it, whoever made it, is settled."""
    previous, claimant = identity.person_id, identity.claimed_by_id
    identity.person_id, identity.claimed_by_id, identity.claimed_at = person.id, None, None
    session.flush()
    recredited = identities.recredit(session, [identity])
    audit.record(session, actor, action, "identity", identity.id, {
        "kind": identity.kind, "value": identity.value, "person": person.id,
        "username": person.username, "previous_person": previous, "claimed_by": claimant,
        "merge_requests_recredited": recredited, **extra})
    if recredited:
        # The merged work now credited may cross a badge's threshold: awarded in this transaction.
        badges.award_badges_now(session, {person.id}, badges.MERGE_METRICS)
    return LinkResult(identity, person, recredited)


def _one_transaction(session: Session, work: Callable[[], T]) -> T:
    try:
        result = work()
        session.commit()
        return result
    except BaseException:
        session.rollback()
        raise


def link_identity(session: Session, actor: Actor, identity_id: int, username: str) -> LinkResult:
    """Link identity `identity_id` to the person `username` (program admins); audited as
    `identity.link`. Linking an identity of someone else moves it; a pending claim ends."""
    actor.require(Permission.MANAGE_IDENTITIES)

    def work() -> LinkResult:
        identity = _locked(session, identity_id)
        if identity.kind not in LINKABLE_KINDS:
            raise InvalidInput("kind", NOT_LINKABLE)
        person = person_by_username(session, username)
        return _link(session, actor, identity, person, "identity.link", source="admin")

    return _one_transaction(session, work)


def link_value(session: Session, actor: Actor, kind: str, value: str, username: str) -> LinkResult:
    """Link the identity (`kind`, `value`) to `username`, recording it first when never seen,
    so merged work arriving later under it is credited at once (program admins)."""
    actor.require(Permission.MANAGE_IDENTITIES)
    if kind not in LINKABLE_KINDS:
        raise InvalidInput("kind", NOT_LINKABLE)
    clean = identities.normalise(kind, value)

    def work() -> LinkResult:
        person = person_by_username(session, username)
        session.execute(identities.INSERT_IF_ABSENT[session.get_bind().dialect.name], [{
            "kind": kind, "value": clean, "label": value.strip()[:identities.MAX_LABEL], "person_id": None,
            "first_seen_at": utcnow(), "is_verified": False, "created_at": utcnow()}])
        identity_id = session.execute(select(Identity.id).where(
            Identity.kind == kind, Identity.value == clean)).scalar_one()
        return _link(session, actor, _locked(session, identity_id), person, "identity.link",
                     source="admin")

    return _one_transaction(session, work)


def claim_identity(session: Session, actor: Actor, kind: str, value: str) -> Identity:
    """The signed-in contributor claims the unlinked identity (`kind`, `value`) as theirs,
    until a program admin confirms or declines; audited as `identity.claim`."""
    actor.require(Permission.CLAIM_IDENTITY)
    if actor.person_id is None:
        raise PermissionDenied("sign in to claim an identity")
    if kind not in LINKABLE_KINDS:
        raise InvalidInput("kind", NOT_LINKABLE)
    clean = identities.normalise(kind, value)

    def work() -> Identity:
        found = session.execute(select(Identity.id).where(
            Identity.kind == kind, Identity.value == clean)).scalar_one_or_none()
        if found is None:
            raise InvalidInput("value", NO_UNLINKED)
        identity = _locked(session, found)
        if identity.person_id == actor.person_id:
            raise InvalidInput("value", ALREADY_YOURS)
        if identity.person_id is not None:
            raise InvalidInput("value", NO_UNLINKED)
        if identity.claimed_by_id == actor.person_id:
            return identity  # claimed already: nothing changes
        if identity.claimed_by_id is not None:
            raise Conflict(CLAIMED_BY_OTHER)
        pending = session.execute(select(func.count(Identity.id)).where(
            Identity.claimed_by_id == actor.person_id)).scalar_one()
        if pending >= MAX_PENDING_CLAIMS:
            raise InvalidInput("value", TOO_MANY_CLAIMS)
        identity.claimed_by_id, identity.claimed_at = actor.person_id, utcnow()
        session.flush()
        audit.record(session, actor, "identity.claim", "identity", identity.id,
                     {"kind": identity.kind, "value": identity.value, "claimed_by": actor.person_id})
        return identity

    return _one_transaction(session, work)


def withdraw_claim(session: Session, actor: Actor, identity_id: int) -> Identity:
    """The claimant takes back their own claim; audited as `identity.withdraw`."""
    actor.require(Permission.CLAIM_IDENTITY)

    def work() -> Identity:
        identity = _locked(session, identity_id)
        if actor.person_id is None or identity.claimed_by_id != actor.person_id:
            raise PermissionDenied("only the person who claimed an identity can withdraw the claim")
        identity.claimed_by_id, identity.claimed_at = None, None
        session.flush()
        audit.record(session, actor, "identity.withdraw", "identity", identity.id,
                     {"kind": identity.kind, "value": identity.value, "claimed_by": actor.person_id})
        return identity

    return _one_transaction(session, work)


def _pending_claim(session: Session, identity_id: int) -> Identity:
    identity = _locked(session, identity_id)
    if identity.person_id is not None:
        raise Conflict(ALREADY_LINKED)
    if identity.claimed_by_id is None:
        raise Conflict(NOT_CLAIMED)
    return identity


def confirm_claim(session: Session, actor: Actor, identity_id: int) -> LinkResult:
    """A program admin confirms a claim: the identity links to its claimant (`identity.confirm`)."""
    actor.require(Permission.MANAGE_IDENTITIES)

    def work() -> LinkResult:
        identity = _pending_claim(session, identity_id)
        # Merging people moves their claims, so a claimant is never a merged person.
        claimant = session.get(Person, identity.claimed_by_id)
        assert claimant is not None
        return _link(session, actor, identity, claimant, "identity.confirm", source="claim")

    return _one_transaction(session, work)


def decline_claim(session: Session, actor: Actor, identity_id: int, reason: str = "") -> Identity:
    """A program admin declines a claim: the identity stays unlinked (`identity.decline`)."""
    actor.require(Permission.MANAGE_IDENTITIES)

    def work() -> Identity:
        identity = _pending_claim(session, identity_id)
        claimant = identity.claimed_by_id
        identity.claimed_by_id, identity.claimed_at = None, None
        session.flush()
        audit.record(session, actor, "identity.decline", "identity", identity.id,
                     {"kind": identity.kind, "value": identity.value, "claimed_by": claimant,
                      "reason": (reason or "").strip()[:2000]})
        return identity

    return _one_transaction(session, work)


def ensure_keycloak_identity(session: Session, actor: Actor, person: Person, subject: str) -> None:
    """Give `person` the Keycloak identity of `subject` when they have none yet (flushes)."""
    identity = session.execute(select(Identity).where(
        Identity.kind == "keycloak", Identity.value == subject)).scalar_one_or_none()
    if identity is not None and identity.person_id is not None:
        return
    if identity is None:
        identity = Identity(kind="keycloak", value=subject, label=person.display_name[:identities.MAX_LABEL],
                            first_seen_at=utcnow())
        session.add(identity)
    identity.person_id, identity.is_verified = person.id, True
    session.flush()
    audit.record(session, actor, "identity.link", "identity", identity.id,
                 {"kind": "keycloak", "value": subject, "person": person.id, "source": "sign_in"})


def link_verified_email(session: Session, actor: Actor, person: Person, email: str) -> bool:
    """Link the e-mail Keycloak verified for `person` (flushes): a new identity, or an
    unlinked one (a pending claim on it ends: the verified owner wins). An address already
    linked to someone else stays theirs (an admin merges the two people if they are one).
    Returns whether anything changed."""
    try:
        value = identities.normalise("email", email)
    except InvalidInput:
        return False
    identity = session.execute(select(Identity).where(
        Identity.kind == "email", Identity.value == value).with_for_update()).scalar_one_or_none()
    if identity is None:
        identity = Identity(kind="email", value=value, label=person.display_name[:identities.MAX_LABEL],
                            first_seen_at=utcnow(), person_id=person.id, is_verified=True)
        session.add(identity)
        session.flush()
        audit.record(session, actor, "identity.link", "identity", identity.id,
                     {"kind": "email", "value": value, "person": person.id, "source": "verified_email",
                      "merge_requests_recredited": 0})
        return True
    if identity.person_id == person.id:
        if not identity.is_verified:
            identity.is_verified = True
            session.flush()
            return True
        return False
    if identity.person_id is not None:
        return False
    identity.is_verified = True
    _link(session, actor, identity, person, "identity.link", source="verified_email")
    return True
