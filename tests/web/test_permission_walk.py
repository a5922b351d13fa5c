"""Every route of the application, asked by every kind of visitor: the expected answer or a failure.

`EXPECTED` holds, for each endpoint of `app.url_map` and each method it serves, the answer
each viewer gets: anonymous, a person holding one of the programme's roles, and the claimant
(a contributor holding claims, for the rules that follow a claim rather than a role). A
route missing from it fails the walk, so whoever adds a route decides who may use it.

Each viewer walks its own database (SQLite and PostgreSQL), seeded with reference data and
one bounty per purpose (reads, and a fresh target for each write), so a write that succeeds
never changes the answer another request expects. Pages are asked with the session of a
Keycloak sign-in through the real OpenID flow; `/api/v1` with an access token minted by the
same provider. Writes carry a valid body, so the answer is the authorisation decision and not
a form error; the same write with an empty body must not succeed where the valid one is
refused. No answer is ever a 5xx, no page or document names a bounty its viewer may not
see (drafts, embargoed security fixes, anything but open bounties for anonymous visitors),
and none names a person not listed publicly to a viewer who may not see such names. Award
rounds in each phase, a finished document and people listed or not come from
`tests.walk_seed`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from bounty import create_app
from bounty.governance.permissions import Role
from bounty.models import Identity, Person, WorkingGroup, WorkingGroupMember, utcnow
from bounty.services import grants, hours, payouts
from bounty.services.actors import Actor
from tests import award_factories as af
from tests import payout_factories as pf
from tests import walk_seed as ws
from tests import workflow_factories as wf
from tests.fakes.keycloak import (  # noqa: F401 - fixtures
    KeycloakFake,
    keycloak_fixture,
    make_keycloak_fixture,
    sign_in_with_client,
)

ANON = "anonymous"
CLAIMANT = "claimant"
ROLES = ("contributor", "reviewer", "security-council", "program-admin", "finance",
         "awards-committee", "auditor")
VIEWERS = (ANON, *ROLES, CLAIMANT)

SIGNED_IN = frozenset(VIEWERS) - {ANON}
# Everyone signed in may claim bounties except the auditor, who reads and never acts.
CLAIMERS = SIGNED_IN - {"auditor"}
REVIEWERS = frozenset({"reviewer", "security-council"})
ADMINS = frozenset({"program-admin"})
# Who sees a bounty of each kind (bounty_queries' visibility rule).
SEES: dict[str, frozenset[str]] = {
    "open": frozenset(VIEWERS),
    "draft": frozenset({"program-admin", "auditor"}),
    "claimed": SIGNED_IN,
    "submitted": SIGNED_IN,
    "embargoed": frozenset({"security-council", "program-admin", "auditor"}),
    "embargoed_claimed": frozenset({"security-council", "program-admin", "auditor", CLAIMANT}),
}

# The seeded bounties, by purpose: what kind each one is. Writes get targets of their own.
TARGETS: dict[str, str] = {
    "open": "open", "draft": "draft", "claimed": "claimed", "submitted": "submitted",
    "embargoed": "embargoed", "embargoed_claimed": "embargoed_claimed",
    "claim_html": "open", "claim_api": "open",
    "claim_embargoed_html": "embargoed", "claim_embargoed_api": "embargoed",
    "submit_html": "claimed", "submit_api": "claimed",
    "review_html": "submitted", "review_api": "submitted",
    "edit_html": "draft", "edit_api": "draft",
    "publish_html": "draft", "publish_api": "draft",
    "cancel_html": "open", "cancel_api": "open",
}
READ_TARGETS = ("open", "draft", "claimed", "submitted", "embargoed", "embargoed_claimed")
# Unlinked identities of the walk, by purpose, and whether the claimant has claimed it.
IDENTITY_TARGETS: dict[str, bool] = {"link": False, "confirm": True, "decline": True, "withdraw": True}
# An unlinked commit e-mail every viewer that may claim identities claims for themselves.
CLAIMABLE_EMAIL = "walk-claim@example.net"

# Hours entries and grants of the walk, by purpose (`Seeded.refs`), besides the claimant's person id.
HOURS_TARGETS = ("hours_review_html", "hours_review_api")
GRANT_TARGETS = ("grant_read", "grant_signoff_html", "grant_signoff_api", "grant_cancel_html",
                 "grant_cancel_api")
# Who sees the walk's grants (granted to the claimant): those who fund, pay, sign off or audit
# them, and the grantee; to others a grant does not exist.
SEES_GRANT = frozenset({"reviewer", "security-council", "program-admin", "finance", "auditor", CLAIMANT})

# Payout batches of the walk, by purpose (`Seeded.refs`): the payee's jurisdiction and the
# currency of its one approved bounty, then the batch's selection (currency, jurisdiction).
# Each batch takes only what no earlier live batch holds, so each holds its own bounty.
BATCH_TARGETS: dict[str, tuple[str, str, str | None, str | None]] = {
    "batch_read": ("EU", "EUR", "EUR", "EU"),
    "batch_export_html": ("EU", "EUR", "EUR", None),
    "batch_export_api": ("EU", "EUR", None, "EU"),
    "batch_confirm_html": ("UK", "GBP", "GBP", "UK"),
    "batch_confirm_api": ("UK", "GBP", "GBP", None),
    "batch_cancel_html": ("UK", "GBP", None, "UK"),
    "batch_cancel_api": ("CA", "CAD", "CAD", "CA"),
}
# Paid items of a confirmed CAD batch, one per claw-back.
ITEM_TARGETS = ("item_claw_html", "item_claw_api")
FIN = frozenset({"finance"})
# Payables and batches: finance acts, the auditor reads.
PAY = FIN | {"auditor"}
# Statements, the trial balance and the journal: finance, program admins (funds) and auditors.
ST = FIN | {"program-admin", "auditor"}
THIS_YEAR = str(utcnow().year)
# Awards: everyone signed in nominates and votes (NOMINATE, VOTE_ON_AWARDS) but the auditor;
# program admins run rounds; the annual report is read by program admins and auditors.
AWARD_VOTERS = CLAIMERS
AWARDS_REPORT = ADMINS | {"auditor"}
# Documents built on the job queue: the requester's own (here the finance walker's), and
# anyone's for READ_EVERYTHING; to everyone else a document does not exist.
SEES_DOCUMENT = frozenset({"finance", "auditor"})
# Who sees the names of people not listed publicly in awards answers (`award_queries`);
# leaderboards name them to fewer (no awards committee) and profiles only to auditors.
SEES_NAMES = frozenset({"program-admin", "awards-committee", "auditor"})
# A form field holding the CSRF token of the walker's session (for forms with a prefix).
CSRF = "<csrf-token>"
DOCUMENT = {"job_id": ws.DOCUMENT_TARGET}
DOCUMENTS = "/documents/"

# Answer classes: a status code, or where a redirect goes.
SIGN_IN = "sign-in"        # 302 to /login (or /dev/login) with ?next= this page (none for a POST)
PROVIDER = "provider"      # 302 to the identity provider (its sign-in or end-session page)
REDIRECT = "redirect"      # 302 elsewhere on this site: a form that worked
SUCCESSES = frozenset({"200", "201", "202", REDIRECT})
REFUSALS = frozenset({SIGN_IN, "401", "403", "404"})


def everyone(answer: str) -> dict[str, str]:
    return dict.fromkeys(VIEWERS, answer)


def page(allowed: Iterable[str], yes: str, *, no: str = "403", anonymous: str = SIGN_IN,
         **special: str) -> dict[str, str]:
    """An HTML route: `yes` for `allowed`, `no` for others signed in, `anonymous` for visitors."""
    chosen = frozenset(allowed)
    answers = {viewer: yes if viewer in chosen else no for viewer in VIEWERS}
    answers[ANON] = anonymous
    return answers | {name.replace("_", "-"): value for name, value in special.items()}


def api(allowed: Iterable[str], yes: str, *, no: str = "403", anonymous: str = "401",
        **special: str) -> dict[str, str]:
    """An API route: anonymous callers get 401 (no token), callers without the right 403."""
    return page(allowed, yes, no=no, anonymous=anonymous, **special)


def seen(kind: str) -> dict[str, str]:
    """A bounty's own URL: 200 for who sees its kind, 404 for everyone else."""
    return {viewer: "200" if viewer in SEES[kind] else "404" for viewer in VIEWERS}


