"""The finance pages' forms and labels: the payables' filters, a new batch, the bank's
confirmation upload, cancel and claw-back reasons, the SEPA options, the statements' choice
(a year or any period), the XLSX documents asked for on the job queue (a statement, the trial
balance, the journal), an ECB rates upload, and a person's bank details; and how those pages
word a refusal.

Field names follow the services' `InvalidInput.field` names (`currency`, `jurisdiction`,
`reason`, `holder_name`, `iban`, `bic`, `execution_date`), so a refusal lands next to its
field (`bounty.web.forms.attach_service_error`). Forms that change something carry
Flask-WTF's CSRF token; the filters and the SEPA options are GET forms without one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from flask import abort
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from bounty.exports.payouts import InconsistentBatch
from bounty.ledger import LedgerError
from bounty.services.bank_details import MAX_HOLDER_NAME
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied, ServiceError
from bounty.services.statements import Period

MAX_REASON = 2000
# Uploads (a bank confirmation, an ECB rates file) are read up to this size.
MAX_UPLOAD = 5 * 1024 * 1024
# What each status of a batch or an item says to a reader.
PAYOUT_STATUS_LABELS = {
    "open": _l("Open"),
    "exported": _l("Sent to the bank"),
    "paid": _l("Paid"),
    "cancelled": _l("Cancelled"),
    "pending": _l("Pending"),
    "clawed_back": _l("Clawed back"),
    "withdrawn": _l("Withdrawn"),
}
# The figures of a jurisdiction's statement (`bounty.exports.statements.summary`).
STATEMENT_LABELS = {
    "owed": _l("Owed into the pools"),
    "paid in": _l("Paid in"),
    "borne": _l("Part of the payouts"),
    "owed to date": _l("Owed to date"),
    "paid in to date": _l("Paid in to date"),
    "borne to date": _l("Part of the payouts to date"),
    "outstanding": _l("Outstanding"),
    "balance": _l("Balance"),
}
PAYABLE_KIND_LABELS = {"bounty": _l("Bounty"), "tranche": _l("Grant tranche")}
PAYEE_KIND_LABELS = {"person": _l("Person"), "organisation": _l("Organisation")}


def payout_status_label(status: str) -> str:
    return str(PAYOUT_STATUS_LABELS.get(status, status))


def statement_label(label: str) -> str:
    return str(STATEMENT_LABELS.get(label, label))


def payable_kind_label(kind: str) -> str:
    return str(PAYABLE_KIND_LABELS.get(kind, kind))


def payee_kind_label(kind: str) -> str:
    return str(PAYEE_KIND_LABELS.get(kind, kind))


def _choice_or_blank(form: FlaskForm, field: Field) -> None:
    """A select's value is blank ("all") or one of its choices, never anything else."""
    if field.data and field.data not in {choice.value for choice in field.choices or ()}:
        raise ValidationError(_l("Choose one of the listed values."))


class _Selection:
    """Currency and jurisdiction selects, blank meaning "all"."""

    currency: SelectField
    jurisdiction: SelectField

    def set_choices(self, currencies: Iterable[str], jurisdictions: Iterable[tuple[str, str]]) -> None:
        self.currency.choices = [SelectChoice("", str(_l("All currencies")))] + [
            SelectChoice(code) for code in currencies]
        self.jurisdiction.choices = [SelectChoice("", str(_l("All jurisdictions")))] + [
            SelectChoice(code, f"{code} - {name}") for code, name in jurisdictions]


class PayableFilterForm(_Selection, FlaskForm):
    """The payables' filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    currency = SelectField(_l("Currency"), validate_choice=False, validators=[_choice_or_blank])
    jurisdiction = SelectField(_l("Jurisdiction"), validate_choice=False, validators=[_choice_or_blank])


class CreateBatchForm(_Selection, FlaskForm):
    """A batch of everything payable in the selection (the same selection again: the same batch)."""

    currency = SelectField(_l("Currency"), validate_choice=False, validators=[_choice_or_blank])
    jurisdiction = SelectField(_l("Jurisdiction"), validate_choice=False, validators=[_choice_or_blank])


class ReasonForm(FlaskForm):
    """Why a batch is cancelled or a paid item clawed back (kept in the audit log)."""

    reason = TextAreaField(_l("Reason"), validators=[
        InputRequired(message=_l("Say why.")),
        Length(max=MAX_REASON, message=_l("Keep it to at most %(max)d characters."))])


class ConfirmationForm(FlaskForm):
    """The bank's confirmation file of a batch."""

    file = FileField(_l("The bank's confirmation (CSV)"), validators=[
        FileRequired(message=_l("Choose the confirmation file."))],
        description=_l("A CSV file with the columns end_to_end_id, amount and date, one line per payment."))


class SepaForm(FlaskForm):
    """Options of the SEPA file (a GET form: the download changes nothing)."""

    class Meta:
        csrf = False

    execution_date = DateField(_l("Execution date"), validators=[Optional()],
                               description=_l("The day the bank should pay; today when left empty."))
    skip_non_eur = BooleanField(_l("Leave out the items not in EUR"))


def _add_error(field: Field, message: object) -> bool:
    field.errors = [*field.errors, str(message)]
    return False


