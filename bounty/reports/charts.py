"""Charts as self-contained SVG text, drawn by pygal: bar, pie and line.

Every chart is an SVG document with a fixed size (width, height and viewBox), a <title>
(the chart's title) and a <desc> (its data in words, for whoever cannot see it), the
project's colours and fonts, and nothing that runs or loads: pygal adds a configuration
script and a tooltip script by default, and both are taken out, as are its comments (they
carry the day of rendering, which would make the same data draw different bytes). The
same text serves as an `image/svg+xml` response, as an `<img>` (see `data_uri`) and inline
inside HTML rendered by WeasyPrint.

Values are numbers (int, Decimal or float); they are drawn, never computed with, so money
arrives here already converted by the caller and formatted by `value_formatter`.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

import pygal
from pygal.style import Style

Number = int | float | Decimal
Formatter = Callable[[Any], str]

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH, HEIGHT = 800, 400
# Dark enough on white for lines and bars (WCAG 1.4.11 asks 3:1; each of these is above
# 4.5:1) and distinct from their neighbours; the first ones are the ones most often used.
COLOURS = ("#1f5fa8", "#b3411a", "#2e6b30", "#6a1b9a", "#8a5a00", "#00695c", "#ad1457",
           "#37474f", "#4527a0", "#5d4037")
FONTS = "'DejaVu Sans', Verdana, 'Liberation Sans', Arial, sans-serif"

STYLE_SETTINGS: dict[str, Any] = dict(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1b1b1b",
    foreground_strong="#000000",
    foreground_subtle="#595959",
    opacity="1",
    opacity_hover="1",
    transition="0ms",
    colors=COLOURS,
    font_family=FONTS,
    title_font_size=20,
    label_font_size=14,
    major_label_font_size=14,
    value_font_size=14,
    value_label_font_size=14,
    legend_font_size=14,
    tooltip_font_size=14,
    no_data_font_size=20,
    guide_stroke_color="#8c8c8c",
    major_guide_stroke_color="#595959",
    # Lines thick enough to follow, and to tell apart from the dashed guides.
    stroke_width="2.5",
)
# Values printed on white (above vertical bars) are near-black; values printed inside a bar or
# a slice (every colour above is dark) are white. pygal's own guess picks black on dark blue.
PROJECT_STYLE = Style(**STYLE_SETTINGS, value_colors=("#1b1b1b",) * len(COLOURS))
INSIDE_STYLE = Style(**STYLE_SETTINGS, value_colors=("#ffffff",) * len(COLOURS))


def bar_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[Number]], *,
              horizontal: bool = False, value_formatter: Formatter | None = None,
              description: str | None = None, no_data_text: str = "No data",
              width: int = WIDTH, height: int = HEIGHT) -> str:
    """Bars of each series (name -> one value per label), with the values printed on them.

    `horizontal` lays the bars sideways (best for long labels such as names); with one
    series the legend is left out (the title says what the bars are).
    """
    formatter = value_formatter or plain_number
    described = description or _describe(labels, series, formatter)
    chart_class = pygal.HorizontalBar if horizontal else pygal.Bar
    chart = chart_class(**_config(title, no_data_text, width, height, formatter,
                                  INSIDE_STYLE if horizontal else PROJECT_STYLE),
                        print_values=True, print_values_position="center" if horizontal else "top",
                        show_legend=len(series) > 1, legend_at_bottom=True,
                        x_label_rotation=0 if horizontal else _rotation(labels))
    chart.x_labels = [str(label) for label in labels]
    for name, values in series.items():
        chart.add(name, [_number(value) for value in values])
    return _render(chart, title, described, labels, series)


def pie_chart(title: str, slices: Sequence[tuple[str, Number]], *,
              value_formatter: Formatter | None = None, description: str | None = None,
              no_data_text: str = "No data", width: int = WIDTH, height: int = HEIGHT) -> str:
    """One slice per (label, value), each printed with its value; the legend names them."""
    formatter = value_formatter or plain_number
    labels = [label for label, _value in slices]
    series = {"": [value for _label, value in slices]}
    described = description or _describe(labels, series, formatter)
    chart = pygal.Pie(**_config(title, no_data_text, width, height, formatter, INSIDE_STYLE),
                      print_values=True, show_legend=True)
    for label, value in slices:
        # A slice of nothing draws nothing, and pygal would print its "0" over a neighbour.
        if _number(value):
            chart.add(str(label), [_number(value)])
    return _render(chart, title, described, labels, series)


def line_chart(title: str, x_labels: Sequence[str], series: Mapping[str, Sequence[Number]], *,
               value_formatter: Formatter | None = None, description: str | None = None,
               no_data_text: str = "No data", width: int = WIDTH, height: int = HEIGHT) -> str:
    """A line per series over `x_labels` (months, quarters...), with a dot on each point."""
    formatter = value_formatter or plain_number
    described = description or _describe(x_labels, series, formatter)
    chart = pygal.Line(**_config(title, no_data_text, width, height, formatter, PROJECT_STYLE),
                       show_dots=True, dots_size=4, show_legend=True, legend_at_bottom=True,
                       x_label_rotation=_rotation(x_labels), include_x_axis=True)
    chart.x_labels = [str(label) for label in x_labels]
    for name, values in series.items():
        chart.add(name, [_number(value) for value in values])
    return _render(chart, title, described, x_labels, series)


def data_uri(svg: str) -> str:
    """`svg` as a `data:` URI, for an `<img src>` in a document rendered without a server."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def plain_number(value: Any) -> str:
    """A value as digits: whole numbers without decimals, others with two ("12", "7.50")."""
    if value is None:
        return ""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number:,.2f}"