@dataclass(frozen=True)
class Case:
    """One request of the walk: method, the bounty filling `<bounty_id>`, body, answers."""

    method: str
    answers: Mapping[str, str]
    target: str | None = None
    body: Callable[[Seeded], dict[str, Any] | bytes] | None = None
    args: Mapping[str, str] = field(default_factory=dict)
    # Signing in or out replaces the session: such requests get a freshly signed-in client.
    ends_session: bool = False
    # The seeded identity filling `<identity_id>` (see IDENTITY_TARGETS).
    identity: str | None = None
    # Other URL arguments filled from the seeded records: argument -> key of `Seeded.refs`.
    refs: Mapping[str, str] = field(default_factory=dict)
    # A 200 that is a file (an API export): no JSON expected.
    file_response: bool = False
    # Where a form that worked goes (a path prefix), when that is part of the answer.
    lands_on: str | None = None
    # An API body sent as these bytes with this media type rather than as JSON.
    content_type: str | None = None


def bounty_json(title: str) -> dict[str, Any]:
    return {"title": title, "description": "Custom ports.", "category_code": "bug_fix",
            "amount": "1000", "currency": "EUR", "working_group_code": "WG4"}


def bounty_form(title: str) -> dict[str, Any]:
    return {**bounty_json(title), "capability_slug": "", "gitlab_project_path": "",
            "gitlab_issue_iid": "", "claim_hours": "336"}


def hours_form() -> dict[str, Any]:
    return {"worked_on": utcnow().date().isoformat(), "hours": "1.5", "activity": "code",
            "working_group_code": "WG4", "description": "Walked the routes."}


def grant_tranches() -> list[dict[str, str]]:
    due = (utcnow().date() + timedelta(days=30)).isoformat()
    return [{"milestone": "First release", "due_on": due, "amount": "1000"}]


def grant_form() -> dict[str, Any]:
    [tranche] = grant_tranches()
    return {"title": "Walk grant", "grantee_username": username_of(CLAIMANT), "total": "1000",
            "currency": "EUR", "working_group_code": "", "tranches-0-milestone": tranche["milestone"],
            "tranches-0-due_on": tranche["due_on"], "tranches-0-amount": tranche["amount"]}


def grant_json(s: Seeded) -> dict[str, Any]:
    return {"title": "Walk grant", "grantee_person_id": s.refs["claimant_person"], "total": "1000",
            "currency": "EUR", "tranches": grant_tranches()}


def grant_seen(anonymous: str) -> dict[str, str]:
    """A grant's own URL: 200 for who sees it, 404 for everyone else signed in."""
    return {viewer: "200" if viewer in SEES_GRANT else "404" for viewer in VIEWERS} | {ANON: anonymous}


def in_days(days: int) -> datetime:
    return utcnow() + timedelta(days=days)


def award_years(*years: int) -> list[Case]:
    """A public awards read for each year given (each has a round), and for a year without one."""
    return [Case("GET", everyone("200"), args={"year": str(year)}) for year in years] + [
        Case("GET", everyone("404"), args={"year": "2009"})]


def vote_form(nomination_id: int) -> dict[str, Any]:
    """A +1 on a nomination, in the form of its own prefix."""
    prefix = f"n{nomination_id}"
    return {f"{prefix}-value": "+1", f"{prefix}-reason": "", f"{prefix}-csrf_token": CSRF}


def profiles() -> list[Case]:
    """A person's public profile (or badges): of someone listed, of someone not listed, and the
    claimant's own (not listed either)."""
    unlisted = {viewer: "200" if viewer == "auditor" else "404" for viewer in VIEWERS}
    return [Case("GET", everyone("200"), args={"username": ws.LISTED}),
            Case("GET", unlisted, args={"username": ws.NOMINEE}),
            Case("GET", unlisted | {CLAIMANT: "200"}, args={"username": f"walk.{CLAIMANT}"})]


def reads() -> list[Case]:
    """A bounty's own URL, for a bounty of each kind (the read targets are named after theirs)."""
    return [Case("GET", seen(target), target=target) for target in READ_TARGETS]


