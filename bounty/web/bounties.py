"""The bounty pages: the board, a bounty's page with its timeline, the claim, submit and review
forms, the reviewers' queue and a contributor's own work.

Views parse the request, call `bounty_queries` (which alone decides what a viewer may see,
embargo included) or a workflow service (which re-checks permissions and owns the
transaction), and render. A service's refusal comes back as the same page with the message
next to the field: 400 for bad input, 409 when the bounty is already claimed (or an approval
meets merged work that is not DCO-clean), 403 when the viewer may not act, 404 when the
bounty is not there for this viewer. The page shows each linked merge request's verdict from
the synced merged work (`submissions.linked_work`), failing commits with their reason text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_currency, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select

from bounty.auth import current_actor
from bounty.auth.decorators import login_required, permission_required
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.ledger import InsufficientFunds, LedgerError, MissingRate, Money
from bounty.models import AuditEvent, Bounty, Person
from bounty.services import bounty_queries, claims, submissions
from bounty.services import my_work as my_work_queries
from bounty.services.errors import AlreadyClaimed, Conflict, InvalidInput
from bounty.web import forms, page_cache
from bounty.web.forms import ActionForm, CancelForm, FilterForm, ReviewForm, SubmitForm, attach_service_error

bp = Blueprint("bounties", __name__)

PER_PAGE = 25
MAX_PAGE = 10_000
DEFAULT_GITLAB_URL = "https://gitlab.example.org"

# What each audit action of a bounty's timeline says to a reader; others show their code.
EVENT_LABELS = {
    "bounty.create": _l("Created as a draft"),
    "bounty.update": _l("Edited"),
    "bounty.publish": _l("Published"),
    "bounty.cancel": _l("Cancelled"),
    "reservation.hold": _l("Amount reserved in the pool"),
    "reservation.release": _l("Reserve released"),
    "reservation.consume": _l("Reserve paid out"),
    "claim.create": _l("Claimed"),
    "claim.submit": _l("Work submitted"),
    "claim.review": _l("Reviewed"),
    "claim.approve": _l("Approved"),
    "claim.reject": _l("Rejected"),
    "claim.lapse": _l("Claim lapsed"),
    "claim.withdraw": _l("Claim withdrawn"),
    "claim.remediation_breach": _l("Security-fix clock breached"),
    "claim.link": _l("Merge request linked"),
}
LEDGER_KIND_LABELS = {"payable": _l("Payable"), "reversal": _l("Reversal"), "payment": _l("Payment")}
DCO_LABELS = {"not yet checked": _l("not yet checked"), "signed": _l("signed off"),
              "unsigned": _l("not signed off")}


@bp.app_template_global()
def status_label(status: str) -> str:
    return str(forms.STATUS_LABELS.get(status, status))


@bp.app_template_global()
def category_label(code: str, recorded_name: str) -> str:
    return forms.category_label(code, recorded_name)


@bp.app_template_global()
def verdict_label(verdict: str) -> str:
    return str(forms.VERDICT_LABELS.get(verdict, verdict))


@bp.app_template_global()
def dco_label(status: str) -> str:
    return str(DCO_LABELS.get(status, status))


@bp.app_template_global()
def work_problem(work: submissions.LinkedWork) -> str:
    """Why a linked merge request blocks an approval, in the reader's language ("" when it does not)."""
    name = work.name
    if work.problem == "unsynced":
        return _("Merge request %(mr)s is not yet synced from GitLab.", mr=name)
    if work.problem == "unmerged":
        return _("Merge request %(mr)s is not merged.", mr=name)
    if work.problem == "unchecked":
        return _("Merge request %(mr)s has not been checked for the DCO yet.", mr=name)
    if work.problem != "dco":
        return ""
    if not work.failing_commits:
        return _("Merge request %(mr)s fails the DCO check.", mr=name)
    first = work.failing_commits[0]
    text = _("Merge request %(mr)s fails the DCO check: commit %(sha)s: %(reason)s", mr=name,
             sha=first.short_sha, reason=first.reason)
    more = len(work.failing_commits) - 1
    if more:
        text += " " + ngettext("(and %(num)d more failing commit)", "(and %(num)d more failing commits)",
                               more)
    return text


@bp.app_template_global()
def event_label(action: str) -> str:
    return str(EVENT_LABELS.get(action, action))


@bp.app_template_global()
def ledger_kind_label(kind: str) -> str:
    return str(LEDGER_KIND_LABELS.get(kind, kind))


