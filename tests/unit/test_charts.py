"""The charts: self-contained SVG (no script, nothing loaded), titled and described, with
their values as text, the same bytes for the same data, and printable by WeasyPrint."""

from __future__ import annotations

import io
from decimal import Decimal
from xml.etree import ElementTree

import pypdf
import pytest
from weasyprint import HTML

from bounty.reports import charts

SVG = "{http://www.w3.org/2000/svg}"


def bar() -> str:
    return charts.bar_chart("Top contributors 2026", ["Ada Lovelace", "Grace Hopper", "Alan Turing"],
                            {"Score": [Decimal("42.5"), 17, 9]}, horizontal=True)


def grouped_bar() -> str:
    return charts.bar_chart("Contributors by jurisdiction", ["EU", "UK", "CA", "AU"],
                            {"People": [7, 3, 2, 1], "Merged MRs": [31, 12, 8, 0]})


def pie() -> str:
    return charts.pie_chart("Approved hours by jurisdiction",
                            [("EU", Decimal("120.5")), ("UK", 60), ("CA", 0), ("AU", 15)])


def line() -> str:
    return charts.line_chart("Activity over time", ["Jan 2026", "Feb 2026", "Mar 2026"],
                             {"Merged MRs": [4, 9, 6], "Approved hours": [Decimal("12.5"), 30, 21]})


CHARTS = {"bar": bar, "grouped_bar": grouped_bar, "pie": pie, "line": line}
TITLES = {"bar": "Top contributors 2026", "grouped_bar": "Contributors by jurisdiction",
          "pie": "Approved hours by jurisdiction", "line": "Activity over time"}


def texts(root: ElementTree.Element) -> list[str]:
    return [element.text for element in root.iter(f"{SVG}text") if element.text]


@pytest.mark.parametrize("kind", CHARTS)
def test_a_chart_is_an_svg_document_of_fixed_size_without_scripts_or_outside_resources(kind: str) -> None:
    svg = CHARTS[kind]()
    root = ElementTree.fromstring(svg)

    assert root.tag == f"{SVG}svg"
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("800", "400", "0 0 800 400")
    assert root.get("role") == "img"
    assert not [element for element in root.iter() if element.tag == f"{SVG}script"]
    assert "<script" not in svg and "javascript" not in svg.lower()
    assert "style=" not in svg  # no style attributes: only the scoped <style> in <defs>
    assert "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in svg and "//fonts" not in svg and "@import" not in svg
    assert not svg.startswith("<?xml")  # usable inline in HTML as it is


@pytest.mark.parametrize("kind", CHARTS)
def test_a_chart_has_a_title_and_a_description_the_root_points_to(kind: str) -> None:
    root = ElementTree.fromstring(CHARTS[kind]())
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")

    assert title is not None and title.text == TITLES[kind]
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == title.get("id")
    assert root.get("aria-describedby") == desc.get("id")
    # Only our own description: pygal's tooltip data (coordinates) is gone.
    assert len(list(root.iter(f"{SVG}desc"))) == 1


def test_the_description_states_every_value_with_its_label() -> None:
    desc = ElementTree.fromstring(line()).find(f"{SVG}desc")

    assert desc is not None
    assert desc.text == ("Merged MRs: Jan 2026 4, Feb 2026 9, Mar 2026 6. "
                         "Approved hours: Jan 2026 12.50, Feb 2026 30, Mar 2026 21.")


def test_bar_values_and_labels_are_printed_as_text() -> None:
    shown = texts(ElementTree.fromstring(bar()))

    assert {"Ada Lovelace", "Grace Hopper", "Alan Turing"} <= set(shown)
    assert {"42.50", "17", "9"} <= set(shown)


def test_a_grouped_bar_chart_has_a_legend_naming_each_series() -> None:
    shown = texts(ElementTree.fromstring(grouped_bar()))

    assert {"People", "Merged MRs", "EU", "AU", "31"} <= set(shown)


def test_a_pie_names_its_slices_and_prints_their_values_but_draws_no_empty_slice() -> None:
    root = ElementTree.fromstring(pie())
    shown = texts(root)

    assert {"EU", "UK", "AU", "120.50", "60", "15"} <= set(shown)
    assert "CA" not in shown  # nothing to draw; the description still says CA 0
    desc = root.find(f"{SVG}desc")
    assert desc is not None and "CA 0" in (desc.text or "")


def test_the_value_formatter_writes_the_values() -> None:
    svg = charts.bar_chart("Earnings", ["Ada"], {"EUR": [Decimal("1250.5")]},
                           value_formatter=lambda value: f"€{value:,.2f}")
    root = ElementTree.fromstring(svg)

    assert "€1,250.50" in texts(root)
    desc = root.find(f"{SVG}desc")
    assert desc is not None and desc.text == "EUR: Ada €1,250.50."


def test_a_given_description_replaces_the_generated_one() -> None:
    svg = charts.pie_chart("Shares", [("EU", 1)], description="Everything is in the EU.")
    desc = ElementTree.fromstring(svg).find(f"{SVG}desc")

    assert desc is not None and desc.text == "Everything is in the EU."


def test_a_chart_without_data_says_so_in_the_words_given() -> None:
    svg = charts.bar_chart("Nothing yet", [], {}, no_data_text="Pas de données")

    assert "Pas de données" in texts(ElementTree.fromstring(svg))


def test_text_is_escaped_not_interpreted() -> None:
    svg = charts.bar_chart("<script>alert(1)</script>", ["<b>x</b>"], {"a&b": [1]})
    root = ElementTree.fromstring(svg)

    assert "<script" not in svg
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "<script>alert(1)</script>"


def test_the_same_data_draws_the_same_bytes_and_different_data_different_ids() -> None:
    assert bar() == bar()
    other = charts.bar_chart("Top contributors 2026", ["Ada Lovelace"], {"Score": [1]})
    assert ElementTree.fromstring(other).get("id") != ElementTree.fromstring(bar()).get("id")


def test_the_size_can_be_chosen() -> None:
    root = ElementTree.fromstring(charts.line_chart("Small", ["a"], {"s": [1]}, width=400, height=200))

    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("400", "200", "0 0 400 200")


def test_data_uri_carries_the_svg() -> None:
    uri = charts.data_uri(pie())

    assert uri.startswith("data:image/svg+xml;base64,")


@pytest.mark.parametrize("kind", CHARTS)
@pytest.mark.parametrize("embedding", ["inline", "img"])
def test_weasyprint_prints_each_chart_with_its_title_in_the_text_layer(kind: str, embedding: str) -> None:
    svg = CHARTS[kind]()
    figure = svg if embedding == "inline" else f'<img src="{charts.data_uri(svg)}" alt="{TITLES[kind]}">'
    html = (f"<!doctype html><html lang='en'><body><h1>Annual report</h1>"
            f"<figure>{figure}</figure></body></html>")

    pdf = HTML(string=html).write_pdf()

    assert pdf is not None and pdf.startswith(b"%PDF")
    text = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Annual report" in text
    assert TITLES[kind] in text