# The expected answer of every route, by endpoint. Who may claim, submit and review is the
# services' call (the pages only ask for a signed-in person), so those answers are theirs.
EXPECTED: dict[str, list[Case]] = {
    "static": [Case("GET", everyone("200"), args={"filename": "css/bounty.css"})],
    "public.landing": [Case("GET", everyone("200"))],
    "public.healthz": [Case("GET", everyone("200"))],
    "auth.login": [Case("GET", page(SIGNED_IN, REDIRECT, anonymous=PROVIDER))],
    # Without the provider's `state` and `code` there is nothing to complete.
    "auth.callback": [Case("GET", everyone("400"))],
    "auth.logout": [Case("POST", everyone(PROVIDER), body=lambda s: {}, ends_session=True)],
    "dev_login.login": [Case("GET", everyone("200"))],
    "dev_login.login_post": [Case("POST", everyone(REDIRECT), ends_session=True,
                                  body=lambda s: {"person_id": s.demo_persona})],
    "dev_login.logout": [Case("POST", everyone(REDIRECT), body=lambda s: {}, ends_session=True)],
    "bounties.board": [Case("GET", everyone("200"))],
    "bounties.detail": reads(),
    "bounties.claim": [
        Case("POST", page(CLAIMERS, REDIRECT), target="claim_html", body=lambda s: {}),
        # An embargoed fix is claimed only by those who see it; to others it does not exist.
        Case("POST", page(ADMINS | {"security-council"}, REDIRECT, no="404", auditor="403"),
             target="claim_embargoed_html", body=lambda s: {}),
    ],
    "bounties.submit": [Case("POST", page({CLAIMANT}, REDIRECT), target="submit_html",
                             body=lambda s: {"merge_request_urls": wf.MERGE_REQUEST})],
    "bounties.review": [Case("POST", page(REVIEWERS, REDIRECT), target="review_html",
                             body=lambda s: {"verdict": "approve", "comment": "Looks good."})],
    "bounties.review_queue": [Case("GET", page(REVIEWERS, "200"))],
    "bounties.my_work": [Case("GET", page(SIGNED_IN, "200"))],
    "admin.new": [Case("GET", page(ADMINS, "200"))],
    "admin.create": [Case("POST", page(ADMINS, REDIRECT), body=lambda s: bounty_form("Made in the walk"))],
    "admin.edit": [Case("GET", page(ADMINS, "200"), target="draft")],
    "admin.update": [Case("POST", page(ADMINS, REDIRECT), target="edit_html",
                          body=lambda s: bounty_form(s.titles["edit_html"]))],
    "admin.publish": [Case("POST", page(ADMINS, REDIRECT), target="publish_html", body=lambda s: {})],
    "admin.cancel": [Case("POST", page(ADMINS, REDIRECT), target="cancel_html",
                          body=lambda s: {"reason": "Superseded."})],
    "api-docs.openapi_json": [Case("GET", everyone("200"))],
    "api_bounties.list_bounties": [Case("GET", everyone("200"))],
    "api_bounties.get_bounty": reads(),
    "api_bounties.create_bounty": [Case("POST", api(ADMINS, "201"),
                                        body=lambda s: bounty_json("Made through the API"))],
    "api_bounties.update_bounty": [Case("PUT", api(ADMINS, "200"), target="edit_api",
                                        body=lambda s: bounty_json(s.titles["edit_api"]))],
    "api_bounties.publish_bounty": [Case("POST", api(ADMINS, "200"), target="publish_api",
                                         body=lambda s: {})],
    "api_bounties.cancel_bounty": [Case("POST", api(ADMINS, "200"), target="cancel_api",
                                        body=lambda s: {"reason": "Superseded."})],
    "api_bounties.claim_bounty": [
        Case("POST", api(CLAIMERS, "201"), target="claim_api", body=lambda s: {}),
        Case("POST", api(ADMINS | {"security-council"}, "201", no="404", auditor="403"),
             target="claim_embargoed_api", body=lambda s: {}),
    ],
    "api_bounties.submit_claim": [Case("POST", api({CLAIMANT}, "200"), target="submit_api",
                                       body=lambda s: {"merge_request_urls": [wf.MERGE_REQUEST]})],
    "api_bounties.review_claim": [Case("POST", api(REVIEWERS, "201"), target="review_api",
                                       body=lambda s: {"verdict": "approve", "comment": "Looks good."})],
    # The unlinked queue: program admins act on it, the auditor reads it.
    "identities.queue": [Case("GET", page(ADMINS | {"auditor"}, "200"))],
    "identities.link": [Case("POST", page(ADMINS, REDIRECT), identity="link",
                             body=lambda s: {"username": username_of(CLAIMANT)})],
    "identities.confirm": [Case("POST", page(ADMINS, REDIRECT), identity="confirm", body=lambda s: {})],
    "identities.decline": [Case("POST", page(ADMINS, REDIRECT), identity="decline",
                                body=lambda s: {"reason": "Not theirs."})],
    # A person's own identities: everyone signed in reads theirs; all but the auditor claim.
    "identities.mine": [Case("GET", page(SIGNED_IN, "200"))],
    "identities.claim": [Case("POST", page(CLAIMERS, REDIRECT),
                              body=lambda s: {"kind": "email", "value": CLAIMABLE_EMAIL})],
    # Only whoever made a claim withdraws it.
    "identities.withdraw": [Case("POST", page({CLAIMANT}, REDIRECT), identity="withdraw", body=lambda s: {})],
    # Contribution hours: everyone who logs hours (not the auditor); reviewers of the group review.
    "hours.mine": [Case("GET", page(CLAIMERS, "200"))],
    "hours.new": [Case("GET", page(CLAIMERS, "200"))],
    "hours.create": [Case("POST", page(CLAIMERS, REDIRECT), body=lambda s: hours_form())],
    "hours.review_queue": [Case("GET", page(REVIEWERS, "200"))],
    "hours.review": [Case("POST", page(REVIEWERS, REDIRECT), refs={"entry_id": "hours_review_html"},
                          body=lambda s: {f"entry-{s.refs['hours_review_html']}-verdict": "approve"})],
    # One's own statement; anyone's for program admins and auditors (the statement service's rule).
    "hours.statement": [Case("GET", page(SIGNED_IN, "200"), args={"year": "2026", "format": "csv"})],
    "hours.statements": [Case("GET", page(ADMINS | {"auditor", CLAIMANT}, "200"),
                              args={"username": f"walk.{CLAIMANT}", "year": "2026", "format": "csv"})],
    "api_hours.log_hours": [Case("POST", api(CLAIMERS, "201"), body=lambda s: hours_form())],
    "api_hours.my_hours": [Case("GET", api(CLAIMERS, "200"))],
    "api_hours.review_queue": [Case("GET", api(REVIEWERS, "200"))],
    "api_hours.review_hours": [Case("POST", api(REVIEWERS, "200"), refs={"entry_id": "hours_review_api"},
                                    body=lambda s: {"verdict": "approve"})],
    # Grants: program admins create and cancel, reviewers sign off (never the grantee, here the
    # claimant), and a grant exists only for those who see it.
    "grants.index": [Case("GET", page(SIGNED_IN, "200"))],
    "grants.detail": [Case("GET", grant_seen(SIGN_IN), refs={"grant_id": "grant_read"})],
    "grants.new": [Case("GET", page(ADMINS, "200"))],
    "grants.create": [Case("POST", page(ADMINS, REDIRECT), body=lambda s: grant_form())],
    "grants.sign_off": [Case("POST", page(REVIEWERS, REDIRECT), refs={"grant_id": "grant_signoff_html"},
                             args={"position": "1"}, body=lambda s: {})],
    "grants.cancel": [Case("POST", page(ADMINS, REDIRECT), refs={"grant_id": "grant_cancel_html"},
                           body=lambda s: {"reason": "Superseded."})],
    "api_grants.list_grants": [Case("GET", everyone("200"))],
    "api_grants.get_grant": [Case("GET", grant_seen("404"), refs={"grant_id": "grant_read"})],
    "api_grants.create_grant": [Case("POST", api(ADMINS, "201"), body=grant_json)],
    "api_grants.sign_off_tranche": [Case("POST", api(REVIEWERS, "200"), args={"position": "1"},
                                         refs={"grant_id": "grant_signoff_api"})],
    "api_grants.cancel_grant": [Case("POST", api(ADMINS, "200"), refs={"grant_id": "grant_cancel_api"},
                                     body=lambda s: {"reason": "Superseded."})],
    # Finance: finance acts on payouts and imports rates; the auditor reads payables and batches;
    # statements and ledger exports for finance, program admins and auditors; rates for all.
    "finance.payables": [Case("GET", page(PAY, "200"))],
    "finance.batches": [Case("GET", page(PAY, "200"))],
    "finance.create_batch": [Case("POST", page(FIN, REDIRECT),
                                  body=lambda s: {"batch-currency": "", "batch-jurisdiction": ""})],
    "finance.batch": [Case("GET", page(PAY, "200"), refs={"batch_id": "batch_read"})],
    "finance.download": [
        Case("GET", page(PAY, "200"), refs={"batch_id": "batch_read"}, args={"fmt": "csv"}),
        # Only finance decrypts payees' accounts.
        Case("GET", page(FIN, "200"), refs={"batch_id": "batch_read"}, args={"fmt": "sepa"}),
    ],
    "finance.mark_exported": [Case("POST", page(FIN, REDIRECT), refs={"batch_id": "batch_export_html"},
                                   body=lambda s: {})],
    "finance.confirm": [Case("POST", page(FIN, REDIRECT), refs={"batch_id": "batch_confirm_html"},
                             body=lambda s: {"file": (io.BytesIO(s.files["batch_confirm_html"]),
                                                      "bank.csv")})],
    "finance.cancel": [Case("POST", page(FIN, REDIRECT), refs={"batch_id": "batch_cancel_html"},
                            body=lambda s: {"reason": "Wrong month."})],
    "finance.claw_back": [Case("POST", page(FIN, REDIRECT), refs={"item_id": "item_claw_html"},
                               body=lambda s: {"clawback-reason": "Reverted."})],
    "finance.statements_index": [Case("GET", page(ST, "200"))],
    "finance.statement": [Case("GET", page(ST, "200"), args={"code": "EU", "year": THIS_YEAR})],
    "finance.statement_download": [
        Case("GET", page(ST, "200"), args={"code": "EU", "year": THIS_YEAR, "fmt": "csv"})],
    "finance.statement_period": [Case("GET", page(ST, "200"), args={
        "code": "EU", "from": f"{THIS_YEAR}-01-01", "to": f"{THIS_YEAR}-06-30"})],
    "finance.statement_csv": [Case("GET", page(ST, "200"), args={"code": "EU", "year": THIS_YEAR})],
    # XLSX files are built on the job queue: the form asks for the document, its page follows.
    "finance.batch_xlsx": [Case("POST", page(PAY, REDIRECT), refs={"batch_id": "batch_read"},
                                body=lambda s: {}, lands_on=DOCUMENTS)],
    "finance.statement_xlsx": [Case("POST", page(ST, REDIRECT), args={"code": "EU"}, lands_on=DOCUMENTS,
                                    body=lambda s: {"from": f"{THIS_YEAR}-01-01",
                                                    "to": f"{THIS_YEAR}-06-30"})],
    "finance.trial_balance_xlsx": [Case("POST", page(ST, REDIRECT), lands_on=DOCUMENTS, body=lambda s: {
        "trial_balance-as_of": "", "trial_balance-csrf_token": CSRF})],
    "finance.journal_xlsx": [Case("POST", page(ST, REDIRECT), lands_on=DOCUMENTS, body=lambda s: {
        "journal_xlsx-from": "", "journal_xlsx-to": "", "journal_xlsx-csrf_token": CSRF})],
    "finance.trial_balance": [Case("GET", page(ST, "200"))],
    "finance.journal": [Case("GET", page(ST, "200"))],
    "finance.rates": [Case("GET", page(SIGNED_IN, "200"))],
    "finance.import_rates": [Case("POST", page(FIN, REDIRECT), body=lambda s: {
        "file": (io.BytesIO(b"Date, USD, \n2 January 2026, 1.0312, \n"), "eurofxref.csv")})],
    "finance.my_bank_details": [Case("GET", page(SIGNED_IN, "200"))],
    "finance.set_my_bank_details": [Case("POST", page(SIGNED_IN, REDIRECT), body=lambda s: {
        "holder_name": "Walk Person", "iban": "DE89370400440532013000", "bic": ""})],
    # The finance API: every read but the rates needs a token (401 without one).
    "api_finance.list_payable": [Case("GET", api(PAY, "200"))],
    "api_finance.create_batch": [Case("POST", api(FIN, "201"), body=lambda s: {"currency": "CAD"})],
    "api_finance.list_batches": [Case("GET", api(PAY, "200"))],
    "api_finance.get_batch": [Case("GET", api(PAY, "200"), refs={"batch_id": "batch_read"})],
    "api_finance.export_batch": [
        Case("GET", api(PAY, "200"), refs={"batch_id": "batch_read"}, args={"format": "csv"},
             file_response=True),
        # XLSX: 202 with the document job building it.
        Case("GET", api(PAY, "202"), refs={"batch_id": "batch_read"}, args={"format": "xlsx"})],
    "api_finance.mark_exported": [Case("POST", api(FIN, "200"), refs={"batch_id": "batch_export_api"},
                                       body=lambda s: {})],
    "api_finance.confirm_batch": [Case("POST", api(FIN, "200"), refs={"batch_id": "batch_confirm_api"},
                                       content_type="text/csv", body=lambda s: s.files["batch_confirm_api"])],
    "api_finance.cancel_batch": [Case("POST", api(FIN, "200"), refs={"batch_id": "batch_cancel_api"},
                                      body=lambda s: {"reason": "Wrong month."})],
    "api_finance.claw_back": [Case("POST", api(FIN, "200"), refs={"item_id": "item_claw_api"},
                                   body=lambda s: {"reason": "Reverted."})],
    "api_finance.get_statement": [Case("GET", api(ST, "200"), args={"jurisdiction": "EU"})],
    "api_finance.list_rates": [Case("GET", everyone("200"))],
    # Organisation activity (fast-track procurement): the statements' readers.
    "activity.index": [Case("GET", page(ST, "200"), args={"year": THIS_YEAR})],
    "activity.download": [Case("GET", page(ST, "200"), args={"year": THIS_YEAR})],
    "api_activity.get_activity": [Case("GET", api(ST, "200"), args={"year": THIS_YEAR})],
    # Documents on the job queue: one's own list; a document for its requester and READ_EVERYTHING.
    "documents.index": [Case("GET", page(SIGNED_IN, "200"))],
    "documents.show": [Case("GET", page(SEES_DOCUMENT, "200", no="404"), refs=DOCUMENT)],
    "documents.file": [Case("GET", page(SEES_DOCUMENT, "200", no="404"), refs=DOCUMENT)],
    "api_documents.request_document": [Case("POST", api(ST, "202"), body=lambda s: {
        "kind": "trial_balance_xlsx", "params": {}})],
    "api_documents.list_documents": [Case("GET", api(SIGNED_IN, "200")),
                                     Case("GET", api({"auditor"}, "200"), args={"all": "true"})],
    "api_documents.get_document": [Case("GET", api(SEES_DOCUMENT, "200", no="404"),
                                        refs=DOCUMENT)],
    "api_documents.document_file": [Case("GET", api(SEES_DOCUMENT, "200", no="404"),
                                         refs=DOCUMENT, file_response=True)],
    # Awards: rounds, nominations and results are public; see AWARD_VOTERS and AWARDS_REPORT.
    "awards.index": [Case("GET", everyone("200"))],
    "awards.open_round": [Case("POST", page(ADMINS, REDIRECT), body=lambda s: {
        "year": str(ws.NEW_ROUND_YEARS["open_round_html"]),
        "nominations_close": in_days(30).date().isoformat()})],
    "awards.round_detail": award_years(ws.NOMINATING_YEAR, ws.VOTING_YEAR, ws.WAITING_YEARS["open_vote_html"],
                                       ws.CLOSED_YEAR),
    "awards.open_vote": [Case("POST", page(ADMINS, REDIRECT),
                              args={"year": str(ws.WAITING_YEARS["open_vote_html"])},
                              body=lambda s: {"closes_at": in_days(10).strftime("%Y-%m-%dT%H:%M")})],
    "awards.nominate": [Case("POST", page(AWARD_VOTERS, REDIRECT), args={"year": str(ws.NOMINATING_YEAR)},
                             body=lambda s: {"category_code": ws.NOMINATION_CATEGORIES["nominate_html"],
                                             "nominee_username": ws.NOMINEE, "nominee_organisation": "",
                                             "citation": af.CITATION})],
    "awards.vote": [Case("POST", page(AWARD_VOTERS, REDIRECT), args={"year": str(ws.VOTING_YEAR)},
                         refs={"nomination_id": "vote_html"}, body=lambda s: vote_form(s.refs["vote_html"]))],
    "awards.results": award_years(ws.VOTING_YEAR, ws.CLOSED_YEAR),
    # The report is asked for on the job queue: its document's page follows.
    "awards.report": [Case("POST", page(AWARDS_REPORT, REDIRECT), args={"year": str(ws.CLOSED_YEAR)},
                           body=lambda s: {"lang": "en"}, lands_on=DOCUMENTS)],
    "api_awards.get_year": award_years(ws.NOMINATING_YEAR, ws.VOTING_YEAR, ws.CLOSED_YEAR),
    "api_awards.get_results": award_years(ws.VOTING_YEAR, ws.CLOSED_YEAR),
    "api_awards.open_round": [Case("POST", api(ADMINS, "201"), body=lambda s: {
        "year": ws.NEW_ROUND_YEARS["open_round_api"], "nominations_close_at": in_days(30).isoformat()})],
    "api_awards.open_vote": [Case("POST", api(ADMINS, "200"),
                                  args={"year": str(ws.WAITING_YEARS["open_vote_api"])},
                                  body=lambda s: {"closes_at": in_days(10).isoformat()})],
    "api_awards.nominate": [Case("POST", api(AWARD_VOTERS, "201"), args={"year": str(ws.NOMINATING_YEAR)},
                                 body=lambda s: {"category_code": ws.NOMINATION_CATEGORIES["nominate_api"],
                                                 "nominee_person_id": s.refs["nominee_person"],
                                                 "citation": af.CITATION})],
    "api_awards.cast_vote": [Case("POST", api(AWARD_VOTERS, "200"), refs={"nomination_id": "vote_api"},
                                  body=lambda s: {"value": "+1"})],
    # Leaderboards are public; a person's profile and badges only while they are listed, else
    # for themselves and READ_EVERYTHING; everyone but the auditor sets their own listing.
    "leaderboards.index": [Case("GET", everyone("200"))],
    "leaderboards.chart": [Case("GET", everyone("200"), args={"name": name})
                           for name in ("top", "activity", "jurisdictions")],
    "api_leaderboards.get_leaderboard": [Case("GET", everyone("200"))],
    "profile.show": profiles(),
    "api_leaderboards.get_badges": profiles(),
    "profile.listing": [Case("GET", page(SIGNED_IN, "200"))],
    "profile.set_listing": [Case("POST", page(CLAIMERS, REDIRECT), body=lambda s: {"listing": "public"})],
    "api_leaderboards.put_listing": [Case("PUT", api(CLAIMERS, "200"), body=lambda s: {"public": True})],
    # GitLab's webhook: without the shared secret in X-Gitlab-Token, nobody gets anywhere.
    "hooks.gitlab": [Case("POST", everyone("401"), body=lambda s: {})],
}

