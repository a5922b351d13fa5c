"""The finance pages: what is payable, payout batches with their files and the bank's
confirmation, claw-backs, jurisdiction statements, the trial balance and the journal, the
exchange rates, and a person's own bank details.

- Finance (MANAGE_PAYOUTS) acts; auditors (READ_EVERYTHING) read batches and payables;
  statements are read by finance, program admins (MANAGE_FUNDS) and auditors; rates by
  anyone signed in, imported by MANAGE_RATES; bank details by their own person.
- Views parse the form, call a service (which checks the permission again and owns the
  transaction) and redirect. A refusal shows the page again with the message (400 bad input,
  409 a clash with the batch's state), a refused confirmation file with its problems line by
  line; PermissionDenied is 403, NotFound 404. Never a 500 on bad input.
- Downloads change nothing: recording that a batch went to the bank is its own button.
- CSV and SEPA files are served at once (the trial balance and the journal streamed as they
  are read); XLSX files are built on the job queue: their POST forms ask for the document and
  go to its progress page (`bounty.web.documents`, docs/documents.md).
- Statements cover a calendar year (`/finance/statements/EU/2026`) or any period
  (`/finance/statements/EU?from=2026-01-01&to=2026-06-30`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from bounty.auth import current_actor
from bounty.auth.decorators import login_required, permission_required
from bounty.exports.batch_files import batch_file
from bounty.exports.payouts import InconsistentBatch
from bounty.exports.statements import summary as statement_summary
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.ledger import LedgerError, Money
from bounty.models import Jurisdiction, PayoutItem
from bounty.services import payouts, statements
from bounty.services.errors import InvalidInput, ServiceError
from bounty.services.payouts import ConfirmationRejected
from bounty.web import finance_accounts, finance_files, forms
from bounty.web import finance_forms as ff
from bounty.web.documents import request_and_redirect
from bounty.web.forms import attach_service_error

bp = Blueprint("finance", __name__)

# Identifiers are 32-bit integers in both databases: larger ones are no route (404).
ID = "int(min=1, max=2147483647)"
YEAR = "int(min=2000, max=9998)"

bp.add_app_template_global(ff.payout_status_label)
bp.add_app_template_global(ff.payable_kind_label)
bp.add_app_template_global(ff.payee_kind_label)
bp.add_app_template_global(ff.statement_label)


def _jurisdictions() -> list[tuple[str, str]]:
    return [(j.code, j.name) for j in db.session.execute(select(Jurisdiction).order_by(Jurisdiction.code))
            .scalars()]


# ----------------------------------------------------------------------------- payables


def _payables_page(code: int = 200, create_form: ff.CreateBatchForm | None = None,
                   general_errors: list[str] | None = None) -> ResponseReturnValue:
    actor = current_actor()
    choices = (forms.currencies(db.session), _jurisdictions())
    filters = ff.PayableFilterForm(formdata=request.args)
    filters.set_choices(*choices)
    rows: list[payouts.PayableView] | None = None
    errors = list(general_errors or [])
    if filters.validate():
        try:
            rows = payouts.payable_items(db.session, actor, currency=filters.currency.data or None,
                                         jurisdiction=filters.jurisdiction.data or None)
        except InvalidInput as refusal:
            code = 400
            if not attach_service_error(filters, refusal.field, refusal.reason):
                errors.append(refusal.reason)
    else:
        code = 400
    if create_form is None:
        create_form = ff.CreateBatchForm(formdata=None, prefix="batch", data={
            "currency": filters.currency.data or "", "jurisdiction": filters.jurisdiction.data or ""})
    create_form.set_choices(*choices)
    totals: dict[str, Money] = {}
    for row in rows or []:
        currency = row.amount.currency
        totals[currency] = totals.get(currency, Money.zero(currency)) + row.amount
    return render_template("finance/payables.html", rows=rows, filters=filters, create_form=create_form,
                           totals=totals, general_errors=errors,
                           can_manage=actor.can(Permission.MANAGE_PAYOUTS)), code


@bp.get("/finance/payables")
@login_required
def payables() -> ResponseReturnValue:
    return _payables_page()


@bp.post("/finance/batches")
@permission_required(Permission.MANAGE_PAYOUTS)
def create_batch() -> ResponseReturnValue:
    form = ff.CreateBatchForm(prefix="batch")
    form.set_choices(forms.currencies(db.session), _jurisdictions())
    if not form.validate_on_submit():
        return _payables_page(400, form)
    try:
        batch = payouts.create_batch(db.session, current_actor(), currency=form.currency.data or None,
                                     jurisdiction=form.jurisdiction.data or None)
    except (ServiceError, LedgerError) as refusal:
        code = ff.status_of(refusal)
        if isinstance(refusal, InvalidInput) and attach_service_error(form, refusal.field, refusal.reason):
            return _payables_page(code, form)
        return _payables_page(code, form, [ff.refusal_text(refusal)])
    flash(_("Payout batch %(id)d holds everything payable in this selection.", id=batch.id), "success")
    return redirect(url_for("finance.batch", batch_id=batch.id))


# ------------------------------------------------------------------------------ batches


@bp.get("/finance/batches")
@login_required
def batches() -> ResponseReturnValue:
    views = payouts.list_batches(db.session, current_actor())
    return render_template("finance/batches.html", batches=views)


def batch_page(batch_id: int, code: int = 200, general_errors: list[str] | None = None,
               problems: list[str] | None = None, **replacements: FlaskForm) -> ResponseReturnValue:
    """A batch's page; `replacements` stand in for its blank forms (what was sent, errors)."""
    actor = current_actor()
    view = payouts.get_batch(db.session, actor, batch_id)
    context: dict[str, Any] = {
        "confirmation_form": ff.ConfirmationForm(formdata=None), "cancel_form": ff.ReasonForm(formdata=None),
        "clawback_form": ff.ReasonForm(formdata=None, prefix="clawback"),
        "sepa_form": ff.SepaForm(formdata=None), "action_form": forms.ActionForm(formdata=None),
        "clawback_item": None,
    }
    context.update(replacements)
    return render_template("finance/batch.html", batch=view, general_errors=general_errors or [],
                           problems=problems or [], can_manage=actor.can(Permission.MANAGE_PAYOUTS),
                           error_forms=[f for f in replacements.values() if isinstance(f, FlaskForm)],
                           **context), code


