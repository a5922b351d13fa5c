"""A real OpenID provider on loopback that looks like a Keycloak realm to the application.

It is oidc-provider-mock 0.3.4 (authlib's authorization server plus a login page where you
pick the user by `sub`) served by werkzeug in a thread, mounted at `/realms/<realm>` so its
issuer is `http://127.0.0.1:<port>/realms/<realm>` as Keycloak's would be. Around it:
- the client is registered with its secret and exact redirect URIs, so a wrong secret or
  redirect URI is refused, as Keycloak refuses them;
- PKCE is enforced like a Keycloak client with "PKCE method S256" set: the token request
  must carry the `code_verifier` whose S256 hash was sent as `code_challenge`;
- users carry Keycloak-shaped claims (`realm_access.roles`, `resource_access.<client>.roles`,
  `preferred_username`, `name`, `email`, `jurisdiction`, `organisation`), which the mock puts
  in the ID token;
- `access_token()` mints Keycloak-style access tokens (RS256 JWTs, `typ` "Bearer", `azp` the
  client, `aud` "account") signed with the provider's own key, so they verify against the
  `jwks_uri` the discovery document names (the mock's own access tokens are opaque);
- `decoy_jwks = True` makes the JWKS endpoint publish an unrelated key, so every token the
  provider signs fails signature verification (a forged token, as the client sees it).

Claims given to `set_claims` are merged into the ID token last, so a test can make the
provider issue a token with a wrong `aud`, `iss`, `nonce` or an `exp` in the past.

Use the `keycloak` and `make_keycloak` fixtures (import `keycloak_fixture` and
`make_keycloak_fixture` into the test module, or list this module in `pytest_plugins`),
`sign_in_with_client` for the Flask test client, and `authorize` / `choose_user_in_browser`
for other user agents.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import flask
import pytest
import requests
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.test import TestResponse

with warnings.catch_warnings():
    # The mock imports authlib.jose, which authlib marks deprecated.
    warnings.simplefilter("ignore", DeprecationWarning)
    import oidc_provider_mock
    from oidc_provider_mock._storage import Client, Storage

CLIENT_ID = "bounty"
CLIENT_SECRET = "bounty-test-secret"
TEST_CLIENT_CALLBACK = "http://localhost/auth/callback"

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def keycloak_claims(username: str, *, name: str | None = None, email: str | None = None,
                    realm_roles: Iterable[str] = ("contributor",), client_roles: Iterable[str] = (),
                    jurisdiction: str | None = None, organisation: str | None = None,
                    client_id: str = CLIENT_ID, **extra: Any) -> dict[str, Any]:
    """The claims Keycloak's default mappers plus the realm's `jurisdiction` and
    `organisation` attribute mappers put in a token for this user."""
    claims: dict[str, Any] = {
        "preferred_username": username,
        "name": name or username.replace(".", " ").title(),
        "email": email or f"{username}@example.org",
        "email_verified": True,
        "realm_access": {"roles": [*realm_roles, "offline_access", "uma_authorization",
                                   "default-roles-bounty"]},
        "resource_access": {client_id: {"roles": list(client_roles)},
                            "account": {"roles": ["manage-account", "view-profile"]}},
    }
    if jurisdiction is not None:
        claims["jurisdiction"] = jurisdiction
    if organisation is not None:
        claims["organisation"] = organisation
    claims.update(extra)
    return claims


class KeycloakFake:
    """The provider: start it, add users, point the application at `settings()`."""

    def __init__(self, realm: str = "bounty", client_id: str = CLIENT_ID,
                 client_secret: str = CLIENT_SECRET,
                 redirect_uris: Iterable[str] = (TEST_CLIENT_CALLBACK,),
                 announced_realm: str | None = None) -> None:
        self.realm = realm
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        # The realm named in the issuer; another value than `realm` makes a mix-up provider.
        self.announced_realm = announced_realm or realm
        self.decoy_jwks = False
        self.token_requests: list[dict[str, str]] = []
        self._challenges: dict[str, tuple[str, str]] = {}
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._idp = oidc_provider_mock.app(require_client_registration=True)
        self._idp.request_class = _realm_request_class(self.announced_realm)
        self._storage = _storage_of(self._idp)
        self._storage.store_client(Client(
            id=client_id, secret=client_secret, redirect_uris=self.redirect_uris,
            allowed_scopes=Client.SCOPES_SUPPORTED, token_endpoint_auth_method="client_secret_basic",
        ))
        self.signing_key = RSAKey.import_key(self._storage.jwk.as_dict(is_private=True))
        self._decoy_key: RSAKey | None = None

    # -- running -------------------------------------------------------------------------

    def start(self) -> KeycloakFake:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    @property
    def base_url(self) -> str:
        """What the application's KEYCLOAK_URL is set to."""
        assert self._server is not None, "start() the provider first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{self.announced_realm}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/realms/{self.realm}{path}"

    def metadata(self) -> dict[str, Any]:
        return requests.get(self.url("/.well-known/openid-configuration"), timeout=10).json()

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """The application settings that point at this provider."""
        return {"KEYCLOAK_URL": self.base_url, "KEYCLOAK_REALM": self.realm,
                "KEYCLOAK_CLIENT_ID": self.client_id, "KEYCLOAK_CLIENT_SECRET": self.client_secret,
                **overrides}

    # -- users and tokens ----------------------------------------------------------------

    def set_claims(self, sub: str, claims: dict[str, Any]) -> None:
        """Create or replace the user `sub`; their next token carries exactly these claims."""
        self._storage.store_user(oidc_provider_mock.User(sub=sub, claims=dict(claims)))

    def add_user(self, username: str, sub: str | None = None, **claims: Any) -> str:
        """A user with `keycloak_claims(username, **claims)`; returns their subject."""
        sub = sub or str(uuid.uuid5(uuid.NAMESPACE_URL, f"bounty-test:{username}"))
        self.set_claims(sub, keycloak_claims(username, client_id=self.client_id, **claims))
        return sub

    def claims_of(self, sub: str) -> dict[str, Any]:
        user = self._storage.get_user(sub)
        assert user is not None, f"no user {sub}"
        return dict(user.claims)

    def access_token(self, sub: str, *, key: RSAKey | None = None, lifetime: int = 300,
                     **overrides: Any) -> str:
        """A Keycloak-style access token for `sub`, signed with the provider's key (or `key`)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "exp": now + lifetime, "iat": now, "jti": str(uuid.uuid4()), "iss": self.issuer,
            "aud": "account", "sub": sub, "typ": "Bearer", "azp": self.client_id,
            "scope": "openid profile email", "sid": str(uuid.uuid4()),
            **self.claims_of(sub),
        }
        claims.update(overrides)
        signing_key = key or self.signing_key
        header = {"alg": "RS256", "typ": "JWT", "kid": signing_key.kid or "provider"}
        return jwt.encode(header, {k: v for k, v in claims.items() if v is not None}, signing_key)

    # -- the WSGI application: PKCE enforcement and the decoy JWKS around the mock -------

    def _wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        prefix = f"/realms/{self.realm}"
        if not path.startswith(prefix + "/") and path != prefix:
            return _json_response(start_response, "404 Not Found", {"error": "unknown realm"})
        if path == f"{prefix}/jwks" and self.decoy_jwks:
            self._decoy_key = self._decoy_key or RSAKey.generate_key(2048)
            return _json_response(start_response, "200 OK",
                                  KeySet([self._decoy_key]).as_dict(private=False))
        if path == f"{prefix}/oauth2/token":
            refusal = self._check_pkce(environ)
            if refusal:
                return _json_response(start_response, "400 Bad Request",
                                      {"error": "invalid_grant", "error_description": refusal})
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            captured["headers"] = headers
            return start_response(status, headers, *args)

        environ = {**environ, "SCRIPT_NAME": prefix, "PATH_INFO": path[len(prefix):] or "/"}
        # Read the whole (small) answer now: the mock's debugger middleware only calls
        # start_response while its body is iterated.
        body = list(self._idp(environ, capture))
        if path == f"{prefix}/oauth2/authorize" and environ["REQUEST_METHOD"] == "POST":
            self._remember_challenge(environ, captured.get("headers", []))
        return body

    def _remember_challenge(self, environ: dict[str, Any], headers: list[tuple[str, str]]) -> None:
        """Bind the code just issued to the request's code_challenge."""
        location = dict(headers).get("Location", "")
        code = parse_qs(urlsplit(location).query).get("code", [None])[0]
        asked = parse_qs(environ.get("QUERY_STRING", ""))
        if code:
            self._challenges[code] = (asked.get("code_challenge", [""])[0],
                                      asked.get("code_challenge_method", [""])[0])

    def _check_pkce(self, environ: dict[str, Any]) -> str | None:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        self.token_requests.append(form)
        if form.get("grant_type") != "authorization_code":
            return None
        challenge, method = self._challenges.pop(form.get("code", ""), ("", ""))
        if method != "S256" or not challenge:
            return "PKCE is required for this client (code_challenge_method S256)"
        verifier = form.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
        if digest.decode() != challenge:
            return "PKCE verification failed: code_verifier does not match code_challenge"
        return None


