"""The money side in a real browser, everyone signed in through the OpenID provider: a
contributor logs hours, a reviewer of the working group approves them and the contributor
downloads the professional-development statement (a PDF); a program admin grants the
contributor two tranches and a reviewer signs off the first; finance batches what is payable
(that tranche and an approved bounty), downloads the CSV, imports the bank's confirmation, and
the items are paid, on the batch page and in the contributor's ledger lines."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from bounty.ledger import Money
from bounty.models import Person, WorkingGroup, WorkingGroupMember, utcnow
from bounty.models.engine import make_engine, make_sessionmaker
from bounty.services import funds, journal, payouts
from bounty.services.errors import NotFound
from tests import payout_factories as pf
from tests import workflow_factories as wf
from tests.browser.conftest import LiveSite
from tests.fakes.keycloak import choose_user_in_browser

TODAY = utcnow().date()
GROUP = "WG4"
GRANT_TITLE = "Maintain the KVM agent"
BOUNTY_TITLE = "Fix the console proxy on IPv6"
HOURS_DONE = "Reviewed the health-check rework"


@pytest.fixture
def db(live_site: LiveSite) -> Iterator[Session]:
    engine = make_engine(live_site.app.config["DATABASE_URL"])
    session = make_sessionmaker(engine)()
    yield session
    session.close()
    engine.dispose()


def signed_in_page(browser: Browser, site: LiveSite, sub: str, next_path: str) -> Page:
    """A fresh browser context (downloads allowed) signed in as `sub` through the provider."""
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(f"{site.url}/login?next={next_path}")
    choose_user_in_browser(page, sub)
    page.wait_for_url(f"{site.url}{next_path}")
    return page


def person(db: Session, site: LiveSite, username: str, name: str, roles: tuple[str, ...],
           jurisdiction: str) -> tuple[Person, str]:
    """`username` in the provider's user list and in the database (the same subject), so the
    seed can give them work and memberships before they first sign in."""
    sub = site.keycloak.add_user(username, sub=f"test-{username}", name=name, jurisdiction=jurisdiction,
                                 realm_roles=roles)
    return wf.person(db, username, roles, jurisdiction, display_name=name), sub


def group_reviewer(db: Session, someone: Person, code: str = GROUP) -> None:
    group = db.execute(select(WorkingGroup).where(WorkingGroup.code == code)).scalar_one()
    db.add(WorkingGroupMember(working_group_id=group.id, person_id=someone.id, role="reviewer"))
    db.commit()


def bank_balance(db: Session) -> Money:
    """The EUR settlement account's balance (zero before its first line)."""
    try:
        return journal.balance(db, funds.bank_code("EUR"))
    except NotFound:
        return Money.zero("EUR")


