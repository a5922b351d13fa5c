"""The hours pages: log contribution hours, my hours of a year, the reviewers' queue, and the
professional-development statement as a PDF or CSV download.

- `/hours` (my hours, `?year=`), `/hours/new` (log): everyone who logs hours (LOG_HOURS).
- `/hours/review` and `/hours/<id>/review`: reviewers (REVIEW_WORK); which entries a reviewer
  sees and may decide is `bounty.services.hours`' rule (leads and reviewers of the group).
- `/hours/statement?year=&format=pdf|csv`: the signed-in person's own statement;
  `/hours/statements?username=&year=&format=`: anyone's, for those the statement service lets
  read it (program admins, auditors); without a username it is the form asking for one.

Views parse the request, call one service (which checks the permission again and owns the
transaction) and render or redirect. A refusal shows the form again with the message next to
its field (400), above it for a clash with the current state (409); PermissionDenied is the
403 page and NotFound the 404 page.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from bounty.auth import current_actor
from bounty.auth.decorators import login_required, permission_required
from bounty.exports.hours_statement import statement_csv
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.models import Person, utcnow
from bounty.reports import hours_statement as statement_report
from bounty.services import hours, hours_statement
from bounty.services.claims import DEFAULT_GITLAB_URL
from bounty.services.errors import Conflict, InvalidInput, NotFound
from bounty.web import forms
from bounty.web.bounties import conflict_message
from bounty.web.forms import attach_service_error
from bounty.web.hours_forms import (
    STATEMENT_FORMATS,
    HoursForm,
    HoursReviewForm,
    StatementForm,
    activity_label,
)

bp = Blueprint("hours", __name__)

FIRST_YEAR, LAST_YEAR = 2000, 9998
MIME_TYPES = {"pdf": "application/pdf", "csv": "text/csv; charset=utf-8"}


@bp.app_template_global()
def hours_activity_label(code: str) -> str:
    return activity_label(code)


@bp.app_template_global()
def hours_number(value: Decimal) -> str:
    """Hours with two decimals for the reader's locale ("1,234.50", "1 234,50")."""
    return format_decimal(value, format="#,##0.00")


def _backdate_days() -> int:
    return int(current_app.config["HOURS_BACKDATE_DAYS"])


def _year(raw: str | None) -> tuple[int, str | None]:
    """The year asked for (this year when none), or an error message."""
    if raw is None or raw == "":
        return utcnow().year, None
    if raw.isascii() and raw.isdigit() and FIRST_YEAR <= int(raw) <= LAST_YEAR:
        return int(raw), None
    return utcnow().year, _("“%(value)s” is not a year: give one from 2000 on, such as 2026.", value=raw[:20])


# ----------------------------------------------------------------------------- my hours


@bp.get("/hours")
@permission_required(Permission.LOG_HOURS)
def mine() -> ResponseReturnValue:
    """The signed-in person's entries of a year, with their totals by status."""
    year, error = _year(request.args.get("year"))
    if error:
        return render_template("hours/mine.html", year=year, rows=[], totals={}, general_errors=[error],
                               can_read_others=_reads_others()), 400
    rows = hours.my_hours(db.session, current_actor(), year)
    totals = {status: hours.hours_of(sum(r.quarter_hours for r in rows if r.status == status))
              for status in ("approved", "pending", "rejected")}
    return render_template("hours/mine.html", year=year, rows=rows, totals=totals, general_errors=[],
                           can_read_others=_reads_others())


def _reads_others() -> bool:
    actor = current_actor()
    return any(actor.can(permission) for permission in hours_statement.READERS)


def _hours_form(**kwargs: object) -> HoursForm:
    form = HoursForm(**kwargs)
    form.set_choices(forms.group_choices(db.session))
    return form


def _log_page(form: HoursForm, code: int = 200,
              general_errors: list[str] | None = None) -> ResponseReturnValue:
    today = utcnow().date()
    page = render_template("hours/log.html", form=form, general_errors=general_errors or [],
                           backdate_days=_backdate_days(), today=today)
    return page, code


@bp.get("/hours/new")
@permission_required(Permission.LOG_HOURS)
def new() -> ResponseReturnValue:
    return _log_page(_hours_form(formdata=None, data={"worked_on": utcnow().date()}))


@bp.post("/hours/new")
@permission_required(Permission.LOG_HOURS)
def create() -> ResponseReturnValue:
    form = _hours_form()
    if not form.validate_on_submit():
        return _log_page(form, 400)
    gitlab = current_app.config.get("GITLAB_URL") or DEFAULT_GITLAB_URL
    data = hours.HoursInput(
        worked_on=form.worked_on.data, hours=(form.hours.data or "").strip(), activity=form.activity.data,
        working_group_code=form.working_group_code.data, description=form.description.data or "",
        merge_request_url=(form.merge_request_url.data or "").strip() or None)
    try:
        entry = hours.log_hours(db.session, current_actor(), data, backdate_days=_backdate_days(),
                                gitlab_base_url=gitlab)
    except InvalidInput as refusal:
        general = [] if attach_service_error(form, refusal.field, refusal.reason) else [refusal.reason]
        return _log_page(form, 400, general)
    flash(_("Your hours are logged. A reviewer of the working group will approve or reject them."), "success")
    return redirect(url_for("hours.mine", year=entry.worked_on.year))


