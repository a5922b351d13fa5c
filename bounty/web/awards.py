"""The awards pages: the rounds by year, a year's round (categories, nominations, votes, the
nomination form while nominations are open, a vote form per nomination while the vote is
open), its results, and the program admin's forms to open a round and its vote; the annual
report is asked for here and built on the job queue (`bounty.web.documents`).

The rules are `bounty.services.awards`' and who is named is `award_queries`' (a nominee or
voter who has not opted in to public listing is an "Anonymous contributor" unless the viewer
may see names). A refusal shows the page again with the message next to its field (400) or
above the form for a clash with the round's state (409); PermissionDenied is the 403 page.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from bounty.auth import current_actor
from bounty.auth.decorators import login_required, permission_required
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.models import AwardCategory, AwardRound, Nomination, Organisation, Person, utcnow
from bounty.services import award_queries, award_shortlist, awards
from bounty.services.award_queries import NominationView, VoteView
from bounty.services.award_shortlist import Suggestion
from bounty.services.errors import Conflict, InvalidInput, ServiceError
from bounty.web import awards_forms as af
from bounty.web import documents
from bounty.web.bounties import conflict_message
from bounty.web.forms import attach_service_error

bp = Blueprint("awards", __name__, url_prefix="/awards")

YEAR = "/<int(min=2000, max=2100):year>"
NOMINATION = "<int(min=1, max=2147483647):nomination_id>"

bp.add_app_template_global(af.phase_label, "award_phase_label")
bp.add_app_template_global(af.non_binding_label, "award_non_binding_label")
bp.add_app_template_global(af.rule_label, "award_rule_label")


def _locale() -> str:
    return str(get_locale() or "en")


def may_read_report() -> bool:
    """Whether the viewer may ask for the annual awards report (program admins, auditors)."""
    actor = current_actor()
    return actor.can(Permission.MANAGE_AWARDS) or actor.can(Permission.READ_EVERYTHING)


# ------------------------------------------------------------------------------- rounds


def index_page(form: af.OpenRoundForm | None = None, code: int = 200,
               general_errors: list[str] | None = None) -> ResponseReturnValue:
    """Every round, newest year first, with its phase; the admin's form to open one."""
    now = utcnow()
    rounds = db.session.execute(select(AwardRound).order_by(AwardRound.year.desc())).scalars().all()
    rows = [(award_round, award_queries.round_phase(award_round, now)) for award_round in rounds]
    can_open = current_actor().can(Permission.MANAGE_AWARDS)
    if form is None and can_open:
        form = af.OpenRoundForm(formdata=None, data={"year": now.year})
    return render_template("awards/index.html", rows=rows, can_open=can_open, form=form,
                           general_errors=general_errors or []), code


@bp.get("")
def index() -> ResponseReturnValue:
    return index_page()


@bp.post("")
@permission_required(Permission.MANAGE_AWARDS)
def open_round() -> ResponseReturnValue:
    form = af.OpenRoundForm()
    if not form.validate_on_submit():
        return index_page(form, 400)
    year = form.year.data or 0
    try:
        awards.open_round(db.session, current_actor(), year, form.close_at())
    except InvalidInput as refusal:
        field = af.FIELD_NAMES.get(refusal.field, refusal.field)
        general = [] if attach_service_error(form, field, refusal.reason) else [refusal.reason]
        return index_page(form, 400, general)
    except Conflict as refusal:
        return index_page(form, 409, [conflict_message(refusal)])
    flash(_("The %(year)d awards round is open for nominations.", year=year), "success")
    return redirect(url_for("awards.round_detail", year=year))


# -------------------------------------------------------------------------------- a round


def _grouped(views: list[NominationView]) -> dict[str, list[NominationView]]:
    grouped: dict[str, list[NominationView]] = {}
    for view in views:
        grouped.setdefault(view.category_code, []).append(view)
    return grouped