@bp.get(f"/finance/batches/<{ID}:batch_id>")
@login_required
def batch(batch_id: int) -> ResponseReturnValue:
    return batch_page(batch_id)


@bp.get(f"/finance/batches/<{ID}:batch_id>/download/<any(csv, sepa):fmt>")
@login_required
def download(batch_id: int, fmt: str) -> ResponseReturnValue:
    actor = current_actor()
    sepa_form = ff.SepaForm(formdata=request.args)
    if fmt == "sepa" and not sepa_form.validate():
        return batch_page(batch_id, 400, sepa_form=sepa_form)
    try:
        view = payouts.get_batch(db.session, actor, batch_id)
        data = batch_file(db.session, actor, view, fmt, current_app.config,
                          execution_date=sepa_form.execution_date.data,
                          skip_non_eur=bool(sepa_form.skip_non_eur.data))
    except (ServiceError, LedgerError, InconsistentBatch) as refusal:
        code = ff.status_of(refusal)
        if (isinstance(refusal, InvalidInput) and refusal.field == "execution_date"
                and attach_service_error(sepa_form, refusal.field, refusal.reason)):
            return batch_page(batch_id, code, sepa_form=sepa_form)
        return batch_page(batch_id, code, [ff.refusal_text(refusal)], sepa_form=sepa_form)
    return finance_files.batch_response(data, batch_id, fmt)


@bp.post(f"/finance/batches/<{ID}:batch_id>/xlsx")
@login_required
def batch_xlsx(batch_id: int) -> ResponseReturnValue:
    """Ask for the batch as XLSX on the job queue; its progress page comes next."""
    form = forms.ActionForm()
    if not form.validate_on_submit():
        return batch_page(batch_id, 400, action_form=form)
    return request_and_redirect("payout_batch_xlsx", {"batch_id": batch_id},
                                refused=lambda refusal: batch_page(batch_id, ff.status_of(refusal),
                                                                   [ff.refusal_text(refusal)]))


def _act(batch_id: int, form: FlaskForm, form_name: str, action: Any, done: str) -> ResponseReturnValue:
    if not form.validate_on_submit():
        return batch_page(batch_id, 400, **{form_name: form})
    try:
        action()
    except (ServiceError, LedgerError) as refusal:
        code = ff.status_of(refusal)
        if isinstance(refusal, InvalidInput) and attach_service_error(form, refusal.field, refusal.reason):
            return batch_page(batch_id, code, **{form_name: form})
        return batch_page(batch_id, code, [ff.refusal_text(refusal)], **{form_name: form})
    flash(done, "success")
    return redirect(url_for("finance.batch", batch_id=batch_id))


@bp.post(f"/finance/batches/<{ID}:batch_id>/exported")
@permission_required(Permission.MANAGE_PAYOUTS)
def mark_exported(batch_id: int) -> ResponseReturnValue:
    return _act(batch_id, forms.ActionForm(), "action_form",
                lambda: payouts.mark_exported(db.session, current_actor(), batch_id),
                _("The batch is recorded as sent to the bank."))


