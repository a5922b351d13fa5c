"""The bounty board: filters, sort, pagination, money for the locale, embargo, bad filter values.

Also home of the helpers the other bounty page tests share: demo people (the development
sign-in only offers `demo-` subjects) and a client signed in as one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from bounty.models import Person
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of


def demo_person(session: Session, username: str, roles: Iterable[str] = ("contributor",),
                jurisdiction: str = "EU") -> Person:
    """A person the development sign-in offers (`demo-` subject)."""
    person = Person(keycloak_subject=f"demo-{username}", username=username,
                    display_name=username.replace(".", " ").title(), email=f"{username}@example.org",
                    jurisdiction_code=jurisdiction, roles=list(roles))
    session.add(person)
    session.commit()
    return person


def settle(session: Session) -> None:
    """End the test session's transaction: on SQLite it holds the file lock the pages need."""
    session.commit()


def signed_in(app: Flask, person: Person) -> FlaskClient:
    """A browser signed in as `person` through the development sign-in."""
    client = app.test_client()
    token = csrf_token_of(client.get("/dev/login").get_data(as_text=True))
    response = client.post("/dev/login", data={"csrf_token": token, "person_id": person.id})
    assert response.status_code == 302
    return client


def sends_to_sign_in(response: TestResponse, back_to: str | None) -> bool:
    """Whether `response` sends the visitor to sign in (Keycloak's route or the persona picker,
    whichever this configuration has), to come back to `back_to`."""
    location = urlsplit(response.headers.get("Location", ""))
    return (response.status_code == 302 and location.path in ("/login", "/dev/login")
            and parse_qs(location.query).get("next") == ([back_to] if back_to else None))


def titles(html: str) -> list[str]:
    """The bounty titles of the board's table, in order."""
    return re.findall(r'<th scope="row"><a href="/bounties/\d+">([^<]+)</a>', html)


@pytest.fixture
def demo_app(make_app: Callable[..., Flask], session: Session) -> Flask:
    wf.reference(session)
    settle(session)
    return make_app(DEMO_LOGIN=True)


def test_filters_narrow_the_board(demo_app: Flask, session: Session) -> None:
    wf.open_bounty(session, title="Networking fix", working_group_code="WG4")
    wf.open_bounty(session, title="Storage guide", category_code="documentation", amount="2000",
                   currency="GBP", working_group_code="WG3", description="Ceph and MinIO.")
    wf.draft_bounty(session, title="Draft only")
    wf.claimed_bounty(session, title="Taken fix", working_group_code="WG1")
    settle(session)
    client = demo_app.test_client()

    assert titles(client.get("/bounties?working_group=WG3").get_data(as_text=True)) == ["Storage guide"]
    assert titles(client.get("/bounties?category=bug_fix").get_data(as_text=True)) == ["Networking fix"]
    assert titles(client.get("/bounties?currency=GBP").get_data(as_text=True)) == ["Storage guide"]
    assert titles(client.get("/bounties?q=minio").get_data(as_text=True)) == ["Storage guide"]
    assert titles(client.get("/bounties?q=nothing+like+it").get_data(as_text=True)) == []
    everything = client.get("/bounties").get_data(as_text=True)
    # Anonymous visitors see open bounties only: neither the draft nor the claimed one.
    assert sorted(titles(everything)) == ["Networking fix", "Storage guide"]
    assert "Bounties found: 2" in everything


def test_signed_in_people_filter_by_status(demo_app: Flask, session: Session) -> None:
    wf.open_bounty(session, title="Open one")
    wf.claimed_bounty(session, title="Claimed one")
    settle(session)
    client = signed_in(demo_app, demo_person(session, "dora"))

    assert titles(client.get("/bounties?status=claimed").get_data(as_text=True)) == ["Claimed one"]
    html = client.get("/bounties?status=open").get_data(as_text=True)
    assert titles(html) == ["Open one"]
    assert '<option selected value="open">Open</option>' in html


def test_sort_by_amount_and_title(demo_app: Flask, session: Session) -> None:
    for title, amount in (("Beta", "1500"), ("Alpha", "900"), ("Gamma", "3000")):
        wf.open_bounty(session, title=title, amount=amount)
    settle(session)
    client = demo_app.test_client()

    def board(query: str) -> list[str]:
        return titles(client.get(f"/bounties{query}").get_data(as_text=True))

    assert board("?sort=amount_desc") == ["Gamma", "Beta", "Alpha"]
    assert board("?sort=amount_asc") == ["Alpha", "Beta", "Gamma"]
    assert board("?sort=title") == ["Alpha", "Beta", "Gamma"]
    assert board("") == ["Gamma", "Alpha", "Beta"]  # newest first


