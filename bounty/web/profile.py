"""People's profiles (name, jurisdiction, organisation, badges with the date earned, standing this
year and of all time) and one's own consent to be listed on public pages.

A profile exists for the public only while its person agrees to be listed: to anyone else it
is a 404, except to the person themself and to those who may read everything (auditors), who
see it with a note that it is not public. Consent is `bounty.services.listing_consent`'s: it
records the change with its time and an audit event, and takes effect at once (the public
pages' cache keys on the audit chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from bounty.auth import current_actor
from bounty.auth.decorators import login_required, permission_required
from bounty.extensions import db
from bounty.governance.permissions import Permission
from bounty.models import Person, utcnow
from bounty.services import badges, leaderboards, listing_consent
from bounty.services.actors import Actor
from bounty.services.errors import Conflict, InvalidInput
from bounty.services.leaderboards import Period
from bounty.web import page_cache
from bounty.web.forms import attach_service_error
from bounty.web.public import JURISDICTION_NAMES

bp = Blueprint("profile", __name__, url_prefix="/people")

USERNAME_PATH = "/<string(maxlength=120):username>"
SOURCE_LABELS = {"web": _l("on this site"), "api": _l("through the API"), "cli": _l("by command"),
                 "admin": _l("by an administrator")}


class ListingForm(FlaskForm):
    """Listed by name on public pages, or not."""

    listing = RadioField(_l("On public pages"), choices=[
        SelectChoice("public", _l("Show my name, jurisdiction and organisation, and my profile")),
        SelectChoice("anonymous", _l("Show me as “Anonymous contributor”, with no profile")),
    ], validators=[InputRequired(message=_l("Choose one of the two."))])


@dataclass(frozen=True)
class Standing:
    """A person's place in the overall ranking of a period (rank None: not ranked)."""

    period_label: str
    rank: int | None
    total: int
    score: Decimal


def visible_person(username: str, actor: Actor) -> Person:
    """The person `username` if `actor` may see their profile; 404 otherwise."""
    person = db.session.execute(select(Person).where(Person.username == username)).scalar_one_or_none()
    if person is None or person.merged_into_id is not None:
        abort(404)
    allowed = actor.person_id == person.id or actor.can(Permission.READ_EVERYTHING)
    if not (person.is_public_listing or allowed):
        abort(404)
    return person


def standing(period: Period, label: str, person_id: int) -> Standing:
    """Where `person_id` stands overall in `period` (one query: `leaderboards.standing`)."""
    found = leaderboards.standing(db.session, period, person_id, viewer=current_actor())
    if found.row is None:
        return Standing(label, None, found.total, Decimal(0))
    return Standing(label, found.row.rank, found.total, found.row.score)


@bp.get(USERNAME_PATH)
@page_cache.public_page
def show(username: str) -> ResponseReturnValue:
    """A person's profile: who they are, their badges and where they stand."""
    actor = current_actor()
    person = visible_person(username, actor)
    year = utcnow().year
    code = person.jurisdiction_code
    standings = [standing(leaderboards.parse_period(str(year)), str(year), person.id),
                 standing(leaderboards.parse_period("all"), _("All time"), person.id)]
    return render_template(
        "profile/show.html", person=person, badges=badges.badges_of(db.session, person.id),
        lang=str(get_locale()), standings=standings, is_self=actor.person_id == person.id,
        jurisdiction_name=str(JURISDICTION_NAMES.get(code, code)) if code else "",
        number=lambda value: format_decimal(value, format="#,##0.##"),
    )


def listing_page(form: ListingForm | None = None, code: int = 200,
                 general_errors: list[str] | None = None) -> ResponseReturnValue:
    actor = current_actor()
    person = db.session.get(Person, actor.person_id) if actor.person_id is not None else None
    if person is None:
        abort(404)
    history = list(reversed(listing_consent.consent_history(db.session, actor, person.id)))
    if form is None:
        current = "public" if person.is_public_listing else "anonymous"
        form = ListingForm(formdata=None, data={"listing": current})
    return render_template(
        "profile/listing.html", person=person, form=form, history=history,
        can_change=actor.can(Permission.SET_OWN_LISTING), general_errors=general_errors or [],
        source_label=lambda source: str(SOURCE_LABELS.get(source, source)),
    ), code


@bp.get("/me/listing")
@login_required
def listing() -> ResponseReturnValue:
    """One's consent to be listed: its current state, when it last changed, and its history."""
    return listing_page()


@bp.post("/me/listing")
@permission_required(Permission.SET_OWN_LISTING)
def set_listing() -> ResponseReturnValue:
    """Give or withdraw consent; either takes effect on the next page anyone loads."""
    form = ListingForm()
    if not form.validate_on_submit():
        return listing_page(form, 400)
    is_public = form.listing.data == "public"
    try:
        change = listing_consent.record_public_listing(db.session, current_actor(), is_public, source="web")
    except InvalidInput as refusal:
        general = [] if attach_service_error(form, refusal.field, refusal.reason) else [refusal.reason]
        return listing_page(form, 400, general)
    except Conflict:
        return listing_page(form, 409, [_("This account was merged into another: choose from that one.")])
    if not change.changed:
        flash(_("Nothing changed: that was already your choice."), "info")
    elif is_public:
        flash(_("You are now listed by name on public pages."), "success")
    else:
        flash(_("You are no longer named on public pages: you appear as “Anonymous contributor”."), "success")
    return redirect(url_for("profile.listing"))