def test_hours_grant_and_payout_batch_paid_through_the_pages(
    browser: Browser, live_site: LiveSite, db: Session
) -> None:
    wf.reference(db)
    carla, carla_sub = person(db, live_site, "carla", "Carla Contributor", ("contributor",), "EU")
    rita, rita_sub = person(db, live_site, "rita", "Rita Reviewer", ("contributor", "reviewer"), "UK")
    _, tess_sub = person(db, live_site, "tess", "Tess Admin", ("contributor", "program-admin"), "EU")
    fiona, fiona_sub = person(db, live_site, "fiona", "Fiona Finance", ("contributor", "finance"), "EU")
    group_reviewer(db, rita)
    # An approved bounty of Carla's, approved by two reviewers through the services: the
    # second payable of the batch.
    pf.approved(db, wf.actor_of(carla), "EUR", "1000", title=BOUNTY_TITLE)
    bank_before = bank_balance(db)
    db.commit()  # end the read transaction: SQLite would keep the site's writers waiting
    site = live_site.url
    year = TODAY.year

    # 1. Carla logs hours and sees them waiting for review.
    contributor = signed_in_page(browser, live_site, carla_sub, "/hours/new")
    expect(contributor.get_by_role("heading", level=1)).to_have_text("Log hours")
    contributor.fill("#worked_on", TODAY.isoformat())
    contributor.fill("#hours", "2.5")
    contributor.select_option("#activity", "review")
    contributor.select_option("#working_group_code", GROUP)
    contributor.fill("#description", HOURS_DONE)
    contributor.get_by_role("button", name="Log these hours").click()
    contributor.wait_for_url(f"{site}/hours?year={year}")
    expect(contributor.get_by_text("Your hours are logged.")).to_be_visible()
    entries = contributor.locator("section[aria-labelledby=entries] tbody tr")
    expect(entries).to_have_count(1)
    expect(entries.first).to_contain_text(HOURS_DONE)
    expect(entries.first).to_contain_text("2.50")
    expect(entries.first).to_contain_text("Pending")
    expect(entries.first).to_contain_text("not yet")
    totals = contributor.locator("section[aria-labelledby=totals] dl")
    expect(totals).to_contain_text(re.compile(r"Waiting for review\s*2\.50"))
    expect(totals).to_contain_text(re.compile(r"Approved\s*0\.00"))

    # 2. Rita, a reviewer of the working group, approves them from her queue.
    reviewer = signed_in_page(browser, live_site, rita_sub, "/hours/review")
    decision = reviewer.get_by_role(
        "form", name=f"Review the hours of Carla Contributor on {TODAY.isoformat()}")
    expect(decision).to_be_visible()
    decision.get_by_label("Approve").check()
    decision.get_by_label("Comment").fill("Thorough review, thanks.")
    decision.get_by_role("button", name="Record my decision").click()
    expect(reviewer.get_by_text("The hours are approved.")).to_be_visible()
    expect(reviewer.get_by_text("No hours are waiting for your review.")).to_be_visible()

    contributor.reload()
    expect(entries.first).to_contain_text("Approved")
    expect(entries.first).to_contain_text("Rita Reviewer")
    expect(entries.first).to_contain_text("Thorough review, thanks.")
    expect(totals).to_contain_text(re.compile(r"Approved\s*2\.50"))
    with contributor.expect_download() as download_info:
        contributor.get_by_role("link", name=f"Download the statement of {year} (PDF)").click()
    statement = download_info.value
    assert statement.suggested_filename == f"hours-statement-carla-{year}.pdf"
    pdf = Path(statement.path()).read_bytes()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-1024:]
    # The same download fetched with the page's cookies: the media type is PDF's.
    fetched = contributor.request.get(f"{site}/hours/statement?year={year}&format=pdf")
    assert fetched.status == 200 and fetched.headers["content-type"] == "application/pdf"
    assert fetched.body().startswith(b"%PDF-")

    # 3. Tess, a program admin, grants Carla two tranches; Rita signs off the first.
    admin = signed_in_page(browser, live_site, tess_sub, "/grants/new")
    admin.fill("#title", GRANT_TITLE)
    admin.fill("#description", "Two releases of the agent.")
    admin.select_option("#working_group_code", GROUP)
    admin.fill("#grantee_username", "carla")
    admin.fill("#total", "12000")
    admin.select_option("#currency", "EUR")
    for index, (milestone, days, amount) in enumerate((("Release 4.20", 30, "5000"),
                                                       ("Release 4.21", 90, "7000"))):
        admin.fill(f"#tranches-{index}-milestone", milestone)
        admin.fill(f"#tranches-{index}-due_on", (TODAY + timedelta(days=days)).isoformat())
        admin.fill(f"#tranches-{index}-amount", amount)
    admin.get_by_role("button", name="Create the grant").click()
    admin.wait_for_url(re.compile(rf"^{re.escape(site)}/grants/\d+$"))
    grant_path = admin.url.removeprefix(site)
    expect(admin.get_by_role("heading", level=1)).to_have_text(GRANT_TITLE)
    expect(admin.get_by_text("The grant is created")).to_be_visible()
    facts = admin.locator("section[aria-labelledby=facts] dl")
    expect(facts).to_contain_text("Carla Contributor")
    expect(facts).to_contain_text("12,000.00")
    # The admin is not a reviewer: no sign-off is offered to her.
    expect(admin.get_by_role("button", name="Sign off")).to_have_count(0)
    admin.context.close()

    reviewer.goto(f"{site}{grant_path}")
    tranches = reviewer.locator("section[aria-labelledby=tranches] tbody tr")
    expect(tranches).to_have_count(2)
    reviewer.get_by_role("button", name="Sign off milestone 1: Release 4.20").click()
    expect(reviewer.get_by_text("Milestone 1 is signed off: the tranche is payable.")).to_be_visible()
    expect(tranches.nth(0)).to_contain_text("Signed off")
    expect(tranches.nth(0)).to_contain_text("rita")  # the page names the signer by username
    expect(tranches.nth(1)).to_contain_text("Pending")
    expect(reviewer.get_by_role("button", name="Sign off milestone 2: Release 4.21")).to_be_visible()
    reviewer.context.close()

    # 4. Fiona, finance, batches what is payable and pays it.
    finance = signed_in_page(browser, live_site, fiona_sub, "/finance/payables")
    payable = finance.locator("table tbody tr")
    expect(payable).to_have_count(2)
    expect(finance.locator("table")).to_contain_text(f"{BOUNTY_TITLE}")
    expect(finance.locator("table")).to_contain_text("tranche 1: Release 4.20")
    expect(finance.locator("table tfoot")).to_contain_text(re.compile(r"Total in EUR\s*€?6,000\.00"))
    finance.get_by_role("button", name="Create the batch").click()
    finance.wait_for_url(re.compile(rf"^{re.escape(site)}/finance/batches/\d+$"))
    batch_id = int(finance.url.rsplit("/", 1)[1])
    expect(finance.get_by_role("heading", level=1)).to_contain_text(f"Payout batch {batch_id}")
    expect(finance.get_by_role("heading", level=1)).to_contain_text("Open")
    items = finance.locator("section[aria-labelledby=items-title] tbody tr")
    expect(items).to_have_count(2)

    with finance.expect_download() as download_info:
        finance.get_by_role("link", name="Download as CSV").click()
    exported = download_info.value
    assert exported.suggested_filename == f"payout-batch-{batch_id}.csv"
    rows = list(csv.DictReader(io.StringIO(Path(exported.path()).read_text("utf-8"))))
    by_kind = {row["kind"]: row for row in rows}
    assert len(rows) == 2 and set(by_kind) == {"bounty", "tranche"}
    assert by_kind["bounty"]["description"].endswith(BOUNTY_TITLE)
    assert by_kind["tranche"]["description"].endswith("tranche 1: Release 4.20")
    for row, amount in ((by_kind["bounty"], "1000.00"), (by_kind["tranche"], "5000.00")):
        assert row["batch_id"] == str(batch_id)
        assert (row["currency"], row["amount"], row["eur_amount"]) == ("EUR", amount, amount)
        assert row["payee_name"] == "Carla Contributor" and row["status"] == "pending"
        shares = [Money.parse(row[f"share_{code}_eur"], "EUR") for code in ("EU", "UK", "CA", "AU")]
        assert sum(share.minor for share in shares) == Money.parse(amount, "EUR").minor
        assert all(share.minor > 0 for share in shares)
        assert row["paid_on"] == ""

    # The bank's confirmation of this batch, checked against the file that went to the bank.
    view = payouts.get_batch(db, wf.actor_of(fiona), batch_id)
    db.commit()
    confirmation = pf.confirmation_csv(view, paid_on=TODAY)
    confirmed = list(csv.DictReader(io.StringIO(confirmation.decode())))
    assert sorted((c["end_to_end_id"], c["amount"]) for c in confirmed) == sorted(
        (row["end_to_end_id"], row["amount"]) for row in rows)
    finance.get_by_label("The bank's confirmation (CSV)").set_input_files(files=[{
        "name": f"bank-confirmation-{batch_id}.csv", "mimeType": "text/csv", "buffer": confirmation}])
    finance.get_by_role("button", name="Import", exact=True).click()
    expect(finance.get_by_text("Confirmation imported: 2 items paid, 0 already paid.")).to_be_visible()
    expect(finance.get_by_role("heading", level=1)).to_contain_text("Paid")
    for index in range(2):
        expect(items.nth(index)).to_contain_text("Paid")
    for row in rows:
        expect(items.filter(has_text=row["end_to_end_id"])).to_contain_text("Paid")
    finance.context.close()

    # Carla's ledger lines show both payments; nothing is owed to her any more.
    contributor.goto(f"{site}/me")
    ledger = contributor.locator("section[aria-labelledby=my-ledger] table tbody")
    payments = ledger.locator("tr", has_text="Payment")
    expect(payments).to_have_count(2)
    expect(payments.filter(has_text=f"payout batch {batch_id}: {by_kind['bounty']['end_to_end_id']}")
           ).to_contain_text("1,000.00")
    expect(payments.filter(has_text=f"payout batch {batch_id}: {by_kind['tranche']['end_to_end_id']}")
           ).to_contain_text("5,000.00")
    contributor.context.close()

    assert journal.balance(db, f"payable:person:{carla.id}:EUR") == Money.zero("EUR")
    # The payments left the cooperative's EUR settlement account.
    assert bank_balance(db) - bank_before == Money.parse("-6000", "EUR")