def round_page(year: int, code: int = 200, general_errors: list[str] | None = None, *,
               nomination_form: af.NominationForm | None = None,
               vote_forms: dict[int, af.VoteForm] | None = None,
               open_vote_form: af.OpenVoteForm | None = None) -> ResponseReturnValue:
    """The round of `year`; the forms given stand in for blank ones (what was typed, errors)."""
    award_round = award_queries.round_of(db.session, year)
    if award_round is None:
        abort(404)
    actor = current_actor()
    phase = award_queries.round_phase(award_round)
    categories = award_queries.categories(db.session)
    views = award_queries.nominations(db.session, actor, year)
    signed_in = actor.person_id is not None
    can_nominate = phase == award_queries.NOMINATING and signed_in and actor.can(Permission.NOMINATE)
    can_vote = phase == award_queries.VOTING and signed_in and actor.can(Permission.VOTE_ON_AWARDS)
    can_open_vote = (actor.can(Permission.MANAGE_AWARDS) and award_round.voting_opens_at is None
                     and phase == award_queries.WAITING)
    if can_nominate and nomination_form is None:
        nomination_form = af.NominationForm(formdata=None)
    if nomination_form is not None:
        nomination_form.set_choices(categories, _locale())
    forms: dict[int, af.VoteForm] = {}
    mine: dict[int, VoteView | None] = {}
    if can_vote:
        for view in views:
            own = next((vote for vote in view.votes if vote.voter_id == actor.person_id), None)
            mine[view.id] = own
            data = {"value": own.value, "reason": own.reason or ""} if own else {}
            forms[view.id] = af.vote_form(view.id, formdata=None, data=data)
        forms.update(vote_forms or {})
    if can_open_vote and open_vote_form is None:
        open_vote_form = af.OpenVoteForm(formdata=None)
    suggest_form: af.SuggestForm | None = None
    suggestions: list[Suggestion] = []
    usernames: dict[int, str] = {}
    if can_nominate:
        suggest_form, suggestions, usernames = _suggestions(year, categories, nomination_form)
    error_forms = [nomination_form if code != 200 else None, open_vote_form if code != 200 else None,
                   *(vote_forms or {}).values()]
    return render_template(
        "awards/round.html", award_round=award_round, year=year, phase=phase, categories=categories,
        nominations=_grouped(views), locale=_locale(), can_nominate=can_nominate, can_vote=can_vote,
        can_open_vote=can_open_vote, nomination_form=nomination_form, vote_forms=forms, my_votes=mine,
        open_vote_form=open_vote_form, suggest_form=suggest_form, suggestions=suggestions,
        usernames=usernames, general_errors=general_errors or [], error_forms=error_forms,
        category_name=af.category_name, category_eligibility=af.category_eligibility,
    ), code


def _suggestions(year: int, categories: list[AwardCategory], nomination_form: af.NominationForm | None
                 ) -> tuple[af.SuggestForm, list[Suggestion], dict[int, str]]:
    """The shortlist beside the nomination form: the year's leaderboard, kept to those eligible
    in the category asked for (`?suggest=`), else the one being nominated in, else the first."""
    form = af.SuggestForm(formdata=request.args)
    form.set_choices(categories, _locale())
    codes = [category.code for category in categories]
    typed = nomination_form.category_code.data if nomination_form is not None else None
    code = form.suggest.data if form.suggest.data in codes else (typed if typed in codes else None)
    code = code or (codes[0] if codes else None)
    form.suggest.data = code
    if code is None:
        return form, [], {}
    found = award_shortlist.shortlist(db.session, year, code, viewer=current_actor())
    ids = [s.person_id for s in found if s.person_id is not None]
    rows = db.session.execute(select(Person.id, Person.username).where(Person.id.in_(ids))) if ids else []
    usernames = {person_id: username for person_id, username in rows}
    return form, found, usernames


@bp.get(YEAR)
def round_detail(year: int) -> ResponseReturnValue:
    return round_page(year)


@bp.post(f"{YEAR}/vote")
@permission_required(Permission.MANAGE_AWARDS)
def open_vote(year: int) -> ResponseReturnValue:
    form = af.OpenVoteForm()
    if not form.validate_on_submit():
        return round_page(year, 400, open_vote_form=form)
    try:
        awards.open_vote(db.session, current_actor(), year, form.close_moment())
    except InvalidInput as refusal:
        general = [] if attach_service_error(form, refusal.field, refusal.reason) else [refusal.reason]
        return round_page(year, 400, general, open_vote_form=form)
    except Conflict as refusal:
        return round_page(year, 409, [conflict_message(refusal)], open_vote_form=form)
    flash(_("The vote of %(year)d is open.", year=year), "success")
    return redirect(url_for("awards.round_detail", year=year))


def _nominee_ids(form: af.NominationForm) -> tuple[int | None, int | None]:
    """The ids of the nominee typed; InvalidInput naming the form's field when nobody matches."""
    username = (form.nominee_username.data or "").strip()
    organisation = (form.nominee_organisation.data or "").strip()
    person_id = organisation_id = None
    if username:
        person_id = db.session.execute(select(Person.id).where(
            Person.username == username, Person.merged_into_id.is_(None))).scalar()
        if person_id is None:
            raise InvalidInput("nominee_username", _("No person has this username."))
    if organisation:
        organisation_id = db.session.execute(
            select(Organisation.id).where(Organisation.name == organisation)).scalar()
        if organisation_id is None:
            raise InvalidInput("nominee_organisation", _("No organisation has this name."))
    return person_id, organisation_id