AUTOMATIC_METHODS = frozenset({"HEAD", "OPTIONS"})


# ------------------------------------------------------------------------------- the data


@dataclass
class Seeded:
    """The bounties of the walk (id and title by purpose) and who is who."""

    ids: dict[str, int]
    titles: dict[str, str]
    demo_persona: int
    identities: dict[str, int] = field(default_factory=dict)
    # Hours entries, grants and people by purpose (HOURS_TARGETS, GRANT_TARGETS, "claimant_person").
    refs: dict[str, int] = field(default_factory=dict)
    # The bank's confirmation file of each batch to confirm, by purpose.
    files: dict[str, bytes] = field(default_factory=dict)

    def hidden_from(self, viewer: str) -> list[str]:
        """Titles `viewer` must never be shown, and the names of people not listed publicly
        for those who may not see them."""
        titles = [self.titles[target] for target, kind in TARGETS.items() if viewer not in SEES[kind]]
        return titles + ([] if viewer in SEES_NAMES else list(ws.UNLISTED_NAMES))


def username_of(viewer: str) -> str:
    return f"walk.{viewer}"


def seed(session: Session) -> Seeded:
    """Reference data, the viewers, and one bounty per purpose of `TARGETS`."""
    wf.reference(session)
    for role in ROLES:
        wf.person(session, username_of(role), (role,), "EU")
    claimant = wf.actor_of(wf.person(session, username_of(CLAIMANT), ("contributor",), "EU"))
    persona = Person(keycloak_subject="demo-dana", username="dana", display_name="Dana Demo",
                     email="dana@example.org", jurisdiction_code="UK", roles=["contributor"])
    session.add(persona)
    session.commit()

    # Only those who see an embargoed fix can claim it: the claimant took this one while on
    # the security council, and keeps seeing it through the claim alone.
    council_claimant = replace(claimant, roles=frozenset({"contributor", "security-council"}))
    builders: dict[str, Callable[..., Any]] = {
        "open": wf.open_bounty, "draft": wf.draft_bounty,
        "claimed": lambda s, **o: wf.claimed_bounty(s, claimant, **o).bounty,
        "submitted": lambda s, **o: wf.submitted_bounty(s, claimant, **o).bounty,
        "embargoed": lambda s, **o: wf.open_bounty(s, **wf.security_fix(**o)),
        "embargoed_claimed": lambda s, **o: wf.claimed_bounty(
            s, council_claimant, **wf.security_fix(**o)).bounty,
    }
    ids, titles = {}, {}
    for target, kind in TARGETS.items():
        title = f"{target} walk bounty"
        ids[target] = builders[kind](session, title=title).id
        titles[target] = title
    identities = {}
    for purpose, claimed in {**IDENTITY_TARGETS, "claimable": False}.items():
        value = CLAIMABLE_EMAIL if purpose == "claimable" else f"walk-{purpose}@example.net"
        identity = Identity(kind="email", value=value, label=f"Walk {purpose}", first_seen_at=utcnow(),
                            claimed_by_id=claimant.person_id if claimed else None,
                            claimed_at=utcnow() if claimed else None)
        session.add(identity)
        session.flush()
        identities[purpose] = identity.id
    session.commit()  # on SQLite the session's open transaction would hold the file lock
    refs = seed_hours_and_grants(session, claimant)
    finance_refs, files = seed_payouts(session)
    refs |= finance_refs | ws.seed_awards(session)
    refs |= ws.seed_documents(session, wf.person(session, username_of("finance")))
    return Seeded(ids, titles, persona.id, identities, refs, files)


