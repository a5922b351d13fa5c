"""Public leaderboards and their charts: the ranking of a period (all time, a year, a quarter)
overall or for one jurisdiction, working group or organisation, a page at a time, with three
charts (top contributors, activity over time, per jurisdiction).

No sign-in is needed. Who is named is `bounty.services.leaderboards`' rule alone: a person
who has not agreed to be listed is an "Anonymous contributor" (no name, link or organisation)
to everybody but auditors and program admins. The page is served from the anonymous page
cache while nothing has changed; a change of consent records an audit event, which moves the
cache's stamp, so the next request already reads the new consent.

Each chart is SVG from `bounty.reports.charts` at its own URL (same query as the page) and
sits in the page as an `<img>` with a text alternative, next to a table of the same figures.
The SVG carries its own style sheet, so its response has its own Content-Security-Policy:
inline styles only, nothing that runs, loads or frames.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, ValidationError
from wtforms.fields.choices import SelectChoice

from bounty.auth import current_actor
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.models import Jurisdiction, Organisation, utcnow
from bounty.reports import charts
from bounty.services import leaderboard_charts, leaderboards
from bounty.services.errors import InvalidInput, NotFound
from bounty.services.leaderboards import Leaderboard, LeaderboardRow, Period
from bounty.web import forms, page_cache
from bounty.web.forms import attach_service_error
from bounty.web.public import JURISDICTION_NAMES

bp = Blueprint("leaderboards", __name__, url_prefix="/leaderboards")

PER_PAGE = 25
MAX_PAGE = 10_000
TOP_N = 10
# Years offered in the period list, counting back from the current one.
YEARS_OFFERED = 5
CHARTS = ("top", "activity", "jurisdictions")
# What the SVG of a chart may do when opened on its own: apply its own <style>, nothing else.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

VIEW_LABELS = {
    "overall": _l("Overall"),
    "jurisdiction": _l("Per jurisdiction"),
    "working_group": _l("Per working group"),
    "organisation": _l("Per organisation"),
}
KEY_KINDS = {"jurisdiction": _l("Jurisdictions"), "working_group": _l("Working groups"),
             "organisation": _l("Organisations")}


class _KeyFitsView:
    """The key names one of the chosen view's jurisdictions, groups or organisations."""

    def __call__(self, form: LeaderboardForm, field: SelectField) -> None:
        view = form.view.data or "overall"
        if view == "overall":
            if field.data:
                raise ValidationError(_l("The overall view takes no choice here: leave it blank, or pick "
                                         "the per jurisdiction, working group or organisation view."))
            return
        kind = str(KEY_KINDS.get(view, ""))
        allowed = {choice.value for choice in field.choices or () if choice.optgroup == kind}
        if field.data not in allowed:
            raise ValidationError(_l("Choose which one of the %(kind)s to show.", kind=kind.lower()))


class _ChoiceOf:
    def __call__(self, form: FlaskForm, field: SelectField) -> None:
        if field.data not in {choice.value for choice in field.choices or ()}:
            raise ValidationError(_l("Choose one of the listed values."))


