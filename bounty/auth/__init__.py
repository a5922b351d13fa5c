"""Who is signed in: Keycloak sign-in over OpenID Connect, the flask-login session, the
signed-in person as an `Actor`, bearer tokens of the API, and the view decorators.

Keycloak sign-in and the development persona picker both end in `sign_in(person)`;
views read `current_actor()` and hand it to services. `init_app` binds it all to an app.
"""

from flask import Flask

from bounty.auth.decorators import login_required, permission_required
from bounty.auth.oidc import ProviderUnavailable, SignInFailed, init_oidc, roles_from_claims
from bounty.auth.session import (
    AnonymousVisitor,
    CurrentUser,
    current_actor,
    demo_personas,
    find_demo_persona,
    sign_in,
    sign_out,
)
from bounty.auth.tokens import InvalidToken, actor_from_bearer
from bounty.extensions import login_manager


def init_app(app: Flask) -> None:
    """Bind the flask-login manager (once) and, when KEYCLOAK_URL is set, the Keycloak client."""
    if getattr(app, "login_manager", None) is not login_manager:
        login_manager.init_app(app)
    init_oidc(app)


__all__ = ["AnonymousVisitor", "CurrentUser", "InvalidToken", "ProviderUnavailable", "SignInFailed",
           "actor_from_bearer", "current_actor", "demo_personas", "find_demo_persona", "init_app",
           "login_required", "permission_required", "roles_from_claims", "sign_in", "sign_out"]
