"""Who is calling the API: the person of a Keycloak bearer token, or an anonymous reader.

Only the `Authorization: Bearer <access token>` header authenticates an API call; the
session cookie of the HTML pages never does, so a page a signed-in person visits cannot
make their browser act through the API (which is why the API needs no CSRF token).

`bearer_required(permission)` guards writes: without a token the answer is 401 with
`WWW-Authenticate: Bearer`, and without the permission 403, both before the request body
is even read, so a caller learns nothing of the schema they may not use (the service
checks the permission again). `bearer_optional`
guards public reads: no token means an anonymous reader, but a token that is sent must be
valid. Both pass the caller to the view as the keyword argument `actor`, and document the
bearer security requirement in the OpenAPI document.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request
from flask_smorest import Blueprint

from bounty.api.errors import ApiError
from bounty.auth.tokens import InvalidToken, actor_from_bearer
from bounty.governance.permissions import Permission
from bounty.services.actors import Actor

# The name of the security scheme in the OpenAPI document.
SECURITY_SCHEME = "bearerAuth"
SECURITY_SCHEME_SPEC = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "A Keycloak access token of the programme's realm, as issued to the `bounty` client.",
}

ANONYMOUS = Actor(label="anonymous")

View = TypeVar("View", bound=Callable[..., Any])


def _challenge(error: str | None = None) -> dict[str, str]:
    value = 'Bearer realm="bounty"'
    if error:
        value += f', error="{error}"'
    return {"WWW-Authenticate": value}


def caller(*, required: bool) -> Actor:
    """The actor of this request's bearer token; anonymous when none is sent and none is required."""
    header = request.headers.get("Authorization", "").strip()
    if not header:
        if required:
            raise ApiError(401, "unauthenticated", "This needs a bearer token (a Keycloak access token).",
                           headers=_challenge())
        return ANONYMOUS
    try:
        return actor_from_bearer(header)
    except InvalidToken as exc:
        reason = str(exc) or "the token is not valid"
        raise ApiError(401, "invalid_token", f"The bearer token was refused: {reason}",
                       headers=_challenge("invalid_token")) from None


def _guard(required: bool, permission: Permission | None = None) -> Callable[[View], View]:
    security: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
    if not required:
        # An empty requirement makes the token optional in OpenAPI 3.0.
        security = [{}, *security]

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            actor = caller(required=required)
            if permission is not None and not actor.can(permission):
                raise ApiError(403, "forbidden",
                               f"{actor.label} may not {permission.value.replace('_', ' ')}")
            return view(*args, actor=actor, **kwargs)

        return Blueprint.doc(security=security)(wrapper)  # type: ignore[no-any-return]

    return decorator


def bearer_required(permission: Permission | None = None) -> Callable[[View], View]:
    """The view needs a valid bearer token (and `permission`); it receives the caller as `actor`."""
    return _guard(True, permission)


def bearer_optional(view: View) -> View:
    """The view is public; it receives the token's caller, or an anonymous reader, as `actor`."""
    return _guard(False)(view)
