"""People from identity-provider claims: created on first sign-in, kept in step after."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import AuditEvent, Identity, Organisation, Person
from bounty.services import audit, people
from bounty.services.errors import InvalidInput
from tests import factories


def claims(sub: str = "7f3c-ada", **extra: Any) -> dict[str, Any]:
    base = {"sub": sub, "preferred_username": "ada.example", "name": "Ada Example",
            "email": "ada@example.org", "jurisdiction": "UK", "organisation": "Acme Ltd"}
    base.update(extra)
    return base


def sign_in(session: Session, token_claims: dict[str, Any], roles: set[str]) -> Person:
    return people.sign_in_from_claims(session, token_claims, roles, "jurisdiction", "organisation")


def actions(session: Session, person_id: int) -> list[str]:
    return [event.action for event in audit.events_for(session, "person", person_id)]


@pytest.fixture
def seeded(session: Session) -> Session:
    factories.jurisdictions(session)
    return session


def test_first_sign_in_creates_the_person_identity_and_organisation(seeded: Session) -> None:
    person = sign_in(seeded, claims(), {"contributor", "reviewer"})

    assert person.id is not None
    assert (person.keycloak_subject, person.username, person.display_name, person.email) == (
        "7f3c-ada", "ada.example", "Ada Example", "ada@example.org")
    assert person.roles == ["contributor", "reviewer"]
    assert person.jurisdiction_code == "UK"
    assert person.organisation is not None and person.organisation.name == "Acme Ltd"
    assert person.last_login_at is not None
    identity = seeded.execute(select(Identity).where(Identity.kind == "keycloak")).scalar_one()
    assert (identity.person_id, identity.value, identity.is_verified) == (person.id, "7f3c-ada", True)
    assert actions(seeded, person.id) == ["person.create", "identity.link", "person.sign_in"]
    created_org = seeded.execute(
        select(AuditEvent).where(AuditEvent.action == "organisation.create")).scalar_one()
    assert created_org.summary["name"] == "Acme Ltd"
    assert audit.verify(seeded) == []


def test_a_later_sign_in_updates_roles_and_claims(seeded: Session) -> None:
    first = sign_in(seeded, claims(), {"contributor", "reviewer"})
    first_login = first.last_login_at

    again = sign_in(seeded, claims(name="Ada E. Example", email="ada@example.net", jurisdiction="ca",
                                   organisation="Nouvelle Coop"), {"program-admin"})

    assert again.id == first.id
    assert seeded.execute(select(func.count(Person.id))).scalar_one() == 1
    assert again.roles == ["program-admin"]
    assert (again.display_name, again.email, again.jurisdiction_code) == (
        "Ada E. Example", "ada@example.net", "CA")
    assert again.organisation is not None and again.organisation.name == "Nouvelle Coop"
    assert again.last_login_at is not None and first_login is not None
    assert again.last_login_at >= first_login
    assert seeded.execute(select(func.count(Organisation.id))).scalar_one() == 2
    update = [e for e in audit.events_for(seeded, "person", again.id) if e.action == "person.update"]
    assert len(update) == 1
    changes = update[0].summary["changes"]
    assert changes["roles"] == {"from": ["contributor", "reviewer"], "to": ["program-admin"]}
    assert changes["jurisdiction_code"] == {"from": "UK", "to": "CA"}
    assert set(changes) == {"roles", "display_name", "email", "jurisdiction_code", "organisation_id"}


def test_an_unchanged_sign_in_records_only_the_sign_in(seeded: Session) -> None:
    person = sign_in(seeded, claims(), {"contributor"})
    sign_in(seeded, claims(), {"contributor"})

    assert actions(seeded, person.id) == ["person.create", "identity.link", "person.sign_in",
                                          "person.sign_in"]


def test_roles_and_jurisdictions_outside_the_programme_are_dropped(seeded: Session) -> None:
    person = sign_in(seeded, claims(jurisdiction="DE", organisation=["First Org", "Second Org"]),
                     {"contributor", "offline_access", "admin", "default-roles-bounty"})

    assert person.roles == ["contributor"]
    assert person.jurisdiction_code is None
    assert person.organisation is not None and person.organisation.name == "First Org"


def test_a_taken_username_gets_a_suffix(seeded: Session) -> None:
    seeded.add(Person(keycloak_subject="demo-ada", username="ada.example", display_name="Demo Ada"))
    seeded.commit()

    person = sign_in(seeded, claims(), {"contributor"})

    assert person.username == "ada.example-2"
    assert person.keycloak_subject == "7f3c-ada"


def test_a_subject_merged_into_another_person_signs_in_as_that_person(seeded: Session) -> None:
    survivor = Person(keycloak_subject="survivor", username="ada", display_name="Ada")
    seeded.add(survivor)
    seeded.flush()
    seeded.add(Person(keycloak_subject="7f3c-ada", username="old-ada", display_name="Old Ada",
                      merged_into_id=survivor.id))
    seeded.commit()

    person = sign_in(seeded, claims(), {"reviewer"})

    assert person.id == survivor.id
    assert person.roles == ["reviewer"]


def test_claims_without_a_subject_are_refused_and_nothing_is_written(seeded: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        sign_in(seeded, claims(sub=" "), {"contributor"})

    assert refused.value.field == "sub"
    assert seeded.execute(select(func.count(Person.id))).scalar_one() == 0
    assert audit.count_events(seeded) == 0


def test_a_username_longer_than_the_column_is_refused(seeded: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        sign_in(seeded, claims(preferred_username="a" * 121), {"contributor"})
    assert refused.value.field == "preferred_username"


def test_the_claim_names_are_configurable(seeded: Session) -> None:
    person = people.sign_in_from_claims(
        seeded, claims(jurisdiction=None, organisation=None, member_state="AU", employer="Kanga Pty"),
        {"contributor"}, "member_state", "employer")

    assert person.jurisdiction_code == "AU"
    assert person.organisation is not None and person.organisation.name == "Kanga Pty"


def test_a_token_sync_records_changes_but_no_sign_in(seeded: Session) -> None:
    person = people.sync_from_token(seeded, claims(), {"contributor"}, "jurisdiction", "organisation")
    assert person.last_login_at is None
    people.sync_from_token(seeded, claims(), {"contributor"}, "jurisdiction", "organisation")
    people.sync_from_token(seeded, claims(), {"reviewer"}, "jurisdiction", "organisation")

    assert actions(seeded, person.id) == ["person.create", "identity.link", "person.update"]
    assert person.roles == ["reviewer"]
