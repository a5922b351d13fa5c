"""The main pages in headless Chromium, in English and in French: axe-core finds no serious or
critical violation, and each page is written in the language asked for.

One site serves the whole module (its own SQLite database and its own Keycloak-shaped
provider, as `live_site` builds them), seeded through the services with a bounty in each
state. Each persona signs in once, through the provider's login page, in a browser context
of its own; every page is then visited in both languages (`?lang=`), in the state a
person meets it in: a filter refused, a form sent empty, an address that leads nowhere.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, Page
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import WSGIRequestHandler, make_server

from bounty import create_app
from bounty.models import WorkingGroup, WorkingGroupMember, utcnow
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import grants, hours, payouts
from bounty.services.actors import Actor
from tests import payout_factories as pf
from tests import workflow_factories as wf
from tests.fakes.keycloak import KeycloakFake, choose_user_in_browser

SERIOUS = ("serious", "critical")
ANON = "anonymous"
# Who signs in for the pages: username, Keycloak realm roles, jurisdiction.
PERSONAS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "contributor": ("ada", ("contributor",), "EU"),
    "claimant": ("carla", ("contributor",), "EU"),
    "reviewer": ("rev.uk", ("contributor", "reviewer"), "UK"),
    "admin": ("admin", ("contributor", "program-admin"), "EU"),
    "finance": ("fiona", ("contributor", "finance"), "EU"),
}


def send_empty_form(page: Page) -> None:
    """Submit the page's main form with nothing typed (the browser's own checks off)."""
    page.eval_on_selector("main form[method=post]", "form => { form.noValidate = true; }")
    with page.expect_navigation():
        page.click("main form[method=post] button[type=submit]")


@dataclass(frozen=True)
class Visit:
    """A page as one persona meets it, and a sentence it shows in each language."""

    who: str
    path: str  # `{open}` and the like are filled with the seeded bounties' ids
    english: str
    french: str
    then: Callable[[Page], None] | None = None


VISITS: dict[str, Visit] = {
    "landing": Visit(ANON, "/", "Contributor incentives and bounties",
                     "Incitations et primes pour les contributeurs"),
    "board": Visit(ANON, "/bounties", "Filter and sort", "Filtrer et trier"),
    "board with a refused filter": Visit(ANON, "/bounties?status=nonsense",
                                         "Choose one of the listed values.",
                                         "Choisissez l\u2019une des valeurs proposées."),
    "open bounty": Visit("contributor", "/bounties/{open}", "Claim this bounty",
                         "Prendre en charge cette prime"),
    "claimed bounty, its claimant": Visit("claimant", "/bounties/{claimed}", "Submit your work",
                                          "Soumettre votre travail"),
    "submitted bounty, a reviewer": Visit("reviewer", "/bounties/{submitted}", "Review the work",
                                          "Examiner le travail"),
    "draft bounty, the admin": Visit("admin", "/bounties/{draft}", "Publish this bounty",
                                     "Publier cette prime"),
    "review queue": Visit("reviewer", "/review", "Review queue", "File de relecture"),
    "my work": Visit("claimant", "/me", "My ledger lines", "Mes écritures"),
    "new bounty form": Visit("admin", "/admin/bounties/new", "The reward", "La récompense"),
    "new bounty form sent empty": Visit("admin", "/admin/bounties/new", "Enter a title.",
                                        "Saisissez un titre.", then=send_empty_form),
    "my hours": Visit("claimant", "/hours", "Professional-development statement",
                      "Attestation de développement professionnel"),
    "log hours": Visit("claimant", "/hours/new", "Log these hours", "Déclarer ces heures"),
    "log hours sent empty": Visit("claimant", "/hours/new", "Enter the hours.", "Saisissez les heures.",
                                  then=send_empty_form),
    "hours review queue": Visit("reviewer", "/hours/review", "Record my decision", "Enregistrer ma décision"),
    "hours statements": Visit("admin", "/hours/statements", "Download the statement",
                              "Télécharger l\u2019attestation"),
    "grants": Visit("admin", "/grants", "Grants you may see, newest first.",
                    "Les subventions que vous pouvez voir, les plus récentes d\u2019abord."),
    "overdue grants": Visit("admin", "/grants?overdue=y", "Overdue", "En retard"),
    "grant, a reviewer": Visit("reviewer", "/grants/{grant}", "Sign-off", "Validation"),
    "grant, the admin": Visit("admin", "/grants/{grant}", "Cancel the grant", "Annuler la subvention"),
    "new grant form": Visit("admin", "/grants/new", "The grantee", "Le bénéficiaire"),
    "new grant form sent empty": Visit("admin", "/grants/new", "Enter a title.", "Saisissez un titre.",
                                       then=send_empty_form),
    "payables": Visit("finance", "/finance/payables", "Create the batch", "Créer le lot"),
    "payout batches": Visit("finance", "/finance/batches", "Every payout batch, newest first.",
                            "Tous les lots de paiement, les plus récents d\u2019abord."),
    "open payout batch": Visit("finance", "/finance/batches/{batch}", "Record as sent to the bank",
                               "Enregistrer comme envoyé à la banque"),
    "paid payout batch": Visit("finance", "/finance/batches/{paid_batch}", "Claw back", "Récupérer"),
    "statements": Visit("finance", "/finance/statements", "Show the statement", "Afficher le relevé"),
    "a statement": Visit("finance", "/finance/statements/EU/{year}",
                         "Figures of the period, and to date at its end.",
                         "Chiffres de la période, et cumulés à sa fin."),
    "exchange rates": Visit("finance", "/finance/rates", "Import the ECB reference rates",
                            "Importer les taux de référence de la BCE"),
    "my bank details": Visit("claimant", "/me/bank-details", "Account holder", "Titulaire du compte"),
    "bank details sent empty": Visit("contributor", "/me/bank-details",
                                     "Enter the name of the account holder.",
                                     "Saisissez le nom du titulaire du compte.", then=send_empty_form),
    "organisation activity": Visit("finance", "/activity?year={year}", "Organisations", "Organisations"),
    "leaderboards": Visit(ANON, "/leaderboards", "Charts", "Graphiques"),
    "awards": Visit(ANON, "/awards", "Rounds by year", "Éditions par année"),
    "public listing": Visit("contributor", "/people/me/listing", "History", "Historique"),
    "my documents": Visit("finance", "/documents", "My documents", "Mes documents"),
    "not allowed": Visit("contributor", "/admin/bounties/new", "Not allowed", "Non autorisé"),
    "no such page": Visit(ANON, "/no-such-page", "Page not found", "Page introuvable"),
}


@dataclass
class Site:
    url: str
    app: Flask
    keycloak: KeycloakFake
    ids: dict[str, int]


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def seed(database_url: str) -> dict[str, int]:
    """A bounty in each state the pages show, through the services."""
    engine = make_engine(database_url)
    session = make_sessionmaker(engine)()
    try:
        wf.reference(session)
        for username, roles, jurisdiction in PERSONAS.values():
            wf.person(session, username, roles, jurisdiction)
        claimant = wf.contributor(session, "carla")
        description = ("Health checks ignore **custom ports**.\n\n- reproduce on 4.20\n"
                       "- fix the monitor\n\nSee [the docs](https://docs.cloudstack.apache.org/).")
        ids = {
            "open": wf.open_bounty(session, title="Fix VPC load balancer health checks",
                                   description=description).id,
            "draft": wf.draft_bounty(session, title="Document the Ceph RBD migration",
                                     category_code="documentation", amount="2000",
                                     currency="GBP", working_group_code="WG3").id,
            "claimed": wf.claimed_bounty(session, claimant, title="Repair IPv6 router adverts").bounty.id,
            "submitted": wf.submitted_bounty(session, claimant, title="Speed up VM snapshot list").bounty.id,
            "approved": wf.approved_bounty(session, claimant, title="Fix console proxy TLS").bounty.id,
        }
        session.commit()
        ids |= seed_hours_and_grants(session, claimant)
        ids |= seed_payouts(session)
        return ids
    finally:
        session.close()
        engine.dispose()


def seed_hours_and_grants(session: Session, claimant: Actor) -> dict[str, int]:
    """Hours of the claimant waiting for the reviewer (a WG4 reviewer), and a grant to the
    claimant with one tranche overdue."""
    rev = wf.person(session, PERSONAS["reviewer"][0])
    group = session.execute(select(WorkingGroup).where(WorkingGroup.code == "WG4")).scalar_one()
    session.add(WorkingGroupMember(working_group_id=group.id, person_id=rev.id, role="reviewer"))
    session.commit()
    logged = hours.HoursInput(utcnow().date(), "2.5", "code", "WG4", "Health checks")
    hours.log_hours(session, claimant, logged, backdate_days=90)
    then = datetime.combine(utcnow().date() - timedelta(days=60), time(9), tzinfo=UTC)
    grant = grants.create_grant(session, wf.admin(session), grants.GrantInput(
        title="Maintain the KVM agent", total="30000", currency="EUR", grantee_person_id=claimant.person_id,
        tranches=[grants.TrancheInput("First", then.date() + timedelta(days=30), "10000"),
                  grants.TrancheInput("Second", then.date() + timedelta(days=400), "20000")]), now=then)
    session.commit()
    return {"grant": grant.id}


def seed_payouts(session: Session) -> dict[str, int]:
    """Bank details for the claimant, something payable in GBP, an open EUR batch (the
    claimant's approved bounties) and a paid CAD batch; the year of the statements."""
    fin = pf.finance(session, PERSONAS["finance"][0])
    carla = pf.payee(session, PERSONAS["claimant"][0], "EU")
    pf.approved(session, carla, "EUR", "1500", title="Harden the SSVM agent")
    pf.approved(session, pf.payee(session, "uma", "UK"), "GBP", "2000", title="Fix the GBP invoice bug")
    batch = payouts.create_batch(session, fin, currency="EUR")
    pf.approved(session, pf.payee(session, "colin", "CA"), "CAD", "3000", title="Fix the CAD export")
    paid = payouts.create_batch(session, fin, currency="CAD")
    bank_file = pf.confirmation_csv(payouts.get_batch(session, fin, paid.id))
    payouts.import_confirmation(session, fin, paid.id, bank_file)
    session.commit()
    return {"batch": batch.id, "paid_batch": paid.id, "year": utcnow().year}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Site]:
    """The application on a loopback port for the whole module (see `live_site`)."""
    database = tmp_path_factory.mktemp("accessibility") / "bounty.db"
    shutil.copyfile(sqlite_template, database)
    served: dict[str, Flask] = {}

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return served["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, application, threaded=True, request_handler=_Quiet)
    url = f"http://127.0.0.1:{server.server_port}"
    keycloak = KeycloakFake(redirect_uris=[f"{url}/auth/callback"]).start()
    database_url = f"sqlite:///{database}"
    served["app"] = create_app({"ENV": "testing", "DATABASE_URL": database_url,
                                "SECRET_KEY": "s" * 40, "BANK_DETAILS_KEY": pf.KEY,
                                "SEPA_DEBTOR_NAME": "Sovereign Cloud Cooperative",
                                "SEPA_DEBTOR_IBAN": "BE68539007547034", **keycloak.settings()})
    ids = seed(database_url)
    for username, roles, jurisdiction in PERSONAS.values():
        keycloak.add_user(username, sub=f"test-{username}", realm_roles=roles,
                          jurisdiction=jurisdiction)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Site(url, served["app"], keycloak, ids)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        keycloak.stop()
        served["app"].extensions["bounty.db"].engine.dispose()


@pytest.fixture(scope="module")
def contexts(site: Site, browser: Browser) -> Iterator[dict[str, BrowserContext]]:
    """A browser context per persona, each signed in through the provider's login page."""
    opened = {ANON: browser.new_context()}
    for who, (username, _roles, _jurisdiction) in PERSONAS.items():
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{site.url}/login?next=/me")
        choose_user_in_browser(page, f"test-{username}")
        page.wait_for_url(f"{site.url}/me")
        page.close()
        opened[who] = context
    yield opened
    for context in opened.values():
        context.close()


def violations_text(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        targets = [", ".join(node["target"]) for node in violation["nodes"]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} -> {targets}")
    return "\n".join(lines)


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("name", list(VISITS))
def test_page_is_accessible_and_in_the_language_asked(
        name: str, lang: str, site: Site, contexts: dict[str, BrowserContext]) -> None:
    visit = VISITS[name]
    page = contexts[visit.who].new_page()
    try:
        path = visit.path.format(**site.ids)
        page.goto(f"{site.url}{path}{'&' if '?' in path else '?'}lang={lang}")
        if visit.then is not None:
            visit.then(page)

        assert page.get_attribute("html", "lang") == lang
        expected = visit.french if lang == "fr" else visit.english
        assert expected in page.inner_text("main"), f"{name} ({lang}) does not say {expected!r}"

        violations = Axe().run(page).response["violations"]
        serious = [violation for violation in violations if violation["impact"] in SERIOUS]
        assert not serious, f"{name} ({lang}) at {page.url}:\n{violations_text(serious)}"
    finally:
        page.close()
