"""The annual awards report as a PDF: English and French text, the contents' page numbers,
page numbers on every page, metadata, the PDF/UA structure, and nobody named who did not
agree to be."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pypdf import PdfReader

from bounty.reports import awards
from bounty.services.actors import SYSTEM
from bounty.services.annual_report import AnnualReport, annual_report
from tests import report_factories as rp

EN_SECTIONS = ("The year in figures", "The fund by jurisdiction", "Bounties by category and working group",
               "Contribution hours by jurisdiction", "Top contributors", "The awards",
               "Recognised contributors")
FR_SECTIONS = ("L'année en chiffres", "Le fonds par juridiction",
               "Primes par catégorie et par groupe de travail",
               "Heures de contribution par juridiction", "Meilleurs contributeurs", "Les prix",
               "Contributeurs distingués")
HIDDEN = ("Oscar Hidden", "oscar", "Bruno Clawed", "storage quota documentation")


@pytest.fixture
def report(session) -> AnnualReport:
    people = rp.year(session)
    rp.closed_round(session, people)
    return annual_report(session, SYSTEM, rp.YEAR)


def pages_of(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF-")
    # Lines joined with one space; no-break spaces (French typography) kept as they are.
    reader = PdfReader(io.BytesIO(content))
    return [re.sub(r"[ \n]+", " ", page.extract_text()).strip() for page in reader.pages]


def structure_tags(node: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(tag, element) of every element of the structure tree under `node`."""
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, list):
        for kid in node:
            yield from structure_tags(kid, depth)
        return
    if not hasattr(node, "get") or depth > 60:
        return
    if "/S" in node:
        yield str(node["/S"]), node
    kids = node.get("/K")
    if kids is not None:
        yield from structure_tags(kids, depth + 1)


def check_contents(pages: list[str], sections: tuple[str, ...]) -> None:
    """The contents (page 2) list each section with the page it starts on."""
    contents = pages[1]
    for title in sections:
        found = re.search(re.escape(title) + r" ?[.]+ ?(\d+)", contents)
        assert found, title
        assert pages[int(found.group(1)) - 1].startswith(title) or title in pages[int(found.group(1)) - 1]


def test_the_report_in_english(report):
    rendered = awards.render(report, "en")
    reader = PdfReader(io.BytesIO(rendered.pdf))
    assert rendered.pages == len(reader.pages) >= 9
    assert reader.pages[0].mediabox.width == pytest.approx(595.28, abs=0.5)  # A4
    assert reader.metadata.title == "Annual awards report 2026"
    assert reader.metadata.author.startswith("Sovereign-cloud cooperative")
    assert "awards" in reader.metadata["/Keywords"]
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "en"
    pages = pages_of(rendered.pdf)
    text = " ".join(pages)
    assert pages[0].startswith("Sovereign-cloud cooperative") and "Annual awards report 2026" in pages[0]
    assert "Page" not in pages[0]  # the cover has no page furniture
    for number, page in enumerate(pages[1:], start=2):
        assert f"Page {number} of {len(pages)}" in page
    check_contents(pages, EN_SECTIONS)
    for expected in ("Merged merge requests (DCO-signed) 4", "Contribution hours approved 4.50",
                     "European Union 50% €5,375,000.00 €1,500.00 €4,000.00", "Total 100% €10,750,000.00",
                     "Bug fix 1 €1,000.00 1 €1,000.00", "WG4 Networking", "Contributor of the year",
                     "Winner: Alice Public", rp.ALICE_CITATION, "Anonymous contributor", "Not passed",
                     "Rita Reviewer", "Acme Cloud GmbH", "First merge"):
        assert expected in text, expected
    for hidden in HIDDEN:
        assert hidden.casefold() not in text.casefold(), hidden


def test_the_report_in_french(report):
    content = awards.render_pdf(report, "fr")
    reader = PdfReader(io.BytesIO(content))
    assert reader.metadata.title == "Rapport annuel des prix 2026"
    assert reader.trailer["/Root"]["/Lang"] == "fr"
    pages = pages_of(content)
    text = " ".join(pages)
    for number, page in enumerate(pages[1:], start=2):
        assert f"Page {number} sur {len(pages)}" in page
    check_contents(pages, FR_SECTIONS)
    for expected in ("Sommaire", "Heures de contribution approuvées 4,50", "Union européenne 50\u00a0%",
                     "5\u202f375\u202f000,00\u00a0€", "Correction de bogue", "Lauréat\u00a0: Alice Public",
                     rp.ALICE_CITATION, "Contributeur anonyme", "Non adoptée", "Première fusion",
                     "Candidatures et vote", "Candidat"):
        assert expected in text, expected
    # The report's words for nominations are the award pages' words.
    assert "Nommé" not in text and "Nominations et vote" not in text
    for english in ("The year in figures", "Anonymous contributor", "Winner"):
        assert english not in text
    for hidden in HIDDEN:
        assert hidden.casefold() not in text.casefold(), hidden


def test_the_pdf_is_tagged_for_accessibility(report):
    reader = PdfReader(io.BytesIO(awards.render_pdf(report, "en")))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()
    tags = list(structure_tags(root["/StructTreeRoot"]))
    names = {name for name, _ in tags}
    assert {"/H1", "/H2", "/H3", "/Table", "/TH", "/TD", "/Caption", "/Figure", "/Link", "/P"} <= names
    figures = [element for name, element in tags if name == "/Figure"]
    assert figures and all(str(element.get("/Alt", "")).strip() for element in figures)
    alternatives = {str(element["/Alt"]) for element in figures}
    assert "Reserved and spent by jurisdiction, 2026 (EUR)" in alternatives
    # Header cells are ids that data cells point to, so a reader announces a cell's headers.
    assert any("/Headers" in element["/A"] for name, element in tags if name == "/TD")


def test_an_unknown_language_is_refused(report):
    with pytest.raises(ValueError, match="one of en, fr"):
        awards.render_html(report, "de")