def _config(title: str, no_data_text: str, width: int, height: int, formatter: Formatter,
            style: Style) -> dict[str, Any]:
    return {
        "title": title,
        "style": style,
        "width": width,
        "height": height,
        "explicit_size": True,
        "disable_xml_declaration": True,
        "js": [],
        "value_formatter": formatter,
        "no_data_text": no_data_text,
        "truncate_label": -1,
        "truncate_legend": -1,
        "margin": 16,
    }


def _render(chart: Any, title: str, description: str, labels: Sequence[str],
            series: Mapping[str, Sequence[Number]]) -> str:
    # The same data always gives the same bytes: the element id (which scopes pygal's CSS
    # when several charts sit in one HTML page) is derived from the data, not random.
    digest = hashlib.sha256(json.dumps([title, list(map(str, labels)), {
        name: [str(value) for value in values] for name, values in series.items()}]).encode())
    chart.uuid = digest.hexdigest()[:16]
    chart.add_xml_filter(_without_scripts_and_comments)
    chart.add_xml_filter(_with_description(description))
    svg: str = chart.render(is_unicode=True)
    return svg


def _without_scripts_and_comments(root: ElementTree.Element) -> ElementTree.Element:
    """Drop what only pygal's scripts use or what changes by the day.

    Out go every <script>, every comment, the hidden tooltip box (it carries a style
    attribute) and the tooltip data (<desc> elements holding coordinates and raw values:
    a screen reader would read them out as noise next to our own <desc>).
    """
    for parent in list(root.iter()):
        for child in list(parent):
            name = _local_name(child.tag)
            classes = (child.get("class") or "").split()
            if (child.tag is ElementTree.Comment or name == "script"
                    or (name == "desc" and parent is not root)
                    or (name == "g" and "tooltip-overlay" in classes)):
                parent.remove(child)
    return root


def _with_description(description: str) -> Callable[[ElementTree.Element], ElementTree.Element]:
    """Put `description` in a <desc> right after the chart's <title>, and name both for ARIA."""

    def add(root: ElementTree.Element) -> ElementTree.Element:
        children = list(root)
        title = next((child for child in children if _local_name(child.tag) == "title"), None)
        desc = ElementTree.Element("desc")
        desc.text = description
        desc.set("id", f"{root.get('id', 'chart')}-desc")
        position = children.index(title) + 1 if title is not None else 0
        root.insert(position, desc)
        if title is not None:
            title.set("id", f"{root.get('id', 'chart')}-title")
            root.set("aria-labelledby", title.get("id", ""))
        root.set("aria-describedby", desc.get("id", ""))
        root.set("role", "img")
        return root

    return add


def _describe(labels: Sequence[str], series: Mapping[str, Sequence[Number]],
              formatter: Formatter) -> str:
    """The data in words: "Series: label value, label value. Other series: ..."."""
    parts = []
    for name, values in series.items():
        pairs = ", ".join(f"{label} {formatter(_number(value))}"
                          for label, value in zip(labels, values, strict=False))
        parts.append(f"{name}: {pairs}" if name else pairs)
    return ". ".join(part for part in parts if part) + ("." if parts else "")


def _rotation(labels: Sequence[str]) -> int:
    # Many or long labels under the x axis overlap unless they lean.
    return 30 if len(labels) > 8 or any(len(str(label)) > 10 for label in labels) else 0


def _number(value: Number | None) -> float | int | None:
    if value is None or isinstance(value, int):
        return value
    return float(value)


def _local_name(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""
