"""Search over one organization's public content: campaigns, statements, events, petitions.

Only what anyone may already open is found: published or ended campaigns,
published or withdrawn statements (never drafts or scheduled ones), published
public events (never drafts, cancelled or unlisted ones), open or closed
petitions (never drafts); and only the organization's own.

A match must ignore case, accents, tashkeel, tatweel and the alef, hamza, ya and
ta marbuta variants in both the query and the text, which no portable SQL does;
and on SQLite a JSONField is stored with \\u escapes, where a database search
never finds Arabic. So texts are folded when they are written, not when they
are searched: `saha.organizations.search_index` keeps one `SearchEntry` per
item, all its texts in every language folded by `fold` (the one function both
sides use); a search folds the query the same way and asks the database for the
entries holding every word (`LIKE '%word%'`, escaped by Django).

The index holds texts only, never whether an item is public. Each kind is one
query over the kind's own table, with the same public filters the public pages
use, among the ids the index matched: the first `SHOWN_PER_KIND` and the number
of all the matches come back together, so neither a draft nor another
organization's item is ever shown or counted, and a search costs the same few
queries however many items match. Excerpts are made from the real texts of the
items shown, and of those only.

A query is a few words; an item matches when each word is found somewhere in
it, in any language, inside a longer word too ("شاطئ" finds "الشاطئ"). Items
whose titles have more of the words come first, then the newest.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import re
import sys
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.db.models import (
    Case,
    Count,
    Expression,
    F,
    Field,
    IntegerField,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from saha.campaigns.models import Campaign, CampaignStatus
from saha.events.models import Event, EventStatus, Visibility
from saha.organizations.models import Organization, SearchEntry, SearchKind
from saha.petitions.models import Petition, PetitionStatus
from saha.statements.models import Statement, StatementStatus, StatementVersion
from saha.supporters.text import clean_text, normalize_name

MAX_QUERY = 200  # characters kept of what was typed
MIN_QUERY = 2  # letters, once folded: one letter would find everything
MAX_TERMS = 8
MAX_TEXT = 20_000  # characters of one text indexed, and read for an excerpt
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
    texts, not names, and one `translate` replaces a loop over the characters.

    The search index holds texts folded by this: a change to what it folds needs a
    migration that runs `saha.organizations.search_index.rebuild` (as 0003 does)."""
    if value.isascii():
        return _SPACES.sub(" ", _ASCII_CONTROLS.sub("", value).lower()).strip()
    folded = unicodedata.normalize("NFKD", value).translate(_table())
    return _SPACES.sub(" ", folded.casefold()).strip()


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


def _per_language(values: Any) -> Iterator[tuple[str, str]]:
    if isinstance(values, dict):
        for language, text in values.items():
            if isinstance(text, str) and text:
                yield str(language), text[:MAX_TEXT]


# --- Matching ---------------------------------------------------------------------


def _matched(organization: Organization, kind: str, terms: tuple[str, ...]) -> Any:
    """The ids of the organization's items of `kind` whose texts hold every word."""
    entries = SearchEntry.objects.filter(organization=organization, kind=kind)
    for term in terms:
        entries = entries.filter(folded__contains=term)
    return entries.values("object_id")


def _title_rank(kind: str, terms: tuple[str, ...]) -> Subquery:
    """How many of the words the item's titles have."""
    found: Expression = Value(0)
    for term in terms:
        found = found + Case(When(titles__contains=term, then=Value(1)), default=Value(0))
    entry = SearchEntry.objects.filter(kind=kind, object_id=OuterRef("pk"))
    return Subquery(entry.values(found=found)[:1], output_field=IntegerField())


def _read(row: QuerySet[Any], name: str) -> Subquery:
    """Column `name` of the one row `row` finds, for `_shown`."""
    column = row.model._meta.get_field(name)
    assert isinstance(column, Field)
    return Subquery(row.values(name)[:1], output_field=column)


