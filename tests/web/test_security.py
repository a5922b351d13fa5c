"""Security headers on every response, the session cookie's flags, safe `next` targets, CSRF on
forms, and the view decorators' answers."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bounty import PROJECT_ROOT, create_app
from bounty.web.security import safe_next
from tests import factories
from tests.fakes.keycloak import (  # noqa: F401 - the two fixtures
    KeycloakFake,
    keycloak_fixture,
    make_keycloak_fixture,
    sign_in_with_client,
)
from tests.web.conftest import SECRET
from tests.web.oidc_app import wire

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*")


@pytest.fixture
def app(make_app: Callable[..., Flask], keycloak: KeycloakFake, session: Session) -> Flask:
    factories.jurisdictions(session)
    return wire(make_app(**keycloak.settings()))


def policy_of(response_headers: dict[str, str]) -> dict[str, str]:
    directives = response_headers["Content-Security-Policy"].split(";")
    return dict(part.strip().split(" ", 1) for part in directives)


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 200),
    ("GET", "/healthz", 200),
    ("GET", "/no-such-page", 404),
    ("GET", "/static/css/bounty.css", 200),
    ("GET", "/login", 302),
    ("GET", "/auth/callback?code=x&state=y", 400),
    ("POST", "/logout", 400),  # no CSRF token
])
def test_every_response_carries_the_security_headers(
        client: FlaskClient, keycloak: KeycloakFake, method: str, path: str, status: int) -> None:
    answer = client.open(path, method=method)

    assert answer.status_code == status
    headers = dict(answer.headers)
    policy = policy_of(headers)
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    # Signing out posts here and is redirected to Keycloak, which form-action must allow.
    assert policy["form-action"] == f"'self' {keycloak.base_url}"
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers  # plain http in testing


def test_a_response_with_its_own_policy_keeps_it(app: Flask) -> None:
    app.add_url_rule("/test/own-policy", "own_policy",
                     lambda: ("x", 200, {"Content-Security-Policy": "default-src 'none'"}))

    answer = app.test_client().get("/test/own-policy")

    assert answer.headers["Content-Security-Policy"] == "default-src 'none'"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


def test_templates_hold_no_inline_script_or_style() -> None:
    """The policy forbids inline scripts and styles, so no template may rely on them."""
    offending = []
    for template in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle\s*=", r"\son[a-z]+\s*=",
                        r"javascript:"):
            if re.search(pattern, text, flags=re.IGNORECASE):
                offending.append(f"{template.relative_to(PROJECT_ROOT)}: {pattern}")
    assert offending == []


def test_the_session_cookie_is_httponly_and_lax_in_testing(
        client: FlaskClient, keycloak: KeycloakFake) -> None:
    sign_in_with_client(client, keycloak.add_user("ada.example"))

    cookie = client.get_cookie("bounty_session")

    assert cookie is not None
    assert cookie.http_only and cookie.same_site == "Lax"
    assert not cookie.secure


def test_production_cookies_are_secure_with_the_host_prefix_and_hsts(
        db_url: str, keycloak: KeycloakFake) -> None:
    app = wire(create_app({"ENV": "production", "DATABASE_URL": db_url, "SECRET_KEY": SECRET,
                           **keycloak.settings()}))
    try:
        answer = app.test_client().get("/login?next=/somewhere")
    finally:
        app.extensions["bounty.db"].engine.dispose()

    assert answer.status_code == 302
    set_cookie = answer.headers["Set-Cookie"]
    assert set_cookie.startswith("__Host-bounty_session=")
    flags = {flag.strip().split("=")[0].lower() for flag in set_cookie.split(";")[1:]}
    assert {"secure", "httponly", "samesite", "path"} <= flags
    assert "domain" not in flags
    assert "SameSite=Lax" in set_cookie and "Path=/" in set_cookie
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


SITE_PATHS = ["/bounties/5", "/bounties?status=open&page=2", "/", "/fr/%2F%2Fevil.example"]
OFF_SITE = ["//evil.example", "///evil.example", "https://evil.example/", "http:evil.example",
            "javascript:alert(1)", "JaVaScRiPt:alert(1)", "/\\evil.example", "\\\\evil.example",
            "/\t/evil.example", "/\n/evil.example", "/\x7f/evil.example", "evil.example", "", None]


@pytest.mark.parametrize("target", SITE_PATHS)
def test_safe_next_keeps_paths_on_this_site(target: str) -> None:
    assert safe_next(target, default="/home") == target


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_refuses_anything_that_could_leave_the_site(target: str | None) -> None:
    assert safe_next(target, default="/home") == "/home"
    assert safe_next(target) == "/"


def test_decorators_send_anonymous_visitors_to_sign_in_and_refuse_the_unpermitted(
        client: FlaskClient, keycloak: KeycloakFake) -> None:
    private = client.get("/test/private?tab=2")
    assert private.status_code == 302
    assert private.headers["Location"] == "/login?next=/test/private?tab%3D2"
    assert client.get("/test/private", headers={"Accept": "application/json"}).status_code == 401
    assert client.get("/test/manage").headers["Location"] == "/login?next=/test/manage"
    # A form posted anonymously comes back to the home page after signing in, not to a replay.
    token = client.get("/test/csrf-token").get_data(as_text=True)
    assert client.post("/test/manage", data={"csrf_token": token}).headers["Location"] == "/login"

    sign_in_with_client(client, keycloak.add_user("cora.contributor", realm_roles=["contributor"]))
    assert client.get("/test/private").status_code == 200
    assert client.get("/test/manage").status_code == 403

    admin = client.application.test_client()
    sign_in_with_client(admin, keycloak.add_user("pat.admin", realm_roles=["program-admin"]))
    assert admin.get("/test/manage").get_data(as_text=True) == "the private page"


def test_without_any_sign_in_page_anonymous_visitors_get_401(make_app: Callable[..., Flask]) -> None:
    client = wire(make_app()).test_client()

    assert client.get("/test/private").status_code == 401
    assert client.get("/test/manage").status_code == 401
