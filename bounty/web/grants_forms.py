"""The forms of the grant pages: the list's filters and the program admin's new grant.

A grant's tranches are typed in a fixed number of rows (`TRANCHE_ROWS`); rows left empty are
ignored, so a grant of two tranches leaves four rows blank. Field names follow the names
`bounty.services.grants` gives its refusals (`title`, `total`, `currency`, ...); the grantee
is typed as a username or an organisation's name, which the view turns into the id the
service expects. The forms check only what a browser can get wrong; the rules are the
service's.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from bounty.models.grants import GRANT_STATUSES
from bounty.services import grants
from bounty.web.forms import Choices

TRANCHE_ROWS = 6
GRANT_STATUS_LABELS = {
    "draft": _l("Draft"),
    "active": _l("Active"),
    "completed": _l("Completed"),
    "cancelled": _l("Cancelled"),
    # Tranches
    "pending": _l("Pending"),
    "signed_off": _l("Signed off"),
    "paid": _l("Paid"),
}


def grant_status_label(status: str) -> str:
    return str(GRANT_STATUS_LABELS.get(status, status))


class GrantFilterForm(FlaskForm):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    overdue = BooleanField(_l("Only grants with an overdue milestone"))
    status = SelectField(_l("Status"), validate_choice=False)

    def set_choices(self) -> None:
        self.status.choices = [SelectChoice("", str(_l("Any status")))] + [
            SelectChoice(status, grant_status_label(status)) for status in GRANT_STATUSES]

    def validate_status(self, field: SelectField) -> None:
        if field.data and field.data not in GRANT_STATUSES:
            raise ValidationError(_l("Choose one of the listed values."))


class TrancheRow(Form):
    """One tranche row of the new-grant form; a row left entirely empty is no tranche."""

    milestone = StringField(_l("Milestone"), validators=[Length(max=grants.MAX_MILESTONE)])
    due_on = StringField(_l("Due on"), validators=[Length(max=10)],
                         description=_l("A date such as 2027-03-31."))
    amount = StringField(_l("Amount"), validators=[Length(max=20)])

    def is_empty(self) -> bool:
        return not any((field.data or "").strip() for field in (self.milestone, self.due_on, self.amount))


class GrantForm(FlaskForm):
    """A new grant as the program admin types it."""

    title = StringField(_l("Title"), validators=[
        InputRequired(message=_l("Enter a title.")), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Length(max=grants.MAX_DESCRIPTION)])
    grantee_username = StringField(
        _l("Grantee: a person (username)"), validators=[Optional(), Length(max=120)],
        description=_l("Either a person or an organisation, not both."))
    grantee_organisation = StringField(
        _l("Grantee: an organisation (its name)"), validators=[Optional(), Length(max=200)])
    total = StringField(_l("Total"), validators=[
        InputRequired(message=_l("Enter the total.")), Length(max=20)],
        description=_l("A decimal number such as 60000 or 60000.50; the tranches sum to it."))
    currency = SelectField(_l("Currency"), validate_choice=False)
    working_group_code = SelectField(_l("Working group"), validate_choice=False)
    tranches = FieldList(FormField(TrancheRow), min_entries=TRANCHE_ROWS, max_entries=TRANCHE_ROWS)

    def set_choices(self, currencies: Iterable[str], groups: Choices) -> None:
        self.currency.choices = [SelectChoice(code) for code in currencies]
        self.working_group_code.choices = [SelectChoice("", str(_l("None"))), *groups]

    def validate_currency(self, field: SelectField) -> None:
        allowed = {choice.value for choice in field.choices or ()}
        if field.data not in allowed:
            raise ValidationError(_l("Choose a currency."))

    def validate_working_group_code(self, field: SelectField) -> None:
        allowed = {choice.value for choice in field.choices or ()}
        if field.data and field.data not in allowed:
            raise ValidationError(_l("Choose one of the listed values."))

    def filled_rows(self) -> list[int]:
        """Indexes of the tranche rows that hold something, in order."""
        return [index for index, entry in enumerate(self.tranches.entries) if not entry.form.is_empty()]

    def tranche_inputs(self) -> list[grants.TrancheInput]:
        rows = [self.tranches.entries[index].form for index in self.filled_rows()]
        return [grants.TrancheInput((row.milestone.data or "").strip(), (row.due_on.data or "").strip(),
                                    (row.amount.data or "").strip()) for row in rows]