def _own(model: type[Model], *names: str) -> dict[str, Subquery]:
    """Columns of the item's own row, for `_shown`."""
    row = model._default_manager.filter(pk=OuterRef("pk"))
    return {name: _read(row, name) for name in names}


def _shown(
    public: QuerySet[Any],
    organization: Organization,
    kind: str,
    terms: tuple[str, ...],
    columns: dict[str, Subquery],
) -> tuple[list[dict[str, Any]], int]:
    """The `public` rows matching, those whose titles have more of the words first, then
    in `public`'s own order (the newest first): `columns` of the first SHOWN_PER_KIND, and
    the number of all the matches (a window over them all, counted in the same query).

    Each column is read by id, for the rows shown only: PostgreSQL evaluates such
    subqueries after the sort and the limit, and SQLite, which otherwise carries every
    column through the window for every match (long texts), then carries ids only."""
    rows = (
        public.filter(pk__in=_matched(organization, kind, terms))
        .annotate(rank=_title_rank(kind, terms), total=Window(Count("pk")))
        .order_by(F("rank").desc(), *public.query.order_by)
        .annotate(**{f"shown_{name}": column for name, column in columns.items()})
        .values("total", *(f"shown_{name}" for name in columns))[:SHOWN_PER_KIND]
    )
    shown = [{name: row[f"shown_{name}"] for name in columns} for row in rows]
    return shown, (rows[0]["total"] if shown else 0)


def _campaigns(organization: Organization, terms: tuple[str, ...]) -> tuple[list[Item], int]:
    public = Campaign.objects.filter(
        organization=organization,
        status__in=[CampaignStatus.PUBLISHED, CampaignStatus.ENDED],
    ).order_by(F("published_at").desc(nulls_last=True), "-created_at", "-pk")
    columns = _own(Campaign, "slug", "titles", "summaries", "descriptions", "status")
    rows, total = _shown(public, organization, SearchKind.CAMPAIGN, terms, columns)
    items = [
        Item(
            kind="campaign",
            slug=row["slug"],
            titles=dict(_per_language(row["titles"])),
            fallback=organization.default_language,
            texts=[*_per_language(row["summaries"]), *_per_language(row["descriptions"])],
            note=_("Ended") if row["status"] == CampaignStatus.ENDED else "",
        )
        for row in rows
    ]
    return items, total


def _statements(organization: Organization, terms: tuple[str, ...]) -> tuple[list[Item], int]:
    public = Statement.objects.filter(
        organization=organization,
        status__in=[StatementStatus.PUBLISHED, StatementStatus.WITHDRAWN],
    ).order_by("-dated", "-pk")
    # A statement's texts are its versions': each language's, as columns of its row.
    languages = sorted(settings.ALL_LANGUAGES)
    columns = _own(Statement, "slug", "dated", "status", "original_language")
    for language in languages:
        version = StatementVersion.objects.filter(statement_id=OuterRef("pk"), language=language)
        for name in ("title", "summary", "body"):
            columns[f"{name}_{language}"] = _read(version, name)
    rows, total = _shown(public, organization, SearchKind.STATEMENT, terms, columns)
    items = []
    for row in rows:
        item = Item(
            kind="statement",
            slug=row["slug"],
            titles={},
            fallback=row["original_language"],
            texts=[],
            dated=row["dated"],
            note=_("Withdrawn") if row["status"] == StatementStatus.WITHDRAWN else "",
        )
        for language in languages:
            if row[f"title_{language}"] is not None:  # a version in this language
                item.titles[language] = row[f"title_{language}"]
                item.texts += [
                    (language, row[f"summary_{language}"]),
                    (language, row[f"body_{language}"][:MAX_TEXT]),
                ]
        items.append(item)
    return items, total


