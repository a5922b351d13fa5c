"""The bounty pages' forms: the board's filters, claim, submit, review, and the admin's bounty form,
with the choices their selects offer (read from the reference data).

Every field has a label; field names follow the services' `InvalidInput.field` names
(`amount`, `category_code`, `merge_request_urls`, ...), so a refusal from a service lands
next to the field it is about (`attach_service_error`). Forms that change something carry
Flask-WTF's CSRF token; the board's filter form is a plain GET form without one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import (
    Field,
    IntegerField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from bounty.models import BountyCategory, Capability, Jurisdiction, WorkingGroup
from bounty.models.bounties import BOUNTY_STATUSES
from bounty.services import claims

SORTS = ("newest", "amount_desc", "amount_asc", "title")
SORT_LABELS = {
    "newest": _l("Newest first"),
    "amount_desc": _l("Largest amount first"),
    "amount_asc": _l("Smallest amount first"),
    "title": _l("Title, A to Z"),
}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "open": _l("Open"),
    "claimed": _l("Claimed"),
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "paid": _l("Paid"),
    "cancelled": _l("Cancelled"),
    "expired": _l("Expired"),
    # Claims and review decisions share the badge.
    "active": _l("Active"),
    "rejected": _l("Rejected"),
    "lapsed": _l("Lapsed"),
    "withdrawn": _l("Withdrawn"),
    "pending": _l("Pending"),
}
VERDICT_LABELS = {"approve": _l("Approve"), "reject": _l("Reject")}
# The seeded categories by code; a category added later shows its recorded name.
CATEGORY_LABELS = {
    "critical_security_fix": _l("Critical security fix"),
    "major_feature": _l("Major feature"),
    "documentation": _l("Documentation"),
    "bug_fix": _l("Bug fix"),
}
MAX_TEXT_FILTER = 200

Choices = Sequence[SelectChoice]


def _any(label: object) -> list[SelectChoice]:
    return [SelectChoice("", str(label))]


class _ChoiceOrBlank:
    """A select's value is blank (not chosen) or one of its choices, never anything else."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        allowed = {choice.value for choice in field.choices or ()}
        if field.data and field.data not in allowed:
            raise ValidationError(_l("Choose one of the listed values."))


