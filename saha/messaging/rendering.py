"""From what an organizer wrote to what a provider sends.

A broadcast is written once per language in Markdown with merge fields such as
``{{ given_name | friend }}`` (a field, then what to write when it is empty).
Each version is compiled once, Markdown to HTML and the email layout around
it, with the merge fields left in place; each recipient then costs only a
substitution, so rendering 100,000 messages does not parse Markdown 100,000
times. Values are HTML-escaped where they land in HTML, and Markdown's own
raw HTML is switched off, so nothing a supporter typed in their name can
become markup.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext_lazy as _
from markdown_it import MarkdownIt

# No two parts of the pattern can match the same spaces: a body of a thousand
# blanks inside braces must not cost the regex engine minutes.
MERGE_FIELD = re.compile(r"\{\{\s*([a-z_]+)\s*(?:\|([^{}]*))?\}\}")

# What an organizer may write in a broadcast, with how it is shown to them.
MERGE_FIELDS = {
    "given_name": _("Given name"),
    "family_name": _("Family name"),
    "full_name": _("Full name"),
    "locality": _("Town or city"),
    "organization": _("Organization's name"),
}
# Filled by Saha for every message; not offered in the editor.
SYSTEM_FIELDS = {"unsubscribe_url", "preferences_url"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
# Bounded, and an address cannot contain brackets: linear on any input.
_LINK = re.compile(r"!?\[([^\[\]\n]{0,500})\]\(([^()\[\]\s]{1,2000})(?:\s+\"[^\"\n]{0,500}\")?\)")


def unknown_fields(text: str) -> list[str]:
    """The merge fields in `text` that Saha does not know, in order of appearance."""
    allowed = MERGE_FIELDS.keys() | SYSTEM_FIELDS
    seen: list[str] = []
    for match in MERGE_FIELD.finditer(text):
        name = match.group(1)
        if name not in allowed and name not in seen:
            seen.append(name)
    return seen


def merge(template: str, values: Mapping[str, str], *, escape: bool = False) -> str:
    def fill(match: re.Match[str]) -> str:
        value = values.get(match.group(1), "")
        if not value:
            return (match.group(2) or "").strip()
        return html.escape(value) if escape else value

    return MERGE_FIELD.sub(fill, template)


def markdown_to_html(text: str) -> str:
    """Markdown to HTML, merge fields left intact, in link addresses too (where
    Markdown would percent-encode their braces)."""
    fields: list[str] = []
    # Letters and digits only, so Markdown leaves it alone; new on every call, so
    # no text can spell one in advance and have it replaced.
    token = secrets.token_hex(8)

    def hide(match: re.Match[str]) -> str:
        fields.append(match.group(0))
        return f"SAHA{token}M{len(fields) - 1}Z"

    def show(match: re.Match[str]) -> str:
        index = int(match.group(1))
        # Put back escaped: a fallback is text typed by a member, never markup
        # (`{{ x | <script> }}` must not reach a page or an email as a tag).
        return html.escape(fields[index]) if index < len(fields) else match.group(0)

    html_text = _markdown.render(MERGE_FIELD.sub(hide, text))
    return re.sub(rf"SAHA{token}M(\d{{1,9}})Z", show, html_text)


def markdown_to_text(text: str) -> str:
    """Markdown is already readable as text; only links need their address spelled out."""
    return _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(1) else m.group(2), text)


@dataclass(frozen=True)
class Compiled:
    """One language's message with merge fields still in place."""

    language: str
    subject: str
    text: str
    html: str

    def fill(self, values: Mapping[str, str]) -> tuple[str, str, str]:
        return (
            merge(self.subject, values).replace("\n", " ").strip(),
            merge(self.text, values),
            merge(self.html, values, escape=True) if self.html else "",
        )


# The layout's links stay merge fields, filled per recipient like the rest.
_PLACEHOLDERS = {name: "{{ " + name + " }}" for name in SYSTEM_FIELDS}


def compile_email(
    *, language: str, subject: str, body: str, organization_name: str, footer: bool = True
) -> Compiled:
    """Compile an email: the text part, and the HTML part inside Saha's email layout."""
    with translation.override(language):
        layout = render_to_string(
            "messaging/email/layout.html",
            {
                "language": language,
                "rtl": get_language_bidi(),
                "subject": subject,
                "content": markdown_to_html(body),
                "organization_name": organization_name,
                "footer": footer,
                **_PLACEHOLDERS,
            },
        )
        text = render_to_string(
            "messaging/email/layout.txt",
            {
                "content": markdown_to_text(body),
                "organization_name": organization_name,
                "footer": footer,
                **_PLACEHOLDERS,
            },
        )
    return Compiled(language=language, subject=subject, text=text, html=layout)


def compile_sms(*, language: str, body: str) -> Compiled:
    return Compiled(language=language, subject="", text=markdown_to_text(body).strip(), html="")


# SMS: GSM 03.38 fits 160 characters in one message (153 per part when split);
# anything outside it, Arabic for one, is sent as UCS-2: 70, or 67 per part.
_GSM = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€")


def sms_parts(text: str) -> int:
    """How many SMS a text is sent as (what the organization pays for)."""
    if not text:
        return 0
    if all(ch in _GSM or ch in _GSM_EXTENDED for ch in text):
        length = sum(2 if ch in _GSM_EXTENDED else 1 for ch in text)
        return 1 if length <= 160 else -(-length // 153)
    length = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
    return 1 if length <= 70 else -(-length // 67)
