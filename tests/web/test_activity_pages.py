"""The organisation activity page and its CSV on both databases: the figures of a built
scenario (DCO-clean and other merge requests, approved and other hours, someone without an
organisation) for a month and a year, both ends of the period included, the CSV parsed back
equal to the page, hostile organisation names neutralised, bad periods shown on the form,
and who may see it (anonymous, contributor, finance, program admin, auditor)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bounty.exports import statements as statement_exports
from bounty.models import utcnow
from bounty.services import activity, statements
from bounty.services.actors import SYSTEM
from tests import activity_factories as af
from tests.web.test_bounty_board import demo_person, sends_to_sign_in, settle, signed_in

UNAFFILIATED_LABEL = "People without an organisation"
MARCH_QUERY = "start=2025-03-01&end=2025-03-31"


@pytest.fixture
def activity_app(make_app: Callable[..., Flask], session: Session) -> Flask:
    af.scenario(session)
    settle(session)
    return make_app(DEMO_LOGIN=True)


def browser(app: Flask, session: Session, username: str, *roles: str) -> FlaskClient:
    person = demo_person(session, username, roles or ("contributor",))
    settle(session)
    return signed_in(app, person)


class _Table(HTMLParser):
    """The cells of the page's table: body rows and the footer row, as text."""

    def __init__(self) -> None:
        super().__init__()
        self.section: str | None = None
        self.rows: dict[str, list[list[str]]] = {"tbody": [], "tfoot": []}
        self.cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.rows:
            self.section = tag
        elif tag == "tr" and self.section:
            self.rows[self.section].append([])
        elif tag in ("td", "th") and self.section:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in self.rows:
            self.section = None
        elif tag in ("td", "th") and self.cell is not None and self.section:
            self.rows[self.section][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table(html: str) -> tuple[list[list[str]], list[list[str]]]:
    parser = _Table()
    parser.feed(html)
    return parser.rows["tbody"], parser.rows["tfoot"]


def figures_of_page(html: str) -> list[tuple[str | None, int, int, Decimal]]:
    """(organisation or None for people without one, contributors, merge requests, hours) per row."""
    body, _foot = table(html)
    return [(None if name == UNAFFILIATED_LABEL else name, int(people), int(mrs),
             Decimal(hours.replace(",", ""))) for name, _jurisdiction, _kind, people, mrs, hours in body]


def figures_of_csv(text: str) -> list[tuple[str | None, int, int, Decimal]]:
    return [(None if row["organisation"] == activity.UNAFFILIATED else row["organisation"],
             int(row["active_contributors"]), int(row["merged_merge_requests"]),
             Decimal(row["approved_hours"])) for row in csv.DictReader(io.StringIO(text, newline=""))]


def test_figures_of_a_month_and_a_year_with_totals(activity_app, session):
    finance = browser(activity_app, session, "fin", "finance")
    month = finance.get(f"/activity?{MARCH_QUERY}&lang=en")
    assert month.status_code == 200
    html = month.get_data(as_text=True)
    assert figures_of_page(html) == af.EXPECTED_MARCH
    body, foot = table(html)
    assert body[0][:3] == [af.ACME, "EU", "Supplier"] and body[1][:3] == [af.BETA, "UK", "Agency"]
    assert body[2][:3] == [UNAFFILIATED_LABEL, "", ""]
    assert foot == [["Total", "4", "3", "5.25"]]
    assert "March 1, 2025 to March 31, 2025" in html

    year = finance.get("/activity?year=2025").get_data(as_text=True)
    assert figures_of_page(year) == af.EXPECTED_2025
    assert table(year)[1] == [["Total", "5", "5", "6.75"]]


def test_both_ends_of_the_period_are_included(activity_app, session):
    finance = browser(activity_app, session, "fin", "finance")
    # The first day alone: Cid's merge request of 00:00 UTC.
    first = figures_of_page(finance.get("/activity?start=2025-03-01&end=2025-03-01").get_data(as_text=True))
    assert first[0] == (af.BETA, 1, 1, Decimal("0.00"))
    # The last day alone: Ann's merge request of 23:59:59 UTC and Cid's hours of that day.
    last = dict((name, rest) for name, *rest in figures_of_page(
        finance.get("/activity?start=2025-03-31&end=2025-03-31").get_data(as_text=True)))
    assert last[af.ACME] == [1, 1, Decimal("0.00")] and last[af.BETA] == [1, 0, Decimal("0.75")]
    # The day after: Dee's merge request of 00:00 UTC and hours, nothing of March.
    after = figures_of_page(finance.get("/activity?start=2025-04-01&end=2025-04-01").get_data(as_text=True))
    assert after[0] == (af.BETA, 1, 1, Decimal("1.50")) and after[1] == (af.ACME, 0, 0, Decimal("0.00"))


def test_csv_is_the_page_streamed(activity_app, session):
    finance = browser(activity_app, session, "fin", "finance")
    page = finance.get(f"/activity?{MARCH_QUERY}").get_data(as_text=True)
    assert f'href="/activity/organisation-activity.csv?{MARCH_QUERY.replace("&", "&amp;")}"' in page
    response = finance.get(f"/activity/organisation-activity.csv?{MARCH_QUERY}")
    assert response.status_code == 200 and response.is_streamed and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="organisation-activity-2025-03-01-to-2025-03-31.csv"')
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert figures_of_csv(body) == figures_of_page(page) == af.EXPECTED_MARCH
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert {(row["period_start"], row["period_end"]) for row in rows} == {("2025-03-01", "2025-03-31")}
    assert [row["kind"] for row in rows] == ["supplier", "agency", ""]
    # The same file as `bounty finance activity --output FILE.csv` writes.
    span = statements.period(start=af.MARCH[0], end=af.MARCH[1])
    rows_now = activity.organisation_activity(session, SYSTEM, span)
    cli_file = b"".join(statement_exports.activity_csv(span, rows_now))
    settle(session)
    assert response.data == cli_file
    year = finance.get("/activity/organisation-activity.csv?year=2025")
    assert 'filename="organisation-activity-2025.csv"' in year.headers["Content-Disposition"]
    assert figures_of_csv(year.get_data(as_text=True)) == af.EXPECTED_2025


HOSTILE = ("=HYPERLINK(\"http://evil.example/\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd", "-2+3",
           "\t=1", "\r=1")


def test_hostile_organisation_names_are_neutralised_in_the_csv(activity_app, session):
    for index, name in enumerate(HOSTILE):
        member = af.member(session, f"host{index}", af.organisation(session, name, "CA", "company"))
        af.hours(session, member, af.MARCH[0], 4)
    settle(session)
    finance = browser(activity_app, session, "fin", "finance")
    response = finance.get(f"/activity/organisation-activity.csv?{MARCH_QUERY}")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True), newline="")))
    names = {row["organisation"] for row in rows}
    assert {"'" + name for name in HOSTILE} <= names
    assert not any(name.startswith(("=", "+", "-", "@", "\t", "\r")) for name in names)
    # The page shows them as text, escaped.
    page = finance.get(f"/activity?{MARCH_QUERY}").get_data(as_text=True)
    assert "=HYPERLINK(&#34;http://evil.example/&#34;,&#34;x&#34;)" in page