def seed_hours_and_grants(session: Session, claimant: Actor) -> dict[str, int]:
    """Pending hours (WG4, reviewed by the reviewer roles) and grants to the claimant, by purpose."""
    group = session.execute(select(WorkingGroup).where(WorkingGroup.code == "WG4")).scalar_one()
    for role in REVIEWERS:
        person = wf.person(session, username_of(role))
        session.add(WorkingGroupMember(working_group_id=group.id, person_id=person.id, role="reviewer"))
    session.commit()
    author = wf.actor_of(wf.person(session, "walk.author"))
    refs = {"claimant_person": claimant.person_id or 0}
    for purpose in HOURS_TARGETS:
        data = hours.HoursInput(utcnow().date(), "2", "code", "WG4", purpose)
        entry = hours.log_hours(session, author, data, backdate_days=90)
        refs[purpose] = entry.id
    due = utcnow().date() + timedelta(days=30)
    for purpose in GRANT_TARGETS:
        grant = grants.create_grant(session, wf.admin(session), grants.GrantInput(
            title=f"{purpose} walk grant", total="1000", currency="EUR", grantee_person_id=claimant.person_id,
            tranches=[grants.TrancheInput("First release", due, "1000")]))
        refs[purpose] = grant.id
    session.commit()
    return refs


