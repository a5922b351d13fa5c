"""Who is signed in: the flask-login session, the signed-in person as an `Actor`.

Keycloak sign-in and the development persona picker both end in `sign_in(person)`;
views read `current_actor()` and hand it to services.
"""

from bounty.auth.session import (
    AnonymousVisitor,
    CurrentUser,
    current_actor,
    demo_personas,
    find_demo_persona,
    sign_in,
    sign_out,
)

__all__ = ["AnonymousVisitor", "CurrentUser", "current_actor", "demo_personas",
           "find_demo_persona", "sign_in", "sign_out"]