def _events(organization: Organization, terms: tuple[str, ...]) -> tuple[list[Item], int]:
    public = Event.objects.filter(
        organization=organization,
        status=EventStatus.PUBLISHED,
        visibility=Visibility.PUBLIC,
    ).order_by("-starts_at", "-pk")
    columns = _own(
        Event, "slug", "titles", "descriptions", "venue_name", "address", "starts_at", "time_zone"
    )
    rows, total = _shown(public, organization, SearchKind.EVENT, terms, columns)
    items = [
        Item(
            kind="event",
            slug=row["slug"],
            titles=dict(_per_language(row["titles"])),
            fallback=organization.default_language,
            texts=[
                *_per_language(row["descriptions"]),
                ("", row["venue_name"]),
                ("", row["address"]),
            ],
            starts_at=row["starts_at"],
            time_zone=row["time_zone"],
        )
        for row in rows
    ]
    return items, total


def _petitions(organization: Organization, terms: tuple[str, ...]) -> tuple[list[Item], int]:
    public = Petition.objects.filter(
        organization=organization,
        status__in=[PetitionStatus.OPEN, PetitionStatus.CLOSED],
    ).order_by(
        # Open ones first: those still take signatures.
        Case(
            When(status=PetitionStatus.OPEN, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        "-created_at",
        "-pk",
    )
    columns = _own(Petition, "slug", "titles", "texts", "targets", "status")
    rows, total = _shown(public, organization, SearchKind.PETITION, terms, columns)
    items = [
        Item(
            kind="petition",
            slug=row["slug"],
            titles=dict(_per_language(row["titles"])),
            fallback=organization.default_language,
            texts=[*_per_language(row["texts"]), ("", row["targets"][:MAX_TEXT])],
            note=_("Closed") if row["status"] == PetitionStatus.CLOSED else "",
        )
        for row in rows
    ]
    return items, total


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


def _holds(text: str, terms: Iterable[str]) -> bool:
    folded = fold(text)
    return any(term in folded for term in terms)


def _first_match(paragraph: str, terms: tuple[str, ...]) -> tuple[list[re.Match[str]], int]:
    """The paragraph's words and the index of the first holding (part of) a match, -1 when
    none does.

    A term has no space, so it is found inside one word, and folding one word at a time
    costs a function call a word. So the first match is looked for in the paragraph
    folded whole: the word it is in is the one after as many spaces as precede it there.
    That guess is the answer when it holds a match and nothing before it does; else (a
    word folded to nothing, a ligature folded to several words) each word is folded in
    turn."""
    folded = fold(paragraph)
    found = [at for at in (folded.find(term) for term in terms) if at != -1]
    if not found:
        return [], -1
    words = list(_WORD.finditer(paragraph))
    guess = folded.count(" ", 0, min(found))
    if (
        guess < len(words)
        and _holds(words[guess].group(), terms)
        and not _holds(paragraph[: words[guess].start()], terms)
    ):
        return words, guess
    return words, next((n for n, word in enumerate(words) if _holds(word.group(), terms)), -1)


def _window(words: list[re.Match[str]], start: int, terms: tuple[str, ...] = ()) -> Excerpt:
    """About EXCERPT_CHARS of words from a little before `start`, those holding a term marked."""
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
        hit = bool(terms) and _holds(word, terms)
        # A "word" may be a long address or a line of dashes: never the whole excerpt.
        parts.append((word if len(word) <= MAX_WORD else f"{word[:MAX_WORD]}…", hit))
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
    """Words around the first match in `text`, or None when no word of it matches.

    Only the words shown are folded one by one (and those before the first match only
    when the fast guess fails): a long text costs about two folds of it, not one per word."""
    for paragraph in text.splitlines():
        words, start = _first_match(paragraph, terms)
        if start != -1:
            return _window(words, start, terms)
    return None


def lead(text: str) -> Excerpt | None:
    """The start of a text, when the match was in the title only."""
    words = list(_WORD.finditer(" ".join(text.split())))
    return _window(words, 0) if words else None


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
        items, total = load(organization, query.terms)
        if not items:
            continue
        group = Group(kind=kind, label=str(KINDS[kind]), more=max(0, total - len(items)))
        group.hits = [_hit(organization, item, query.terms) for item in items]
        groups.append(group)
    return groups
