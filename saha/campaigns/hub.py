"""The hub's calls to action: one card per public item, in the host's order.

A card carries what its template needs and nothing more: the title (in the
language it exists in), a line or two, the link and the button's words. The
button says what the organizer wrote for the page's language, else the
default of its kind in that language (never another language's words).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from saha.campaigns import queries
from saha.campaigns.models import Campaign, CampaignItem
from saha.campaigns.progress import Progress
from saha.campaigns.queries import Shown, pick
from saha.core.markdown import public_html
from saha.events.models import EventStatus
from saha.statements.models import StatementStatus

EXCERPT_CHARS = 220
NOTHING = Shown("", "")
DEFAULT_LABELS = {
    "statement": _("Read the statement"),
    "event": _("RSVP"),
    "petition": _("Sign the petition"),
}


@dataclass(frozen=True)
class Card:
    item: CampaignItem
    kind: str
    title: Shown
    excerpt: Shown
    url: str
    label: str
    # Whether the button calls to act now (an event still taking answers, an open
    # petition); otherwise the card links to the page without the call.
    active: bool = True
    count: int | None = None  # a petition's signatures
    # An event's places left, only when it has a capacity: what its own page shows (it
    # never shows how many are coming otherwise).
    places_left: int | None = None
    # A withdrawn statement stays on the hub, marked, with why, and no call to act.
    withdrawn: bool = False
    note: Shown = NOTHING

    @property
    def target(self) -> Any:
        return self.item.target


def label_for(item: CampaignItem) -> str:
    language = translation.get_language() or ""
    return item.labels.get(language) or str(DEFAULT_LABELS[item.kind])


def excerpt(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(EXCERPT_CHARS)


def markdown_text(text: str) -> str:
    """Markdown as plain words, for excerpts and link previews: the characters themselves,
    not their HTML entities (the template escapes them once)."""
    return " ".join(html.unescape(strip_tags(public_html(text))).split())


def cards(campaign: Campaign, items: list[CampaignItem], progress: Progress) -> list[Card]:
    slug = campaign.organization.slug
    fallback = campaign.organization.default_language
    found = []
    for item in items:
        if not queries.is_public(item):
            continue
        if item.statement is not None:
            found.append(_statement_card(item, slug))
        elif item.event is not None:
            found.append(_event_card(item, slug, fallback))
        elif item.petition is not None:
            found.append(_petition_card(item, slug, fallback, progress))
    return found


def _statement_card(item: CampaignItem, slug: str) -> Card:
    statement = item.statement
    assert statement is not None
    version = statement.version_for()
    title = Shown(version.title, version.language) if version else Shown(statement.slug, "")
    line = ""
    if version is not None:
        line = version.summary or excerpt(markdown_text(version.body))
    withdrawn = statement.status == StatementStatus.WITHDRAWN
    note = pick(statement.withdrawal_notes or {}, statement.original_language)
    return Card(
        item=item,
        kind="statement",
        title=title,
        excerpt=Shown(line, version.language if version else ""),
        url=reverse("statements:statement", args=[slug, statement.slug]),
        label=label_for(item),
        active=not withdrawn,
        withdrawn=withdrawn,
        note=Shown(excerpt(note.text), note.language) if withdrawn else NOTHING,
    )


def _event_card(item: CampaignItem, slug: str, fallback: str) -> Card:
    event = item.event
    assert event is not None
    description = pick(event.descriptions, fallback)
    return Card(
        item=item,
        kind="event",
        title=pick(event.titles, fallback),
        excerpt=Shown(excerpt(description.text), description.language),
        url=reverse("events:event", args=[slug, event.slug]),
        label=label_for(item),
        active=event.status == EventStatus.PUBLISHED and event.ends_at >= timezone.now(),
        # As the event's page counts them (events.views.public._places_left).
        places_left=None if event.capacity is None else max(event.capacity - event.confirmed, 0),
    )


def _petition_card(item: CampaignItem, slug: str, fallback: str, progress: Progress) -> Card:
    petition = item.petition
    assert petition is not None
    text = pick(petition.texts, fallback)
    return Card(
        item=item,
        kind="petition",
        title=pick(petition.titles, fallback),
        excerpt=Shown(excerpt(text.text), text.language),
        url=reverse("petitions:petition", args=[slug, petition.slug]),
        label=label_for(item),
        active=petition.is_open,
        count=progress.petition_counts.get(petition.pk, 0),
    )
