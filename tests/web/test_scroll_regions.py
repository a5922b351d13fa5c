"""Every sideways-scrolling table wrapper (class `overflow-auto`) can be reached and scrolled by
keyboard: it is a focusable region with an accessible name (WCAG 2.1.1, axe's
scrollable-region-focusable). The printed reports under templates/reports/ are left out.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# An opening tag whose attribute values may hold Jinja expressions.
TAG = re.compile(r"<[a-z][a-z0-9]*\b(?:\{\{.*?\}\}|\{%.*?%\}|[^>{])*>", re.S)
WRAPPER = re.compile(r'\bclass="[^"]*\boverflow-auto\b')
# The ids an aria-labelledby names, each possibly built from a Jinja expression.
IDREF = re.compile(r"(?:\{\{.*?\}\}|[^\s{])+")


def test_every_scroll_wrapper_is_a_named_focusable_region() -> None:
    wrappers = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        if "reports" in path.relative_to(TEMPLATES).parts:
            continue
        text = path.read_text(encoding="utf-8")
        for tag in (t for t in TAG.findall(text) if WRAPPER.search(t)):
            where = f"{path.relative_to(TEMPLATES)}: {tag}"
            wrappers.append(where)
            assert 'tabindex="0"' in tag and 'role="region"' in tag, where
            labelledby = re.search(r'aria-labelledby="([^"]+)"', tag)
            assert labelledby or re.search(r'aria-label="[^"]+"', tag), where
            for ref in IDREF.findall(labelledby.group(1)) if labelledby else []:
                assert f'id="{ref}"' in text, f"{where}: no element has id {ref!r}"
    assert len(wrappers) > 20