@bp.post(f"/finance/batches/<{ID}:batch_id>/cancel")
@permission_required(Permission.MANAGE_PAYOUTS)
def cancel(batch_id: int) -> ResponseReturnValue:
    form = ff.ReasonForm()
    return _act(batch_id, form, "cancel_form",
                lambda: payouts.cancel_batch(db.session, current_actor(), batch_id, form.reason.data or ""),
                _("The batch is cancelled: its unpaid items may be batched again."))


@bp.post(f"/finance/batches/<{ID}:batch_id>/confirmation")
@permission_required(Permission.MANAGE_PAYOUTS)
def confirm(batch_id: int) -> ResponseReturnValue:
    form = ff.ConfirmationForm()
    if not form.validate_on_submit():
        return batch_page(batch_id, 400, confirmation_form=form)
    data = ff.read_upload(form)
    if data is None:
        return batch_page(batch_id, 400, confirmation_form=form)
    try:
        result = payouts.import_confirmation(db.session, current_actor(), batch_id, data)
    except ConfirmationRejected as rejected:
        message = _("The confirmation was refused and nothing was applied. Correct these lines and "
                    "import the whole file again:")
        return batch_page(batch_id, 400, [message], [str(p) for p in rejected.problems],
                          confirmation_form=form)
    except (ServiceError, LedgerError) as refusal:
        return batch_page(batch_id, ff.status_of(refusal), [ff.refusal_text(refusal)], confirmation_form=form)
    if result.already_imported:
        flash(_("This file was already imported for payout batch %(id)d: nothing changed.", id=batch_id),
              "info")
    else:
        flash(_("Confirmation imported: %(paid)d items paid, %(unchanged)d already paid.",
                paid=len(result.paid), unchanged=result.unchanged), "success")
    return redirect(url_for("finance.batch", batch_id=batch_id))


@bp.post(f"/finance/items/<{ID}:item_id>/claw-back")
@permission_required(Permission.MANAGE_PAYOUTS)
def claw_back(item_id: int) -> ResponseReturnValue:
    batch_id = db.session.execute(select(PayoutItem.batch_id).where(PayoutItem.id == item_id)).scalar()
    if batch_id is None:
        abort(404)
    form = ff.ReasonForm(prefix="clawback")
    form.reason.id = f"clawback-reason-{item_id}"  # the page has one such field per paid item
    if not form.validate_on_submit():
        return batch_page(batch_id, 400, clawback_form=form, clawback_item=item_id)
    try:
        payouts.claw_back(db.session, current_actor(), item_id, form.reason.data or "")
    except (ServiceError, LedgerError) as refusal:
        code = ff.status_of(refusal)
        if isinstance(refusal, InvalidInput) and attach_service_error(form, refusal.field, refusal.reason):
            return batch_page(batch_id, code, clawback_form=form, clawback_item=item_id)
        return batch_page(batch_id, code, [ff.refusal_text(refusal)], clawback_form=form,
                          clawback_item=item_id)
    flash(_("The payment is clawed back: its cost is reversed and the payee owes it back."), "success")
    return redirect(url_for("finance.batch", batch_id=batch_id))


# --------------------------------------------------------------------------- statements


def _this_year() -> int:
    return datetime.now(UTC).year


def _statements_page(code: int = 200, form: ff.StatementForm | None = None,
                     trial_form: ff.TrialBalanceXlsxForm | None = None,
                     journal_form: ff.JournalXlsxForm | None = None,
                     general_errors: list[str] | None = None) -> ResponseReturnValue:
    if form is None:
        form = ff.StatementForm(formdata=None, data={"year": _this_year()})
    form.set_choices(_jurisdictions())
    return render_template(
        "finance/statements.html", form=form, general_errors=general_errors or [],
        trial_form=trial_form or ff.TrialBalanceXlsxForm(formdata=None, prefix="trial_balance"),
        journal_form=journal_form or ff.JournalXlsxForm(formdata=None, prefix="journal_xlsx")), code


def _require_statement_reader() -> None:
    statements.require_reader(current_actor())


@bp.get("/finance/statements")
@login_required
def statements_index() -> ResponseReturnValue:
    _require_statement_reader()
    asked = any(name in request.args for name in ("jurisdiction", "year", "from", "to"))
    if not asked:
        return _statements_page()
    form = ff.StatementForm(formdata=request.args)
    form.set_choices(_jurisdictions())
    if not form.validate():
        return _statements_page(400, form)
    if form.year.data is not None:
        return redirect(url_for("finance.statement", code=form.jurisdiction.data, year=form.year.data))
    span = form.period()
    return redirect(url_for("finance.statement_period", code=form.jurisdiction.data,
                            **{"from": span.start.isoformat(), "to": span.end.isoformat()}))


def _statement(code: str, span: statements.Period) -> statements.JurisdictionStatement:
    return statements.jurisdiction_statement(db.session, current_actor(), code, span)


def _statement_view(found: statements.JurisdictionStatement) -> ResponseReturnValue:
    return render_template("finance/statement.html", s=found, summary=statement_summary(found))


