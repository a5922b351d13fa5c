"""The forms of the hours pages: log hours, review an entry, choose a statement.

Field names follow the names `bounty.services.hours` gives its refusals (`worked_on`,
`hours`, `activity`, `working_group_code`, `description`, `merge_request_url`, `verdict`,
`comment`), so a service's refusal lands next to its field (`attach_service_error`). The
forms only check what a browser can get wrong in typing; the rules are the service's.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from bounty.models.hours import ACTIVITIES
from bounty.services import hours as hours_service
from bounty.web.forms import VERDICT_LABELS, Choices

ACTIVITY_LABELS = {
    "code": _l("Code"),
    "review": _l("Code review"),
    "documentation": _l("Documentation"),
    "mentoring": _l("Mentoring"),
    "community": _l("Community"),
    "security": _l("Security"),
}
STATEMENT_FORMATS = ("pdf", "csv")


def activity_label(code: str) -> str:
    return str(ACTIVITY_LABELS.get(code, code))


class HoursForm(FlaskForm):
    """One entry of contribution hours, as the person types it."""

    worked_on = DateField(_l("Day worked"), validators=[
        InputRequired(message=_l("Enter the day, such as 2026-03-20."))],
        description=_l("Not in the future, and within the days the programme accepts."))
    hours = StringField(_l("Hours"), validators=[
        InputRequired(message=_l("Enter the hours.")), Length(max=10)],
        description=_l("In quarter-hour steps, such as 1.25 or 7.5; at most 24 in a day."))
    activity = SelectField(_l("Activity"), validate_choice=False)
    working_group_code = SelectField(_l("Working group"), validate_choice=False)
    description = TextAreaField(_l("What you did"), validators=[
        InputRequired(message=_l("Say what you worked on.")), Length(max=hours_service.MAX_DESCRIPTION)])
    merge_request_url = StringField(_l("Merge-request link (optional)"), validators=[
        Optional(), Length(max=500)],
        description=_l("The full address of a merge request on the cooperative's GitLab."))

    def set_choices(self, groups: Choices) -> None:
        self.activity.choices = [SelectChoice("", str(_l("Choose an activity")))] + [
            SelectChoice(code, activity_label(code)) for code in ACTIVITIES]
        self.working_group_code.choices = [SelectChoice("", str(_l("Choose a working group"))), *groups]

    def validate_activity(self, field: SelectField) -> None:
        if field.data not in ACTIVITIES:
            raise ValidationError(_l("Choose an activity."))

    def validate_working_group_code(self, field: SelectField) -> None:
        allowed = {choice.value for choice in field.choices or () if choice.value}
        if field.data not in allowed:
            raise ValidationError(_l("Choose a working group."))


class HoursReviewForm(FlaskForm):
    """A reviewer's verdict on one entry; a rejection says why."""

    verdict = RadioField(
        _l("Verdict"), choices=[SelectChoice(key, label) for key, label in VERDICT_LABELS.items()],
        validators=[InputRequired(message=_l("Choose approve or reject."))],
    )
    comment = TextAreaField(_l("Comment"), validators=[Length(max=hours_service.MAX_COMMENT)],
                            description=_l("Required when you reject: say why."))

    def validate_comment(self, field: TextAreaField) -> None:
        if self.verdict.data == "reject" and not (field.data or "").strip():
            raise ValidationError(_l("Say why you reject these hours."))


class StatementForm(FlaskForm):
    """Whose statement, which year, which format (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    username = StringField(_l("Person (username)"), validators=[
        InputRequired(message=_l("Enter the username of the person.")), Length(max=120)])
    year = StringField(_l("Year"), validators=[InputRequired(message=_l("Enter the year.")), Length(max=4)])
    format = SelectField(_l("Format"), choices=[SelectChoice("pdf", "PDF"), SelectChoice("csv", "CSV")],
                         default="pdf")