def seed_payouts(session: Session) -> tuple[dict[str, int], dict[str, bytes]]:
    """A payout batch per purpose of BATCH_TARGETS, a paid CAD batch whose items are
    ITEM_TARGETS, one approved bounty left unbatched for each batch the walk creates (CAD, and
    EUR for the selection of everything), and the bank's confirmation of the batches to confirm."""
    fin = wf.actor_of(wf.person(session, username_of("finance")))
    payees = {code: pf.payee(session, f"walk.payee.{code.lower()}", code) for code in ("EU", "UK", "CA")}
    refs: dict[str, int] = {}
    for purpose, (code, bounty_currency, currency, jurisdiction) in BATCH_TARGETS.items():
        pf.approved(session, payees[code], bounty_currency, "1000")
        batch = payouts.create_batch(session, fin, currency=currency, jurisdiction=jurisdiction)
        assert len(batch.items) == 1, f"{purpose}: {len(batch.items)} items"
        refs[purpose] = batch.id
    for _purpose in ITEM_TARGETS:
        pf.approved(session, payees["CA"], "CAD", "1000")
    paid = payouts.create_batch(session, fin, currency="CAD")
    paid_view = payouts.get_batch(session, fin, paid.id)
    payouts.import_confirmation(session, fin, paid.id, pf.confirmation_csv(paid_view))
    assert len(paid_view.items) == len(ITEM_TARGETS)
    refs |= {purpose: item.id for purpose, item in zip(ITEM_TARGETS, paid_view.items, strict=True)}
    pf.approved(session, payees["CA"], "CAD", "1000")
    pf.approved(session, payees["EU"], "EUR", "1000")
    files = {purpose: pf.confirmation_csv(payouts.get_batch(session, fin, refs[purpose]))
             for purpose in ("batch_confirm_html", "batch_confirm_api")}
    session.commit()
    return refs, files


