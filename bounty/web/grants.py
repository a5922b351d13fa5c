"""The grant pages: the list (filters: overdue, status), a grant with its tranches, the program
admin's new-grant form, a reviewer's milestone sign-off and the admin's cancel.

Who sees which grant is `bounty.services.grant_queries`' rule alone: to a viewer who may not
see a grant it does not exist (404). Signing off and cancelling are `bounty.services.grants`'
decisions; the pages only offer the buttons to those the rules would let act. A refusal shows
the page again with the message next to its field (400) or above it for a clash with the
current state or a fund that cannot cover the grant (409); PermissionDenied is the 403 page.
"""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from bounty.auth import current_actor
from bounty.auth.decorators import login_required, permission_required
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.ledger import InsufficientFunds, LedgerError
from bounty.models import Organisation, Person
from bounty.services import grant_queries, grants
from bounty.services.errors import Conflict, InvalidInput
from bounty.web import forms
from bounty.web.bounties import conflict_message, ledger_message
from bounty.web.forms import ActionForm, CancelForm, attach_service_error
from bounty.web.grants_forms import GrantFilterForm, GrantForm, grant_status_label

bp = Blueprint("grants", __name__)

GRANT_PATH = "/grants/<int(max=2147483647):grant_id>"
# The service's field names that are not the form's.
FIELD_NAMES = {"grantee": "grantee_username", "grantee_person_id": "grantee_username",
               "grantee_organisation_id": "grantee_organisation"}
TRANCHE_FIELD = re.compile(r"^tranches\[(\d+)\]\.(milestone|due_on|amount)$")


@bp.app_template_global("grant_status_label")
def _grant_status_label(status: str) -> str:
    return grant_status_label(status)


# ------------------------------------------------------------------------------ reading


@bp.get("/grants")
@login_required
def index() -> ResponseReturnValue:
    """The grants the viewer may see, newest first, filtered."""
    form = GrantFilterForm(formdata=request.args)
    form.set_choices()
    if not form.validate():
        return render_template("grants/list.html", form=form, rows=None, general_errors=[]), 400
    try:
        rows = grant_queries.list_grants(db.session, current_actor(), overdue_only=bool(form.overdue.data),
                                         status=form.status.data or None)
    except InvalidInput as refusal:
        attach_service_error(form, refusal.field, refusal.reason)
        return render_template("grants/list.html", form=form, rows=None, general_errors=[]), 400
    return render_template("grants/list.html", form=form, rows=rows, general_errors=[],
                           can_create=current_actor().can(Permission.MANAGE_FUNDS))


def _can_sign_off(view: grant_queries.GrantView) -> bool:
    """Whether the viewer is a reviewer the service would let sign off this grant's milestones."""
    actor = current_actor()
    if view.status != "active" or not actor.can(Permission.REVIEW_WORK) or actor.person_id is None:
        return False
    if view.grantee_kind == "person":
        return view.grantee_id != actor.person_id
    person = db.session.get(Person, actor.person_id)
    return person is not None and person.organisation_id != view.grantee_id


def detail_page(grant_id: int, code: int = 200, general_errors: list[str] | None = None,
                cancel_form: CancelForm | None = None) -> ResponseReturnValue:
    """The grant's page; `cancel_form` stands in for the blank one (what was typed, errors)."""
    view = grant_queries.get_grant(db.session, current_actor(), grant_id)
    actor = current_actor()
    page = render_template(
        "grants/detail.html", g=view, general_errors=general_errors or [],
        can_sign_off=_can_sign_off(view),
        can_cancel=view.status == "active" and actor.can(Permission.MANAGE_FUNDS),
        sign_off_form=ActionForm(formdata=None), cancel_form=cancel_form or CancelForm(formdata=None),
        error_forms=[cancel_form] if cancel_form else [],
    )
    return page, code


@bp.get(GRANT_PATH)
@login_required
def detail(grant_id: int) -> ResponseReturnValue:
    return detail_page(grant_id)


# ------------------------------------------------------------------------------ acting


@bp.post(f"{GRANT_PATH}/tranches/<int(min=1, max=1000):position>/sign-off")
@permission_required(Permission.REVIEW_WORK)
def sign_off(grant_id: int, position: int) -> ResponseReturnValue:
    if not ActionForm().validate_on_submit():
        return detail_page(grant_id, 400, [_("The form has expired: try again.")])
    try:
        grants.sign_off_tranche(db.session, current_actor(), grant_id, position)
    except Conflict as refusal:
        return detail_page(grant_id, 409, [conflict_message(refusal)])
    except LedgerError as refusal:
        return detail_page(grant_id, 409, [ledger_message(refusal)])
    flash(_("Milestone %(position)d is signed off: the tranche is payable.", position=position), "success")
    return redirect(url_for("grants.detail", grant_id=grant_id))


