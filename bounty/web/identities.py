"""Identities in the web UI: the unlinked queue for program admins, claims by contributors.

- `/admin/identities`: the claims waiting for a decision and the unlinked identities, each
  with the merge requests it carries; program admins link one to a person by username,
  confirm or decline a claim (the auditor reads the page, without the forms).
- `/me/identities`: the signed-in person's identities, their claims (which they may
  withdraw), identities that look like theirs, and a form to claim one by its value.

Views parse the form, call `identity_links` (which checks the permission again and owns the
transaction) and redirect; a refusal shows the page again with the message next to the
field (400), above the form when it is a clash with the current state (409), or the error
page (403, 404).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from bounty.auth import current_actor
from bounty.auth.decorators import login_required, permission_required
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.services import identities, identity_links, identity_queries
from bounty.services.errors import Conflict, InvalidInput, PermissionDenied, ServiceError
from bounty.web.forms import ActionForm, attach_service_error

bp = Blueprint("identities", __name__)

MAX_PAGE = 10_000
KIND_LABELS = {
    "keycloak": _l("Keycloak account"),
    "gitlab_user": _l("GitLab user id"),
    "gitlab_username": _l("GitLab username"),
    "email": _l("Commit e-mail"),
}
# The services' refusal reasons, as the pages say them.
REASONS = {
    identity_links.NO_SUCH_PERSON: _l("No person has this username."),
    identity_links.PERSON_MERGED: _l("This person was merged into another: link to that one."),
    identity_links.NOT_LINKABLE: _l("Keycloak accounts link themselves when their owner signs in."),
    identity_links.NO_UNLINKED: _l("No unlinked identity has this value."),
    identity_links.ALREADY_YOURS: _l("This identity is already linked to you."),
    identity_links.CLAIMED_BY_OTHER: _l(
        "Someone else has claimed this identity; an administrator will decide."),
    identity_links.TOO_MANY_CLAIMS: _l("You have %(count)d claims waiting: wait for an administrator first.",
                                       count=identity_links.MAX_PENDING_CLAIMS),
    identity_links.NOT_CLAIMED: _l("Nobody has claimed this identity."),
    identity_links.ALREADY_LINKED: _l("This identity is already linked to a person."),
    identities.EMPTY_VALUE: _l("Enter a value."),
    identities.NOT_AN_EMAIL: _l("This is not an e-mail address."),
    identities.NOT_A_NUMBER: _l("A GitLab user id is a number."),
    identities.TOO_LONG: _l("Keep it to at most %(max)d characters.", max=identities.MAX_VALUE),
}


@bp.app_template_global()
def identity_kind_label(kind: str) -> str:
    return str(KIND_LABELS.get(kind, kind))


def reason_text(reason: str) -> str:
    return str(REASONS.get(reason, reason))


class LinkForm(FlaskForm):
    username = StringField(_l("Person (username)"), validators=[
        InputRequired(message=_l("Enter the username of the person.")), Length(max=120)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Length(max=2000)])


class ClaimForm(FlaskForm):
    kind = SelectField(_l("Kind of identity"),
                       validators=[InputRequired(message=_l("Choose the kind of identity."))])
    value = StringField(
        _l("Value"), validators=[InputRequired(message=_l("Enter the e-mail address, username or user id.")),
                                 Length(max=identities.MAX_VALUE)],
        description=_l("As it appears in GitLab: a commit e-mail address, a GitLab username or user id."))

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # Labels follow the reader's locale, so the choices are made per request.
        self.kind.choices = [SelectChoice(kind, identity_kind_label(kind))
                             for kind in identity_links.LINKABLE_KINDS]


# ------------------------------------------------------------------------ the admin queue


def _page_number(raw: str | None) -> int:
    if raw and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE:
        return int(raw)
    return 1


def _queue_page(code: int = 200, general_errors: list[str] | None = None, failed_id: int | None = None,
                failed_form: FlaskForm | None = None) -> ResponseReturnValue:
    actor = current_actor()
    text = (request.args.get("q") or "").strip()[:identity_queries.MAX_SEARCH]
    page = _page_number(request.args.get("page"))
    queue = identity_queries.unlinked_queue(db.session, actor, text=text or None, page=page)
    last_page = max(1, -(-queue.total // queue.per_page))
    errors = list(general_errors or [])
    if failed_form is not None:
        errors += [f"{field.label.text}: {message}" for field in failed_form for message in field.errors]
    return render_template(
        "identities/queue.html", queue=queue, q=text, last_page=last_page, general_errors=errors,
        failed_id=failed_id, failed_form=failed_form, action_form=ActionForm(formdata=None),
        can_manage=actor.can(Permission.MANAGE_IDENTITIES),
    ), code


@bp.get("/admin/identities")
@login_required
def queue() -> ResponseReturnValue:
    if not identity_queries.can_see_queue(current_actor()):
        abort(403)
    return _queue_page()


def _admin_act(identity_id: int, form: FlaskForm, action: Callable[[], object],
               done: str) -> ResponseReturnValue:
    """Validate, run the service call `action`, and answer as the module docstring says."""
    if not form.validate_on_submit():
        return _queue_page(400, failed_id=identity_id, failed_form=form)
    try:
        action()
    except InvalidInput as refusal:
        message = reason_text(refusal.reason)
        if attach_service_error(form, refusal.field, message):
            return _queue_page(400, failed_id=identity_id, failed_form=form)
        return _queue_page(400, [message])
    except Conflict as refusal:
        return _queue_page(409, [reason_text(str(refusal))])
    flash(done, "success")
    return redirect(url_for("identities.queue"))


@bp.post("/admin/identities/<int:identity_id>/link")
@permission_required(Permission.MANAGE_IDENTITIES)
def link(identity_id: int) -> ResponseReturnValue:
    form = LinkForm()
    username = (form.username.data or "").strip()
    return _admin_act(identity_id, form,
                      lambda: identity_links.link_identity(db.session, current_actor(), identity_id,
                                                           username),
                      _("The identity is linked to %(username)s; its merged work is credited to them.",
                        username=username))


@bp.post("/admin/identities/<int:identity_id>/confirm")
@permission_required(Permission.MANAGE_IDENTITIES)
def confirm(identity_id: int) -> ResponseReturnValue:
    return _admin_act(identity_id, ActionForm(),
                      lambda: identity_links.confirm_claim(db.session, current_actor(), identity_id),
                      _("Claim confirmed: the identity is linked to the person who claimed it."))


@bp.post("/admin/identities/<int:identity_id>/decline")
@permission_required(Permission.MANAGE_IDENTITIES)
def decline(identity_id: int) -> ResponseReturnValue:
    form = DeclineForm()
    return _admin_act(identity_id, form,
                      lambda: identity_links.decline_claim(db.session, current_actor(), identity_id,
                                                           form.reason.data or ""),
                      _("Claim declined: the identity stays unlinked."))


# ------------------------------------------------------------------- a person's own page


def _mine_page(code: int = 200, general_errors: list[str] | None = None,
               claim_form: ClaimForm | None = None) -> ResponseReturnValue:
    actor = current_actor()
    mine = identity_queries.identities_of(db.session, actor)
    return render_template(
        "identities/mine.html", mine=mine, general_errors=general_errors or [],
        claim_form=claim_form or ClaimForm(formdata=None), action_form=ActionForm(formdata=None),
        can_claim=actor.can(Permission.CLAIM_IDENTITY),
    ), code


@bp.get("/me/identities")
@login_required
def mine() -> ResponseReturnValue:
    return _mine_page()


@bp.post("/me/identities/claim")
@permission_required(Permission.CLAIM_IDENTITY)
def claim() -> ResponseReturnValue:
    form = ClaimForm()
    if not form.validate_on_submit():
        return _mine_page(400, claim_form=form)
    try:
        identity_links.claim_identity(db.session, current_actor(), form.kind.data or "",
                                      form.value.data or "")
    except PermissionDenied:
        abort(403)
    except InvalidInput as refusal:
        message = reason_text(refusal.reason)
        on_field = attach_service_error(form, refusal.field, message)
        return _mine_page(400, [] if on_field else [message], claim_form=form)
    except ServiceError as refusal:
        return _mine_page(409, [reason_text(str(refusal))], claim_form=form)
    flash(_("Your claim is recorded. A programme administrator will confirm it."), "success")
    return redirect(url_for("identities.mine"))


@bp.post("/me/identities/<int:identity_id>/withdraw")
@permission_required(Permission.CLAIM_IDENTITY)
def withdraw(identity_id: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        return _mine_page(400, [_("The form has expired: try again.")])
    identity_links.withdraw_claim(db.session, current_actor(), identity_id)
    flash(_("Your claim is withdrawn."), "success")
    return redirect(url_for("identities.mine"))