class _QuietHandler(WSGIRequestHandler):
    """No access log lines in the test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _json_response(start_response: Callable[..., Any], status: str, body: Any) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _realm_request_class(realm: str) -> type[flask.Request]:
    class RealmRequest(flask.Request):
        """The mock builds its issuer from `host_url`: make that the realm's URL."""

        @property
        def host_url(self) -> str:
            return super().host_url.rstrip("/") + f"/realms/{realm}/"

    return RealmRequest


def _storage_of(idp: flask.Flask) -> Storage:
    """The mock keeps its users, clients and signing key in a per-app object it puts on `g`."""
    with idp.test_request_context():
        idp.preprocess_request()
        return flask.g.oidc_provider_mock_storage


# -- driving a sign-in ---------------------------------------------------------------------


def authorize(authorize_url: str, sub: str) -> str:
    """Pick user `sub` on the provider's login page; the callback URL it redirects to."""
    answer = requests.post(authorize_url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, f"the provider refused: {answer.status_code} {answer.text[:300]}"
    return answer.headers["Location"]


def sign_in_with_client(client: FlaskClient, sub: str, next_url: str | None = None) -> TestResponse:
    """A whole sign-in with Flask's test client: /login, the provider's page, the callback.
    Returns the callback's response (a redirect to `next` when it worked)."""
    started = client.get("/login" + (f"?next={quote(next_url, safe='')}" if next_url else ""))
    assert started.status_code == 302, started.get_data(as_text=True)[:500]
    callback = urlsplit(authorize(started.headers["Location"], sub))
    return client.get(f"{callback.path}?{callback.query}")


def choose_user_in_browser(page: Any, sub: str) -> None:
    """On the provider's login page in a Playwright `page`: sign in as `sub`.

    The page offers a text field named `sub` and an "Authorize" button; predefined users
    also get a button of their own, but typing works for every user.
    """
    page.fill("input[name=sub]", sub)
    page.click("button:has-text('Authorize')")


def end_session_in_browser(page: Any) -> None:
    """On the provider's end-session page in a Playwright `page`: confirm signing out."""
    page.click("button:has-text('End session')")


# -- fixtures --------------------------------------------------------------------------


@pytest.fixture(name="make_keycloak")
def make_keycloak_fixture() -> Iterator[Callable[..., KeycloakFake]]:
    """Providers started on demand (`make_keycloak(redirect_uris=[...])`), stopped after the test."""
    started: list[KeycloakFake] = []

    def make(**options: Any) -> KeycloakFake:
        provider = KeycloakFake(**options).start()
        started.append(provider)
        return provider

    yield make
    for provider in started:
        provider.stop()


@pytest.fixture(name="keycloak")
def keycloak_fixture(make_keycloak: Callable[..., KeycloakFake]) -> KeycloakFake:
    """One provider with the realm `bounty` and the client `bounty`, for the test client."""
    return make_keycloak()
