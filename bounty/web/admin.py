"""The programme administrator's bounty pages: create and edit a bounty, publish and cancel it.

Every route needs the MANAGE_BOUNTIES permission (anonymous visitors are sent to sign in,
others get 403); the services check it again. The band check, the pool reservation and
what may still change once a bounty is open are the services' rules: their refusals are
shown on the form, next to the field they name.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from bounty.auth import current_actor
from bounty.auth.decorators import permission_required
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.ledger import InvalidAmount, LedgerError, MissingRate, Money, UnknownCurrency
from bounty.services import bounties, bounty_queries
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied, ServiceError
from bounty.web import forms
from bounty.web.bounties import act, conflict_message, ledger_message
from bounty.web.forms import ActionForm, BountyForm, CancelForm, attach_service_error

bp = Blueprint("admin", __name__, url_prefix="/admin/bounties")

# Fields an open bounty keeps: its money is reserved in the pool at publication.
FIXED_ONCE_OPEN = ("category_code", "amount", "currency")
# Ledger refusals that are about one field of the form.
LEDGER_ERROR_FIELDS = {InvalidAmount: "amount", UnknownCurrency: "currency", MissingRate: "currency"}


def _bounty_form(**kwargs: object) -> BountyForm:
    form = BountyForm(**kwargs)
    session = db.session
    form.set_choices(forms.category_choices(session), forms.currencies(session),
                     forms.group_choices(session), forms.capability_choices(session))
    return form


def _input_of(form: BountyForm) -> bounties.BountyInput:
    def text(value: str | None) -> str | None:
        return (value or "").strip() or None

    return bounties.BountyInput(
        title=(form.title.data or "").strip(), description=form.description.data or "",
        category_code=form.category_code.data, amount=(form.amount.data or "").strip(),
        currency=form.currency.data, working_group_code=text(form.working_group_code.data),
        capability_slug=text(form.capability_slug.data),
        gitlab_project_path=text(form.gitlab_project_path.data),
        gitlab_issue_iid=form.gitlab_issue_iid.data, claim_hours=form.claim_hours.data,
    )


def _form_page(form: BountyForm, bounty_id: int | None, fixed: bool, code: int = 200,
               general_errors: list[str] | None = None) -> ResponseReturnValue:
    if fixed:
        for name in FIXED_ONCE_OPEN:
            getattr(form, name).render_kw = {"disabled": True}
    page = render_template("bounties/admin_form.html", form=form, bounty_id=bounty_id, fixed=fixed,
                           general_errors=general_errors or [])
    return page, code


def _refused(form: BountyForm, bounty_id: int | None, fixed: bool,
             refusal: ServiceError | LedgerError) -> ResponseReturnValue:
    """The form again with the refusal next to its field (or above the form)."""
    if isinstance(refusal, PermissionDenied):
        abort(403)
    if isinstance(refusal, InvalidInput):
        field, message = refusal.field, refusal.reason
    elif isinstance(refusal, LedgerError):
        field = LEDGER_ERROR_FIELDS.get(type(refusal), "")
        message = str(refusal) if field else ledger_message(refusal)
    elif isinstance(refusal, NotFound):
        field, message = "", _("Refused: %(reason)s.", reason=str(refusal).rstrip("."))
    else:
        field, message = "", conflict_message(refusal)
    general = [] if attach_service_error(form, field, message) else [message]
    return _form_page(form, bounty_id, fixed, 400, general)


@bp.get("/new")
@permission_required(Permission.MANAGE_BOUNTIES)
def new() -> ResponseReturnValue:
    return _form_page(_bounty_form(formdata=None), None, fixed=False)


@bp.post("/new")
@permission_required(Permission.MANAGE_BOUNTIES)
def create() -> ResponseReturnValue:
    form = _bounty_form()
    if not form.validate_on_submit():
        return _form_page(form, None, False, 400)
    try:
        bounty = bounties.create_bounty(db.session, current_actor(), _input_of(form))
    except (ServiceError, LedgerError) as refusal:
        return _refused(form, None, False, refusal)
    flash(_("The bounty is saved as a draft. Publish it to reserve its amount and open it."), "success")
    return redirect(url_for("bounties.detail", bounty_id=bounty.id))


def _current(bounty_id: int) -> bounty_queries.BountyDetail:
    return bounty_queries.get_bounty(db.session, current_actor(), bounty_id)


@bp.get("/<int:bounty_id>/edit")
@permission_required(Permission.MANAGE_BOUNTIES)
def edit(bounty_id: int) -> ResponseReturnValue:
    found = _current(bounty_id)
    if "edit" not in found.actions:
        abort(403)
    form = _bounty_form(formdata=None, data=_form_data(found))
    return _form_page(form, bounty_id, fixed=found.bounty.status != "draft")


@bp.post("/<int:bounty_id>/edit")
@permission_required(Permission.MANAGE_BOUNTIES)
def update(bounty_id: int) -> ResponseReturnValue:
    found = _current(bounty_id)
    fixed = found.bounty.status != "draft"
    form = _bounty_form()
    if fixed:
        # Disabled fields are not sent: they keep the bounty's own values.
        current = _form_data(found)
        for name in FIXED_ONCE_OPEN:
            field = getattr(form, name)
            field.data, field.raw_data = current[name], [current[name]]
    if not form.validate_on_submit():
        return _form_page(form, bounty_id, fixed, 400)
    try:
        bounties.update_bounty(db.session, current_actor(), bounty_id, _input_of(form))
    except (ServiceError, LedgerError) as refusal:
        return _refused(form, bounty_id, fixed, refusal)
    flash(_("The bounty is saved."), "success")
    return redirect(url_for("bounties.detail", bounty_id=bounty_id))


def _form_data(found: bounty_queries.BountyDetail) -> dict[str, object]:
    bounty = found.bounty
    return {
        "title": bounty.title, "description": bounty.description,
        "category_code": found.category.code,
        "amount": Money(bounty.amount_minor, bounty.currency).amount_str(),
        "currency": bounty.currency,
        "working_group_code": found.working_group.code if found.working_group else "",
        "capability_slug": found.capability.slug if found.capability else "",
        "gitlab_project_path": bounty.gitlab_project_path or "",
        "gitlab_issue_iid": bounty.gitlab_issue_iid, "claim_hours": bounty.claim_hours,
    }


@bp.post("/<int:bounty_id>/publish")
@permission_required(Permission.MANAGE_BOUNTIES)
def publish(bounty_id: int) -> ResponseReturnValue:
    return act(bounty_id, ActionForm(), "publish_form",
               lambda: bounties.publish_bounty(db.session, current_actor(), bounty_id),
               _("The bounty is open: its amount is reserved in the bounty pool."))


@bp.post("/<int:bounty_id>/cancel")
@permission_required(Permission.MANAGE_BOUNTIES)
def cancel(bounty_id: int) -> ResponseReturnValue:
    form = CancelForm()
    return act(bounty_id, form, "cancel_form",
               lambda: bounties.cancel_bounty(db.session, current_actor(), bounty_id,
                                              (form.reason.data or "").strip()),
               _("The bounty is cancelled and its reserve released."))