@bp.app_template_global()
def page_url(number: int) -> str:
    """This board page with the same filters, at page `number`."""
    return url_for("bounties.board", **{**request.args.to_dict(), "page": number})


@bp.get("/bounties")
@page_cache.public_page
def board() -> ResponseReturnValue:
    """Bounties the viewer may see, filtered, sorted and a page at a time."""
    session = db.session
    form = FilterForm(formdata=request.args)
    form.set_choices(forms.group_choices(session), forms.category_choices(session),
                     forms.currencies(session))
    page, page_error = _page_number(request.args.get("page"))
    valid = form.validate()
    if not valid or page_error:
        general = [page_error] if page_error else []
        return render_template("bounties/board.html", form=form, result=None,
                               general_errors=general, pages=[]), 400
    filters = bounty_queries.BountyFilter(
        working_group=form.working_group.data or None, category=form.category.data or None,
        status=form.status.data or None, currency=form.currency.data or None,
        text=(form.q.data or "").strip() or None, sort=form.sort.data or "newest",
    )
    try:
        result = bounty_queries.list_bounties(session, current_actor(), filters, page=page,
                                              per_page=PER_PAGE)
    except InvalidInput as refusal:
        # The form checks every value first; this is the service's word on what slipped through.
        on_field = attach_service_error(form, _filter_field(refusal.field), refusal.reason)
        return render_template("bounties/board.html", form=form, result=None, pages=[],
                               general_errors=[] if on_field else [refusal.reason]), 400
    last_page = max(1, math.ceil(result.total / PER_PAGE))
    return render_template("bounties/board.html", form=form, result=result, general_errors=[],
                           pages=_page_links(page, last_page), last_page=last_page)


def _filter_field(service_field: str) -> str:
    return {"text": "q"}.get(service_field, service_field)


def _page_number(raw: str | None) -> tuple[int, str | None]:
    if raw is None or raw == "":
        return 1, None
    if raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE:
        return int(raw), None
    return 1, _("“%(value)s” is not a page number: use a whole number from 1.", value=raw[:20])


def _page_links(page: int, last_page: int) -> list[int | None]:
    """Page numbers to link: the first, the last and two either side of this one (None: a gap)."""
    wanted = {1, last_page, *range(max(1, page - 2), min(last_page, page + 2) + 1)}
    links: list[int | None] = []
    for number in sorted(wanted):
        if links and links[-1] is not None and number - links[-1] > 1:
            links.append(None)
        links.append(number)
    return links


@bp.get("/bounties/<int:bounty_id>")
def detail(bounty_id: int) -> ResponseReturnValue:
    return detail_page(bounty_id)


def detail_page(bounty_id: int, code: int = 200, general_errors: list[str] | None = None,
                 **replacements: FlaskForm) -> ResponseReturnValue:
    """The bounty's page; `replacements` stand in for its blank forms (what was typed, errors)."""
    found = bounty_queries.get_bounty(db.session, current_actor(), bounty_id)
    context: dict[str, Any] = {
        "claim_form": ActionForm(formdata=None), "submit_form": SubmitForm(formdata=None),
        "review_form": ReviewForm(formdata=None), "publish_form": ActionForm(formdata=None),
        "cancel_form": CancelForm(formdata=None),
    }
    context.update(replacements)
    category = found.category
    work = submissions.linked_work(db.session, found.claim.id) if found.claim is not None else []
    page = render_template(
        "bounties/detail.html", d=found, work=work, general_errors=general_errors or [],
        error_forms=list(replacements.values()), issue_url=_issue_url(found.bounty),
        band_low=Money(category.min_minor, category.band_currency),
        band_high=Money(category.max_minor, category.band_currency),
        security_fix=bounty_queries.is_security_fix(category),
        actor_names=_names(found.timeline), **context,
    )
    return page, code


def _issue_url(bounty: Bounty) -> str | None:
    if not bounty.gitlab_project_path or not bounty.gitlab_issue_iid:
        return None
    base = (current_app.config.get("GITLAB_URL") or DEFAULT_GITLAB_URL).rstrip("/")
    return f"{base}/{bounty.gitlab_project_path}/-/issues/{bounty.gitlab_issue_iid}"


