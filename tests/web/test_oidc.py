"""Signing in with Keycloak over OpenID Connect, against a real provider on loopback.

Everything goes through the application's own authlib client: the authorization request
with PKCE, state and nonce, the code exchange, the ID-token validation, the session.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bounty.models import Identity, Person
from bounty.services import audit
from tests import factories
from tests.fakes.keycloak import (  # noqa: F401 - the two fixtures
    KeycloakFake,
    authorize,
    keycloak_fixture,
    make_keycloak_fixture,
    sign_in_with_client,
)
from tests.web.oidc_app import wire

# The provider's server side (authlib's authorization server, in this process) uses APIs
# authlib has deprecated; that is the stand-in's business, not the application's.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*")


@pytest.fixture
def app(make_app: Callable[..., Flask], keycloak: KeycloakFake, session: Session) -> Flask:
    factories.jurisdictions(session)
    return wire(make_app(**keycloak.settings()))


def whoami(client: FlaskClient) -> dict[str, Any]:
    return client.get("/test/whoami").get_json()


def person_of(session: Session, sub: str) -> Person:
    """The person with Keycloak subject `sub`, organisation loaded; the read transaction is
    ended so the application (BEGIN IMMEDIATE on SQLite) is not kept waiting."""
    person = session.execute(select(Person).where(Person.keycloak_subject == sub)).scalar_one()
    _ = person.organisation
    session.commit()
    return person


def count_people(session: Session) -> int:
    count = session.execute(select(func.count(Person.id))).scalar_one()
    session.commit()
    return count


def query_of(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def jwt_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified (the application verified it already)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_the_authorization_request_uses_pkce_s256_state_and_nonce(
        client: FlaskClient, keycloak: KeycloakFake) -> None:
    first = client.get("/login")
    second = client.get("/login")

    assert first.status_code == 302
    authorize_endpoint = keycloak.metadata()["authorization_endpoint"]
    assert first.headers["Location"].startswith(authorize_endpoint + "?")
    asked, again = query_of(first.headers["Location"]), query_of(second.headers["Location"])
    assert asked["response_type"] == "code"
    assert asked["client_id"] == "bounty"
    assert asked["redirect_uri"] == "http://localhost/auth/callback"
    assert set(asked["scope"].split()) == {"openid", "profile", "email"}
    assert asked["code_challenge_method"] == "S256"
    assert len(asked["code_challenge"]) == 43  # base64url of a SHA-256 digest
    for key in ("state", "nonce", "code_challenge"):
        assert len(asked[key]) >= 20 and asked[key] != again[key], key


def test_first_sign_in_creates_the_person_from_keycloak_claims(
        client: FlaskClient, keycloak: KeycloakFake, session: Session) -> None:
    sub = keycloak.add_user("ada.example", name="Ada Example", realm_roles=["contributor"],
                            client_roles=["reviewer"], jurisdiction="UK", organisation="Acme Ltd",
                            resource_access={"bounty": {"roles": ["reviewer"]},
                                             "gitlab": {"roles": ["program-admin"]}})

    answer = sign_in_with_client(client, sub, next_url="/test/private?tab=claims")

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/test/private?tab=claims"
    person = person_of(session, sub)
    identity_owner = session.execute(select(Identity.person_id).where(Identity.value == sub)).scalar_one()
    session.commit()
    assert identity_owner == person.id
    assert person.username == "ada.example"
    # Realm roles plus this client's roles; another client's roles and Keycloak's own are not kept.
    assert person.roles == ["contributor", "reviewer"]
    assert (person.jurisdiction_code, person.organisation.name) == ("UK", "Acme Ltd")
    assert whoami(client) == {"signed_in": True, "id": person.id, "roles": ["contributor", "reviewer"],
                              "name": "Ada Example"}
    # The code exchange carried the PKCE verifier, which the provider checked against the challenge.
    exchange = keycloak.token_requests[-1]
    assert exchange["grant_type"] == "authorization_code" and len(exchange["code_verifier"]) >= 43


def test_a_later_sign_in_brings_roles_and_claims_up_to_date(
        make_app: Callable[..., Flask], app: Flask, keycloak: KeycloakFake, session: Session) -> None:
    sub = keycloak.add_user("ada.example", realm_roles=["contributor", "reviewer"], jurisdiction="UK")
    sign_in_with_client(app.test_client(), sub)
    keycloak.add_user("ada.example", sub=sub, name="Ada Renamed", realm_roles=["program-admin"],
                      jurisdiction="CA", organisation="Nouvelle Coop")

    browser = app.test_client()
    sign_in_with_client(browser, sub)

    assert whoami(browser)["roles"] == ["program-admin"]
    assert browser.get("/test/manage").status_code == 200
    assert count_people(session) == 1
    person = person_of(session, sub)
    assert person.roles == ["program-admin"]
    assert (person.display_name, person.jurisdiction_code, person.organisation.name) == (
        "Ada Renamed", "CA", "Nouvelle Coop")
    actions = [event.action for event in audit.events_for(session, "person", person.id)]
    assert actions == ["person.create", "identity.link", "person.sign_in", "person.update",
                       "person.sign_in"]


def test_signing_in_starts_a_new_session(client: FlaskClient, keycloak: KeycloakFake) -> None:
    sub = keycloak.add_user("ada.example")
    with client.session_transaction() as before:
        before["planted"] = "by someone else"
    planted_cookie = client.get_cookie("bounty_session")
    assert planted_cookie is not None

    sign_in_with_client(client, sub)

    with client.session_transaction() as after:
        assert "planted" not in after
        assert "_user_id" in after
    renewed = client.get_cookie("bounty_session")
    assert renewed is not None and renewed.value != planted_cookie.value


@pytest.mark.parametrize("state", [None, "not-the-state-we-sent"])
def test_a_callback_without_the_state_we_sent_is_refused(
        client: FlaskClient, keycloak: KeycloakFake, session: Session, state: str | None) -> None:
    sub = keycloak.add_user("ada.example")
    started = client.get("/login")
    callback = query_of(authorize(started.headers["Location"], sub))
    forged = {"code": callback["code"], **({"state": state} if state else {})}

    answer = client.get("/auth/callback?" + "&".join(f"{k}={quote(v)}" for k, v in forged.items()))

    assert answer.status_code == 400
    assert "state missing or mismatched" in answer.get_data(as_text=True)
    assert whoami(client) == {"signed_in": False}
    assert count_people(session) == 0


def test_a_callback_cannot_be_replayed(client: FlaskClient, keycloak: KeycloakFake) -> None:
    sub = keycloak.add_user("ada.example")
    started = client.get("/login")
    callback = urlsplit(authorize(started.headers["Location"], sub))
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302

    fresh = client.application.test_client()
    assert fresh.get(f"{callback.path}?{callback.query}").status_code == 400
    assert whoami(fresh) == {"signed_in": False}


def test_a_refusal_at_the_provider_is_a_400_page(client: FlaskClient, keycloak: KeycloakFake) -> None:
    started = client.get("/login")
    denied = requests.post(started.headers["Location"], data={"action": "deny"},
                           allow_redirects=False, timeout=10)
    callback = urlsplit(denied.headers["Location"])

    answer = client.get(f"{callback.path}?{callback.query}")

    assert answer.status_code == 400
    assert "access_denied" in answer.get_data(as_text=True)
    assert whoami(client) == {"signed_in": False}


@pytest.mark.parametrize(("override", "why"), [
    ({"aud": "another-client", "azp": "another-client"}, "aud"),
    ({"aud": ["another-client"]}, "aud"),
    ({"iss": "http://127.0.0.1:9/realms/bounty"}, "iss"),
    ({"exp": int(time.time()) - 600}, "expired"),
    ({"nonce": "not-the-nonce-we-sent"}, "nonce"),
])
def test_an_id_token_failing_validation_is_refused(
        client: FlaskClient, keycloak: KeycloakFake, session: Session,
        override: dict[str, Any], why: str) -> None:
    sub = keycloak.add_user("ada.example", **override)

    answer = sign_in_with_client(client, sub)

    assert answer.status_code == 400
    page = answer.get_data(as_text=True)
    assert "the ID token is not valid" in page and why in page
    assert whoami(client) == {"signed_in": False}
    assert count_people(session) == 0


def test_an_id_token_whose_signature_the_jwks_does_not_verify_is_refused(
        client: FlaskClient, keycloak: KeycloakFake) -> None:
    sub = keycloak.add_user("ada.example")
    keycloak.decoy_jwks = True

    answer = sign_in_with_client(client, sub)

    assert answer.status_code == 400
    assert "the ID token is not valid" in answer.get_data(as_text=True)
    assert whoami(client) == {"signed_in": False}


def test_a_provider_announcing_another_issuer_is_refused(
        make_app: Callable[..., Flask], make_keycloak: Callable[..., KeycloakFake]) -> None:
    impostor = make_keycloak(announced_realm="elsewhere")
    client = wire(make_app(**impostor.settings())).test_client()

    answer = client.get("/login")

    assert answer.status_code == 400
    assert "/realms/elsewhere" in answer.get_data(as_text=True)


def test_a_wrong_client_secret_is_refused_by_the_provider(
        make_app: Callable[..., Flask], keycloak: KeycloakFake) -> None:
    client = wire(make_app(**keycloak.settings(KEYCLOAK_CLIENT_SECRET="wrong"))).test_client()
    sub = keycloak.add_user("ada.example")

    answer = sign_in_with_client(client, sub)

    assert answer.status_code == 400
    assert "invalid_client" in answer.get_data(as_text=True)
    assert whoami(client) == {"signed_in": False}


def test_an_unreachable_provider_is_a_502_page_not_a_crash(
        make_app: Callable[..., Flask], keycloak: KeycloakFake) -> None:
    client = wire(make_app(**keycloak.settings(KEYCLOAK_URL="http://127.0.0.1:9"))).test_client()

    answer = client.get("/login")

    assert answer.status_code == 502
    assert "502" in answer.get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "//evil.example", "https://evil.example/", "javascript:alert(1)", "/\\evil.example",
    "/\t/evil.example", "evil.example", "http:evil.example",
])
def test_next_never_leaves_the_site(client: FlaskClient, keycloak: KeycloakFake, target: str) -> None:
    sub = keycloak.add_user("ada.example")

    answer = sign_in_with_client(client, sub, next_url=target)

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"


def test_logout_needs_the_csrf_token(client: FlaskClient, keycloak: KeycloakFake) -> None:
    sign_in_with_client(client, keycloak.add_user("ada.example"))

    answer = client.post("/logout")

    assert answer.status_code == 400
    assert whoami(client)["signed_in"] is True


def test_logout_ends_the_session_here_and_at_keycloak(
        client: FlaskClient, keycloak: KeycloakFake) -> None:
    sub = keycloak.add_user("ada.example")
    sign_in_with_client(client, sub)
    token = client.get("/test/csrf-token").get_data(as_text=True)

    answer = client.post("/logout", data={"csrf_token": token})

    assert answer.status_code == 302
    end_session = keycloak.metadata()["end_session_endpoint"]
    assert answer.headers["Location"].startswith(end_session + "?")
    asked = query_of(answer.headers["Location"])
    assert asked["post_logout_redirect_uri"] == "http://localhost/"
    assert asked["client_id"] == "bounty"
    hint = jwt_claims(asked["id_token_hint"])
    assert (hint["sub"], hint["iss"]) == (sub, keycloak.issuer)
    with client.session_transaction() as after:
        assert "_user_id" not in after and "auth_id_token" not in after
    assert whoami(client) == {"signed_in": False}
    # The provider's real end-session endpoint answers that URL.
    assert requests.get(answer.headers["Location"], timeout=10).status_code == 200


def test_login_is_absent_without_keycloak_and_leads_to_the_demo_sign_in_with_it(
        make_app: Callable[..., Flask]) -> None:
    plain = wire(make_app()).test_client()
    assert plain.get("/login").status_code == 404
    assert plain.get("/auth/callback").status_code == 404
    token = plain.get("/test/csrf-token").get_data(as_text=True)
    assert plain.post("/logout", data={"csrf_token": token}).status_code == 404

    demo = wire(make_app(DEMO_LOGIN=True)).test_client()
    answer = demo.get("/login?next=/test/private")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/dev/login?next=/test/private"
    assert demo.get("/login?next=//evil.example").headers["Location"] == "/dev/login"
    assert demo.get("/auth/callback").status_code == 404
