"""Organisation activity per period (fast-track procurement bonus): the page and its CSV.

- Who: the service's readers (`bounty.services.activity.can_read`: finance, program admins,
  auditors). Anonymous visitors are sent to sign in; anyone else gets the 403 page, before
  the query string is read.
- The period comes from the query string (a GET form: no CSRF token): a calendar `year`, or
  the days `start` and `end`, both included. Nothing asked means this calendar year (UTC).
  Bad input shows the form again with the message next to its field (400).
- The CSV (`bounty.exports.activity`) holds the same period's rows in the same order,
  streamed to the client.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, IntegerField, ValidationError
from wtforms.validators import Optional

from bounty.auth import current_actor
from bounty.auth.decorators import login_required
from bounty.exports import activity as activity_export
from bounty.extensions import db
from bounty.models import utcnow
from bounty.services import activity
from bounty.services.errors import InvalidInput
from bounty.services.statements import Period
from bounty.web.forms import attach_service_error

bp = Blueprint("activity", __name__, url_prefix="/activity")

PERIOD_FIELDS = ("year", "start", "end")
# How many calendar years, this one included, the page offers as one-click periods.
RECENT_YEARS = 3
KIND_LABELS = {
    "supplier": _l("Supplier"),
    "agency": _l("Agency"),
    "company": _l("Company"),
    "community": _l("Community"),
}


def kind_label(kind: str) -> str:
    """An organisation's kind in the reader's language (the code itself for an unknown kind)."""
    return str(KIND_LABELS.get(kind, kind))


class DayField(DateField):
    """A day typed as YYYY-MM-DD (a date picker in browsers), with the pages' own message."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter a day such as 2026-12-31.")) from None


class YearField(IntegerField):
    """A calendar year, with the pages' own message when it is not a number."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_("Enter a year such as 2026.")) from None


def _within_days(_form: FlaskForm, field: Field) -> None:
    if field.data is not None and not activity.FIRST_DAY <= field.data <= activity.LAST_DAY:
        raise ValidationError(_("Enter a day from %(first)s to %(last)s.",
                                first=activity.FIRST_DAY.isoformat(), last=activity.LAST_DAY.isoformat()))


def _within_years(_form: FlaskForm, field: Field) -> None:
    if field.data is not None and not activity.FIRST_DAY.year <= field.data <= activity.LAST_DAY.year:
        raise ValidationError(_("Enter a year from %(first)d to %(last)d.", first=activity.FIRST_DAY.year,
                                last=activity.LAST_DAY.year))


class PeriodForm(FlaskForm):
    """The period: a calendar year, or the first and last days (a GET form)."""

    class Meta:
        csrf = False

    year = YearField(_l("Year"), validators=[Optional(), _within_years], description=_l(
        "A calendar year, such as 2026. Leave it empty to give the days instead."))
    start = DayField(_l("From"), validators=[Optional(), _within_days],
                     description=_l("The first day of the period, such as 2026-01-01."))
    end = DayField(_l("To"), validators=[Optional(), _within_days],
                   description=_l("The last day of the period, included, such as 2026-06-30."))

    def validate(self, extra_validators: Any = None) -> bool:
        """The fields one by one, then together: a year, or both days in order."""
        if not super().validate(extra_validators):
            return False
        year, start, end = self.year.data, self.start.data, self.end.data
        if year is not None and (start is not None or end is not None):
            self.year.errors.append(_("Give a year, or the first and last days, not both."))
        elif year is None and start is None and end is None:
            self.year.errors.append(_("Enter a year, or the first and last days."))
        elif year is None and start is None:
            self.start.errors.append(_("Enter the first day too."))
        elif year is None and end is None:
            self.end.errors.append(_("Enter the last day too."))
        elif year is None and end < start:
            self.end.errors.append(_("The last day is before the first day."))
        return not any(self[name].errors for name in PERIOD_FIELDS)


def _require_reader() -> None:
    if not activity.can_read(current_actor()):
        abort(403)


def _read_period() -> tuple[PeriodForm, Period | None]:
    """The form as asked (this year when nothing is asked) and its period; None on bad input,
    the messages on the form."""
    if not any(name in request.args for name in PERIOD_FIELDS):
        year = utcnow().year
        return PeriodForm(formdata=None, data={"year": year}), activity.activity_period(year)
    form = PeriodForm(formdata=request.args)
    if not form.validate():
        return form, None
    try:
        return form, activity.activity_period(form.year.data, form.start.data, form.end.data)
    except InvalidInput as refusal:
        # The form checks what the service does; this keeps any rule it adds on the page.
        if not attach_service_error(form, refusal.field, refusal.reason):
            attach_service_error(form, "year", refusal.reason)
        return form, None


def _rows(span: Period) -> list[activity.OrganisationActivity]:
    return activity.organisation_activity(db.session, current_actor(), span)


def _period_text(span: Period) -> str:
    if (span.start, span.end) == (date(span.start.year, 1, 1), date(span.start.year, 12, 31)):
        return str(span.start.year)
    return _("%(start)s to %(end)s", start=format_date(span.start, "long"), end=format_date(span.end, "long"))


def _page(form: PeriodForm, span: Period | None,
          rows: Sequence[activity.OrganisationActivity] = ()) -> str:
    this_year = utcnow().year
    return render_template(
        "activity/index.html", form=form, span=span, rows=rows,
        totals=activity.totals(rows), period_text=_period_text(span) if span else None,
        years=list(range(this_year - RECENT_YEARS + 1, this_year + 1)), kind_label=kind_label)


@bp.get("")
@login_required
def index() -> ResponseReturnValue:
    """Each organisation's activity over the period, in the service's order, with the totals."""
    _require_reader()
    form, span = _read_period()
    if span is None:
        return _page(form, None), 400
    return _page(form, span, _rows(span))


@bp.get("/organisation-activity.csv")
@login_required
def download() -> ResponseReturnValue:
    """The page's rows as CSV, streamed; bad input shows the page's form with its messages."""
    _require_reader()
    form, span = _read_period()
    if span is None:
        return _page(form, None), 400
    rows = _rows(span)
    response = Response(activity_export.activity_csv(span, rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{activity_export.filename(span)}"'
    response.headers["Cache-Control"] = "no-store"
    return response