@bp.post(f"{GRANT_PATH}/cancel")
@permission_required(Permission.MANAGE_FUNDS)
def cancel(grant_id: int) -> ResponseReturnValue:
    form = CancelForm()
    if not form.validate_on_submit():
        return detail_page(grant_id, 400, cancel_form=form)
    try:
        grants.cancel_grant(db.session, current_actor(), grant_id, form.reason.data or "")
    except InvalidInput as refusal:
        general = [] if attach_service_error(form, refusal.field, refusal.reason) else [refusal.reason]
        return detail_page(grant_id, 400, general, cancel_form=form)
    except Conflict as refusal:
        return detail_page(grant_id, 409, [conflict_message(refusal)])
    flash(_("The grant is cancelled: the reserve of its pending tranches is released."), "success")
    return redirect(url_for("grants.detail", grant_id=grant_id))


# --------------------------------------------------------------------------- creating


def _grant_form(**kwargs: object) -> GrantForm:
    form = GrantForm(**kwargs)
    form.set_choices(forms.currencies(db.session), forms.group_choices(db.session))
    return form


def _form_page(form: GrantForm, code: int = 200,
               general_errors: list[str] | None = None) -> ResponseReturnValue:
    return render_template("grants/new.html", form=form, general_errors=general_errors or []), code


def _attach(form: GrantForm, field: str, message: str) -> bool:
    """Put a service's refusal next to its field; tranche fields are counted among filled rows."""
    match = TRANCHE_FIELD.match(field)
    if match:
        filled = form.filled_rows()
        position = int(match.group(1))
        if 1 <= position <= len(filled):
            row = form.tranches.entries[filled[position - 1]].form
            return attach_service_error(row, match.group(2), message)
        return False
    if field == "tranches":
        return False
    return attach_service_error(form, FIELD_NAMES.get(field, field), message)


def _grantee_ids(form: GrantForm) -> tuple[int | None, int | None]:
    """The ids of the grantee typed; InvalidInput naming the form's field when nobody matches."""
    username = (form.grantee_username.data or "").strip()
    organisation = (form.grantee_organisation.data or "").strip()
    person_id = organisation_id = None
    if username:
        person_id = db.session.execute(select(Person.id).where(Person.username == username)).scalar()
        if person_id is None:
            raise InvalidInput("grantee_username", _("No person has this username."))
    if organisation:
        organisation_id = db.session.execute(
            select(Organisation.id).where(Organisation.name == organisation)).scalar()
        if organisation_id is None:
            raise InvalidInput("grantee_organisation", _("No organisation has this name."))
    return person_id, organisation_id


@bp.get("/grants/new")
@permission_required(Permission.MANAGE_FUNDS)
def new() -> ResponseReturnValue:
    return _form_page(_grant_form(formdata=None, data={"currency": "EUR"}))


@bp.post("/grants/new")
@permission_required(Permission.MANAGE_FUNDS)
def create() -> ResponseReturnValue:
    form = _grant_form()
    if not form.validate_on_submit():
        return _form_page(form, 400)
    try:
        person_id, organisation_id = _grantee_ids(form)
        data = grants.GrantInput(
            title=form.title.data or "", description=form.description.data or "",
            total=(form.total.data or "").strip(), currency=form.currency.data,
            tranches=form.tranche_inputs(), grantee_person_id=person_id,
            grantee_organisation_id=organisation_id, working_group_code=form.working_group_code.data or None)
        grant = grants.create_grant(db.session, current_actor(), data)
    except InvalidInput as refusal:
        general = [] if _attach(form, refusal.field, refusal.reason) else [refusal.reason]
        return _form_page(form, 400, general)
    except Conflict as refusal:
        return _form_page(form, 409, [conflict_message(refusal)])
    except LedgerError as refusal:
        return _form_page(form, 409 if isinstance(refusal, InsufficientFunds) else 400,
                          [ledger_message(refusal)])
    flash(_("The grant is created and its total is reserved in the development fund."), "success")
    return redirect(url_for("grants.detail", grant_id=grant.id))

