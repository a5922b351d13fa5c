"""The development sign-in: present only with DEMO_LOGIN, demo personas only, CSRF-checked."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bounty import create_app
from bounty.auth import CurrentUser
from bounty.config import ConfigError
from bounty.governance.permissions import Permission
from bounty.models import Person
from tests import factories
from tests.web.conftest import csrf_token_of


def people(session: Session) -> tuple[Person, Person]:
    """A demo persona and a real person who must never be offered."""
    factories.jurisdictions(session)
    ada = Person(keycloak_subject="demo-ada", username="ada", display_name="Ada Lovelace",
                 jurisdiction_code="UK", roles=["contributor", "reviewer"])
    real = Person(keycloak_subject="0b7c-real", username="grace", display_name="Grace Hopper",
                  jurisdiction_code="EU", roles=["program-admin"])
    session.add_all([ada, real])
    session.commit()
    return ada, real


@pytest.fixture
def demo_client(make_app: Callable[..., Flask]) -> FlaskClient:
    return make_app(DEMO_LOGIN=True).test_client()


def test_without_demo_login_the_pages_do_not_exist(client: FlaskClient, session: Session) -> None:
    ada, _ = people(session)

    assert client.get("/dev/login").status_code == 404
    assert client.post("/dev/login", data={"person_id": ada.id}).status_code == 404
    assert client.post("/dev/logout").status_code == 404
    html = client.get("/").get_data(as_text=True)
    assert "/dev/login" not in html
    assert "Not signed in" in html


def test_the_page_lists_demo_personas_only(demo_client: FlaskClient, session: Session) -> None:
    people(session)

    html = demo_client.get("/dev/login").get_data(as_text=True)

    assert "Ada Lovelace" in html
    assert "Contributor, Reviewer" in html
    assert "<td>UK</td>" in html
    assert "Grace Hopper" not in html


def test_a_persona_signs_in_and_out(demo_client: FlaskClient, session: Session) -> None:
    ada, _ = people(session)
    token = csrf_token_of(demo_client.get("/dev/login").get_data(as_text=True))

    signed_in = demo_client.post("/dev/login", data={"csrf_token": token, "person_id": ada.id},
                                 follow_redirects=True)

    html = signed_in.get_data(as_text=True)
    assert signed_in.status_code == 200
    assert signed_in.request.path == "/"
    assert "Signed in as <strong>Ada Lovelace</strong>" in html
    assert "Signed in as Ada Lovelace." in html  # the flashed confirmation

    signed_out = demo_client.post("/dev/logout", data={"csrf_token": csrf_token_of(html)},
                                  follow_redirects=True)

    html = signed_out.get_data(as_text=True)
    assert "Ada Lovelace" not in html
    assert "You are signed out." in html
    # The sign-in link goes to /login, which sends to the persona picker when no Keycloak is set.
    assert 'href="/login"' in html
    assert demo_client.get("/login").headers["Location"].startswith("/dev/login")


def test_a_post_without_the_csrf_token_is_refused(demo_client: FlaskClient, session: Session) -> None:
    ada, _ = people(session)

    response = demo_client.post("/dev/login", data={"person_id": ada.id})

    assert response.status_code == 400
    assert "security token is missing or wrong" in response.get_data(as_text=True)
    assert "Signed in as" not in demo_client.get("/").get_data(as_text=True)


def test_sign_out_without_the_csrf_token_is_refused(demo_client: FlaskClient, session: Session) -> None:
    ada, _ = people(session)
    token = csrf_token_of(demo_client.get("/dev/login").get_data(as_text=True))
    demo_client.post("/dev/login", data={"csrf_token": token, "person_id": ada.id})

    response = demo_client.post("/dev/logout")

    assert response.status_code == 400
    assert "Signed in as <strong>Ada Lovelace</strong>" in demo_client.get("/").get_data(as_text=True)


def test_only_a_demo_persona_can_be_chosen(demo_client: FlaskClient, session: Session) -> None:
    _, real = people(session)
    token = csrf_token_of(demo_client.get("/dev/login").get_data(as_text=True))

    for person_id in (real.id, 999_999, "x"):
        response = demo_client.post("/dev/login", data={"csrf_token": token, "person_id": person_id})

        assert response.status_code == 400, person_id
    assert "Signed in as" not in demo_client.get("/").get_data(as_text=True)


def test_sign_in_returns_to_a_local_page_only(demo_client: FlaskClient, session: Session) -> None:
    ada, _ = people(session)
    token = csrf_token_of(demo_client.get("/dev/login?next=/healthz").get_data(as_text=True))

    local = demo_client.post("/dev/login", data={"csrf_token": token, "person_id": ada.id,
                                                 "next": "/?year=2026"})
    # Signing in starts a fresh session, so the next form carries a new token.
    token = csrf_token_of(demo_client.get("/dev/login").get_data(as_text=True))
    away = demo_client.post("/dev/login", data={"csrf_token": token, "person_id": ada.id,
                                                "next": "//evil.example/"})

    assert local.status_code == 302 and local.headers["Location"] == "/?year=2026"
    assert away.status_code == 302 and away.headers["Location"] == "/"


def test_the_signed_in_person_acts_with_their_roles(session: Session) -> None:
    ada, _ = people(session)

    actor = CurrentUser.from_person(ada).actor

    assert actor.person_id == ada.id
    assert actor.label == "person:ada"
    assert actor.jurisdiction_code == "UK"
    assert actor.can(Permission.REVIEW_WORK)
    assert not actor.can(Permission.MANAGE_FUNDS)


def test_production_refuses_to_start_with_the_demo_sign_in() -> None:
    settings = {"ENV": "production", "DEMO_LOGIN": True, "SECRET_KEY": "s" * 48,
                "DATABASE_URL": "postgresql://bounty@db.example/bounty",
                "KEYCLOAK_URL": "https://id.example", "KEYCLOAK_CLIENT_SECRET": "secret"}

    with pytest.raises(ConfigError, match="BOUNTY_DEMO_LOGIN"):
        create_app(settings)
    create_app({**settings, "DEMO_LOGIN": False})  # the same settings start without it