@bp.post(f"{YEAR}/nominations")
@permission_required(Permission.NOMINATE)
def nominate(year: int) -> ResponseReturnValue:
    if award_queries.round_of(db.session, year) is None:
        abort(404)
    form = af.NominationForm()
    form.set_choices(award_queries.categories(db.session), _locale())
    if not form.validate_on_submit():
        return round_page(year, 400, nomination_form=form)
    try:
        person_id, organisation_id = _nominee_ids(form)
        awards.nominate(db.session, current_actor(), year, form.category_code.data or "",
                        form.citation.data or "", nominee_person_id=person_id,
                        nominee_organisation_id=organisation_id)
    except InvalidInput as refusal:
        field = af.FIELD_NAMES.get(refusal.field, refusal.field)
        general = [] if attach_service_error(form, field, refusal.reason) else [refusal.reason]
        return round_page(year, 400, general, nomination_form=form)
    except Conflict as refusal:
        if str(refusal).startswith(awards.ALREADY_NOMINATED):
            field = "nominee_organisation" if form.nominee_organisation.data else "nominee_username"
            attach_service_error(form, field, str(refusal))
            return round_page(year, 409, nomination_form=form)
        return round_page(year, 409, [conflict_message(refusal)], nomination_form=form)
    flash(_("Your nomination is recorded."), "success")
    return redirect(url_for("awards.round_detail", year=year))


@bp.post(f"{YEAR}/nominations/{NOMINATION}/vote")
@permission_required(Permission.VOTE_ON_AWARDS)
def vote(year: int, nomination_id: int) -> ResponseReturnValue:
    award_round = award_queries.round_of(db.session, year)
    nomination = db.session.get(Nomination, nomination_id)
    if award_round is None or nomination is None or nomination.round_id != award_round.id:
        abort(404)
    form = af.vote_form(nomination_id)
    if not form.validate_on_submit():
        return round_page(year, 400, vote_forms={nomination_id: form})
    try:
        cast = awards.cast_vote(db.session, current_actor(), nomination_id, form.value.data or "",
                                form.reason.data or "")
    except InvalidInput as refusal:
        general = [] if attach_service_error(form, refusal.field, refusal.reason) else [refusal.reason]
        return round_page(year, 400, general, vote_forms={nomination_id: form})
    except Conflict as refusal:
        return round_page(year, 409, [conflict_message(refusal)], vote_forms={nomination_id: form})
    if cast.is_binding:
        flash(_("Your vote is recorded; it is binding."), "success")
    else:
        flash(_("Your vote is recorded as non-binding: %(why)s.",
                why=af.non_binding_label(cast.non_binding_reason)), "success")
    return redirect(url_for("awards.round_detail", year=year, _anchor=f"nomination-{nomination_id}"))


# ------------------------------------------------------------------------------ results


def results_page(year: int, code: int = 200, report_form: af.ReportForm | None = None,
                 general_errors: list[str] | None = None) -> ResponseReturnValue:
    found = award_queries.results(db.session, current_actor(), year)
    can_report = may_read_report()
    if can_report and report_form is None:
        report_form = af.ReportForm(formdata=None, data={"lang": _locale()})
    return render_template("awards/results.html", results=found, year=year, locale=_locale(),
                           can_report=can_report, report_form=report_form,
                           general_errors=general_errors or [], category_name=af.category_name), code


@bp.get(f"{YEAR}/results")
def results(year: int) -> ResponseReturnValue:
    return results_page(year)


@bp.post(f"{YEAR}/report")
@login_required
def report(year: int) -> ResponseReturnValue:
    """Ask for the annual awards report of `year`; the document's progress page follows."""
    if not may_read_report():
        abort(403)
    if award_queries.round_of(db.session, year) is None:
        abort(404)
    form = af.ReportForm()
    if not form.validate_on_submit():
        return results_page(year, 400, form)

    def refused(refusal: ServiceError) -> ResponseReturnValue:
        reason = refusal.reason if isinstance(refusal, InvalidInput) else str(refusal)
        if isinstance(refusal, InvalidInput) and attach_service_error(form, refusal.field, reason):
            return results_page(year, 400, form)
        return results_page(year, 400 if isinstance(refusal, InvalidInput) else 409, form, [reason])

    return documents.request_and_redirect("awards_report", {"year": year, "lang": form.lang.data},
                                          refused=refused)
