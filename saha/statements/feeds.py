"""Atom feeds (RFC 4287) of statements: one entry per language version.

Each entry carries its own `xml:lang`, a stable `tag:` id (the same in the
organization's feed and in a campaign's), the version page as its alternate
link with `hreflang`, and the text as sanitized HTML inside a block that says
its language and direction, with the date line and the signatories. A
withdrawn statement stays in the feed, its note first.

A feed holds the newest entries only (MAX_ENTRIES), and each entry at most
MAX_SOURCE characters of its text; a longer one ends with a link to its page.
Every string is written through `xml_safe`: a control character typed in a
name or a title anywhere in Saha cannot make the feed invalid XML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.feedgenerator import Atom1Feed, rfc3339_date
from django.utils.translation import gettext as _
from django.utils.xmlutils import SimplerXMLGenerator

from saha.core.markdown import xml_safe
from saha.core.public_pages import absolute
from saha.organizations.models import Organization
from saha.statements.models import (
    CoSigner,
    Statement,
    StatementQuerySet,
    StatementStatus,
    StatementVersion,
)
from saha.statements.rendering import (
    body_html,
    date_line,
    direction,
    name_in,
    names_list,
    withdrawal_note,
)

MAX_STATEMENTS = 30
MAX_ENTRIES = 30
MAX_SOURCE = 20_000


def tag_uri(when: dt.date | dt.datetime, specific: str) -> str:
    """An id that never changes (RFC 4151): this site's host, a date, a path."""
    host = urlsplit(settings.SAHA_BASE_URL).hostname or "localhost"
    return f"tag:{host},{when:%Y-%m-%d}:{specific}"


def version_url(statement: Statement, language: str) -> str:
    return absolute(
        reverse("statements:version", args=[statement.organization.slug, statement.slug, language])
    )


def feed_statements(statements: StatementQuerySet) -> list[Statement]:
    """The newest public statements with their versions and accepted co-signers."""
    accepted = CoSigner.objects.filter(accepted_at__isnull=False).select_related("co_signer")
    return list(
        statements.public()
        .select_related("organization")
        .prefetch_related(
            "versions",
            Prefetch(
                "co_signer_links", queryset=accepted.order_by("accepted_at", "pk"), to_attr="signed"
            ),
        )
        .order_by("-published_at", "-pk")[:MAX_STATEMENTS]
    )


class SafeXMLGenerator(SimplerXMLGenerator):
    """Writes every text and attribute value without the characters XML 1.0 forbids."""

    def characters(self, content: str) -> None:
        super().characters(xml_safe(content))

    def startElement(self, name: str, attrs: Any) -> None:
        safe: Any = {key: xml_safe(str(value)) for key, value in (attrs or {}).items()}
        super().startElement(name, safe)


class StatementFeed(Atom1Feed):
    """Django's Atom writer with per-entry `xml:lang`, `hreflang` links and HTML content."""

    def write(self, outfile, encoding):
        handler = SafeXMLGenerator(outfile, encoding, short_empty_elements=True)
        handler.startDocument()
        handler.startElement("feed", self.root_attributes())
        self.add_root_elements(handler)
        self.write_items(handler)
        handler.endElement("feed")

    def latest_post_date(self) -> dt.datetime:
        dates = [item["updateddate"] for item in self.items if item.get("updateddate")]
        return max(dates) if dates else self.feed["empty_updated"]

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        handler.addQuickElement("generator", "Saha")

    def item_attributes(self, item):
        return {"xml:lang": item["language"]}

    def add_item_elements(self, handler, item):
        handler.addQuickElement("title", item["title"])
        # One alternate, the entry's own language: readers open the last alternate
        # they find, and must open the version the entry is.
        attributes = {"rel": "alternate", "type": "text/html", "hreflang": item["language"]}
        handler.addQuickElement("link", "", {**attributes, "href": item["link"]})
        handler.addQuickElement("id", item["unique_id"])
        handler.addQuickElement("published", rfc3339_date(item["pubdate"]))
        handler.addQuickElement("updated", rfc3339_date(item["updateddate"]))
        handler.startElement("author", {})
        handler.addQuickElement("name", item["author_name"])
        handler.addQuickElement("uri", item["author_link"])
        handler.endElement("author")
        if item["summary"]:
            handler.addQuickElement("summary", item["summary"], {"type": "text"})
        handler.addQuickElement("content", item["description"], {"type": "html"})


@dataclass(frozen=True)
class FeedHead:
    title: str
    link: str  # the page the feed follows
    self_url: str
    guid: str
    language: str | None  # the feed's xml:lang; each entry has its own anyway
    organization: Organization


@dataclass(frozen=True)
class Built:
    body: bytes
    updated: dt.datetime


def build(head: FeedHead, statements: Iterable[Statement], language: str | None) -> Built:
    """The feed: every version of each statement, or only those in `language`."""
    organization = head.organization
    feed = StatementFeed(
        title=head.title,
        link=head.link,
        description="",
        language=head.language,
        feed_url=head.self_url,
        feed_guid=head.guid,
        author_name=organization.name,
        author_link=absolute(reverse("organizations:public", args=[organization.slug])),
        empty_updated=organization.created,
    )
    for statement in statements:
        for version in statement.versions.all():
            if len(feed.items) >= MAX_ENTRIES:
                break
            if language is None or version.language == language:
                _add_entry(feed, statement, version)
    return Built(feed.writeString("utf-8").encode("utf-8"), feed.latest_post_date())


def _add_entry(feed: StatementFeed, statement: Statement, version: StatementVersion) -> None:
    withdrawn = statement.status == StatementStatus.WITHDRAWN
    organization = statement.organization
    note = withdrawal_note(statement, version.language)
    with translation.override(version.language):
        title = _("Withdrawn: %(title)s") % {"title": version.title} if withdrawn else version.title
        content = render_to_string(
            "statements/feed_entry.html",
            {
                "statement": statement,
                "version": version,
                "withdrawn": withdrawn,
                "note": note,
                "note_direction": direction(note[0]) if note else "",
                "date_line": date_line(statement, version),
                "body": body_html(_shortened(version.body)),
                "shortened": len(version.body) > MAX_SOURCE,
                "link": version_url(statement, version.language),
                "direction": direction(version.language),
                "issuer": name_in(organization, version.language),
                "co_signers": names_list(
                    [name_in(link.co_signer, version.language) for link in statement.signed]  # type: ignore[attr-defined]
                ),
            },
        )
        author = name_in(organization, version.language)
    feed.add_item(
        title=title,
        link=version_url(statement, version.language),
        description=content,
        unique_id=tag_uri(statement.created_at, f"statements/{statement.pk}/{version.language}"),
        pubdate=statement.published_at,
        updateddate=max(statement.modified_at, version.modified_at),
        author_name=author,
        author_link=absolute(reverse("organizations:public", args=[organization.slug])),
        language=version.language,
        summary=version.summary,
    )


def _shortened(text: str) -> str:
    """At most MAX_SOURCE characters, cut at a paragraph (or at least a word) and ended
    with an ellipsis; the entry then links to the page for the rest."""
    if len(text) <= MAX_SOURCE:
        return text
    head = text[:MAX_SOURCE]
    for mark in ("\n\n", "\n", " "):
        cut = head.rfind(mark)
        if cut > MAX_SOURCE // 2:
            head = head[:cut]
            break
    return head.rstrip() + " …"
