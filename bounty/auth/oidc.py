"""Keycloak over OpenID Connect: the authlib client, the code flow and what the ID token says.

The flow is the authorization-code flow with PKCE (S256), `state` and `nonce`, all kept in
the session by authlib. The ID token is checked by authlib against the provider's JWKS
(signature), our client id (audience, and `azp` when several audiences), the configured
issuer `{KEYCLOAK_URL}/realms/{KEYCLOAK_REALM}` (not merely what the discovery document
says), its expiry (120 s leeway) and the nonce. Every failure becomes `SignInFailed`, which
the web layer answers with a 400 page; an unreachable provider is `ProviderUnavailable`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from flask import Flask, current_app
from joserfc.errors import JoseError
from werkzeug.wrappers import Response

from bounty.governance.permissions import known_roles

EXTENSION_KEY = "bounty.oidc"
# Seconds to wait for Keycloak (discovery, token and JWKS requests) before giving up.
PROVIDER_TIMEOUT = 10


class SignInFailed(Exception):
    """The provider's answer cannot sign anyone in (bad state, bad token, refused by the user)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderUnavailable(Exception):
    """Keycloak did not answer, or answered with an error page instead of OpenID metadata."""


@dataclass(frozen=True)
class SignIn:
    """What a completed code flow yields: the validated ID-token claims and the raw ID token
    (kept for `id_token_hint` at logout)."""

    claims: dict[str, Any]
    id_token: str


def init_oidc(app: Flask) -> None:
    """Register the "keycloak" client on `app` (once); nothing when KEYCLOAK_URL is empty."""
    if not app.config["KEYCLOAK_URL"] or EXTENSION_KEY in app.extensions:
        return
    oauth = OAuth(app)
    oauth.register(
        "keycloak",
        client_id=app.config["KEYCLOAK_CLIENT_ID"],
        client_secret=app.config["KEYCLOAK_CLIENT_SECRET"],
        server_metadata_url=f"{expected_issuer(app.config)}/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256",
                       "default_timeout": PROVIDER_TIMEOUT},
    )
    app.extensions[EXTENSION_KEY] = oauth


def is_configured(app: Flask | None = None) -> bool:
    return EXTENSION_KEY in (app or current_app).extensions


def keycloak() -> FlaskOAuth2App:
    """The current application's Keycloak client (KEYCLOAK_URL must be set)."""
    oauth: OAuth = current_app.extensions[EXTENSION_KEY]
    return oauth.create_client("keycloak")


def expected_issuer(config: Mapping[str, Any]) -> str:
    """The issuer every token must name: `{KEYCLOAK_URL}/realms/{KEYCLOAK_REALM}`."""
    return f"{str(config['KEYCLOAK_URL']).rstrip('/')}/realms/{config['KEYCLOAK_REALM']}"


def provider_metadata() -> dict[str, Any]:
    """The provider's discovery document, fetched once per process; its issuer must be ours.

    A provider announcing another issuer is refused (OpenID mix-up defence): tokens it
    issued would name that issuer and fail validation anyway, but this says why.
    """
    client = keycloak()
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        raise ProviderUnavailable(str(error)) from error
    issuer = expected_issuer(current_app.config)
    announced = metadata.get("issuer")
    if announced != issuer:
        client.server_metadata.clear()  # ask again next time: the operator may fix Keycloak
        raise SignInFailed(f"the provider announces the issuer {announced!r}, not {issuer!r}")
    return metadata


def begin_sign_in(redirect_uri: str) -> Response:
    """The redirect to Keycloak's authorization endpoint (state, nonce and PKCE in the session)."""
    provider_metadata()
    try:
        return keycloak().authorize_redirect(redirect_uri)
    except requests.RequestException as error:
        raise ProviderUnavailable(str(error)) from error


def complete_sign_in() -> SignIn:
    """Exchange the callback's code for tokens and validate the ID token; see the module doc."""
    provider_metadata()
    config = current_app.config
    claims_options = {
        "iss": {"essential": True, "value": expected_issuer(config)},
        "aud": {"essential": True, "value": config["KEYCLOAK_CLIENT_ID"]},
        "sub": {"essential": True},
    }
    try:
        token = keycloak().authorize_access_token(claims_options=claims_options)
    except MismatchingStateError as error:
        raise SignInFailed("the sign-in was not started here or has already been used "
                           "(state missing or mismatched)") from error
    except OAuthError as error:
        # The description may come from the callback's query string: keep it short.
        detail = f" ({str(error.description)[:200]})" if error.description else ""
        raise SignInFailed(f"the provider refused: {error.error or 'error'}{detail}") from error
    except JoseError as error:
        raise SignInFailed(f"the ID token is not valid: {error.error}: "
                           f"{error.description or ''}".rstrip(": ")) from error
    except requests.RequestException as error:
        raise ProviderUnavailable(str(error)) from error
    userinfo = token.get("userinfo")
    id_token = token.get("id_token")
    if not userinfo or not isinstance(id_token, str):
        raise SignInFailed("the provider sent no ID token (is the 'openid' scope allowed?)")
    return SignIn(claims=dict(userinfo), id_token=id_token)


def logout_url(post_logout_redirect_uri: str, id_token_hint: str | None) -> str:
    """Keycloak's end-session URL that ends the single sign-on session and comes back."""
    metadata = provider_metadata()
    if not metadata.get("end_session_endpoint"):
        raise ProviderUnavailable("the provider has no end_session_endpoint")
    result = keycloak().create_logout_url(
        post_logout_redirect_uri=post_logout_redirect_uri, id_token_hint=id_token_hint,
        client_id=current_app.config["KEYCLOAK_CLIENT_ID"],
    )
    return str(result["url"])


def roles_from_claims(claims: Mapping[str, Any], client_id: str) -> set[str]:
    """The programme roles in `realm_access.roles` and `resource_access.<client_id>.roles`.

    Keycloak's own roles (offline_access, default-roles-*, ...) and the roles of other
    clients are ignored.
    """
    names: list[str] = []
    realm = claims.get("realm_access")
    if isinstance(realm, Mapping):
        names += _string_list(realm.get("roles"))
    resources = claims.get("resource_access")
    if isinstance(resources, Mapping):
        ours = resources.get(client_id)
        if isinstance(ours, Mapping):
            names += _string_list(ours.get("roles"))
    return {role.value for role in known_roles(names)}


def _string_list(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
