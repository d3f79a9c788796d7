"""Markdown for public pages: sanitized with nh3, images never embedded, headings under
the page's own h1, and text cleaned of what XML cannot hold."""

from __future__ import annotations

import re

import pytest
from django.utils.safestring import SafeString

from saha.core.markdown import LINK_REL, public_html, xml_safe


def tags(html: str) -> set[str]:
    return {name.lower() for name in re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html)}


def test_the_usual_markdown_comes_out_as_html() -> None:
    html = public_html("Para *em* **strong** `code`\n\n- one\n- two\n\n> quote\n\n---\n")
    assert isinstance(html, SafeString)
    assert tags(html) == {"p", "em", "strong", "code", "ul", "li", "blockquote", "hr"}


@pytest.mark.parametrize(
    "typed",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "<iframe src=https://x.example></iframe>",
        '<a href="https://x.example" onclick="x()">a</a>',
        "<style>body{}</style>",
        "<!-- comment -->",
    ],
)
def test_raw_html_is_text_never_markup(typed: str) -> None:
    html = public_html(typed)
    assert tags(html) <= {"p"}
    assert "<" + typed[1:] not in html


@pytest.mark.parametrize(
    "link",
    ["javascript:alert(1)", "JaVaScRiPt:x", "data:text/html,x", "vbscript:x", "file:///etc/passwd"],
)
def test_only_web_and_mail_links(link: str) -> None:
    assert "<a" not in public_html(f"[click]({link})")


def test_links_are_nofollow_and_keep_their_title() -> None:
    html = public_html(
        '[a](https://x.example/p "Title") [m](mailto:a@x.example) [h](http://x.example)'
    )
    links = re.findall(r"<a [^>]*>", html)
    assert len(links) == 3
    assert all(f'rel="{LINK_REL}"' in link for link in links)
    assert 'title="Title"' in links[0]


def test_an_image_is_a_link_named_by_its_alt_text() -> None:
    html = public_html("![A *crowd* at the port](https://photos.example/p.jpg)")
    assert "<img" not in html
    assert '<a href="https://photos.example/p.jpg" rel="nofollow noopener noreferrer">' in html
    assert ">A crowd at the port</a>" in html
    # No alt text: the address itself is the link's text.
    assert ">https://photos.example/q.jpg</a>" in public_html("![](https://photos.example/q.jpg)")
    # An image whose address is refused is no link at all.
    assert "<a" not in public_html("![x](javascript:alert(1))")


def test_headings_stay_below_the_pages_title() -> None:
    html = public_html("# One\n\n## Two\n\n### Three\n\n#### Four\n\n###### Six")
    assert re.findall(r"<(h\d)>", html) == ["h2", "h3", "h4", "h4", "h4"]


def test_tables() -> None:
    html = public_html("| a | b |\n|---|:-:|\n| 1 | 2 |")
    assert tags(html) == {"table", "thead", "tbody", "tr", "th", "td"}
    assert "style" not in html


def test_merge_fields_are_only_text() -> None:
    html = public_html("Hi {{ given_name | <b>x</b> }} SAHAMERGE7Z")
    assert html == "<p>Hi {{ given_name | &lt;b&gt;x&lt;/b&gt; }} SAHAMERGE7Z</p>\n"


def test_empty() -> None:
    assert public_html("") == ""


def test_xml_safe_keeps_text_and_drops_what_xml_forbids() -> None:
    kept = "Tab\there\nnew line\r العربية é 😀 \ue000"
    assert xml_safe(kept) == kept
    assert xml_safe("a\x00b\x01c\x0bd\x0ce\x1ff\ufffeg\uffffh\ud800i\udfffj") == "abcdefghij"
    assert public_html("a\x0bb\ud800") == "<p>ab</p>\n"
