"""The application as the sign-in tests need it: Keycloak sign-in, security headers, and a
few pages behind the view decorators.

`wire` calls the same init functions `create_app` calls; they are idempotent, so this works
whether or not `create_app` already wires them.
"""

from __future__ import annotations

from flask import Flask
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

import bounty.auth
from bounty.auth import login_required, permission_required
from bounty.governance.permissions import Permission
from bounty.web import auth as web_auth
from bounty.web import security


def wire(app: Flask) -> Flask:
    bounty.auth.init_app(app)
    web_auth.register(app)
    security.init_app(app)

    # Pages for the tests only: a CSRF token as a form would carry it, who is signed in, and
    # one page behind each decorator.
    app.add_url_rule("/test/csrf-token", "test_csrf_token", generate_csrf)
    app.add_url_rule("/test/whoami", "test_whoami", _whoami)
    app.add_url_rule("/test/private", "test_private", login_required(_private))
    app.add_url_rule("/test/manage", "test_manage",
                     permission_required(Permission.MANAGE_BOUNTIES)(_private),
                     methods=["GET", "POST"])
    return app


def _whoami() -> dict[str, object]:
    if not current_user.is_authenticated:
        return {"signed_in": False}
    return {"signed_in": True, "id": current_user.id, "roles": sorted(current_user.roles),
            "name": current_user.display_name}


def _private() -> str:
    return "the private page"
