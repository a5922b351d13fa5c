"""The development sign-in: pick one of the demo personas instead of signing in with Keycloak.

Registered only when `DEMO_LOGIN` is on (`bounty demo` turns it on; production refuses it
at start-up). Only people whose Keycloak subject starts with `demo-` can be picked. Every
form carries a CSRF token, so another site cannot sign a visitor in or out.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput

from bounty.auth import demo_personas, find_demo_persona, sign_in, sign_out
from bounty.extensions import db
from bounty.web.security import safe_next

bp = Blueprint("dev_login", __name__, url_prefix="/dev")


class PersonaForm(FlaskForm):
    """Sign in as the persona `person_id`, then go to `next` (a path on this site)."""

    person_id = IntegerField(widget=HiddenInput(), validators=[InputRequired()])
    next = HiddenField()


class SignOutForm(FlaskForm):
    """Only the CSRF token: signing out is a POST so a link elsewhere cannot do it."""


@bp.get("/login")
def login() -> ResponseReturnValue:
    form = PersonaForm(next=safe_next(request.args.get("next"), default=""))
    return _personas_page(form)


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    form = PersonaForm()
    if not form.validate_on_submit():
        return _personas_page(form, _("Choose one of the personas below."), 400)
    person = find_demo_persona(db.session, form.person_id.data)
    if person is None:
        return _personas_page(form, _("There is no demo persona with that number."), 400)
    # A fresh session: nothing a visitor's browser held before (or was planted) survives.
    session.clear()
    user = sign_in(person)
    flash(_("Signed in as %(name)s.", name=user.display_name), "success")
    return redirect(safe_next(form.next.data, default=url_for("public.landing")))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if not SignOutForm().validate_on_submit():
        return render_template("errors/400.html", reason=_("The sign-out form has expired.")), 400
    sign_out()
    flash(_("You are signed out."), "success")
    return redirect(url_for("public.landing"))


def _personas_page(form: PersonaForm, error: str | None = None, code: int = 200) -> ResponseReturnValue:
    personas = demo_personas(db.session)
    return render_template("pages/dev_login.html", personas=personas, form=form, error=error), code
