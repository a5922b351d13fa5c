"""Bounty descriptions as safe HTML: CommonMark without raw HTML, then an allow-list sanitiser.

Two layers, so neither has to be perfect alone: markdown-it-py renders CommonMark with raw
HTML turned off (a `<script>` in the text comes out as visible text) and refuses
`javascript:`, `vbscript:` and most `data:` link targets; nh3 then keeps only the tags,
attributes and URL schemes listed here and marks every link `rel="nofollow noopener"`, so a
description can never run code or lend the site's reputation to a link.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# What CommonMark produces, minus images (a description has no business loading
# third-party content into the page) and raw HTML (off in the renderer anyway).
ALLOWED_TAGS = frozenset({
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li",
    "ol", "p", "pre", "strong", "ul",
})
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener"
# The description sits under the page's own h1 and an h2, so its headings start at h3.
HEADING_SHIFT = 2

_renderer = MarkdownIt("commonmark", {"html": False})


def render_markdown(text: str) -> Markup:
    """`text` (CommonMark) as sanitised HTML, safe to put in a page as it is."""
    tokens = _renderer.parse(text or "")
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            token.tag = f"h{min(int(token.tag[1]) + HEADING_SHIFT, 6)}"
    html = _renderer.renderer.render(tokens, _renderer.options, {})
    clean = nh3.clean(html, tags=set(ALLOWED_TAGS), attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=set(URL_SCHEMES), link_rel=LINK_REL)
    # nh3 returns markup it built itself from the allow-lists above.
    return Markup(clean)  # noqa: S704
