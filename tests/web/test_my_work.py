"""A contributor's own work (claims, earnings, ledger lines) and the reviewers' queue."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy.orm import Session

from tests import workflow_factories as wf
from tests.web.test_bounty_board import demo_app, demo_person, sends_to_sign_in, settle, signed_in

__all__ = ["demo_app"]


def test_my_work_needs_signing_in(demo_app: Flask) -> None:
    response = demo_app.test_client().get("/me")

    assert sends_to_sign_in(response, "/me")


def test_nothing_yet(demo_app: Flask, session: Session) -> None:
    html = signed_in(demo_app, demo_person(session, "dora")).get("/me").get_data(as_text=True)

    assert "You have not claimed a bounty yet." in html
    assert "No earnings yet" in html
    assert "No ledger lines on your accounts yet." in html


def test_claims_earnings_and_ledger_lines_after_approval(demo_app: Flask, session: Session) -> None:
    dora = demo_person(session, "dora", jurisdiction="CA")
    approved = wf.approved_bounty(session, wf.actor_of(dora), title="Paid work", amount="1500",
                                  currency="GBP")
    active = wf.claimed_bounty(session, wf.actor_of(dora), title="Still working")
    wf.claimed_bounty(session, wf.contributor(session, "someone.else"), title="Not mine")
    settle(session)

    html = signed_in(demo_app, dora).get("/me").get_data(as_text=True)

    claims = html[html.index('id="my-claims"'):html.index('id="my-earnings"')]
    newest_first = [str(active.bounty.id), str(approved.bounty.id)]
    assert re.findall(r'<a href="/bounties/(\d+)">', claims) == newest_first
    assert "Not mine" not in html
    assert '<span class="badge status-approved">Approved</span>' in claims
    assert '<span class="badge status-active">Active</span>' in claims
    assert "submit by" in claims
    earnings = html[html.index('id="my-earnings"'):html.index('id="my-ledger"')]
    assert '<th scope="row">GBP</th><td class="num">£1,500.00</td>' in earnings
    ledger = html[html.index('id="my-ledger"'):]
    assert f"<code>payable:person:{dora.id}:GBP</code>" in ledger
    assert "-£1,500.00" in ledger  # a credit on the payable: owed to Dora
    assert "Payable" in ledger


def test_my_work_in_french(demo_app: Flask, session: Session) -> None:
    dora = demo_person(session, "dora", jurisdiction="CA")
    wf.approved_bounty(session, wf.actor_of(dora), amount="1500", currency="GBP")
    settle(session)

    html = signed_in(demo_app, dora).get("/me?lang=fr").get_data(as_text=True)

    assert '<html lang="fr">' in html
    assert "Mon travail" in html
    assert "1\u202f500,00\xa0£" in html
    assert "Approuvée" in html


def test_the_review_queue_lists_what_the_reviewer_may_review(demo_app: Flask, session: Session) -> None:
    rita = demo_person(session, "rita", ("contributor", "reviewer"), "UK")
    waiting = wf.submitted_bounty(session, title="Waiting for review")
    own = wf.submitted_bounty(session, wf.actor_of(rita), title="Rita's own")
    wf.claimed_bounty(session, title="Not submitted yet")
    wf.submitted_bounty(session, wf.reviewer(session, "sam", "EU", council=True), **{
        "title": "CVE fix", "category_code": "critical_security_fix", "amount": "10000",
        "currency": "GBP", "working_group_code": "WG5"})
    settle(session)

    html = signed_in(demo_app, rita).get("/review").get_data(as_text=True)

    assert re.findall(r'<a href="/bounties/\d+">([^<]+)</a>', html) == ["Waiting for review"]
    assert str(own.bounty.id) not in re.findall(r'/bounties/(\d+)', html)
    assert "CVE fix" not in html  # embargoed: not for an ordinary reviewer
    assert f'<a href="/bounties/{waiting.bounty.id}">' in html


def test_the_review_queue_is_for_reviewers_only(demo_app: Flask, session: Session) -> None:
    contributor = signed_in(demo_app, demo_person(session, "dora"))

    assert contributor.get("/review").status_code == 403
    assert sends_to_sign_in(demo_app.test_client().get("/review"), "/review")


def test_an_empty_queue_says_so_in_french(demo_app: Flask, session: Session) -> None:
    reviewer = signed_in(demo_app, demo_person(session, "rita", ("contributor", "reviewer"), "UK"))

    html = reviewer.get("/review?lang=fr").get_data(as_text=True)

    assert "File de relecture" in html
    assert "Rien n\u2019attend votre relecture." in html