def _asked_period(code: str) -> statements.Period | ResponseReturnValue:
    """The period of the query string (`from` and `to`, or `year`); the statements page with
    the problems, naming the field, when it is not one."""
    args = MultiDict(request.args)
    args["jurisdiction"] = code.upper()
    form = ff.StatementForm(formdata=args)
    form.set_choices(_jurisdictions())
    if not form.validate():
        return _statements_page(400, form)
    return form.period()


@bp.get(f"/finance/statements/<string(length=2):code>/<{YEAR}:year>")
@login_required
def statement(code: str, year: int) -> ResponseReturnValue:
    return _statement_view(_statement(code, statements.period(year)))


@bp.get("/finance/statements/<string(length=2):code>")
@login_required
def statement_period(code: str) -> ResponseReturnValue:
    _require_statement_reader()
    span = _asked_period(code)
    if not isinstance(span, statements.Period):
        return span
    return _statement_view(_statement(code, span))


@bp.get(f"/finance/statements/<string(length=2):code>/<{YEAR}:year>/download/<any(csv):fmt>")
@login_required
def statement_download(code: str, year: int, fmt: str) -> ResponseReturnValue:
    return finance_files.statement_response(_statement(code, statements.period(year)))


@bp.get("/finance/statements/<string(length=2):code>/statement.csv")
@login_required
def statement_csv(code: str) -> ResponseReturnValue:
    _require_statement_reader()
    span = _asked_period(code)
    if not isinstance(span, statements.Period):
        return span
    return finance_files.statement_response(_statement(code, span))


@bp.post("/finance/statements/<string(length=2):code>/xlsx")
@login_required
def statement_xlsx(code: str) -> ResponseReturnValue:
    """Ask for the statement of the period sent as XLSX on the job queue."""
    _require_statement_reader()
    form = ff.StatementXlsxForm()
    if not form.validate_on_submit():
        return _statements_page(400, general_errors=[_("The statement's period was not sent back whole: "
                                                       "choose it again.")])
    return request_and_redirect("statement_xlsx", {
        "jurisdiction": code, "start": form.start.data, "end": form.end.data})


@bp.post("/finance/trial-balance.xlsx")
@login_required
def trial_balance_xlsx() -> ResponseReturnValue:
    """Ask for the trial balance as XLSX on the job queue."""
    _require_statement_reader()
    form = ff.TrialBalanceXlsxForm(prefix="trial_balance")
    if not form.validate_on_submit():
        return _statements_page(400, trial_form=form)
    return request_and_redirect(
        "trial_balance_xlsx", {"as_of": form.as_of.data},
        refused=lambda refusal: _statements_page(400, trial_form=form,
                                                 general_errors=[ff.refusal_text(refusal)]))


@bp.post("/finance/journal.xlsx")
@login_required
def journal_xlsx() -> ResponseReturnValue:
    """Ask for the journal of a period as XLSX on the job queue (refused past a sheet's rows)."""
    _require_statement_reader()
    form = ff.JournalXlsxForm(prefix="journal_xlsx")
    if not form.validate_on_submit():
        return _statements_page(400, journal_form=form)
    return request_and_redirect(
        "journal_xlsx", {"start": form.start.data, "end": form.end.data},
        refused=lambda refusal: _statements_page(400, journal_form=form,
                                                 general_errors=[ff.refusal_text(refusal)]))


class _BadDate(ValueError):
    """A date in the query string that is not an ISO date."""


def _day(name: str) -> date | None:
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _BadDate(_("“%(value)s” is not a date such as 2026-12-31.", value=text[:20])) from None


def _bad_request(reason: str) -> ResponseReturnValue:
    return render_template("errors/400.html", reason=reason), 400


@bp.get("/finance/trial-balance.csv")
@login_required
def trial_balance() -> ResponseReturnValue:
    try:
        return finance_files.trial_balance_response(current_actor(), _day("as_of"))
    except _BadDate as bad:
        return _bad_request(str(bad))


@bp.get("/finance/journal.csv")
@login_required
def journal() -> ResponseReturnValue:
    try:
        return finance_files.journal_response(current_actor(), _day("from"), _day("to"))
    except _BadDate as bad:
        return _bad_request(str(bad))
    except InvalidInput as refusal:
        return _bad_request(refusal.reason)


# --------------------------------------------------------------- rates and bank details

bp.add_url_rule("/finance/rates", view_func=finance_accounts.rates, methods=["GET"])
bp.add_url_rule("/finance/rates", endpoint="import_rates", view_func=finance_accounts.import_rates,
                methods=["POST"])
bp.add_url_rule("/me/bank-details", view_func=finance_accounts.my_bank_details, methods=["GET"])
bp.add_url_rule("/me/bank-details", view_func=finance_accounts.set_my_bank_details, methods=["POST"])
