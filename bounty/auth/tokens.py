"""Bearer tokens of the JSON API: Keycloak access tokens (JWTs) turned into an `Actor`.

A token is accepted when its signature verifies against a key of the provider's own
`jwks_uri` (fetched once, fetched again when a token names an unknown key id), its `iss` is
exactly `{KEYCLOAK_URL}/realms/{KEYCLOAK_REALM}`, it has not expired (30 s leeway), and it
was issued to this client: our client id in `aud` or as `azp` (Keycloak puts the requesting
client in `azp` and, without an audience mapper, only "account" in `aud`). A Keycloak token
whose `typ` is not "Bearer" (an ID or refresh token) is refused. The person is created or
brought up to date from the claims exactly as at sign-in.
"""

from __future__ import annotations

from typing import Any

import requests
from flask import current_app
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from bounty.auth.oidc import (
    ProviderUnavailable,
    SignInFailed,
    expected_issuer,
    is_configured,
    keycloak,
    provider_metadata,
    roles_from_claims,
)
from bounty.auth.session import CurrentUser
from bounty.extensions import db
from bounty.services import people
from bounty.services.actors import Actor
from bounty.services.errors import InvalidInput

# Asymmetric algorithms only: a symmetric ("HS256") or "none" token could be forged by
# anyone who can read the public keys.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY_SECONDS = 30


class InvalidToken(Exception):
    """The Authorization header does not carry an acceptable access token; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def actor_from_bearer(authorization_header: str | None) -> Actor:
    """The signed-in person an `Authorization: Bearer <jwt>` header stands for."""
    token = _bearer_value(authorization_header)
    if not is_configured():
        raise InvalidToken("bearer tokens are not accepted: no identity provider is configured")
    claims = validated_claims(token)
    config = current_app.config
    roles = roles_from_claims(claims, config["KEYCLOAK_CLIENT_ID"])
    try:
        person = people.sync_from_token(db.session, claims, roles, config["JURISDICTION_CLAIM"],
                                        config["ORGANISATION_CLAIM"])
    except InvalidInput as error:
        raise InvalidToken(f"the token's {error.field} claim is not usable: {error.reason}") from error
    return CurrentUser.from_person(person).actor


def _bearer_value(header: str | None) -> str:
    if not header or not header.strip():
        raise InvalidToken("no Authorization header")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidToken("the Authorization header is not 'Bearer <token>'")
    return value.strip()


def validated_claims(token: str) -> dict[str, Any]:
    """The claims of `token` after every check in the module doc; InvalidToken otherwise."""
    try:
        decoded = _decode(token, _provider_keys(force_refresh=False))
    except InvalidKeyIdError:
        # The provider may have rotated its keys since we last fetched them.
        try:
            decoded = _decode(token, _provider_keys(force_refresh=True))
        except InvalidKeyIdError as error:
            raise InvalidToken("the token is signed with a key the provider does not publish") from error
    claims = dict(decoded.claims)
    _check_claims(claims)
    return claims


def _provider_keys(force_refresh: bool) -> KeySet:
    """The provider's signing keys, from the `jwks_uri` of its discovery document."""
    try:
        provider_metadata()
        return KeySet.import_key_set(keycloak().fetch_jwk_set(force=force_refresh))
    except SignInFailed as error:
        raise InvalidToken(error.reason) from error
    except (ProviderUnavailable, requests.RequestException, ValueError, JoseError) as error:
        raise InvalidToken("the identity provider's keys could not be fetched") from error


def _decode(token: str, keys: KeySet) -> jwt.Token:
    try:
        return jwt.decode(token, keys, registry=JWSRegistry(algorithms=list(ALGORITHMS)))
    except InvalidKeyIdError:
        raise
    except JoseError as error:
        raise InvalidToken(_jose_reason(error)) from error
    except (ValueError, TypeError) as error:
        raise InvalidToken("the token is not a well-formed JWT") from error


def _check_claims(claims: dict[str, Any]) -> None:
    config = current_app.config
    registry = jwt.JWTClaimsRegistry(
        leeway=LEEWAY_SECONDS,
        iss={"essential": True, "value": expected_issuer(config)},
        sub={"essential": True},
        exp={"essential": True},
    )
    try:
        registry.validate(claims)
    except JoseError as error:
        raise InvalidToken(_jose_reason(error)) from error
    client_id = config["KEYCLOAK_CLIENT_ID"]
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences and claims.get("azp") != client_id:
        raise InvalidToken(f"the token was not issued to this client ({client_id!r} is neither "
                           "its audience nor its authorised party)")
    if "typ" in claims and claims["typ"] != "Bearer":
        raise InvalidToken(f"a {claims['typ']!r} token is not an access token")


def _jose_reason(error: JoseError) -> str:
    detail = f": {error.description}" if error.description else ""
    return f"the token is not valid ({error.error}{detail})"
