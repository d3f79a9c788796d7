"""Search over one organization's public content: campaigns, statements, events, petitions.

Only what anyone may already open is searched: published or ended campaigns,
published or withdrawn statements (never drafts or scheduled ones), published
public events (never drafts, cancelled or unlisted ones), open or closed
petitions (never drafts); and only the organization's own.

The matching is done here, in Python, not by the database. Campaigns, events
and petitions keep their titles and texts as JSON per language, and on SQLite
a JSONField is stored with \\u escapes, so a database `icontains` never finds
Arabic in them; and a match must ignore case, accents, tashkeel, tatweel and
the alef, hamza, ya and ta marbuta variants in both the query and the text,
which no portable SQL does. So the organization's public items are loaded with
only the columns searched, newest first and at most `MAX_ROWS` of each kind
(`MAX_TEXT` characters of each text), folded as the supporters' search keys are
(`fold`), and matched here. An organization with more than that finds among its
newest `MAX_ROWS` of each kind: a bound on what one request may cost, not a
limit anyone should meet. Folded texts are kept per process (`FOLDED`), so a
search folds only what changed since the last one.

A query is a few words; an item matches when each word is found somewhere in
it, in any language, inside a longer word too ("شاطئ" finds "الشاطئ"). Items
whose title has the words come first, then the newest.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import re
import sys
import threading
import unicodedata
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf.locale import LANG_INFO
from django.db.models import Case, F, IntegerField, Value, When
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from saha.campaigns.models import Campaign, CampaignStatus
from saha.events.models import Event, EventStatus, Visibility
from saha.organizations.models import Organization
from saha.petitions.models import Petition, PetitionStatus
from saha.statements.models import StatementStatus, StatementVersion
from saha.supporters.text import clean_text, normalize_name

MAX_QUERY = 200  # characters kept of what was typed
MIN_QUERY = 2  # letters, once folded: one letter would find everything
MAX_TERMS = 8
MAX_ROWS = 1000  # of each kind, newest first
MAX_TEXT = 20_000  # characters read of one text
SHOWN_PER_KIND = 20
EXCERPT_BEFORE = 60  # characters of context before the first match
EXCERPT_CHARS = 200
MAX_WORD = 60  # characters shown of one word in an excerpt

KINDS = {
    "campaign": gettext_lazy("Campaigns"),
    "statement": gettext_lazy("Statements"),
    "event": gettext_lazy("Events"),
    "petition": gettext_lazy("Petitions"),
}


# --- Folding ----------------------------------------------------------------------

# Beyond what the supporters' keys fold: the hamza standing on the line, so that
# "شاطئ" and the older spelling "شاطىء" are one (a hamza on a seat is folded into
# its seat already); the Persian ya and kaf that some keyboards type for Arabic
# ones; and Eastern Arabic digits ("٢٠٢٥" is "2025").
EXTRA = {
    ord("ء"): None,
    ord("ی"): "ي",
    ord("ک"): "ك",
    **{ord(digit): str(n % 10) for n, digit in enumerate("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹")},
}
_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]+")
_SPACES = re.compile(r"\s+")


# Where normalize_name changes a character other than by its case: the combining
# characters wherever they are, and the marks and letters it strips or folds, all
# of which lie in these blocks (Latin to Arabic, punctuation and direction marks,
# Arabic presentation forms and the byte-order mark).
_BLOCKS = (range(0x0800), range(0x2000, 0x2070), range(0xFB50, 0xFF00))


@functools.cache
def _table() -> dict[int, str | None]:
    """`normalize_name`'s own answer for each character it changes, as one table, and
    EXTRA. Built once per process (a fifth of a second), from normalize_name itself."""
    combining = [code for code in range(sys.maxunicode + 1) if unicodedata.combining(chr(code))]
    table: dict[int, str | None] = {}
    for code in itertools.chain(*_BLOCKS, combining):
        character = chr(code)
        # Between two letters, so that a space stays a space and a mark is dropped.
        folded = normalize_name(f"a{character}b")[1:-1]
        if folded != character.casefold():
            table[code] = folded or None
    return {**table, **EXTRA}


def fold(value: str) -> str:
    """The search key of a text: case, accents, tashkeel, tatweel and letter variants folded
    ("Élodie" is "elodie"; "أحمد", "احمد" and "أَحْمَد" are one).

    What `saha.supporters.text.normalize_name` (the supporters' search keys) gives,
    then EXTRA (a test holds them equal), three times as fast: search folds whole
    texts, not names, and one `translate` replaces a loop over the characters."""
    if value.isascii():
        return _SPACES.sub(" ", _ASCII_CONTROLS.sub("", value).lower()).strip()
    folded = unicodedata.normalize("NFKD", value).translate(_table())
    return _SPACES.sub(" ", folded.casefold()).strip()


class _FoldedTexts:
    """Texts already folded, by a digest of the text as stored. Folding costs about a
    quarter of a microsecond a character (seconds for every text of the largest
    organization search reads), a digest and a lookup a few microseconds a text.
    Per process, the least recently used out first, bounded in characters; an
    edited text has another digest, so nothing here is ever stale."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self.texts: OrderedDict[bytes, str] = OrderedDict()
        self.lock = threading.Lock()

    def fold(self, text: str) -> str:
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        with self.lock:
            folded = self.texts.get(key)
            if folded is not None:
                self.texts.move_to_end(key)
                return folded
        folded = fold(plain(text))
        with self.lock:
            if key not in self.texts:
                self.texts[key] = folded
                self.chars += len(folded)
            while self.chars > self.max_chars and self.texts:
                self.chars -= len(self.texts.popitem(last=False)[1])
        return folded


# Enough for the largest organization search reads (MAX_ROWS of each kind): some 30 MB.
FOLDED = _FoldedTexts(max_chars=16_000_000)


# Markdown's marks, so that "**free** beach" reads, and matches, as "free beach".
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(?m)^\s{0,3}(?:#{1,6}\s|>\s?|[-*+]\s|\d{1,3}[.)]\s)|[*_`~]+")


def plain(markdown: str) -> str:
    return _MD_MARKS.sub("", _MD_LINK.sub(r"\1", markdown))


# --- The query --------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    text: str  # what is shown back in the search box
    terms: tuple[str, ...]  # folded words, each of which must be found
    shortened: bool  # what was typed was longer than MAX_QUERY

    @property
    def usable(self) -> bool:
        return any(len(term) >= MIN_QUERY for term in self.terms)


def parse_query(typed: str) -> Query:
    text = clean_text(typed[:MAX_QUERY])
    terms = tuple(dict.fromkeys(fold(text).split()))[:MAX_TERMS]
    return Query(text=text, terms=terms, shortened=len(typed) > MAX_QUERY)


# --- Texts in the reader's language -----------------------------------------------


def direction(language: str) -> str:
    return "rtl" if LANG_INFO.get(language, {}).get("bidi") else "ltr"


@dataclass(frozen=True)
class Localized:
    """A text and its language; `language` is empty when it is the page's own."""

    text: str
    language: str = ""

    @property
    def direction(self) -> str:
        return direction(self.language)

    def __str__(self) -> str:
        return self.text


def localized(values: Any, fallback: str) -> Localized:
    """The value in the reader's language, else in `fallback`, else in any: as
    `saha.organizations.models.translated`, also saying which language it is in."""
    if not isinstance(values, dict):
        return Localized("")
    page = translation.get_language() or ""
    for language in (page, fallback, *values):
        value = values.get(language)
        if isinstance(value, str) and value.strip():
            return Localized(value, "" if language == page else language)
    return Localized("")


# --- What is searched -------------------------------------------------------------


@dataclass
class Item:
    """One public campaign, statement, event or petition, as search reads it."""

    kind: str
    slug: str
    titles: dict[str, str]
    fallback: str  # the language a missing translation falls back to
    texts: list[tuple[str, str]]  # (language or "", text): summaries, bodies, places
    dated: dt.date | None = None
    starts_at: dt.datetime | None = None
    time_zone: str = ""
    note: str = ""  # "Withdrawn", "Ended", "Closed"

    def haystack(self) -> str:
        return "\n".join([*self.titles.values(), *(text for _language, text in self.texts)])


def _per_language(values: Any) -> Iterator[tuple[str, str]]:
    if isinstance(values, dict):
        for language, text in values.items():
            if isinstance(text, str) and text:
                yield str(language), text[:MAX_TEXT]


def _campaigns(organization: Organization) -> Iterator[Item]:
    rows = (
        Campaign.objects.filter(
            organization=organization,
            status__in=[CampaignStatus.PUBLISHED, CampaignStatus.ENDED],
        )
        .order_by(F("published_at").desc(nulls_last=True), "-created_at", "-pk")
        .values_list("slug", "titles", "summaries", "descriptions", "status")[:MAX_ROWS]
    )
    for slug, titles, summaries, descriptions, status in rows:
        yield Item(
            kind="campaign",
            slug=slug,
            titles=dict(_per_language(titles)),
            fallback=organization.default_language,
            texts=[
                *_per_language(summaries),
                *_per_language(descriptions),
            ],
            note=_("Ended") if status == CampaignStatus.ENDED else "",
        )


def _statements(organization: Organization) -> Iterator[Item]:
    # One row per language of each statement: a statement comes in up to one row
    # per language, so the cap counts in rows, not statements.
    rows = (
        StatementVersion.objects.filter(
            organization=organization,
            statement__organization=organization,
            statement__status__in=[StatementStatus.PUBLISHED, StatementStatus.WITHDRAWN],
        )
        .order_by("-statement__dated", "-statement_id", "language")
        .values_list(
            "statement_id",
            "statement__slug",
            "statement__dated",
            "statement__status",
            "statement__original_language",
            "language",
            "title",
            "summary",
            "body",
        )[: MAX_ROWS * 3]
    )
    items: dict[int, Item] = {}
    for pk, slug, dated, status, original, language, title, summary, body in rows:
        item = items.get(pk)
        if item is None:
            withdrawn = status == StatementStatus.WITHDRAWN
            item = items[pk] = Item(
                kind="statement",
                slug=slug,
                titles={},
                fallback=original,
                texts=[],
                dated=dated,
                note=_("Withdrawn") if withdrawn else "",
            )
        item.titles[language] = title
        item.texts += [(language, summary), (language, body[:MAX_TEXT])]
    yield from items.values()


def _events(organization: Organization) -> Iterator[Item]:
    rows = (
        Event.objects.filter(
            organization=organization,
            status=EventStatus.PUBLISHED,
            visibility=Visibility.PUBLIC,
        )
        .order_by("-starts_at", "-pk")
        .values_list(
            "slug", "titles", "descriptions", "venue_name", "address", "starts_at", "time_zone"
        )[:MAX_ROWS]
    )
    for slug, titles, descriptions, venue, address, starts_at, time_zone in rows:
        yield Item(
            kind="event",
            slug=slug,
            titles=dict(_per_language(titles)),
            fallback=organization.default_language,
            texts=[
                *_per_language(descriptions),
                ("", venue),
                ("", address),
            ],
            starts_at=starts_at,
            time_zone=time_zone,
        )


def _petitions(organization: Organization) -> Iterator[Item]:
    rows = (
        Petition.objects.filter(
            organization=organization,
            status__in=[PetitionStatus.OPEN, PetitionStatus.CLOSED],
        )
        # Open ones first: those still take signatures.
        .order_by(
            Case(
                When(status=PetitionStatus.OPEN, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "-created_at",
            "-pk",
        )
        .values_list("slug", "titles", "texts", "targets", "status")[:MAX_ROWS]
    )
    for slug, titles, texts, targets, status in rows:
        yield Item(
            kind="petition",
            slug=slug,
            titles=dict(_per_language(titles)),
            fallback=organization.default_language,
            texts=[*_per_language(texts), ("", targets[:MAX_TEXT])],
            note=_("Closed") if status == PetitionStatus.CLOSED else "",
        )


LOADERS = {
    "campaign": _campaigns,
    "statement": _statements,
    "event": _events,
    "petition": _petitions,
}
URL_NAMES = {
    "campaign": "campaigns:campaign",
    "statement": "statements:statement",
    "event": "events:event",
    "petition": "petitions:petition",
}


# --- Excerpts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Excerpt:
    """A few words around the first match, the matching words marked."""

    parts: tuple[tuple[str, bool], ...]  # (text, is a match)
    language: str = ""

    @property
    def direction(self) -> str:
        return direction(self.language)


_WORD = re.compile(r"\S+")


def _marked_words(paragraph: str, terms: Iterable[str]) -> tuple[list[re.Match[str]], set[int]]:
    """The paragraph's words and which of them hold (part of) a match.

    Each word is folded on its own, so a match found in the folded words points
    back at the words as written."""
    words = list(_WORD.finditer(paragraph))
    folded_words = [fold(m.group()) for m in words]
    kept = [n for n, folded in enumerate(folded_words) if folded]
    starts, position = [], 0
    for n in kept:
        starts.append(position)
        position += len(folded_words[n]) + 1
    folded = " ".join(folded_words[n] for n in kept)
    marked: set[int] = set()
    for term in terms:
        found = folded.find(term)
        while found != -1 and len(marked) < 50:
            index = bisect_right(starts, found) - 1
            while index < len(kept) and starts[index] < found + len(term):
                marked.add(kept[index])
                index += 1
            found = folded.find(term, found + len(term))
    return words, marked


def _window(words: list[re.Match[str]], marked: set[int], start: int) -> Excerpt:
    first = start
    while first > 0 and words[start].start() - words[first - 1].start() <= EXCERPT_BEFORE:
        first -= 1
    last = first
    while last + 1 < len(words) and words[last + 1].end() - words[first].start() <= EXCERPT_CHARS:
        last += 1
    parts: list[tuple[str, bool]] = [("… ", False)] if first > 0 else []
    for n in range(first, last + 1):
        if n > first:
            parts.append((" ", False))
        word = words[n].group()
        # A "word" may be a long address or a line of dashes: never the whole excerpt.
        parts.append((word if len(word) <= MAX_WORD else f"{word[:MAX_WORD]}…", n in marked))
    if last + 1 < len(words):
        parts.append((" …", False))
    merged: list[tuple[str, bool]] = []
    for text, hit in parts:
        if merged and merged[-1][1] == hit:
            merged[-1] = (merged[-1][0] + text, hit)
        else:
            merged.append((text, hit))
    return Excerpt(tuple(merged))


def excerpt(text: str, terms: tuple[str, ...]) -> Excerpt | None:
    """Words around the first match in `text`, or None when no word of it matches."""
    for paragraph in text.splitlines():
        folded = fold(paragraph)
        if not any(term in folded for term in terms):
            continue
        words, marked = _marked_words(paragraph, terms)
        if marked:
            return _window(words, marked, min(marked))
    return None


def lead(text: str) -> Excerpt | None:
    """The start of a text, when the match was in the title only."""
    words = list(_WORD.finditer(" ".join(text.split())))
    return _window(words, set(), 0) if words else None


# --- Results ----------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    kind: str
    url: str
    title: Localized
    excerpt: Excerpt | None
    note: str = ""
    dated: dt.date | None = None
    starts_at: dt.datetime | None = None
    time_zone: str = ""


@dataclass
class Group:
    kind: str
    label: str
    hits: list[Hit] = field(default_factory=list)
    more: int = 0  # matches not shown


def _excerpt_for(item: Item, title: Localized, terms: tuple[str, ...]) -> Excerpt | None:
    page = translation.get_language() or ""
    shown = title.language or page
    texts = sorted(
        ((language, plain(text)) for language, text in item.texts),
        key=lambda pair: pair[0] not in (shown, ""),
    )
    other_titles = [(lang, text) for lang, text in item.titles.items() if lang != shown]
    for language, text in [*texts, *other_titles]:
        found = excerpt(text, terms)
        if found is not None:
            return Excerpt(found.parts, "" if language in (page, "") else language)
    for language, text in texts:
        if language == shown and text.strip():
            start = lead(text)
            return Excerpt(start.parts, title.language) if start else None
    return None


def _hit(organization: Organization, item: Item, terms: tuple[str, ...]) -> Hit:
    title = localized(item.titles, item.fallback)
    if not title.text:  # no title in any language: the address is what there is
        title = Localized(item.slug)
    return Hit(
        kind=item.kind,
        url=reverse(URL_NAMES[item.kind], args=[organization.slug, item.slug]),
        title=title,
        excerpt=_excerpt_for(item, title, terms),
        note=item.note,
        dated=item.dated,
        starts_at=item.starts_at,
        time_zone=item.time_zone,
    )


def search(organization: Organization, query: Query) -> list[Group]:
    """The organization's public items matching every word of `query`, grouped by kind."""
    if not query.usable:
        return []
    groups = []
    for kind, load in LOADERS.items():
        matches: list[tuple[int, Item]] = []
        for item in load(organization):
            haystack = FOLDED.fold(item.haystack())
            if all(term in haystack for term in query.terms):
                titles = fold(" ".join(item.titles.values()))
                matches.append((-sum(term in titles for term in query.terms), item))
        if not matches:
            continue
        matches.sort(key=lambda pair: pair[0])  # stable: the newest first among equals
        group = Group(kind=kind, label=str(KINDS[kind]), more=max(0, len(matches) - SHOWN_PER_KIND))
        group.hits = [
            _hit(organization, item, query.terms) for _rank, item in matches[:SHOWN_PER_KIND]
        ]
        groups.append(group)
    return groups