class LeaderboardForm(FlaskForm):
    """The period and the view, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    period = SelectField(_l("Period"), validate_choice=False, validators=[_ChoiceOf()])
    view = SelectField(_l("View"), default="overall", validate_choice=False, validators=[_ChoiceOf()])
    key = SelectField(_l("Jurisdiction, working group or organisation"), validate_choice=False,
                      validators=[_KeyFitsView()],
                      description=_l("For the per jurisdiction, working group and organisation views."))

    def set_choices(self, asked_period: Period | None) -> None:
        periods = period_choices(utcnow().year)
        if asked_period is not None and asked_period.text not in {c.value for c in periods}:
            periods.append(SelectChoice(asked_period.text, period_label(asked_period)))
        self.period.choices = periods
        self.view.choices = [SelectChoice(view, str(label)) for view, label in VIEW_LABELS.items()]
        self.key.choices = [SelectChoice("", "—"), *key_choices()]


def period_label(period: Period) -> str:
    if period.kind == "all":
        return _("All time")
    if period.kind == "year":
        return str(period.year)
    return _("%(year)s, quarter %(quarter)s", year=period.year, quarter=period.quarter)


def period_choices(this_year: int) -> list[SelectChoice]:
    """All time, then each recent year followed by its quarters that have begun."""
    now = utcnow()
    choices = [SelectChoice("all", _("All time"))]
    for year in range(this_year, this_year - YEARS_OFFERED, -1):
        choices.append(SelectChoice(str(year), str(year)))
        last_quarter = (now.month - 1) // 3 + 1 if year == now.year else 4
        for quarter in range(last_quarter, 0, -1):
            period = leaderboards.parse_period(f"{year}-Q{quarter}")
            choices.append(SelectChoice(period.text, period_label(period)))
    return choices


def key_choices() -> list[SelectChoice]:
    """Jurisdictions, working groups and organisations, each kind in its own `<optgroup>`."""
    session = db.session
    codes = session.execute(select(Jurisdiction.code).order_by(Jurisdiction.code)).scalars()
    choices = [SelectChoice(code, str(JURISDICTION_NAMES.get(code, code)),
                            optgroup=str(KEY_KINDS["jurisdiction"])) for code in codes]
    choices += [SelectChoice(c.value, c.label, optgroup=str(KEY_KINDS["working_group"]))
                for c in forms.group_choices(session)]
    organisations = session.execute(select(Organisation.id, Organisation.name).order_by(Organisation.name))
    choices += [SelectChoice(str(org_id), name, optgroup=str(KEY_KINDS["organisation"]))
                for org_id, name in organisations]
    return choices


@dataclass(frozen=True)
class Query:
    """A checked request: the period, the view and its key."""

    period: Period
    view: str
    key: str | None


def read_query() -> tuple[LeaderboardForm, Query | None]:
    """The form filled from the query string, and the query when every field is valid."""
    asked = (request.args.get("period") or str(utcnow().year)).strip()
    try:
        period: Period | None = leaderboards.parse_period(asked)
    except InvalidInput:
        period = None
    form = LeaderboardForm(formdata=request.args, data={"period": period.text if period else asked})
    form.set_choices(period)
    if period is not None:
        # "2026-q3" and "2026-Q3" are one period: show the one the list offers.
        form.period.data = period.text
    valid = form.validate()
    if period is None:
        form.period.errors = [_("Choose a period from the list: all time, a year or a quarter.")]
    if not valid or period is None:
        return form, None
    view = form.view.data or "overall"
    key = form.key.data or None
    try:
        leaderboard_charts.check_view(db.session, view, key)
    except InvalidInput as refusal:
        attach_service_error(form, refusal.field, refusal.reason)
        return form, None
    return form, Query(period, view, key)


def page_number() -> tuple[int, str | None]:
    raw = request.args.get("page", "")
    if raw == "":
        return 1, None
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE:
        return int(raw), None
    return 1, _("“%(value)s” is not a page number: use a whole number from 1.", value=raw[:20])


def page_links(page: int, last_page: int) -> list[int | None]:
    """Page numbers to link: the first, the last and two either side of this one (None: a gap)."""
    wanted = sorted({1, last_page, *range(max(1, page - 2), min(last_page, page + 2) + 1)})
    links: list[int | None] = []
    for number in wanted:
        if links and links[-1] is not None and number - links[-1] > 1:
            links.append(None)
        links.append(number)
    return links


@bp.get("")
@page_cache.public_page
def index() -> ResponseReturnValue:
    """The leaderboard of the period and view asked for, a page at a time, with its charts."""
    form, query = read_query()
    page, page_error = page_number()
    if query is None or page_error:
        return render_template("leaderboards/index.html", form=form, board=None,
                               general_errors=[page_error] if page_error else []), 400
    try:
        board = leaderboards.leaderboard(db.session, query.period, view=query.view, key=query.key,
                                         limit=PER_PAGE, offset=(page - 1) * PER_PAGE, viewer=current_actor())
    except InvalidInput as refusal:
        general = [] if attach_service_error(form, refusal.field, refusal.reason) else [refusal.reason]
        return render_template("leaderboards/index.html", form=form, board=None, general_errors=general), 400
    except NotFound as refusal:
        attach_service_error(form, "key", str(refusal))
        return render_template("leaderboards/index.html", form=form, board=None, general_errors=[]), 400
    last_page = max(1, math.ceil(board.total / PER_PAGE))
    args = {"period": query.period.text, "view": query.view, "key": query.key}
    return render_template(
        "leaderboards/index.html", form=form, board=board, query=query, page=page, last_page=last_page,
        pages=page_links(page, last_page), general_errors=[], period_label=period_label(query.period),
        view_label=_view_label(query), profile_url=_profile_url, number=_number,
        charts=[chart_data(name, query, board) for name in CHARTS],
        page_url=lambda number: url_for("leaderboards.index", page=number, **args),
        chart_url=lambda name: url_for("leaderboards.chart", name=name, lang=str(get_locale()), **args),
    )


@bp.get("/charts/<any(top, activity, jurisdictions):name>.svg")
def chart(name: str) -> ResponseReturnValue:
    """One chart of the leaderboard as SVG, for the same query as the page."""
    _form, query = read_query()
    if query is None:
        abort(400)
    try:
        data = chart_data(name, query)
    except (InvalidInput, NotFound):
        abort(400)
    response = Response(data.svg(), mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_POLICY
    # Names depend on who asks and on consent that may be withdrawn at any moment: no shared
    # cache keeps it, and the browser asks again each time (cheaply, with the ETag).
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Vary"] = "Cookie"
    response.add_etag()
    return response.make_conditional(request)


@dataclass(frozen=True)
class ChartData:
    """A chart's figures: what the SVG draws and the page's table of the same figures shows."""

    name: str
    kind: str
    title: str
    alt: str
    labels: list[str]
    series: dict[str, list[Decimal | int]]

    def svg(self) -> str:
        formatter = _number
        no_data = _("No activity in this period.")
        if self.kind == "line":
            return charts.line_chart(self.title, self.labels, self.series, value_formatter=formatter,
                                     no_data_text=no_data)
        return charts.bar_chart(self.title, self.labels, self.series, horizontal=self.name == "top",
                                value_formatter=formatter, no_data_text=no_data)


def chart_data(name: str, query: Query, board: Leaderboard | None = None) -> ChartData:
    """The figures of chart `name` for `query` (the top chart reuses `board`'s first page)."""
    session = db.session
    scope = _view_label(query)
    period = period_label(query.period)
    if name == "top":
        rows: Sequence[LeaderboardRow]
        if board is not None and board.rows and board.rows[0].rank == 1:
            rows = board.rows[:TOP_N]
        else:
            rows = leaderboards.leaderboard(session, query.period, view=query.view, key=query.key,
                                            limit=TOP_N, viewer=current_actor()).rows
        labels = [f"{row.rank}. {row.name or _('Anonymous contributor')}" for row in rows]
        return ChartData(name, "bar", _("Top contributors by score: %(scope)s, %(period)s", scope=scope,
                                        period=period),
                         _("Bar chart of the scores of the first %(count)d contributors; the table of the "
                           "ranking below gives the same figures.", count=len(rows)),
                         labels, {_("Score"): [row.score for row in rows]})
    if name == "activity":
        buckets = leaderboard_charts.activity(session, query.period, view=query.view, key=query.key)
        labels = [_bucket_label(bucket) for bucket in buckets]
        return ChartData(name, "line",
                         _("Activity over time: %(scope)s, %(period)s", scope=scope, period=period),
                         _("Line chart of merged merge requests and approved hours per month or quarter; "
                           "the table that follows gives the same figures."),
                         labels, {_("Merged merge requests"): [b.merged_mrs for b in buckets],
                                  _("Approved hours"): [b.approved_hours for b in buckets]})
    if name == "jurisdictions":
        figures = leaderboard_charts.by_jurisdiction(session, query.period, view=query.view, key=query.key)
        labels = [str(JURISDICTION_NAMES.get(f.code, f.code)) if f.code else _("No jurisdiction")
                  for f in figures]
        return ChartData(name, "bar", _("Activity per jurisdiction: %(scope)s, %(period)s", scope=scope,
                                        period=period),
                         _("Bar chart of merged merge requests and approved hours per jurisdiction; the "
                           "table that follows gives the same figures."),
                         labels, {_("Merged merge requests"): [f.merged_mrs for f in figures],
                                  _("Approved hours"): [f.approved_hours for f in figures]})
    raise NotFound(f"no chart {name!r}")


def _bucket_label(bucket: leaderboard_charts.Bucket) -> str:
    if bucket.kind == "month":
        return format_date(bucket.start, "MMM yyyy")
    return _("Q%(quarter)s %(year)s", quarter=(bucket.start.month - 1) // 3 + 1, year=bucket.start.year)


def _view_label(query: Query) -> str:
    if query.view == "overall":
        return _("all contributors")
    if query.view == "jurisdiction" and query.key:
        return str(JURISDICTION_NAMES.get(query.key.upper(), query.key))
    if query.view == "organisation" and query.key:
        organisation = db.session.get(Organisation, int(query.key))
        return organisation.name if organisation else query.key
    return query.key or ""


def _number(value: object) -> str:
    """A count, score or number of hours for the reader's locale ("1,234.5", "1 234,5")."""
    if value is None:
        return ""
    return format_decimal(Decimal(str(value)), format="#,##0.##")


def _profile_url(row: LeaderboardRow) -> str | None:
    """The row's profile, when the reader may open it (listed people; all of them for auditors)."""
    if row.username is None:
        return None
    actor = current_actor()
    if row.is_public or actor.can(Permission.READ_EVERYTHING) or actor.person_id == row.person_id:
        return url_for("profile.show", username=row.username)
    return None