# ------------------------------------------------------------------------------ the walk


def build_app(db_url: str, keycloak: KeycloakFake, **extra: Any) -> Flask:
    # CSRF protection stays on, as deployed: the walk's forms carry a token like a page's.
    return create_app({"ENV": "testing", "DATABASE_URL": db_url, "SECRET_KEY": "x" * 40,
                       "BANK_DETAILS_KEY": pf.KEY, "SEPA_DEBTOR_NAME": "Sovereign Cloud Cooperative",
                       "SEPA_DEBTOR_IBAN": "BE68539007547034", **keycloak.settings(), **extra})


def rules_of(app: Flask) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint))


def uncovered(app: Flask) -> list[str]:
    """Endpoints and methods of `app` that `EXPECTED` says nothing about."""
    missing = []
    for rule in rules_of(app):
        methods = set(rule.methods or ()) - AUTOMATIC_METHODS
        covered = {case.method for case in EXPECTED.get(rule.endpoint, [])}
        missing += [f"{method} {rule.rule} ({rule.endpoint})" for method in sorted(methods - covered)]
    return missing


def answer_of(response: TestResponse, method: str, path: str, provider: str) -> str:
    """The answer class of `response` (see SIGN_IN, PROVIDER, REDIRECT), else its status code."""
    if response.status_code not in (301, 302, 303, 307, 308):
        return str(response.status_code)
    location = urlsplit(response.headers.get("Location", ""))
    if location.netloc and f"{location.scheme}://{location.netloc}" == provider:
        return PROVIDER
    if location.netloc not in ("", "localhost"):
        return f"302 off-site to {location.netloc}"
    if location.path in ("/login", "/dev/login"):
        back = parse_qs(location.query).get("next")
        # A GET comes back to its page; a form posted anonymously cannot be replayed (no next).
        # A HEAD may do either: no browser follows it.
        expected_back = {"GET": [[path]], "HEAD": [[path], None]}.get(method, [None])
        return SIGN_IN if back in expected_back else f"{SIGN_IN} with next={back}"
    return REDIRECT


