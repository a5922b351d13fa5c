"""People as the identity provider describes them: created on first sign-in, kept in step after.

Keycloak owns who someone is (subject, username, name, e-mail), their programme roles and
their jurisdiction and organisation claims. Each sign-in (and each API call with a bearer
token) copies those onto the `Person` with the matching Keycloak subject, so a role taken
away in Keycloak is gone here at the next sign-in. Values the programme does not know (a
jurisdiction other than EU, UK, CA, AU, a role outside DOMAIN.md) are ignored, not stored.

A sign-in also links identities (docs/identities.md): the Keycloak account itself, and the
e-mail address when Keycloak says it is verified (`email_verified`), so merged work under
that address is credited to the person without waiting in the unlinked queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bounty.governance.permissions import known_roles
from bounty.models import Identity, Jurisdiction, Organisation, Person, utcnow
from bounty.models.people import JURISDICTION_CODES
from bounty.services import audit, identity_links
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput

# Column sizes of `people` and `organisations`; longer claims are refused or shortened.
MAX_SUBJECT, MAX_USERNAME, MAX_NAME, MAX_EMAIL, MAX_ORGANISATION = 255, 120, 200, 320, 200
# How far a person can be followed along `merged_into_id` before the chain counts as broken.
MAX_MERGE_HOPS = 10


def sign_in_from_claims(session: Session, claims: Mapping[str, Any], roles: Iterable[str],
                        jurisdiction_claim: str, organisation_claim: str) -> Person:
    """The person signing in with these validated ID-token claims, created or brought up to date.

    Records `last_login_at` and a `person.sign_in` audit event; a first sign-in also creates
    the person and their Keycloak identity, and an unknown organisation by its name.
    """
    return _in_one_transaction(session, claims, roles, jurisdiction_claim, organisation_claim,
                               signing_in=True)


def sync_from_token(session: Session, claims: Mapping[str, Any], roles: Iterable[str],
                    jurisdiction_claim: str, organisation_claim: str) -> Person:
    """Like `sign_in_from_claims` for an API call with a bearer token: no sign-in is recorded,
    only what changed, so a busy API client does not fill the audit log."""
    return _in_one_transaction(session, claims, roles, jurisdiction_claim, organisation_claim,
                               signing_in=False)


def _in_one_transaction(session: Session, claims: Mapping[str, Any], roles: Iterable[str],
                        jurisdiction_claim: str, organisation_claim: str, signing_in: bool) -> Person:
    profile = _Profile.from_claims(claims, roles, jurisdiction_claim, organisation_claim)
    for attempt in (1, 2):
        try:
            person = _apply(session, profile, signing_in)
            session.commit()
            return person
        except IntegrityError:
            # Two first sign-ins of one subject (or one new organisation) at once: the loser
            # finds the winner's rows on its second attempt.
            session.rollback()
            if attempt == 2:
                raise
        except BaseException:
            session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


class _Profile:
    """The claims this programme keeps, cleaned: what a Person should look like."""

    def __init__(self, subject: str, username: str, display_name: str, email: str | None,
                 jurisdiction: str | None, organisation: str | None, roles: list[str],
                 email_verified: bool = False) -> None:
        self.subject = subject
        self.username = username
        self.display_name = display_name
        self.email = email
        self.jurisdiction = jurisdiction
        self.organisation = organisation
        self.roles = roles
        self.email_verified = email_verified

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any], roles: Iterable[str], jurisdiction_claim: str,
                    organisation_claim: str) -> _Profile:
        subject = _text(claims.get("sub"))
        if not subject:
            raise InvalidInput("sub", "the token names no subject")
        if len(subject) > MAX_SUBJECT:
            raise InvalidInput("sub", f"longer than {MAX_SUBJECT} characters")
        username = _text(claims.get("preferred_username")) or subject
        if len(username) > MAX_USERNAME:
            raise InvalidInput("preferred_username", f"longer than {MAX_USERNAME} characters")
        display_name = (_text(claims.get("name")) or username)[:MAX_NAME]
        email = _text(claims.get("email"))
        if email is not None and len(email) > MAX_EMAIL:
            raise InvalidInput("email", f"longer than {MAX_EMAIL} characters")
        jurisdiction = (_text(claims.get(jurisdiction_claim)) or "").upper() or None
        if jurisdiction not in JURISDICTION_CODES:
            jurisdiction = None
        organisation = _text(claims.get(organisation_claim))
        if organisation is not None:
            organisation = organisation[:MAX_ORGANISATION]
        # Keycloak sends a JSON boolean; some mappers send the string "true".
        verified = claims.get("email_verified")
        email_verified = verified is True or (isinstance(verified, str) and verified.lower() == "true")
        return cls(subject, username, display_name, email, jurisdiction, organisation,
                   sorted(role.value for role in known_roles(roles)), email_verified)


def _text(value: Any) -> str | None:
    """A claim as stripped text; Keycloak sends multivalued user attributes as lists."""
    if isinstance(value, list):
        value = value[0] if value else None
    if value is None or isinstance(value, (dict, bool)):
        return None
    text = str(value).strip()
    return text or None


def _apply(session: Session, profile: _Profile, signing_in: bool) -> Person:
    person = session.execute(
        select(Person).where(Person.keycloak_subject == profile.subject)
    ).scalar_one_or_none()
    created = person is None
    person = _create(session, profile) if person is None else _survivor(session, person)
    actor = Actor(label=f"person:{person.username}", roles=frozenset(profile.roles),
                  person_id=person.id, jurisdiction_code=profile.jurisdiction)

    organisation_id = _organisation_id(session, actor, profile.organisation)
    jurisdiction = profile.jurisdiction
    if jurisdiction is not None and session.get(Jurisdiction, jurisdiction) is None:
        jurisdiction = None  # the jurisdictions are not seeded yet
    wanted: dict[str, Any] = {
        "display_name": profile.display_name, "email": profile.email, "roles": profile.roles,
        "jurisdiction_code": jurisdiction, "organisation_id": organisation_id,
    }
    if person.username != profile.username:
        wanted["username"] = _free_username(session, profile.username, person.id)
    changes = {field: {"from": getattr(person, field), "to": value}
               for field, value in wanted.items() if getattr(person, field) != value}
    for field, change in changes.items():
        setattr(person, field, change["to"])
    if signing_in:
        person.last_login_at = utcnow()
    session.flush()

    if created:
        audit.record(session, actor, "person.create", "person", person.id,
                     {"username": person.username, "roles": person.roles,
                      "jurisdiction": person.jurisdiction_code, "source": "keycloak"})
        audit.record(session, actor, "identity.link", "person", person.id,
                     {"kind": "keycloak", "value": profile.subject})
    if changes and not created:
        audit.record(session, actor, "person.update", "person", person.id,
                     {"source": "keycloak", "changes": changes})
    if signing_in:
        audit.record(session, actor, "person.sign_in", "person", person.id,
                     {"subject": profile.subject})
    if created or signing_in or "email" in changes:
        if not created:
            # People made before sign-ins recorded identities (seeds, imports) get theirs now.
            identity_links.ensure_keycloak_identity(session, actor, person, profile.subject)
        if profile.email is not None and profile.email_verified:
            identity_links.link_verified_email(session, actor, person, profile.email)
    return person


def _create(session: Session, profile: _Profile) -> Person:
    """A new person with their Keycloak identity; the caller fills the claims in."""
    person = Person(keycloak_subject=profile.subject,
                    username=_free_username(session, profile.username, None),
                    display_name=profile.display_name, roles=[])
    session.add(person)
    session.flush()
    identity = session.execute(
        select(Identity).where(Identity.kind == "keycloak", Identity.value == profile.subject)
    ).scalar_one_or_none()
    if identity is None:
        session.add(Identity(person_id=person.id, kind="keycloak", value=profile.subject,
                             is_verified=True))
    elif identity.person_id is None:
        # Waiting in the unlinked queue: the sign-in proves whose it is.
        identity.person_id, identity.is_verified = person.id, True
    session.flush()
    return person


def _survivor(session: Session, person: Person) -> Person:
    """The person `person` was merged into (following the chain), or `person` itself."""
    for _hop in range(MAX_MERGE_HOPS):
        if person.merged_into_id is None:
            return person
        target = session.get(Person, person.merged_into_id)
        if target is None:
            break
        person = target
    raise InvalidInput("sub", "this account was merged into another that cannot be found")


def _free_username(session: Session, wanted: str, person_id: int | None) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`, ... when someone else already has it."""
    candidate, number = wanted, 1
    while True:
        holder = session.execute(select(Person.id).where(Person.username == candidate)).scalar()
        if holder is None or holder == person_id:
            return candidate
        number += 1
        suffix = f"-{number}"
        candidate = wanted[:MAX_USERNAME - len(suffix)] + suffix


def _organisation_id(session: Session, actor: Actor, name: str | None) -> int | None:
    """The id of the organisation called `name`, created when the programme has no such one."""
    if name is None:
        return None
    organisation = session.execute(
        select(Organisation).where(Organisation.name == name)
    ).scalar_one_or_none()
    if organisation is None:
        organisation = Organisation(name=name, jurisdiction_code=None)
        session.add(organisation)
        session.flush()
        audit.record(session, actor, "organisation.create", "organisation", organisation.id,
                     {"name": name, "source": "keycloak"})
    return organisation.id
