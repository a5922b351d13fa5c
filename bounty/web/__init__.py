"""HTML blueprints: parse the request, authorise, call a service, render or redirect.

`register_blueprints` also owns what every page shares: the reader's locale (`?lang=`,
then a cookie, then the browser's preference, then `DEFAULT_LOCALE`), the template
filters that format money, shares and moments for that locale, what the navigation
offers the reader, and the error pages.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.units import format_unit
from flask import Flask, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_currency, format_date, format_datetime, format_percent, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import Forbidden, HTTPException
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.wrappers import Response

from bounty.auth import current_actor
from bounty.governance.permissions import Permission, Role
from bounty.ledger import Money
from bounty.services import identity_queries, statements
from bounty.services.errors import NotFound, PermissionDenied
from bounty.web import (
    activity,
    admin,
    awards,
    bounties,
    dev_login,
    documents,
    finance,
    grants,
    hooks,
    hours,
    identities,
    leaderboards,
    profile,
    public,
)
from bounty.web import auth as sign_in_views
from bounty.web.markdown import render_markdown

LOCALES = ("en", "fr")
LOCALE_COOKIE = "bounty_locale"
LOCALE_COOKIE_MAX_AGE = 365 * 24 * 3600

ROLE_LABELS = {
    Role.CONTRIBUTOR.value: _l("Contributor"),
    Role.REVIEWER.value: _l("Reviewer"),
    Role.SECURITY_COUNCIL.value: _l("Security council"),
    Role.PROGRAM_ADMIN.value: _l("Programme administrator"),
    Role.FINANCE.value: _l("Finance"),
    Role.AWARDS_COMMITTEE.value: _l("Awards committee"),
    Role.AUDITOR.value: _l("Auditor"),
}

# Status codes with a page of their own; any other HTTP error uses the generic page.
ERROR_TEMPLATES = {400: "errors/400.html", 403: "errors/403.html", 404: "errors/404.html",
                   500: "errors/500.html"}


def register_blueprints(app: Flask) -> None:
    app.register_blueprint(public.bp)
    app.register_blueprint(bounties.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(identities.bp)
    app.register_blueprint(hours.bp)
    app.register_blueprint(grants.bp)
    app.register_blueprint(finance.bp)
    app.register_blueprint(hooks.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(activity.bp)
    app.register_blueprint(awards.bp)
    app.register_blueprint(leaderboards.bp)
    app.register_blueprint(profile.bp)
    if app.config["DEMO_LOGIN"]:
        # Only registered when asked for: without DEMO_LOGIN the routes do not exist (404).
        app.register_blueprint(dev_login.bp)
    sign_in_views.register(app)

    # create_app binds Babel with the default locale; which locale a page uses is the pages' call.
    app.extensions["babel"].locale_selector = select_locale
    app.after_request(_remember_locale)
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_share, "share")
    app.add_template_filter(role_label, "role_label")
    app.add_template_filter(format_moment, "when")
    app.add_template_filter(format_day, "day")
    app.add_template_filter(format_hours, "hours")
    app.add_template_filter(render_markdown, "markdown")
    app.context_processor(_layout_context)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    # A service's refusal no view answered itself. The API's own handlers (on its blueprint)
    # answer its routes first, in its JSON shape.
    app.register_error_handler(PermissionDenied, _refused)
    app.register_error_handler(NotFound, _refused)


def select_locale() -> str:
    """The locale of this request's pages and of its money and date formatting."""
    asked = request.args.get("lang")
    if asked in LOCALES:
        return asked
    remembered = request.cookies.get(LOCALE_COOKIE)
    if remembered in LOCALES:
        return remembered
    return request.accept_languages.best_match(LOCALES) or current_app.config["DEFAULT_LOCALE"]


def _remember_locale(response: Response) -> Response:
    asked = request.args.get("lang")
    if asked in LOCALES and request.cookies.get(LOCALE_COOKIE) != asked:
        response.set_cookie(LOCALE_COOKIE, asked, max_age=LOCALE_COOKIE_MAX_AGE,
                            samesite="Lax", httponly=True, secure=request.is_secure)
    return response


def format_money(amount: Money) -> str:
    """`amount` formatted for the reader's locale, e.g. "€500,000.00" or "500 000,00 €"."""
    return format_currency(amount.to_decimal(), amount.currency)


def format_share(share: Decimal) -> str:
    """A share such as Decimal("0.15") as a percentage for the reader's locale ("15%")."""
    return format_percent(share, format="#,##0.##%")


def format_moment(moment: datetime, length: str = "medium") -> Markup:
    """A moment as a `<time>` element, written for the reader's locale (times in UTC)."""
    shown = format_datetime(moment, length)
    return Markup('<time datetime="{}">{} UTC</time>').format(moment.isoformat(), shown)


def format_day(day: date, length: str = "medium") -> Markup:
    """A date as a `<time>` element, written for the reader's locale."""
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), format_date(day, length))


def format_hours(hours: int) -> str:
    """A number of hours in words for the reader's locale ("336 hours", "336 heures")."""
    return format_unit(hours, "duration-hour", length="long", locale=get_locale())


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def _layout_context() -> dict[str, Any]:
    """What base.html needs on every page: the locale, the navigation, where to sign in and out."""
    actor = current_actor()
    return {
        "nav_can_review": actor.can(Permission.REVIEW_WORK),
        "nav_can_manage": actor.can(Permission.MANAGE_BOUNTIES),
        "nav_can_manage_identities": identity_queries.can_see_queue(actor),
        "nav_can_log_hours": actor.can(Permission.LOG_HOURS),
        "nav_can_finance": actor.can(Permission.MANAGE_PAYOUTS) or actor.can(Permission.READ_EVERYTHING),
        "nav_can_statements": any(actor.can(permission) for permission in statements.READERS),
        "current_locale": str(get_locale() or current_app.config["DEFAULT_LOCALE"]),
        "locales": LOCALES,
        "sign_in_url": _first_url("auth.login", "dev_login.login"),
        "sign_out_url": _first_url("auth.logout", "dev_login.logout"),
        "locale_url": _locale_url,
    }


def _first_url(*endpoints: str) -> str | None:
    """The first of `endpoints` this configuration registers (Keycloak before the demo sign-in)."""
    for endpoint in endpoints:
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return None


def _locale_url(code: str) -> str:
    """This page again in locale `code`; the home page when this page has no endpoint (errors)."""
    if request.endpoint is None or request.method != "GET":
        return url_for("public.landing", lang=code)
    args = {**request.args.to_dict(), **(request.view_args or {}), "lang": code}
    return url_for(request.endpoint, **args)


def _csrf_error(_error: CSRFError) -> ResponseReturnValue:
    reason = _("The form has expired or was not sent from this site (its security token is "
               "missing or wrong).")
    return render_template("errors/400.html", reason=reason), 400


def _refused(error: PermissionDenied | NotFound) -> ResponseReturnValue:
    """What the viewer may not do is the 403 page; what does not exist for them, the 404 page."""
    return _http_error(Forbidden() if isinstance(error, PermissionDenied) else HttpNotFound())


def _http_error(error: HTTPException) -> ResponseReturnValue:
    code = error.code or 500
    template = ERROR_TEMPLATES.get(code, "errors/http.html")
    return render_template(template, error=error, code=code), code