class StatementForm(FlaskForm):
    """Which statement to read (a GET form): a calendar year, or a period from one day to another."""

    class Meta:
        csrf = False

    jurisdiction = SelectField(_l("Jurisdiction"), validators=[
        InputRequired(message=_l("Choose a jurisdiction."))])
    year = IntegerField(_l("Year"), validators=[
        Optional(),
        NumberRange(min=2000, max=9998, message=_l("Enter a year from 2000 on, such as 2026."))],
        description=_l("A calendar year; or leave it empty and give the first and last days below."))
    start = DateField(_l("From"), name="from", validators=[Optional()],
                      description=_l("The first day of the period, such as 2026-01-01."))
    end = DateField(_l("To"), name="to", validators=[Optional()],
                    description=_l("The last day of the period, included."))

    def set_choices(self, jurisdictions: Iterable[tuple[str, str]]) -> None:
        self.jurisdiction.choices = [SelectChoice(code, f"{code} - {name}") for code, name in jurisdictions]

    def validate(self, extra_validators: object = None) -> bool:
        if not super().validate(extra_validators):  # type: ignore[arg-type]
            return False
        year, start, end = self.year.data, self.start.data, self.end.data
        if year is not None:
            if start is not None or end is not None:
                return _add_error(self.year, _l("Give a year or a period, not both."))
            return True
        if start is None and end is None:
            return _add_error(self.year, _l("Enter a year, or the first and last days of a period."))
        if start is None:
            return _add_error(self.start, _l("Enter the first day of the period."))
        if end is None:
            return _add_error(self.end, _l("Enter the last day of the period."))
        if end < start:
            return _add_error(self.end, _l("The last day comes before the first."))
        return True

    def period(self) -> Period:
        """The period chosen (after `validate`)."""
        if self.year.data is not None:
            return Period(date(self.year.data, 1, 1), date(self.year.data, 12, 31))
        return Period(self.start.data, self.end.data)


class StatementXlsxForm(FlaskForm):
    """A statement's period, sent back to ask for its XLSX on the job queue."""

    start = DateField(_l("From"), name="from", validators=[InputRequired(message=_l("Enter the first day."))])
    end = DateField(_l("To"), name="to", validators=[InputRequired(message=_l("Enter the last day."))])


class TrialBalanceXlsxForm(FlaskForm):
    """The trial balance as XLSX, built on the job queue."""

    as_of = DateField(_l("As of"), validators=[Optional()],
                      description=_l("Balances on this day; every posting when left empty."))


class JournalXlsxForm(FlaskForm):
    """The journal of a period (either end open) as XLSX, built on the job queue."""

    start = DateField(_l("From"), name="from", validators=[Optional()])
    end = DateField(_l("To"), name="to", validators=[Optional()])

    def validate(self, extra_validators: object = None) -> bool:
        if not super().validate(extra_validators):  # type: ignore[arg-type]
            return False
        if self.start.data and self.end.data and self.end.data < self.start.data:
            return _add_error(self.end, _l("The last day comes before the first."))
        return True


class RatesUploadForm(FlaskForm):
    """An ECB reference-rate CSV (the daily or the historical file)."""

    file = FileField(_l("ECB reference-rate file (CSV)"), validators=[
        FileRequired(message=_l("Choose the rates file."))],
        description=_l("eurofxref.csv or eurofxref-hist.csv as the ECB publishes them."))


class BankDetailsForm(FlaskForm):
    """Where a person is paid. The IBAN is never shown back in full."""

    holder_name = StringField(_l("Account holder"), validators=[
        InputRequired(message=_l("Enter the name of the account holder.")),
        Length(max=MAX_HOLDER_NAME, message=_l("Keep it to at most %(max)d characters."))])
    iban = StringField(_l("IBAN"), validators=[
        InputRequired(message=_l("Enter the IBAN.")), Length(max=64)],
        description=_l("Spaces are fine. It is stored encrypted and shown masked."),
        render_kw={"autocomplete": "off", "spellcheck": "false"})
    bic = StringField(_l("BIC (optional)"), validators=[Optional(), Length(max=16)],
                      render_kw={"autocomplete": "off", "spellcheck": "false"})


# --------------------------------------------------------------------------- refusals


def refusal_text(refusal: ServiceError | LedgerError | InconsistentBatch) -> str:
    """A service's refusal as the pages say it, naming the field of bad input."""
    if isinstance(refusal, InvalidInput):
        return _("Refused: %(field)s: %(reason)s.", field=refusal.field, reason=refusal.reason.rstrip("."))
    return _("Refused: %(reason)s.", reason=str(refusal).rstrip("."))


def status_of(refusal: Exception) -> int:
    """The page's status for a refusal: 400 bad input, 409 a clash; 403 and 404 are aborts."""
    if isinstance(refusal, PermissionDenied):
        abort(403)
    if isinstance(refusal, NotFound):
        abort(404)
    return 400 if isinstance(refusal, InvalidInput | LedgerError) else 409


def read_upload(form: FlaskForm) -> bytes | None:
    """The uploaded file's bytes; None (with an error on the field) when it is too large."""
    data = form.file.data.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        form.file.errors = [*form.file.errors, _("The file is larger than 5 MB.")]
        return None
    return data
