"""The forms of the awards pages and the words they show: open a round, open its vote,
nominate, vote, ask for the annual report; the labels of phases, vote values and the reasons
a vote does not bind.

Field names follow the names `bounty.services.awards` gives its refusals where they can
(`citation`, `reason`, `value`, `closes_at`); the nominee is typed as a username or an
organisation's name, which the view turns into the id the service expects (`FIELD_NAMES`
maps the service's names back onto the form's). Moments are typed in UTC: a close date
means 00:00 UTC on that day. The forms check only what a browser can get wrong; the rules
(the 72-hour vote, eligibility, one nomination per category) are the service's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from bounty.governance.votes import VALUES
from bounty.models import AwardCategory
from bounty.services.awards import FIRST_YEAR, MAX_CITATION, MAX_REASON, MIN_CITATION

LAST_YEAR = 2100
REPORT_LANGUAGES = ("en", "fr")
# The service's refusal fields that are not the nomination form's.
FIELD_NAMES = {"category": "category_code", "nominee": "nominee_username",
               "nominee_person_id": "nominee_username", "nominee_organisation_id": "nominee_organisation",
               "nominations_close_at": "nominations_close"}
PHASE_LABELS = {
    "nominating": _l("Nominations open"),
    "waiting": _l("Nominations closed, vote not yet open"),
    "voting": _l("Vote open"),
    "closed": _l("Closed"),
}
VOTE_LABELS = {
    "+1": _l("+1: yes"),
    "+0": _l("+0: willing for it to go ahead"),
    "-0": _l("-0: does not agree, will not prevent it"),
    "-1": _l("-1: no"),
}
NON_BINDING_LABELS = {
    "not_committee": _l("not on the awards committee"),
    "conflict": _l("conflict of interest"),
}
RULE_LABELS = {
    "lazy_consensus": _l("Lazy consensus: at least 3 binding +1 and no veto (a binding -1 with a reason)."),
    "lazy_majority": _l("Lazy majority: at least 3 binding +1 and more binding +1 than binding -1."),
    "lazy_two_thirds": _l("Lazy two-thirds majority: at least 3 binding votes and at least twice as "
                          "many binding +1 as binding -1."),
}
LANGUAGE_LABELS = {"en": "English", "fr": "Français"}


def phase_label(phase: str) -> str:
    return str(PHASE_LABELS.get(phase, phase))


def non_binding_label(reason: str | None) -> str:
    return str(NON_BINDING_LABELS.get(reason or "", reason or ""))


def rule_label(rule: str) -> str:
    return str(RULE_LABELS.get(rule, rule))


def category_name(category: AwardCategory, locale: str) -> str:
    """The category's name in the reader's language (English when no French name is recorded)."""
    return category.name_fr if locale == "fr" and category.name_fr else category.name


def category_eligibility(category: AwardCategory, locale: str) -> str:
    return category.eligibility_fr if locale == "fr" and category.eligibility_fr else category.eligibility


def start_of(day: date) -> datetime:
    """00:00 UTC on `day`: what a close date means."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


class OpenRoundForm(FlaskForm):
    """A program admin opens a year's nominations, until a close date."""

    year = IntegerField(_l("Year"), validators=[
        InputRequired(message=_l("Enter the year, such as 2026.")),
        NumberRange(min=FIRST_YEAR, max=LAST_YEAR, message=_l("Enter a year such as 2026."))])
    nominations_close = DateField(_l("Nominations close on"), validators=[
        InputRequired(message=_l("Enter the day nominations close, such as 2026-12-01."))],
        description=_l("Nominations open now and close at 00:00 UTC on this day."))

    def close_at(self) -> datetime:
        return start_of(self.nominations_close.data)  # type: ignore[arg-type]


class OpenVoteForm(FlaskForm):
    """A program admin opens the vote once nominations have closed, until a moment in UTC."""

    closes_at = DateTimeLocalField(_l("The vote closes at (UTC)"), validators=[
        InputRequired(message=_l("Enter when the vote closes, such as 2026-12-10 12:00."))],
        description=_l("The vote opens now and stays open at least 72 hours."))

    def close_moment(self) -> datetime:
        return self.closes_at.data.replace(tzinfo=UTC)  # type: ignore[union-attr]


class NominationForm(FlaskForm):
    """A nomination: the category, one nominee (a person or an organisation) and the citation."""

    category_code = SelectField(_l("Category"), validate_choice=False)
    nominee_username = StringField(
        _l("Nominee: a person (username)"), validators=[Optional(), Length(max=120)],
        description=_l("Not yourself. For the organisation award, give the organisation instead."))
    nominee_organisation = StringField(
        _l("Nominee: an organisation (its name)"), validators=[Optional(), Length(max=200)])
    citation = TextAreaField(_l("Citation"), validators=[
        InputRequired(message=_l("Write the citation.")), Length(max=MAX_CITATION)],
        description=_l("Why they deserve the award: at least %(count)d characters.", count=MIN_CITATION))

    def set_choices(self, categories: Iterable[AwardCategory], locale: str) -> None:
        self.category_code.choices = [SelectChoice("", str(_l("Choose a category")))] + [
            SelectChoice(category.code, category_name(category, locale)) for category in categories]

    def validate_category_code(self, field: SelectField) -> None:
        allowed = {choice.value for choice in field.choices or ()} - {""}
        if field.data not in allowed:
            raise ValidationError(_l("Choose a category."))


class SuggestForm(FlaskForm):
    """Which category's shortlist to show beside the nomination form (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    suggest = SelectField(_l("Suggestions for"), validate_choice=False)

    def set_choices(self, categories: Iterable[AwardCategory], locale: str) -> None:
        self.suggest.choices = [SelectChoice(category.code, category_name(category, locale))
                                for category in categories]


class VoteForm(FlaskForm):
    """A vote on one nomination; each nomination's form has its own prefix (`vote_form`)."""

    value = RadioField(_l("Your vote"), choices=[SelectChoice(value, VOTE_LABELS[value]) for value in VALUES],
                       validators=[InputRequired(message=_l("Choose +1, +0, -0 or -1."))])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=MAX_REASON)],
                           description=_l("A binding -1 in a lazy-consensus category is a veto only "
                                          "with a reason; without one it is void."))


def vote_form(nomination_id: int, **kwargs: object) -> VoteForm:
    """The vote form of a nomination; its prefix keeps ids unique on a page of many."""
    return VoteForm(prefix=f"n{nomination_id}", **kwargs)  # type: ignore[arg-type]


class ReportForm(FlaskForm):
    """Ask for the annual awards report (a PDF built on the job queue) in a language."""

    lang = SelectField(_l("Language"), choices=[SelectChoice(code, LANGUAGE_LABELS[code])
                                                for code in REPORT_LANGUAGES])