def test_pages_of_25_with_links_keeping_the_filters(demo_app: Flask, session: Session) -> None:
    for number in range(1, 28):
        wf.open_bounty(session, title=f"Bounty {number:02d}")
    settle(session)
    client = demo_app.test_client()

    first = client.get("/bounties?sort=title").get_data(as_text=True)
    second = client.get("/bounties?sort=title&page=2").get_data(as_text=True)

    assert titles(first) == [f"Bounty {n:02d}" for n in range(1, 26)]
    assert titles(second) == ["Bounty 26", "Bounty 27"]
    assert "Bounties found: 27" in first
    assert "page 1 of 2" in first
    assert 'href="/bounties?sort=title&amp;page=2" rel="next"' in first
    assert 'href="/bounties?sort=title&amp;page=1" rel="prev"' in second
    assert 'aria-current="page"><span class="visually-hidden">Page </span>2</a>' in second
    assert titles(client.get("/bounties?sort=title&page=3").get_data(as_text=True)) == []


@pytest.mark.parametrize("query", ["status=lost", "sort=cheapest", "working_group=WG99",
                                   "category=%3Cscript%3E", "currency=XXX", "page=0", "page=two",
                                   "q=" + "x" * 201])
def test_bad_filter_values_show_the_form_again_with_400(demo_app: Flask, query: str) -> None:
    response = demo_app.test_client().get(f"/bounties?{query}")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert '<form method="get" action="/bounties"' in html
    assert "<table" not in html
    assert "<script>" not in html


def test_a_bad_filter_is_marked_on_its_field(demo_app: Flask) -> None:
    html = demo_app.test_client().get("/bounties?status=lost").get_data(as_text=True)

    assert '<a href="#status">Status: Choose one of the listed values.</a>' in html
    assert 'aria-describedby="status-error"' in html
    assert 'aria-invalid="true"' in html


def test_amounts_in_their_currency_and_in_euros_for_the_locale(demo_app: Flask, session: Session) -> None:
    wf.open_bounty(session, title="Guide", category_code="documentation", amount="2000", currency="GBP")
    settle(session)
    client = demo_app.test_client()

    english = client.get("/bounties").get_data(as_text=True)
    french = client.get("/bounties?lang=fr").get_data(as_text=True)

    assert "£2,000.00" in english
    assert re.search(r"€2,[0-9]{3}\.[0-9]{2}", english)  # the reserved EUR equivalent
    assert "2\u202f000,00\xa0£" in french
    assert '<html lang="fr">' in french
    assert "Primes" in french


def embargo_setup(session: Session) -> None:
    wf.open_bounty(session, title="Public fix")
    bounty = wf.open_bounty(session, **_security())
    assert bounty.status == "open"
    settle(session)


def _security() -> dict[str, object]:
    return {"title": "CVE-2026-0001 remediation", "category_code": "critical_security_fix",
            "amount": "10000", "currency": "GBP", "working_group_code": "WG5"}


def test_embargoed_bounties_only_for_those_allowed(demo_app: Flask, session: Session) -> None:
    embargo_setup(session)
    contributor = signed_in(demo_app, demo_person(session, "dora"))
    council = signed_in(demo_app, demo_person(session, "sec", ("contributor", "security-council"), "UK"))

    for client in (demo_app.test_client(), contributor):
        html = client.get("/bounties").get_data(as_text=True)
        assert titles(html) == ["Public fix"]
        assert "Bounties found: 1" in html
        assert titles(client.get("/bounties?category=critical_security_fix").get_data(as_text=True)) == []
        assert titles(client.get("/bounties?q=CVE").get_data(as_text=True)) == []
    seen = council.get("/bounties").get_data(as_text=True)
    assert sorted(titles(seen)) == ["CVE-2026-0001 remediation", "Public fix"]
    assert "Embargoed" in seen


def test_navigation_offers_what_the_reader_may_use(demo_app: Flask, session: Session) -> None:
    anonymous = demo_app.test_client().get("/bounties").get_data(as_text=True)
    contributor = signed_in(demo_app, demo_person(session, "dora")).get("/bounties").get_data(as_text=True)
    reviewer = signed_in(demo_app, demo_person(session, "rita", ("contributor", "reviewer"))).get(
        "/bounties").get_data(as_text=True)
    admin = signed_in(demo_app, demo_person(session, "adam", ("contributor", "program-admin"))).get(
        "/bounties").get_data(as_text=True)

    assert '<a href="/bounties" aria-current="page">Bounties</a>' in anonymous
    assert "/me" not in anonymous and "/review" not in anonymous
    assert 'href="/me"' in contributor and 'href="/review"' not in contributor
    assert 'href="/review"' in reviewer and 'href="/admin/bounties/new"' not in reviewer
    assert 'href="/admin/bounties/new"' in admin
