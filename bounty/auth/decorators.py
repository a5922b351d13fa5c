"""View decorators: who may see a page at all (`login_required`) and who may use it
(`permission_required`).

An anonymous visitor asking for a page is sent to sign in and brought back afterwards
(`?next=` with this page's path); an API client or a JSON request gets 401 instead. A
signed-in person without the permission gets 403. Services check the permission again:
these decorators only give the visitor the right answer early.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import abort, current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from bounty.auth.session import current_actor
from bounty.governance.permissions import Permission

P = ParamSpec("P")
R = TypeVar("R")

# Sign-in pages in order of preference: Keycloak, then the development persona picker.
SIGN_IN_ENDPOINTS = ("auth.login", "dev_login.login")


def login_required(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
    """Only signed-in people; anonymous visitors are sent to sign in."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
        if not current_user.is_authenticated:
            return sign_in_redirect()
        return view(*args, **kwargs)

    return wrapper


def permission_required(
    permission: Permission,
) -> Callable[[Callable[P, R]], Callable[P, R | ResponseReturnValue]]:
    """Only signed-in people whose roles grant `permission`; others get 403."""

    def decorate(view: Callable[P, R]) -> Callable[P, R | ResponseReturnValue]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | ResponseReturnValue:
            if not current_user.is_authenticated:
                return sign_in_redirect()
            if not current_actor().can(permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def sign_in_redirect() -> ResponseReturnValue:
    """To the sign-in page, coming back to this page; 401 where a redirect makes no sense."""
    endpoint = next((name for name in SIGN_IN_ENDPOINTS if name in current_app.view_functions), None)
    if endpoint is None or not _wants_html():
        abort(401)
    here = request.path + (f"?{request.query_string.decode('latin-1')}" if request.query_string else "")
    # A form posted anonymously cannot be replayed after signing in: come back to the site root.
    return redirect(url_for(endpoint, next=here if request.method in ("GET", "HEAD") else None))


def _wants_html() -> bool:
    if request.path.startswith("/api/"):
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best != "application/json"
