"""Signing in with Keycloak and out again: `GET /login`, `GET /auth/callback`, `POST /logout`.

Which routes exist depends on the configuration (`register`):
- KEYCLOAK_URL set: the three routes below, the OpenID Connect code flow.
- no KEYCLOAK_URL but DEMO_LOGIN on (`bounty demo`, development): only `GET /login`, which
  sends the visitor to the development persona picker with the same `next`, so pages and
  decorators can always link to `auth.login`.
- neither: no routes at all (404), and nobody can sign in.

A sign-in starts a fresh session: whatever the browser's session held before (and any
session id an attacker planted) is dropped before the person is signed in. Signing out is
a POST with a CSRF token; it ends this session and then Keycloak's single sign-on session
through its end-session endpoint with `id_token_hint`, coming back to the home page.
"""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from bounty.auth import ProviderUnavailable, SignInFailed, oidc, roles_from_claims, sign_in, sign_out
from bounty.extensions import db
from bounty.services import people
from bounty.services.errors import InvalidInput
from bounty.web.security import safe_next

# Session keys: where to go after the callback, and the ID token kept for logout.
NEXT_KEY = "auth_next"
ID_TOKEN_KEY = "auth_id_token"  # noqa: S105 - a session key, not a secret


class SignOutForm(FlaskForm):
    """Only the CSRF token: a link on another site cannot sign anyone out."""


def register(app: Flask) -> None:
    """Register the blueprint this configuration calls for (see the module doc), once."""
    if "auth" in app.blueprints:
        return
    if app.config["KEYCLOAK_URL"]:
        app.register_blueprint(_keycloak_blueprint())
    elif app.config["DEMO_LOGIN"]:
        app.register_blueprint(_demo_blueprint())


def _keycloak_blueprint() -> Blueprint:
    bp = Blueprint("auth", __name__)
    bp.add_url_rule("/login", "login", login, methods=["GET"])
    bp.add_url_rule("/auth/callback", "callback", callback, methods=["GET"])
    bp.add_url_rule("/logout", "logout", logout, methods=["POST"])
    return bp


def _demo_blueprint() -> Blueprint:
    bp = Blueprint("auth", __name__)
    bp.add_url_rule("/login", "login", demo_login, methods=["GET"])
    return bp


def login() -> ResponseReturnValue:
    target = safe_next(request.args.get("next"), url_for("public.landing"))
    if current_user.is_authenticated:
        return redirect(target)
    session[NEXT_KEY] = target
    try:
        return oidc.begin_sign_in(url_for("auth.callback", _external=True))
    except ProviderUnavailable as error:
        return _provider_unavailable(error)
    except SignInFailed as error:
        return _refused(error.reason)


def callback() -> ResponseReturnValue:
    try:
        signed = oidc.complete_sign_in()
    except ProviderUnavailable as error:
        return _provider_unavailable(error)
    except SignInFailed as error:
        return _refused(error.reason)
    config = current_app.config
    roles = roles_from_claims(signed.claims, config["KEYCLOAK_CLIENT_ID"])
    try:
        person = people.sign_in_from_claims(db.session, signed.claims, roles,
                                            config["JURISDICTION_CLAIM"], config["ORGANISATION_CLAIM"])
    except InvalidInput as error:
        return _refused(_("Your account's %(field)s cannot be used here: %(reason)s.",
                          field=error.field, reason=error.reason))
    target = safe_next(session.get(NEXT_KEY), url_for("public.landing"))
    # A new session for the signed-in person: nothing from before survives (session fixation).
    session.clear()
    user = sign_in(person)
    session[ID_TOKEN_KEY] = signed.id_token
    current_app.logger.info("sign-in: person %s (subject %s)", person.id, person.keycloak_subject)
    flash(_("Signed in as %(name)s.", name=user.display_name), "success")
    return redirect(target)


def logout() -> ResponseReturnValue:
    if not SignOutForm().validate_on_submit():
        return render_template("errors/400.html", reason=_("The sign-out form has expired.")), 400
    id_token = session.get(ID_TOKEN_KEY)
    sign_out()
    session.clear()
    home = url_for("public.landing", _external=True)
    try:
        return redirect(oidc.logout_url(home, id_token))
    except (ProviderUnavailable, SignInFailed) as error:
        # Signed out here; Keycloak's own session ends when it expires.
        current_app.logger.warning("sign-out: Keycloak's end-session endpoint unknown: %s", error)
        flash(_("You are signed out of this site. The sign-in service could not be reached, so "
                "close the browser to end your session there."), "warning")
        return redirect(url_for("public.landing"))


def demo_login() -> ResponseReturnValue:
    return redirect(url_for("dev_login.login", next=safe_next(request.args.get("next"), "") or None))


def _refused(reason: str) -> ResponseReturnValue:
    current_app.logger.warning("sign-in refused: %r", reason)
    message = _("Signing in did not succeed: %(reason)s. Start again from the sign-in link.",
                reason=reason)
    return render_template("errors/400.html", reason=message), 400


def _provider_unavailable(error: Exception) -> ResponseReturnValue:
    current_app.logger.error("sign-in: Keycloak cannot be reached: %s", error)
    return render_template("errors/http.html", code=502, error=None), 502
