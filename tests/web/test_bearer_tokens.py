"""Bearer tokens of the API: Keycloak-style access tokens validated against the provider's JWKS."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from joserfc.jwk import RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.auth import InvalidToken, actor_from_bearer
from bounty.governance.permissions import Permission
from bounty.models import Person
from bounty.services import audit
from tests import factories
from tests.fakes.keycloak import KeycloakFake, keycloak_fixture, make_keycloak_fixture  # noqa: F401
from tests.web.oidc_app import wire

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*")


@pytest.fixture
def app(make_app: Callable[..., Flask], keycloak: KeycloakFake, session: Session) -> Iterator[Flask]:
    factories.jurisdictions(session)
    app = wire(make_app(**keycloak.settings()))
    yield app


def bearer(app: Flask, header: str | None) -> Any:
    with app.test_request_context():
        return actor_from_bearer(header)


def refused(app: Flask, header: str | None) -> str:
    with pytest.raises(InvalidToken) as error:
        bearer(app, header)
    return error.value.reason


def test_an_access_token_becomes_the_persons_actor(
        app: Flask, keycloak: KeycloakFake, session: Session) -> None:
    sub = keycloak.add_user("ada.example", realm_roles=["contributor"], client_roles=["reviewer"],
                            jurisdiction="UK", organisation="Acme Ltd")

    actor = bearer(app, f"Bearer {keycloak.access_token(sub)}")

    person = session.execute(select(Person).where(Person.keycloak_subject == sub)).scalar_one()
    assert actor.person_id == person.id
    assert actor.label == "person:ada.example"
    assert actor.roles == frozenset({"contributor", "reviewer"})
    assert actor.jurisdiction_code == "UK"
    assert actor.can(Permission.REVIEW_WORK) and not actor.can(Permission.MANAGE_BOUNTIES)
    assert person.organisation is not None and person.organisation.name == "Acme Ltd"
    assert person.last_login_at is None  # an API call is not a sign-in


def test_our_client_as_audience_without_azp_is_accepted(app: Flask, keycloak: KeycloakFake) -> None:
    sub = keycloak.add_user("ada.example")

    actor = bearer(app, "bearer " + keycloak.access_token(sub, aud=["bounty", "account"], azp=None))

    assert actor.person_id is not None


def test_a_later_token_with_other_roles_updates_the_person(
        app: Flask, keycloak: KeycloakFake, session: Session) -> None:
    sub = keycloak.add_user("ada.example", realm_roles=["contributor"])
    first = bearer(app, f"Bearer {keycloak.access_token(sub)}")
    keycloak.add_user("ada.example", sub=sub, realm_roles=["auditor"])

    second = bearer(app, f"Bearer {keycloak.access_token(sub)}")

    assert first.person_id == second.person_id
    assert second.roles == frozenset({"auditor"})
    assert not second.can(Permission.CLAIM_BOUNTY)
    assert [e.action for e in audit.events_for(session, "person", second.person_id)] == [
        "person.create", "identity.link", "person.update"]


def _unsigned(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(("make_token", "why"), [
    (lambda kc, sub: kc.access_token(sub, aud="account", azp="another-client"), "not issued to this client"),
    (lambda kc, sub: kc.access_token(sub, aud="account", azp=None), "not issued to this client"),
    (lambda kc, sub: kc.access_token(sub, iss="http://127.0.0.1:9/realms/bounty"), "iss"),
    (lambda kc, sub: kc.access_token(sub, exp=int(time.time()) - 600), "expired"),
    (lambda kc, sub: kc.access_token(sub, exp=None), "exp"),
    (lambda kc, sub: kc.access_token(sub, typ="ID"), "not an access token"),
    (lambda kc, sub: kc.access_token(sub, key=RSAKey.generate_key(2048)), "does not publish"),
    (lambda kc, sub: _unsigned({"iss": kc.issuer, "sub": sub, "azp": "bounty",
                                "exp": int(time.time()) + 300}), "not valid"),
    (lambda kc, sub: "not-a-jwt", "not valid"),
])
def test_tokens_failing_a_check_are_refused_with_the_reason(
        app: Flask, keycloak: KeycloakFake, session: Session,
        make_token: Callable[[KeycloakFake, str], str], why: str) -> None:
    sub = keycloak.add_user("ada.example")

    reason = refused(app, f"Bearer {make_token(keycloak, sub)}")

    assert why in reason
    assert session.execute(select(Person)).first() is None


def test_a_token_signed_by_a_key_of_the_same_id_but_another_value_is_refused(
        app: Flask, keycloak: KeycloakFake) -> None:
    sub = keycloak.add_user("ada.example")
    impostor = RSAKey.generate_key(2048, parameters={"kid": keycloak.signing_key.kid})

    assert "bad_signature" in refused(app, f"Bearer {keycloak.access_token(sub, key=impostor)}")


@pytest.mark.parametrize("header", [None, "", "Basic YWRhOnNlY3JldA==", "Bearer", "Bearer   "])
def test_a_missing_or_other_authorization_header_is_refused(app: Flask, header: str | None) -> None:
    assert refused(app, header)


def test_without_keycloak_no_token_is_accepted(
        make_app: Callable[..., Flask], keycloak: KeycloakFake) -> None:
    sub = keycloak.add_user("ada.example")
    plain = wire(make_app())

    assert "no identity provider" in refused(plain, f"Bearer {keycloak.access_token(sub)}")
