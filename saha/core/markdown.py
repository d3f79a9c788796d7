"""Markdown for public pages and feeds: statements, campaigns.

What an organizer writes is shown to anyone, so it is rendered without raw
HTML, then sanitized again with nh3 against a short allow-list. Images are not
embedded: a public page must not make its readers' browsers fetch a third
party's server (which would learn who read what). An image becomes a plain
link to it, named by its alternative text.

There are no merge fields here: statements and campaigns are not messages
(see saha/messaging/rendering.py for those).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown_it import MarkdownIt
from markdown_it.token import Token

# The characters XML 1.0 forbids: C0 controls other than tab, newline and
# carriage return, the surrogates (only ever alone in a Python str), and the
# two non-characters U+FFFE and U+FFFF. An Atom feed holding one is not XML.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

TAGS = frozenset(
    {
        "p", "br", "em", "strong", "a", "ul", "ol", "li", "blockquote",
        "h2", "h3", "h4", "code", "pre", "hr",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow noopener noreferrer"


def xml_safe(value: str) -> str:
    """`value` without the characters XML 1.0 cannot hold."""
    return _XML_FORBIDDEN.sub("", value) if value else value


def _image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env).strip()
    if not src:
        return html.escape(alt)
    return f'<a href="{html.escape(src)}">{html.escape(alt or src)}</a>'


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("table")
_markdown.add_render_rule("image", _image)


def _fit_headings(tokens: list[Token]) -> None:
    """The page owns its h1: a body's headings are h2 to h4."""
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(max(int(token.tag[1]) + 1, 2), 4)
            token.tag = f"h{level}"


def public_html(text: str) -> SafeString:
    """Markdown written by an organizer as HTML safe to show to anyone."""
    tokens = _markdown.parse(xml_safe(text or ""))
    _fit_headings(tokens)
    rendered = _markdown.renderer.render(tokens, _markdown.options, {})
    cleaned = nh3.clean(
        rendered,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - sanitized by nh3 just above