# -------------------------------------------------------------------------- the queue


def _review_form(entry_id: int, **kwargs: object) -> HoursReviewForm:
    return HoursReviewForm(prefix=f"entry-{entry_id}", **kwargs)


def _queue_page(code: int = 200, general_errors: list[str] | None = None,
                failed: tuple[int, HoursReviewForm] | None = None) -> ResponseReturnValue:
    rows = hours.review_queue(db.session, current_actor())
    review_forms = {row.id: _review_form(row.id, formdata=None) for row in rows}
    if failed is not None and failed[0] in review_forms:
        review_forms[failed[0]] = failed[1]
    page = render_template("hours/review_queue.html", rows=rows, review_forms=review_forms,
                           general_errors=general_errors or [],
                           failed_form=failed[1] if failed else None)
    return page, code


@bp.get("/hours/review")
@permission_required(Permission.REVIEW_WORK)
def review_queue() -> ResponseReturnValue:
    return _queue_page()


@bp.post("/hours/<int(max=2147483647):entry_id>/review")
@permission_required(Permission.REVIEW_WORK)
def review(entry_id: int) -> ResponseReturnValue:
    form = _review_form(entry_id)
    if not form.validate_on_submit():
        return _queue_page(400, failed=(entry_id, form))
    try:
        entry = hours.review_hours(db.session, current_actor(), entry_id, form.verdict.data,
                                   form.comment.data or "")
    except InvalidInput as refusal:
        general = [] if attach_service_error(form, refusal.field, refusal.reason) else [refusal.reason]
        return _queue_page(400, general, failed=(entry_id, form))
    except Conflict as refusal:
        return _queue_page(409, [conflict_message(refusal)])
    if entry.status == "approved":
        flash(_("The hours are approved."), "success")
    else:
        flash(_("The hours are rejected; the person sees your comment."), "success")
    return redirect(url_for("hours.review_queue"))


# ---------------------------------------------------------------------- the statement


def _format(raw: str | None) -> str | None:
    fmt = (raw or "pdf").strip().lower()
    return fmt if fmt in STATEMENT_FORMATS else None


def _download(username: str, year: int, fmt: str) -> Response:
    """The statement as a file; refusals propagate to the caller."""
    found = hours_statement.statement(db.session, current_actor(), username, year)
    lang = str(get_locale() or "en")
    content = (statement_csv(found) if fmt == "csv" else
               statement_report.render_pdf(found, lang if lang in statement_report.LANGUAGES else "en"))
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", found.username)
    response = Response(content, mimetype=MIME_TYPES[fmt].split(";")[0])
    if fmt == "csv":
        response.headers["Content-Type"] = MIME_TYPES[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="hours-statement-{safe}-{year}.{fmt}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _refused_download(message: str) -> ResponseReturnValue:
    return render_template("errors/400.html", reason=message), 400


@bp.get("/hours/statement")
@login_required
def statement() -> ResponseReturnValue:
    """The signed-in person's statement of `?year=` as `?format=pdf` (default) or `csv`."""
    year, error = _year(request.args.get("year"))
    fmt = _format(request.args.get("format"))
    if error:
        return _refused_download(error)
    if fmt is None:
        return _refused_download(_("The statement is downloaded as PDF or CSV."))
    person = db.session.get(Person, current_actor().person_id or 0)
    if person is None:
        abort(403)
    username = person.username
    try:
        return _download(username, year, fmt)
    except InvalidInput as refusal:
        return _refused_download(refusal.reason)


@bp.get("/hours/statements")
@login_required
def statements() -> ResponseReturnValue:
    """Anyone's statement for those who may read it: the form, or the file once a username is given."""
    # Other query arguments (`?lang=`) are not a request for a statement.
    asked = any(name in request.args for name in ("username", "year", "format"))
    form = StatementForm(formdata=request.args if asked else None,
                         data={"year": str(utcnow().year), "format": "pdf"})
    if not (request.args.get("username") or "").strip():
        if not _reads_others():
            abort(403)
        if asked:
            form.validate()
        return render_template("hours/statements.html", form=form, general_errors=[]), 400 if asked else 200
    if not form.validate():
        return render_template("hours/statements.html", form=form, general_errors=[]), 400
    year, error = _year(form.year.data)
    if error:
        attach_service_error(form, "year", error)
        return render_template("hours/statements.html", form=form, general_errors=[]), 400
    fmt = _format(form.format.data) or "pdf"
    try:
        return _download(form.username.data.strip(), year, fmt)
    except NotFound as refusal:
        message = _("Refused: %(reason)s.", reason=str(refusal).rstrip("."))
        attach_service_error(form, "username", message)
        return render_template("hours/statements.html", form=form, general_errors=[]), 404
    except InvalidInput as refusal:
        general = [] if attach_service_error(form, refusal.field, refusal.reason) else [refusal.reason]
        return render_template("hours/statements.html", form=form, general_errors=general), 400