@pytest.mark.parametrize(("query", "field", "message"), [
    ("year=abc", "year", "Enter a year such as 2026."),
    ("year=1999", "year", "Enter a year from 2000 to 9998."),
    ("year=2025&start=2025-03-01", "year", "Give a year, or the first and last days, not both."),
    ("year=&start=&end=", "year", "Enter a year, or the first and last days."),
    ("start=2025-03-01", "end", "Enter the last day too."),
    ("end=2025-03-01", "start", "Enter the first day too."),
    ("start=2025-13-01&end=2025-12-31", "start", "Enter a day such as 2026-12-31."),
    ("start=2025-03-02&end=2025-03-01", "end", "The last day is before the first day."),
    ("start=2025-01-01&end=9999-12-31", "end", "Enter a day from 2000-01-01 to 9998-12-31."),
])
def test_bad_periods_show_the_form_again(activity_app, session, query, field, message):
    finance = browser(activity_app, session, "fin", "finance")
    for url in (f"/activity?{query}", f"/activity/organisation-activity.csv?{query}"):
        response = finance.get(url)
        assert response.status_code == 400 and response.mimetype == "text/html", url
        html = response.get_data(as_text=True)
        assert f'<a href="#{field}">' in html and message in html, url
        assert f'id="{field}-error"' in html and 'aria-invalid="true"' in html
        assert "<tbody>" not in html  # no figures for a period that is not one


def test_no_period_asked_is_this_year(activity_app, session):
    finance = browser(activity_app, session, "fin", "finance")
    response = finance.get("/activity")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    year = utcnow().year
    assert f"Organisation activity, {year}" in html and f'value="{year}"' in html
    assert f'href="/activity/organisation-activity.csv?start={year}-01-01&amp;end={year}-12-31"' in html


def test_the_page_is_in_french(activity_app, session):
    finance = browser(activity_app, session, "fin", "finance")
    response = finance.get(f"/activity?{MARCH_QUERY}&lang=fr")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="fr"' in html and "1 mars 2025" in html and "31 mars 2025" in html


def test_who_may_see_it(activity_app, session):
    urls = ("/activity?year=2025", "/activity/organisation-activity.csv?year=2025")
    anonymous = activity_app.test_client()
    for url in urls:
        assert sends_to_sign_in(anonymous.get(url), url), url
    for username, roles in (("con", ("contributor",)), ("rev", ("contributor", "reviewer")),
                            ("awd", ("contributor", "awards-committee"))):
        client = browser(activity_app, session, username, *roles)
        for url in (*urls, "/activity?year=abc"):  # refused before the period is read
            assert client.get(url).status_code == 403, (username, url)
    for username, roles in (("fin", ("contributor", "finance")), ("adm", ("contributor", "program-admin")),
                            ("aud", ("auditor",))):
        client = browser(activity_app, session, username, *roles)
        for url in urls:
            assert client.get(url).status_code == 200, (username, url)
        assert figures_of_page(client.get(urls[0]).get_data(as_text=True)) == af.EXPECTED_2025