@dataclass
class Walker:
    """Asks each case of a viewer, and writes down every answer that is not the expected one."""

    app: Flask
    viewer: str
    keycloak: KeycloakFake
    seeded: Seeded
    failures: list[str] = field(default_factory=list)
    asked: int = 0
    csrf_tokens: dict[FlaskClient, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sub = f"test-{username_of(self.viewer)}"
        if self.viewer != ANON:
            role = "contributor" if self.viewer == CLAIMANT else self.viewer
            self.keycloak.add_user(username_of(self.viewer), sub=self.sub, realm_roles=[role],
                                   jurisdiction="EU")
        self.session_client = self.signed_in_client()
        self.token_client = self.app.test_client()  # never signed in: the API trusts tokens only

    def signed_in_client(self) -> FlaskClient:
        """A browser signed in as the viewer (through the provider), holding a CSRF token."""
        client = self.app.test_client()
        if self.viewer != ANON:
            response = sign_in_with_client(client, self.sub)
            assert response.status_code == 302, f"sign-in of {self.viewer}: {response.status_code}"
        # What a page's form would carry: the signed token, its secret in the session.
        with self.app.test_request_context():
            token = generate_csrf()
            secret = flask.session["csrf_token"]
        with client.session_transaction() as browser_session:
            browser_session["csrf_token"] = secret
        self.csrf_tokens[client] = token
        return client

    def walk(self, rules: Iterable[Rule]) -> None:
        # Requests that replace the session go last, each on a client of its own.
        planned = [(rule, case) for rule in rules for case in EXPECTED.get(rule.endpoint, [])
                   if case.method in (rule.methods or ())]
        for rule, case in sorted(planned, key=lambda item: item[1].ends_session):
            self.ask(rule, case)
        for rule in rules:
            self.ask_options(rule)

    def url(self, rule: Rule, case: Case) -> str:
        values = dict(case.args)
        if "bounty_id" in rule.arguments:
            assert case.target, f"{rule.endpoint} needs a target bounty"
            values["bounty_id"] = str(self.seeded.ids[case.target])
        if "identity_id" in rule.arguments:
            assert case.identity, f"{rule.endpoint} needs a target identity"
            values["identity_id"] = str(self.seeded.identities[case.identity])
        for argument, purpose in case.refs.items():
            values[argument] = str(self.seeded.refs[purpose])
        adapter = self.app.url_map.bind("localhost")
        return adapter.build(rule.endpoint, values, method=case.method)

    def ask(self, rule: Rule, case: Case) -> None:
        path = self.url(rule, case)
        is_api = path.startswith("/api/")
        expected = case.answers[self.viewer]
        client = self.token_client if is_api else (
            self.signed_in_client() if case.ends_session else self.session_client)
        headers = self.bearer() if is_api else {}
        body = case.body(self.seeded) if case.body else None
        methods = [case.method, "HEAD"] if case.method == "GET" else [case.method]
        for method in methods:
            response = self.send(client, method, path, headers, body, is_api, case.content_type)
            self.check(method, path, response, expected, is_api, case.file_response, case.lands_on)
        if body is not None:
            # The same write with nothing in it: never a crash, never a success where refused.
            nothing = b"" if case.content_type else {}
            empty = self.send(client, case.method, path, headers, nothing, is_api, case.content_type)
            got = answer_of(empty, case.method, path, self.keycloak.base_url)
            if empty.status_code >= 500 or (expected in REFUSALS and got in SUCCESSES):
                self.failures.append(f"{case.method} {path} (empty body): {got}, expected no "
                                     f"success ({expected} with a valid body)")
        if is_api and self.viewer != ANON and case.answers[ANON] == "401":
            # The session cookie of the pages is no credential for the API, whoever holds it.
            cookie_only = self.send(self.session_client, case.method, path, {}, body, True,
                                    case.content_type)
            if cookie_only.status_code != 401:
                self.failures.append(f"{case.method} {path} with the session cookie only: "
                                     f"{cookie_only.status_code}, expected 401")

    def ask_options(self, rule: Rule) -> None:
        case = next(iter(EXPECTED.get(rule.endpoint, [])), None)
        if case is None:
            return
        path = self.url(rule, case)
        response = self.send(self.session_client, "OPTIONS", path, self.bearer(), None, False)
        allowed = set(response.headers.get("Allow", "").replace(" ", "").split(","))
        if response.status_code != 200 or not set(rule.methods or ()) <= allowed:
            self.failures.append(f"OPTIONS {path}: {response.status_code} Allow {sorted(allowed)}, "
                                 f"expected 200 with {sorted(rule.methods or ())}")

    def bearer(self) -> dict[str, str]:
        if self.viewer == ANON:
            return {}
        return {"Authorization": f"Bearer {self.keycloak.access_token(self.sub)}"}

    def send(self, client: FlaskClient, method: str, path: str, headers: dict[str, str],
             body: dict[str, Any] | bytes | None, is_api: bool, content_type: str | None = None
             ) -> TestResponse:
        self.asked += 1
        if body is None or method in ("GET", "HEAD", "OPTIONS"):
            return client.open(path, method=method, headers=headers)
        if isinstance(body, bytes):
            return client.open(path, method=method, headers=headers, data=body, content_type=content_type)
        if is_api:
            return client.open(path, method=method, headers=headers, json=body)
        token = self.csrf_tokens.get(client, "")
        form = {**{name: token if value == CSRF else value for name, value in body.items()},
                "csrf_token": token}
        return client.open(path, method=method, headers=headers, data=form)

    def check(self, method: str, path: str, response: TestResponse, expected: str,
              is_api: bool, file_response: bool = False, lands_on: str | None = None) -> None:
        got = answer_of(response, method, path, self.keycloak.base_url)
        where = f"{method} {path}"
        if got != expected:
            detail = response.get_data(as_text=True)[:200] if response.is_json else ""
            self.failures.append(f"{where}: {got}, expected {expected}  {detail}")
        elif got == REDIRECT and lands_on is not None:
            went = urlsplit(response.headers.get("Location", "")).path
            if not went.startswith(lands_on):
                self.failures.append(f"{where}: went to {went}, expected {lands_on}...")
        if response.status_code >= 500:
            return
        if is_api and method != "HEAD" and not (file_response and response.status_code == 200):
            if not response.is_json or response.get_json(silent=True) is None:
                self.failures.append(f"{where}: {response.content_type} instead of JSON")
            if response.status_code == 401 and "Bearer" not in response.headers.get("WWW-Authenticate", ""):
                self.failures.append(f"{where}: 401 without a Bearer challenge")
        if method != "HEAD" and response.status_code < 300:
            # Binary files (XLSX) too: a title in a zipped sheet is not found, but nothing crashes.
            text = response.get_data().decode("utf-8", "replace")
            shown = [title for title in self.seeded.hidden_from(self.viewer) if title in text]
            if shown:
                self.failures.append(f"{where}: shows {shown} to {self.viewer}")


@pytest.fixture
def walk_apps(db_url: str, keycloak: KeycloakFake) -> Iterator[tuple[Flask, Flask]]:
    """The application as deployed, and the same with the development sign-in on."""
    plain = build_app(db_url, keycloak)
    demo = build_app(db_url, keycloak, DEMO_LOGIN=True)
    yield plain, demo
    for app in (plain, demo):
        app.extensions["bounty.db"].engine.dispose()


def test_the_table_names_every_role_and_every_route(keycloak: KeycloakFake, tmp_path: Path) -> None:
    """A new role or route fails here until someone writes down who may use it."""
    assert set(ROLES) == {role.value for role in Role}
    for endpoint, cases in EXPECTED.items():
        assert all(set(case.answers) == set(VIEWERS) for case in cases), endpoint
    url = f"sqlite:///{tmp_path / 'unused.db'}"
    plain, demo = build_app(url, keycloak), build_app(url, keycloak, DEMO_LOGIN=True)
    assert uncovered(plain) == []
    assert uncovered(demo) == []
    # And nothing in the table is stale: each endpoint is a route of the demo configuration.
    assert set(EXPECTED) == {rule.endpoint for rule in demo.url_map.iter_rules()}
    assert {rule.endpoint for rule in demo.url_map.iter_rules()} - {
        rule.endpoint for rule in plain.url_map.iter_rules()} == {
        "dev_login.login", "dev_login.login_post", "dev_login.logout"}
    assert {case.target for cases in EXPECTED.values() for case in cases} - {None} <= set(TARGETS)
    assert {case.identity for cases in EXPECTED.values() for case in cases} - {None} <= set(IDENTITY_TARGETS)
    assert {ref for cases in EXPECTED.values() for case in cases for ref in case.refs.values()} <= {
        *HOURS_TARGETS, *GRANT_TARGETS, *BATCH_TARGETS, *ITEM_TARGETS, *ws.VOTE_TARGETS, ws.DOCUMENT_TARGET}
    for app in (plain, demo):
        app.extensions["bounty.db"].engine.dispose()


@pytest.mark.parametrize("viewer", VIEWERS)
def test_every_route_answers_every_viewer_as_expected(
        viewer: str, walk_apps: tuple[Flask, Flask], session: Session, keycloak: KeycloakFake) -> None:
    plain, demo = walk_apps
    seeded = seed(session)
    failures = [f"no expected answer for {missing}" for missing in uncovered(plain) + uncovered(demo)]

    deployed = Walker(plain, viewer, keycloak, seeded)
    deployed.walk(rules_of(plain))
    # The development sign-in exists only with DEMO_LOGIN: walk its routes there, and check
    # that without it they are no routes at all.
    plain_endpoints = {rule.endpoint for rule in plain.url_map.iter_rules()}
    demo_only = [rule for rule in rules_of(demo) if rule.endpoint not in plain_endpoints]
    with_demo = Walker(demo, viewer, keycloak, seeded)
    with_demo.walk(demo_only)
    for rule in demo_only:
        for method in sorted(set(rule.methods or ()) - AUTOMATIC_METHODS):
            answer = deployed.send(deployed.session_client, method, rule.rule, {}, {}, False)
            if answer.status_code != 404:
                failures.append(f"{method} {rule.rule} without DEMO_LOGIN: {answer.status_code}, "
                                "expected 404")

    failures += deployed.failures + with_demo.failures
    assert deployed.asked > 60
    assert not failures, f"{viewer}: {len(failures)} unexpected answers:\n" + "\n".join(failures)
