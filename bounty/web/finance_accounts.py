"""The exchange-rates page (the rates in force today and an ECB file upload) and a person's
own bank details page (set them, see them masked). Routed by the finance blueprint
(`bounty.web.finance`); the rules are in `bounty.services.fx` and `bounty.services.bank_details`.

Anyone signed in reads the rates; MANAGE_RATES imports them. A person sets and reads their
own bank details: the IBAN is stored encrypted under BANK_DETAILS_KEY and shown masked.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from bounty.auth import current_actor
from bounty.auth.decorators import login_required, permission_required
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.ledger import LedgerError
from bounty.services import bank_details, fx
from bounty.services.errors import InvalidInput, ServiceError
from bounty.web import finance_forms as ff
from bounty.web.forms import attach_service_error


def _rates_page(code: int = 200, upload_form: ff.RatesUploadForm | None = None,
                general_errors: list[str] | None = None) -> ResponseReturnValue:
    actor = current_actor()
    today = datetime.now(UTC).date()
    rates = sorted(fx.rates_on(db.session, today), key=lambda rate: rate.quote)
    return render_template("finance/rates.html", rates=rates, today=today,
                           newest=max((rate.rate_date for rate in rates), default=None),
                           upload_form=upload_form or ff.RatesUploadForm(formdata=None),
                           can_import=actor.can(Permission.MANAGE_RATES),
                           general_errors=general_errors or [], plain=fx.plain), code


@login_required
def rates() -> ResponseReturnValue:
    return _rates_page()


@permission_required(Permission.MANAGE_RATES)
def import_rates() -> ResponseReturnValue:
    form = ff.RatesUploadForm()
    if not form.validate_on_submit():
        return _rates_page(400, form)
    data = ff.read_upload(form)
    if data is None:
        return _rates_page(400, form)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        form.file.errors = [*form.file.errors, _("The file is not UTF-8 text.")]
        return _rates_page(400, form)
    try:
        result = fx.import_ecb_csv(db.session, current_actor(), text)
    except (ServiceError, LedgerError) as refusal:
        return _rates_page(ff.status_of(refusal), form, [ff.refusal_text(refusal)])
    flash(_("Rates imported: %(added)d added, %(unchanged)d already on record.",
            added=result.added, unchanged=result.unchanged), "success")
    return redirect(url_for("finance.rates"))


# ------------------------------------------------------------------------- bank details


def _key() -> str:
    return current_app.config.get("BANK_DETAILS_KEY") or ""


def _bank_page(code: int = 200, form: ff.BankDetailsForm | None = None,
               general_errors: list[str] | None = None) -> ResponseReturnValue:
    actor = current_actor()
    if actor.person_id is None:
        abort(403)
    errors = list(general_errors or [])
    try:
        current = bank_details.bank_details_for(db.session, actor, person_id=actor.person_id, key=_key())
    except (ServiceError, LedgerError) as refusal:
        current, code = None, ff.status_of(refusal)
        errors.append(ff.refusal_text(refusal))
    return render_template("finance/bank_details.html", current=current, general_errors=errors,
                           form=form or ff.BankDetailsForm(formdata=None)), code


@login_required
def my_bank_details() -> ResponseReturnValue:
    return _bank_page()


@login_required
def set_my_bank_details() -> ResponseReturnValue:
    actor = current_actor()
    if actor.person_id is None:
        abort(403)
    form = ff.BankDetailsForm()
    if not form.validate_on_submit():
        return _bank_page(400, form)
    try:
        bank_details.set_bank_details(db.session, actor, person_id=actor.person_id,
                                      holder_name=form.holder_name.data or "", iban=form.iban.data or "",
                                      bic=form.bic.data or None, key=_key())
    except (ServiceError, LedgerError) as refusal:
        code = ff.status_of(refusal)
        if isinstance(refusal, InvalidInput) and attach_service_error(form, refusal.field, refusal.reason):
            return _bank_page(code, form)
        return _bank_page(code, form, [ff.refusal_text(refusal)])
    flash(_("Your bank details are saved."), "success")
    return redirect(url_for("finance.my_bank_details"))

