"""The contributor's journey in a real browser, signed in through the OpenID provider:
claim a bounty, submit a merge request (already synced from GitLab: merged, DCO-clean), two
reviewers of different jurisdictions approve, the bounty shows approved and the contributor's
ledger shows the payable."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.ledger import Money
from bounty.models import Person
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import journal
from tests import workflow_factories as wf
from tests.browser.conftest import LiveSite
from tests.fakes.keycloak import choose_user_in_browser

TITLE = "Fix VPC load balancer health checks on custom ports"


@pytest.fixture
def db(live_site: LiveSite) -> Iterator[Session]:
    engine = make_engine(live_site.app.config["DATABASE_URL"])
    session = make_sessionmaker(engine)()
    yield session
    session.close()
    engine.dispose()


def signed_in_page(browser: Browser, site: LiveSite, sub: str, next_path: str) -> Page:
    """A fresh browser context signed in as `sub` through the provider's login page."""
    page = browser.new_context().new_page()
    page.goto(f"{site.url}/login?next={next_path}")
    choose_user_in_browser(page, sub)
    page.wait_for_url(f"{site.url}{next_path}")
    return page


def test_claim_submit_two_jurisdictions_approve_and_the_payable_is_on_record(
    browser: Browser, live_site: LiveSite, db: Session
) -> None:
    wf.reference(db)
    bounty = wf.open_bounty(db, title=TITLE, amount="1000", currency="EUR")
    # The merge request as the GitLab sync stored it: approval needs it merged and DCO-clean.
    wf.merged_work(db, wf.MERGE_REQUEST, title="Probe custom health-check ports")
    db.commit()  # end the read transaction: SQLite would keep the site's writers waiting
    keycloak = live_site.keycloak
    carla = keycloak.add_user("carla", name="Carla Contributor", jurisdiction="EU")
    ravi = keycloak.add_user("ravi", name="Ravi Reviewer", jurisdiction="UK",
                             realm_roles=("contributor", "reviewer"))
    chloe = keycloak.add_user("chloe", name="Chloé Reviewer", jurisdiction="CA",
                              realm_roles=("contributor", "reviewer"))
    detail = f"/bounties/{bounty.id}"

    contributor = signed_in_page(browser, live_site, carla, detail)
    expect(contributor.get_by_role("heading", level=1)).to_contain_text(TITLE)
    contributor.get_by_role("button", name="Claim this bounty").click()
    expect(contributor.locator(".bounty-status")).to_contain_text("Claimed")
    contributor.fill("textarea[name=merge_request_urls]", wf.MERGE_REQUEST)
    contributor.get_by_role("button", name="Submit for review").click()
    expect(contributor.locator(".bounty-status")).to_contain_text("Submitted")
    expect(contributor.get_by_role("link", name="cloudstack/cloudstack!101")).to_have_attribute(
        "href", wf.MERGE_REQUEST)
    expect(contributor.get_by_text("Probe custom health-check ports")).to_be_visible()
    expect(contributor.locator(".merged-work .dco-signed")).to_have_text("signed off")
    # The claimant is offered no review form.
    expect(contributor.get_by_role("button", name="Record my review")).to_have_count(0)

    for reviewer_sub, comment in ((ravi, "Tested on a UK staging zone."),
                                  (chloe, "Health checks pass on ports 8080 and 8443.")):
        page = signed_in_page(browser, live_site, reviewer_sub, detail)
        page.check("input[name=verdict][value=approve]")
        page.fill("textarea[name=comment]", comment)
        page.get_by_role("button", name="Record my review").click()
        expect(page.get_by_text(comment)).to_be_visible()
        page.context.close()

    contributor.goto(f"{live_site.url}{detail}")
    expect(contributor.locator(".bounty-status")).to_contain_text("Approved")
    contributor.goto(f"{live_site.url}/me")
    ledger = contributor.locator("section[aria-labelledby=my-ledger] table")
    expect(ledger).to_contain_text("payable:person:")
    expect(ledger).to_contain_text("1,000.00")

    person = db.execute(select(Person).where(Person.keycloak_subject == carla)).scalar_one()
    payable = journal.balance(db, f"payable:person:{person.id}:EUR")
    assert payable == Money.parse("1000", "EUR")
    contributor.context.close()