class FilterForm(FlaskForm):
    """The board's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = SearchField(_l("Search"), validators=[Optional(), Length(max=MAX_TEXT_FILTER, message=_l(
        "Keep the search to at most %(max)d characters."))])
    working_group = SelectField(_l("Working group"), validate_choice=False, validators=[_ChoiceOrBlank()])
    category = SelectField(_l("Category"), validate_choice=False, validators=[_ChoiceOrBlank()])
    status = SelectField(_l("Status"), validate_choice=False, validators=[_ChoiceOrBlank()])
    currency = SelectField(_l("Currency"), validate_choice=False, validators=[_ChoiceOrBlank()])
    sort = SelectField(_l("Sort by"), default="newest", validate_choice=False,
                       validators=[_ChoiceOrBlank()])

    def set_choices(self, groups: Choices, categories: Choices, currencies: Iterable[str]) -> None:
        self.working_group.choices = _any(_l("All working groups")) + list(groups)
        self.category.choices = _any(_l("All categories")) + list(categories)
        self.status.choices = _any(_l("Any status")) + [
            SelectChoice(status, str(STATUS_LABELS[status])) for status in BOUNTY_STATUSES]
        self.currency.choices = _any(_l("All currencies")) + [SelectChoice(code) for code in currencies]
        self.sort.choices = [SelectChoice(sort, str(SORT_LABELS[sort])) for sort in SORTS]


class ActionForm(FlaskForm):
    """Only the CSRF token: claim and publish need nothing more."""


class SubmitForm(FlaskForm):
    merge_request_urls = TextAreaField(
        _l("Merge-request links, one per line"),
        validators=[DataRequired(message=_l("Enter at least one merge-request link."))],
        description=_l("The full address of each merge request on the cooperative's GitLab."),
    )

    def urls(self) -> list[str]:
        """The links as typed, blank lines dropped."""
        return [line.strip() for line in (self.merge_request_urls.data or "").splitlines() if line.strip()]

    def validate_merge_request_urls(self, field: Field) -> None:
        if len(self.urls()) > claims.MAX_LINKS:
            raise ValidationError(_l("Link at most %(count)d merge requests.", count=claims.MAX_LINKS))


class ReviewForm(FlaskForm):
    verdict = RadioField(
        _l("Verdict"), choices=[SelectChoice(key, label) for key, label in VERDICT_LABELS.items()],
        validators=[InputRequired(message=_l("Choose approve or reject."))],
    )
    comment = TextAreaField(
        _l("Comment"), validators=[Length(max=5000)],
        description=_l("Required when you reject: say what is missing."),
    )

    def validate_comment(self, field: Field) -> None:
        if self.verdict.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Say why you reject the work."))


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for cancelling"),
        validators=[InputRequired(message=_l("Give the reason for cancelling.")), Length(max=2000)],
    )


class BountyForm(FlaskForm):
    """A bounty's fields, as the admin types them; the service checks the band and the rest."""

    title = StringField(_l("Title"), validators=[
        InputRequired(message=_l("Enter a title.")), Length(max=200)])
    description = TextAreaField(
        _l("Description"), description=_l("Markdown: headings, lists, links and code. No HTML."))
    category_code = SelectField(_l("Category"), validate_choice=False, validators=[_ChoiceOrBlank()])
    amount = StringField(
        _l("Amount"), validators=[InputRequired(message=_l("Enter the amount."))],
        description=_l("A decimal number such as 2500 or 2500.50, within the category's band."),
    )
    currency = SelectField(_l("Currency"), validate_choice=False, validators=[_ChoiceOrBlank()])
    working_group_code = SelectField(_l("Working group"), validate_choice=False,
                                     validators=[_ChoiceOrBlank()])
    capability_slug = SelectField(_l("Capability"), validate_choice=False, validators=[_ChoiceOrBlank()])
    gitlab_project_path = StringField(
        _l("GitLab project"), validators=[Optional(), Length(max=255)],
        description=_l("The project's path, such as cloudstack/cloudstack."),
    )
    gitlab_issue_iid = IntegerField(
        _l("GitLab issue number"), validators=[Optional(), NumberRange(min=1, message=_l(
            "Enter a positive issue number."))],
    )
    claim_hours = IntegerField(
        _l("Claim time limit, in hours"), default=336,
        validators=[InputRequired(message=_l("Enter the claim time limit.")),
                    NumberRange(min=1, message=_l("Enter a whole number of hours from 1."))],
        description=_l("How long a claim may run without a submission (336 hours is two weeks)."),
    )

    def set_choices(self, categories: Choices, currencies: Iterable[str], groups: Choices,
                    capabilities: Choices) -> None:
        self.category_code.choices = _any(_l("Choose a category")) + list(categories)
        self.currency.choices = [SelectChoice(code) for code in currencies]
        self.working_group_code.choices = _any(_l("None")) + list(groups)
        self.capability_slug.choices = _any(_l("None")) + list(capabilities)

    def validate_category_code(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a category."))

    def validate_currency(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Choose a currency."))


def category_label(code: str, recorded_name: str) -> str:
    return str(CATEGORY_LABELS.get(code, recorded_name))


def category_choices(session: Session) -> list[SelectChoice]:
    categories = session.execute(select(BountyCategory).order_by(BountyCategory.id)).scalars()
    return [SelectChoice(c.code, category_label(c.code, c.name)) for c in categories]


def group_choices(session: Session) -> list[SelectChoice]:
    groups = session.execute(select(WorkingGroup).order_by(WorkingGroup.code)).scalars()
    return [SelectChoice(g.code, f"{g.code} {g.name}") for g in groups]


def capability_choices(session: Session) -> list[SelectChoice]:
    """Capabilities grouped under their working group (an `<optgroup>` each)."""
    rows = session.execute(
        select(Capability.slug, Capability.name, WorkingGroup.code, WorkingGroup.name)
        .join(WorkingGroup, Capability.working_group_id == WorkingGroup.id)
        .order_by(WorkingGroup.code, Capability.name)
    )
    return [SelectChoice(slug, name, optgroup=f"{code} {group}") for slug, name, code, group in rows]


def currencies(session: Session) -> list[str]:
    """The members' home currencies, and EUR (the pools' currency) in any case."""
    found = session.execute(select(Jurisdiction.home_currency).distinct()).scalars()
    return sorted({"EUR", *found})


def attach_service_error(form: FlaskForm, field: str, message: str) -> bool:
    """Show a service's refusal next to `field`; False when the form has no such field."""
    target = getattr(form, field, None)
    if not isinstance(target, Field):
        return False
    # Errors of a field that was never validated are a tuple; make it a list we can add to.
    target.errors = [*target.errors, message]
    return True
