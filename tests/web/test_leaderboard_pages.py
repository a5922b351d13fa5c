"""The public leaderboard page and its SVG charts: no sign-in, the period and view selectors,
the ranking a page at a time, bad query values (400 with the field's message), and privacy:
a person who has not agreed to be listed is never named, neither on the page nor in a chart,
and a withdrawal of consent shows on the very next request, through the page cache too."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bounty.models import Person
from bounty.web.page_cache import cache_of
from tests import recognition_factories as rf
from tests import workflow_factories as wf
from tests.web.conftest import csrf_token_of
from tests.web.test_bounty_board import demo_app, demo_person, settle, signed_in

__all__ = ["demo_app"]

SVG = "{http://www.w3.org/2000/svg}"
CHARTS = ("top", "activity", "jurisdictions")


def listed(session: Session, username: str, name: str, *, public: bool, jurisdiction: str = "EU",
           roles: tuple[str, ...] = ("contributor",)) -> Person:
    """A demo person (so they can sign in) with their consent flag."""
    person = demo_person(session, username, roles, jurisdiction)
    person.display_name = name
    return rf.person(session, username, public=public, jurisdiction=jurisdiction)


@pytest.fixture
def seeded(session: Session) -> None:
    """The reference data only: jurisdictions and working groups to choose from."""
    wf.reference(session)
    settle(session)


@pytest.fixture
def board(session: Session) -> dict[str, Person]:
    """Ada (listed, EU, first), Bob (not listed, UK, second), Cy (listed, CA, third) in 2026;
    Ada also worked in 2025."""
    wf.reference(session)
    rf.weights(session)
    ada = listed(session, "ada", "Ada Lovelace", public=True)
    bob = listed(session, "bob", "Bob Hidden", public=False, jurisdiction="UK")
    cy = listed(session, "cy", "Cy Listed", public=True, jurisdiction="CA")
    for count, person in ((3, ada), (2, bob), (1, cy)):
        for index in range(count):
            rf.merged_mr(session, person.id, rf.at(2026, 2 + index, 10))
    rf.hours(session, bob.id, rf.at(2026, 3, 2).date(), quarter_hours=10)
    rf.merged_mr(session, ada.id, rf.at(2025, 6, 1))
    settle(session)
    return {"ada": ada, "bob": bob, "cy": cy}


def ranking(html: str) -> list[tuple[str, str]]:
    """(rank, who) of each row of the ranking table."""
    body = html.split('id="ranking"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<td class="num">(\d+)</td>\s*<th scope="row">(.*?)</th>', body, re.S)
    return [(rank, re.sub(r"<[^>]+>", "", who).strip()) for rank, who in rows]


def field_error(html: str, field: str) -> str:
    match = re.search(rf'<small id="{field}-error" class="field-error">(.*?)</small>', html, re.S)
    assert match, f"no error on {field}"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def chart_texts(client: FlaskClient, name: str, query: str) -> str:
    response = client.get(f"/leaderboards/charts/{name}.svg?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "image/svg+xml"
    root = ElementTree.fromstring(response.get_data(as_text=True))
    return " ".join(element.text or "" for element in root.iter() if element.tag in (
        f"{SVG}text", f"{SVG}title", f"{SVG}desc"))


def test_anyone_reads_the_board_without_signing_in(demo_app: Flask, board: dict[str, Person]) -> None:
    response = demo_app.test_client().get("/leaderboards?period=2026")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ranking(html) == [("1", "Ada Lovelace"), ("2", "Anonymous contributor"), ("3", "Cy Listed")]
    assert "People ranked: 3" in html
    # A listed person's name links to their profile; nothing links the anonymous row.
    assert '<a href="/people/ada">Ada Lovelace</a>' in html
    assert "/people/bob" not in html
    # The charts are images with a text alternative, each followed by its figures.
    for name in CHARTS:
        image = rf'<img src="/leaderboards/charts/{name}.svg\?[^"]*period=2026[^"]*" alt="[^"]+"'
        assert re.search(image, html)
    assert html.count("<details>") == 3


def test_an_opted_out_person_is_never_named_on_the_page_or_in_a_chart(
        demo_app: Flask, board: dict[str, Person]) -> None:
    client = demo_app.test_client()
    for query in ("period=2026", "period=all", "period=2026-Q1", "period=2026&view=jurisdiction&key=UK"):
        html = client.get(f"/leaderboards?{query}").get_data(as_text=True)
        assert "Bob Hidden" not in html and "bob" not in html.lower().replace("bounty", ""), query
        for name in CHARTS:
            assert "Bob Hidden" not in chart_texts(client, name, query), (query, name)

    top = chart_texts(client, "top", "period=2026")
    assert "1. Ada Lovelace" in top and "2. Anonymous contributor" in top and "3. Cy Listed" in top


def test_a_signed_in_contributor_does_not_see_hidden_names_either(
        demo_app: Flask, session: Session, board: dict[str, Person]) -> None:
    client = signed_in(demo_app, demo_person(session, "dora"))

    html = client.get("/leaderboards?period=2026").get_data(as_text=True)
    assert ranking(html)[1] == ("2", "Anonymous contributor")
    assert "Bob Hidden" not in chart_texts(client, "top", "period=2026")


def test_an_auditor_sees_every_name(demo_app: Flask, session: Session, board: dict[str, Person]) -> None:
    client = signed_in(demo_app, demo_person(session, "audrey", ("auditor",)))

    html = client.get("/leaderboards?period=2026").get_data(as_text=True)
    assert ranking(html)[1] == ("2", "Bob Hidden")
    assert '<a href="/people/bob">Bob Hidden</a>' in html


def test_the_views_narrow_the_board(demo_app: Flask, session: Session, board: dict[str, Person]) -> None:
    client = demo_app.test_client()

    def board_of(query: str) -> list[tuple[str, str]]:
        return ranking(client.get(f"/leaderboards?{query}").get_data(as_text=True))

    assert board_of("period=2026&view=jurisdiction&key=CA") == [("1", "Cy Listed")]
    assert board_of("period=2025") == [("1", "Ada Lovelace")]
    organisation = rf.organisation(session)
    rf.person(session, "cy", organisation=organisation, public=True)
    settle(session)
    assert board_of(f"period=2026&view=organisation&key={organisation.id}") == [("1", "Cy Listed")]
    assert "Acme Cloud GmbH" in client.get("/leaderboards?period=2026").get_data(as_text=True)
    rf.group_project(session, "WG2", rf.PROJECT)
    settle(session)
    html = client.get("/leaderboards?period=2026&view=working_group&key=WG2").get_data(as_text=True)
    assert [who for _rank, who in ranking(html)] == ["Ada Lovelace", "Anonymous contributor", "Cy Listed"]


def test_the_form_shows_what_was_asked(demo_app: Flask, board: dict[str, Person]) -> None:
    html = demo_app.test_client().get("/leaderboards?period=2026-q1&view=jurisdiction&key=UK").get_data(
        as_text=True)

    assert '<option selected value="2026-Q1">2026, quarter 1</option>' in html
    assert '<option selected value="jurisdiction">Per jurisdiction</option>' in html
    assert '<option selected value="UK">United Kingdom</option>' in html
    assert '<optgroup label="Working groups">' in html


@pytest.mark.parametrize(("query", "field", "message"), [
    ("period=2026-Q5", "period", "Choose a period from the list"),
    ("period=yesterday", "period", "Choose a period from the list"),
    ("view=everyone", "view", "Choose one of the listed values."),
    ("view=jurisdiction", "key", "Choose which one of the jurisdictions to show."),
    ("view=jurisdiction&key=WG1", "key", "Choose which one of the jurisdictions to show."),
    ("view=organisation&key=999999", "key", "Choose which one of the organisations to show."),
    ("view=overall&key=EU", "key", "The overall view takes no choice here"),
])
def test_bad_query_values_show_the_form_again_with_400(demo_app: Flask, seeded: None,
                                                       query: str, field: str, message: str) -> None:
    response = demo_app.test_client().get(f"/leaderboards?{query}")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert field_error(html, field).startswith(f"Error: {message}")
    assert 'class="error-summary"' in html and 'id="ranking"' not in html


@pytest.mark.parametrize("page", ["0", "two", "99999999"])
def test_a_bad_page_number_is_a_400(demo_app: Flask, seeded: None, page: str) -> None:
    response = demo_app.test_client().get(f"/leaderboards?page={page}")

    assert response.status_code == 400
    assert "is not a page number" in response.get_data(as_text=True)


@pytest.mark.parametrize("query", ["period=2026-Q9", "view=jurisdiction&key=XX"])
def test_a_chart_of_a_bad_query_is_a_400(demo_app: Flask, seeded: None, query: str) -> None:
    assert demo_app.test_client().get(f"/leaderboards/charts/top.svg?{query}").status_code == 400
    assert demo_app.test_client().get(f"/leaderboards/charts/nothing.svg?{query}").status_code == 404


def test_pages_of_25(demo_app: Flask, session: Session, board: dict[str, Person]) -> None:
    for number in range(30):
        person = rf.person(session, f"p{number:02d}", public=True, display_name=f"Person {number:02d}")
        rf.hours(session, person.id, rf.at(2026, 5, 1).date(), quarter_hours=1)
    settle(session)
    client = demo_app.test_client()

    first = client.get("/leaderboards?period=2026").get_data(as_text=True)
    second = client.get("/leaderboards?period=2026&page=2").get_data(as_text=True)
    assert len(ranking(first)) == 25 and ranking(second)[0][0] == "26" and len(ranking(second)) == 8
    assert "page 2 of 2" in second
    assert 'href="/leaderboards?page=2&amp;period=2026&amp;view=overall" rel="next"' in first


def test_charts_are_svg_without_script_with_their_own_policy(demo_app: Flask,
                                                             board: dict[str, Person]) -> None:
    client = demo_app.test_client()
    for name in CHARTS:
        response = client.get(f"/leaderboards/charts/{name}.svg?period=2026")
        svg = response.get_data(as_text=True)
        assert "<script" not in svg
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert response.headers["Cache-Control"] == "private, no-cache"
        etag = response.headers["ETag"]
        assert client.get(f"/leaderboards/charts/{name}.svg?period=2026",
                          headers={"If-None-Match": etag}).status_code == 304


def test_the_chart_figures_are_on_the_page_and_in_the_svg(demo_app: Flask, board: dict[str, Person]) -> None:
    client = demo_app.test_client()

    activity = chart_texts(client, "activity", "period=2026-Q1")
    assert "Jan 2026" in activity and "Mar 2026" in activity
    # February: one MR each for Ada, Bob and Cy; March: Ada's and Bob's second, 2.5 hours of Bob's.
    assert "Merged merge requests: Jan 2026 0, Feb 2026 3, Mar 2026 2" in activity
    assert "Approved hours: Jan 2026 0, Feb 2026 0, Mar 2026 2.5" in activity
    per_jurisdiction = chart_texts(client, "jurisdictions", "period=2026")
    assert "United Kingdom" in per_jurisdiction and "Australia" in per_jurisdiction
    html = client.get("/leaderboards?period=2026-Q1").get_data(as_text=True)
    assert re.search(r'<th scope="row">Mar 2026</th>\s*<td class="num">2</td><td class="num">2.5</td>', html)


def test_french_charts_and_page(demo_app: Flask, board: dict[str, Person]) -> None:
    client = demo_app.test_client()

    html = client.get("/leaderboards?period=2026-Q1&lang=fr").get_data(as_text=True)
    assert 'lang="fr"' in html
    assert "lang=fr" in re.findall(r'<img src="([^"]+)"', html)[0]
    assert "mars 2026" in chart_texts(client, "activity", "period=2026-Q1&lang=fr")


def test_consent_withdrawal_shows_on_the_next_request_through_the_cache(
        demo_app: Flask, session: Session, board: dict[str, Person]) -> None:
    visitor = demo_app.test_client()
    for _twice in range(2):
        html = visitor.get("/leaderboards?period=2026").get_data(as_text=True)
        assert ranking(html)[0] == ("1", "Ada Lovelace")
    assert len(cache_of(demo_app)) >= 1  # the page is served from the cache

    ada = signed_in(demo_app, board["ada"])
    form = ada.get("/people/me/listing").get_data(as_text=True)
    response = ada.post("/people/me/listing",
                        data={"csrf_token": csrf_token_of(form), "listing": "anonymous"})
    assert response.status_code == 302

    html = visitor.get("/leaderboards?period=2026").get_data(as_text=True)
    assert ranking(html)[0] == ("1", "Anonymous contributor")
    assert "Ada Lovelace" not in html
    assert "Ada Lovelace" not in chart_texts(visitor, "top", "period=2026")
    assert visitor.get("/people/ada").status_code == 404


def test_activity_of_all_time_is_per_quarter_from_the_first_active_one(
        demo_app: Flask, board: dict[str, Person]) -> None:
    activity = chart_texts(demo_app.test_client(), "activity", "period=all")

    # Ada's merge of June 2025 opens the series; 2026's work falls in its first quarter.
    assert "Merged merge requests: Q2 2025 1, Q3 2025 0, Q4 2025 0, Q1 2026 5," in activity
    assert "Approved hours: Q2 2025 0, Q3 2025 0, Q4 2025 0, Q1 2026 2.5," in activity


def test_a_working_group_counts_its_projects_and_its_hours(
        demo_app: Flask, session: Session, board: dict[str, Person]) -> None:
    other = rf.person(session, "dan", public=True, display_name="Dan Other")
    rf.merged_mr(session, other.id, rf.at(2026, 2, 20), project_path="elsewhere/tool")
    rf.hours(session, other.id, rf.at(2026, 2, 21).date(), quarter_hours=8, working_group_code="WG3")
    rf.group_project(session, "WG3", "elsewhere/tool")
    settle(session)
    client = demo_app.test_client()

    activity = chart_texts(client, "activity", "period=2026-Q1&view=working_group&key=WG3")
    assert "Merged merge requests: Jan 2026 0, Feb 2026 1, Mar 2026 0." in activity
    assert "Approved hours: Jan 2026 0, Feb 2026 2, Mar 2026 0." in activity
    html = client.get("/leaderboards?period=2026-Q1&view=working_group&key=WG3").get_data(as_text=True)
    assert ranking(html) == [("1", "Dan Other")]