def _names(events: list[AuditEvent]) -> dict[int, str]:
    """Display names of the people in a timeline (the audit log keeps their ids)."""
    ids = {event.actor_id for event in events if event.actor_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(Person.id, Person.display_name).where(Person.id.in_(ids)))
    return {person_id: name for person_id, name in rows}


def act(bounty_id: int, form: FlaskForm, form_name: str, action: Callable[[], object],
        done: str) -> ResponseReturnValue:
    """Validate `form`, run the service call `action`, and answer as the module docstring says."""
    if not form.validate_on_submit():
        return detail_page(bounty_id, 400, **{form_name: form})
    try:
        action()
    except AlreadyClaimed:
        message = _("Already claimed: someone else claimed this bounty first.")
        return detail_page(bounty_id, 409, [message])
    except submissions.MergeRequestNotReady as refusal:
        message = _("Refused: an approval needs merged, DCO-clean work. %(problem)s",
                    problem=work_problem(refusal.work))
        return detail_page(bounty_id, 409, [message])
    except InvalidInput as refusal:
        general = [] if attach_service_error(form, refusal.field, refusal.reason) else [refusal.reason]
        return detail_page(bounty_id, 400, general, **{form_name: form})
    except Conflict as refusal:
        return detail_page(bounty_id, 409, [conflict_message(refusal)])
    except LedgerError as refusal:
        # An empty pool is a clash with the state of things, not a typing mistake.
        code = 409 if isinstance(refusal, InsufficientFunds) else 400
        return detail_page(bounty_id, code, [ledger_message(refusal)])
    flash(done, "success")
    return redirect(url_for("bounties.detail", bounty_id=bounty_id))


@bp.post("/bounties/<int:bounty_id>/claim")
@permission_required(Permission.CLAIM_BOUNTY)
def claim(bounty_id: int) -> ResponseReturnValue:
    return act(bounty_id, ActionForm(), "claim_form",
               lambda: claims.claim_bounty(db.session, current_actor(), bounty_id),
               _("You have claimed this bounty. Submit your merge requests before the claim expires."))


@bp.post("/bounties/<int:bounty_id>/submit")
@permission_required(Permission.CLAIM_BOUNTY)
def submit(bounty_id: int) -> ResponseReturnValue:
    form = SubmitForm()
    gitlab = current_app.config.get("GITLAB_URL") or DEFAULT_GITLAB_URL
    return act(bounty_id, form, "submit_form",
               lambda: claims.submit_claim(db.session, current_actor(), bounty_id, form.urls(),
                                           gitlab_base_url=gitlab),
               _("Your work is submitted for review."))


@bp.post("/bounties/<int:bounty_id>/review")
@permission_required(Permission.REVIEW_WORK)
def review(bounty_id: int) -> ResponseReturnValue:
    form = ReviewForm()
    return act(bounty_id, form, "review_form",
               lambda: claims.review_claim(db.session, current_actor(), bounty_id, form.verdict.data,
                                           (form.comment.data or "").strip()),
               _("Your review is recorded."))


@bp.get("/review")
@permission_required(Permission.REVIEW_WORK)
def review_queue() -> ResponseReturnValue:
    rows = bounty_queries.review_queue(db.session, current_actor())
    return render_template("bounties/review_queue.html", rows=rows)


@bp.get("/me")
@login_required
def my_work() -> ResponseReturnValue:
    work = my_work_queries.my_work(db.session, current_actor())
    return render_template("bounties/my_work.html", work=work)


def conflict_message(refusal: Conflict) -> str:
    return _("Refused: %(reason)s.", reason=str(refusal).rstrip("."))


def ledger_message(refusal: LedgerError) -> str:
    """A money refusal in the reader's language, amounts formatted for their locale."""
    if isinstance(refusal, InsufficientFunds):
        return _("Refused: the pool cannot cover %(needed)s: only %(available)s is available.",
                 needed=_money_text(refusal.needed), available=_money_text(refusal.available))
    if isinstance(refusal, MissingRate):
        return _("Refused: no exchange rate for %(currency)s is recorded yet; finance imports "
                 "the rates.", currency=refusal.currency)
    return _("Refused: %(reason)s.", reason=str(refusal).rstrip("."))


def _money_text(text: str) -> str:
    """An amount as ledger errors state it ("EUR 1000.00"), formatted for the reader's locale."""
    code, _space, amount = text.partition(" ")
    try:
        money = Money.parse(amount, code)
    except LedgerError:
        return text
    return format_currency(money.to_decimal(), money.currency)
