"""Fixtures of the API tests: an application on the test database that trusts the fake
Keycloak on loopback, and callers holding real access tokens minted by it.

Tokens are verified by the application exactly as in production: signature against the
provider's JWKS, issuer, audience or authorised party, expiry. A caller's subject is
`test-<username>`, the subject `tests.workflow_factories.person` gives the same person, so
data built with the factories and calls made with a token act as one person.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bounty import auth, create_app
from bounty.api import register_api
from bounty.models import Pool
from tests import workflow_factories as wf
from tests.fakes.keycloak import KeycloakFake, keycloak_fixture, make_keycloak_fixture  # noqa: F401 - fixtures

SECRET = "y" * 40
API = "/api/v1"


@pytest.fixture
def api_app(db_url: str, keycloak: KeycloakFake) -> Iterator[Flask]:
    app = create_app({"ENV": "testing", "DATABASE_URL": db_url, "SECRET_KEY": SECRET,
                      "PROGRAMME_YEAR": 2026, **keycloak.settings()})
    # Both are idempotent: they do nothing once the composition root has done them.
    auth.init_app(app)
    register_api(app)
    yield app
    app.extensions["bounty.db"].engine.dispose()


@pytest.fixture
def client(api_app: Flask) -> FlaskClient:
    return api_app.test_client()


@dataclass
class Callers:
    """People of the realm, each with a fresh access token."""

    keycloak: KeycloakFake

    def token(self, username: str, roles: Iterable[str] = ("contributor",),
              jurisdiction: str = "EU") -> str:
        sub = f"test-{username}"
        self.keycloak.add_user(username, sub=sub, realm_roles=list(roles), jurisdiction=jurisdiction)
        return self.keycloak.access_token(sub)

    def headers(self, username: str, roles: Iterable[str] = ("contributor",),
                jurisdiction: str = "EU") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username, roles, jurisdiction)}"}

    def admin(self) -> dict[str, str]:
        return self.headers("admin", ("contributor", "program-admin"), "EU")

    def contributor(self, username: str = "carla", jurisdiction: str = "EU") -> dict[str, str]:
        return self.headers(username, ("contributor",), jurisdiction)

    def reviewer(self, username: str, jurisdiction: str, council: bool = False) -> dict[str, str]:
        roles = ["contributor", "reviewer", *(["security-council"] if council else [])]
        return self.headers(username, roles, jurisdiction)


@pytest.fixture
def callers(keycloak: KeycloakFake) -> Callers:
    return Callers(keycloak)


@pytest.fixture
def pool(session: Session) -> Pool:
    """The reference seed and a funded bounty pool for this year."""
    found = wf.reference(session)
    # End the test session's transaction: on SQLite it holds the write lock the app needs.
    session.commit()
    return found
