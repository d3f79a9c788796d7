"""Searching an organization's public content: what people type finds what they meant,
in Arabic (whatever the vowel marks, tatweel or alef, hamza, ya and ta marbuta forms),
French (whatever the accents and case) and English (whatever the case); and never
anything that is not public, or not the organization's own."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from saha.campaigns.models import CampaignStatus
from saha.events.models import EventStatus, Visibility
from saha.organizations import search
from saha.organizations.models import Organization
from saha.organizations.tests.test_public_page import (
    make_campaign,
    make_event,
    make_petition,
    make_statement,
)
from saha.petitions.models import PetitionStatus
from saha.statements.models import StatementStatus
from saha.supporters.text import normalize_name
from saha.testing.browser import assert_fits_width, console_errors, expect

BEACH_AR = "بيانٌ حولَ إغلاقِ الشّاطِئِ العامّ أمام المواطنين"


def find(organization: Organization, q: str, language: str = "en") -> Any:
    url = reverse("organizations:search", args=[organization.slug])
    return Client().get(url, {"q": q, "lang": language})


def found_slugs(response: Any) -> dict[str, list[str]]:
    """What the results page links to, by kind: {"statement": ["beach"], ...}."""
    assert response.status_code == 200
    found: dict[str, list[str]] = {}
    for group in response.context["groups"]:
        found[group.kind] = [hit.url.rstrip("/").rsplit("/", 1)[1] for hit in group.hits]
    return found


@pytest.fixture
def beach(org_a: Organization) -> Any:
    return make_statement(
        org_a,
        "beach",
        {
            "ar": {
                "title": "بيان حول الشاطئ",
                "summary": "المكتب التنفيذيّ يطالب بفتح الشاطئ",
                "body": f"## مقدمة\n\n{BEACH_AR}، وفي **مدرسةِ** الحيّ اجتماعٌ يوم الأحد.",
            },
        },
        original_language="ar",
    )


# --- Arabic -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "الشاطئ",  # as written, without its vowel marks
        "الشّاطِئِ",  # with them
        "الشـــاطئ",  # stretched with tatweel
        "شاطئ",  # inside a longer word
        "اغلاق",  # إغلاق without its hamza
        "أغلاق",  # ...or with another alef
        "مدرسه",  # ta marbuta typed as ha
        "العام امام",  # two words, not next to each other in the text
    ],
)
def test_arabic_is_found_whatever_the_marks_and_letter_forms(
    org_a: Organization, beach: Any, typed: str
) -> None:
    assert found_slugs(find(org_a, typed, "ar")) == {"statement": ["beach"]}


def test_a_vowelled_query_finds_a_plain_text_and_ya_forms_are_one(org_a: Organization) -> None:
    make_campaign(
        org_a, "hospital", titles={"ar": "حملة المستشفى"}, summaries={"ar": "من أجل مستشفى عام"}
    )

    assert found_slugs(find(org_a, "مُسْتَشْفَى", "ar")) == {"campaign": ["hospital"]}
    assert found_slugs(find(org_a, "المستشفي", "ar")) == {"campaign": ["hospital"]}


def test_arabic_inside_json_titles_is_found(org_a: Organization) -> None:
    """On SQLite JSON holds Arabic as \\u escapes, where a database search would miss it."""
    make_event(org_a, "vigil", titles={"ar": "وقفة احتجاجية أمام البلدية"})
    make_petition(
        org_a, "water", titles={"ar": "عريضة من أجل المياه"}, texts={"ar": "نطالب بالمياه"}
    )

    assert found_slugs(find(org_a, "البلديه", "ar")) == {"event": ["vigil"]}
    assert found_slugs(find(org_a, "مياه", "ar")) == {"petition": ["water"]}


def test_the_excerpt_marks_the_words_found_as_written(org_a: Organization, beach: Any) -> None:
    body = find(org_a, "مدرسه الشاطئ", "ar").content.decode()

    excerpt = re.search(r'<p class="excerpt"[^>]*>(.*?)</p>', body, re.S)
    assert excerpt is not None
    assert "<mark>الشّاطِئِ</mark>" in excerpt.group(1) or "<mark>الشاطئ</mark>" in excerpt.group(1)
    assert "**" not in excerpt.group(1) and "##" not in excerpt.group(1)


# --- French and English -------------------------------------------------------------


@pytest.mark.parametrize("typed", ["été", "ÉTÉ", "ete", "Ete", "écologie", "ECOLOGIE"])
def test_french_accents_and_case_do_not_matter(org_a: Organization, typed: str) -> None:
    make_campaign(
        org_a,
        "summer",
        titles={"fr": "Un été pour l'Écologie", "en": "A summer for ecology"},
        summaries={"fr": "Cet Été, nettoyons la plage."},
    )

    assert found_slugs(find(org_a, typed, "fr")) == {"campaign": ["summer"]}


@pytest.mark.parametrize("typed", ["beach", "BEACH", "Beach Clean", "clean-up"])
def test_english_case_does_not_matter(org_a: Organization, typed: str) -> None:
    make_event(org_a, "clean-up", titles={"en": "Beach Clean-Up"})

    assert found_slugs(find(org_a, typed)) == {"event": ["clean-up"]}


def test_results_are_grouped_by_kind_titles_first(org_a: Organization) -> None:
    make_campaign(org_a, "in-summary", titles={"en": "Summer"}, summaries={"en": "On the beach"})
    make_campaign(org_a, "in-title", titles={"en": "The beach"}, summaries={"en": "Summer"})
    make_statement(org_a, "beach-statement", {"en": {"title": "On the beach", "body": "Open."}})
    make_event(org_a, "beach-event", titles={"en": "Beach day"})
    make_petition(org_a, "beach-petition", titles={"en": "Beach access"})

    response = find(org_a, "beach")

    assert found_slugs(response) == {
        "campaign": ["in-title", "in-summary"],
        "statement": ["beach-statement"],
        "event": ["beach-event"],
        "petition": ["beach-petition"],
    }
    body = response.content.decode()
    assert f'href="{reverse("events:event", args=[org_a.slug, "beach-event"])}"' in body


# --- Only what is public, only its own -----------------------------------------------


def test_never_drafts_scheduled_unlisted_or_another_organizations(
    org_a: Organization, org_b: Organization
) -> None:
    word = {"en": "Lighthouse", "ar": "المنارة"}
    make_campaign(org_a, "draft-campaign", titles=word, status=CampaignStatus.DRAFT)
    make_statement(
        org_a, "draft-statement", {"en": {"title": "Lighthouse"}}, status=StatementStatus.DRAFT
    )
    make_statement(
        org_a,
        "scheduled-statement",
        {"en": {"title": "Lighthouse"}},
        status=StatementStatus.SCHEDULED,
        publish_at=timezone.now() + dt.timedelta(hours=1),
    )
    make_event(org_a, "draft-event", titles=word, status=EventStatus.DRAFT)
    make_event(org_a, "unlisted-event", titles=word, visibility=Visibility.UNLISTED)
    make_petition(org_a, "draft-petition", titles=word, status=PetitionStatus.DRAFT)
    make_campaign(org_b, "b-campaign", titles=word)
    make_statement(org_b, "b-statement", {"en": {"title": "Lighthouse"}})
    make_event(org_b, "b-event", titles=word)
    make_petition(org_b, "b-petition", titles=word)

    for typed, language in (("lighthouse", "en"), ("المناره", "ar")):
        response = find(org_a, typed, language)
        assert found_slugs(response) == {}
        body = response.content.decode()
        assert "draft-" not in body and "unlisted" not in body
        assert f"/o/{org_b.slug}/" not in body


def test_ended_campaigns_withdrawn_statements_and_closed_petitions_are_found_and_marked(
    org_a: Organization,
) -> None:
    make_campaign(org_a, "ended", titles={"en": "Lighthouse"}, status=CampaignStatus.ENDED)
    make_statement(
        org_a, "withdrawn", {"en": {"title": "Lighthouse"}}, status=StatementStatus.WITHDRAWN
    )
    make_petition(org_a, "closed", titles={"en": "Lighthouse"}, status=PetitionStatus.CLOSED)

    response = find(org_a, "lighthouse")

    assert found_slugs(response) == {
        "campaign": ["ended"],
        "statement": ["withdrawn"],
        "petition": ["closed"],
    }
    notes = {hit.note for group in response.context["groups"] for hit in group.hits}
    assert notes == {"Ended", "Withdrawn", "Closed"}


# --- What is typed --------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["", "   ", "a", "ـ", "\u064e"])
def test_an_empty_or_too_short_query_shows_the_form_and_a_hint(
    org_a: Organization, beach: Any, typed: str
) -> None:
    response = find(org_a, typed, "ar")

    assert response.status_code == 200
    assert response.context["groups"] == []
    body = response.content.decode()
    assert 'role="search"' in body and 'class="search-hint"' in body


def test_a_long_query_is_cut_not_refused(org_a: Organization, beach: Any) -> None:
    typed = "الشاطئ " + "ب" * 5000

    response = find(org_a, typed, "ar")

    assert response.status_code == 200
    assert len(response.context["query"].text) <= search.MAX_QUERY
    assert response.context["query"].shortened
    assert 'class="message warning"' in response.content.decode()


@pytest.mark.parametrize("raw", ["q=%FF%FE", "q=%00%00", "q=a&q=", "q=%D8", "q[]=x", "q=\u202e"])
def test_odd_input_is_never_a_server_error(org_a: Organization, raw: str) -> None:
    response = Client().get(f"{reverse('organizations:search', args=[org_a.slug])}?{raw}")
    assert response.status_code == 200


def test_an_unknown_organization_is_a_404(db: Any) -> None:
    assert Client().get("/o/nobody-here/search/", {"q": "beach"}).status_code == 404


def test_search_costs_the_same_few_queries_however_many_match(org_a: Organization) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert find(org_a, "beach").status_code == 200
        return len(captured.captured_queries)

    make_campaign(org_a, "beach-0", titles={"en": "Beach 0"})
    one = queries()
    for n in range(1, 30):
        make_campaign(org_a, f"beach-{n}", titles={"en": f"Beach {n}"})
        make_event(org_a, f"beach-{n}", titles={"en": f"Beach {n}"})
        make_statement(org_a, f"beach-{n}", {"en": {"title": f"Beach {n}"}})
        make_petition(org_a, f"beach-{n}", titles={"en": f"Beach {n}"})
    many = queries()

    assert one == many <= 5
    response = find(org_a, "beach")
    campaigns = response.context["groups"][0]
    assert len(campaigns.hits) == search.SHOWN_PER_KIND and campaigns.more == 30 - 20


# --- Folding and excerpts --------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "typed"),
    [
        ("إسْتِقْلال", "استقلال"),
        ("آمال", "امال"),
        ("مؤتمر", "موتمر"),
        ("رئيس", "رىيس"),  # ya seat of the hamza typed as alef maqsura
        ("مكتبة", "مكتبه"),
        ("شاطئ", "شاطىء"),  # the older spelling, hamza after a dotless ya
        ("سماء", "سما"),
        ("ی", "ي"),
        ("٢٠٢٥", "2025"),
        ("Ça", "ca"),
        ("STRASSE", "straße"),
    ],
)
def test_fold(written: str, typed: str) -> None:
    assert search.fold(written) == search.fold(typed)


# Latin, Latin-1 and Extended, combining accents, Arabic, direction marks, spaces, and
# Arabic presentation forms; not those that decompose to a tatweel and a vowel mark
# (U+FCF2..., U+FE71...), where normalize_name keeps the tatweel (it drops tatweels before
# decomposing) and fold drops it, as it drops every other tatweel.
_ALPHABET = st.characters(
    codec="utf-8",
    categories=("L", "M", "N", "P", "Zs", "Cf", "Cc"),
    exclude_characters="\ufcf2\ufcf3\ufcf4\ufe71\ufe77\ufe79\ufe7b\ufe7d\ufe7f",
    max_codepoint=0xFEFF,
)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=40))
def test_fold_is_the_supporters_search_key(value: str) -> None:
    assert search.fold(value) == normalize_name(value).translate(search.EXTRA)


def test_an_excerpt_is_a_few_words_around_the_first_match() -> None:
    text = " ".join(f"word{n}" for n in range(200)) + " Beach " + "tail " * 100

    excerpt = search.excerpt(text, ("beach",))

    assert excerpt is not None
    rendered = "".join(text for text, _marked in excerpt.parts)
    assert rendered.startswith("… ") and rendered.endswith(" …")
    assert len(rendered) <= search.EXCERPT_CHARS + 10
    assert ("Beach", True) in excerpt.parts


def _excerpt_folding_each_word(text: str, terms: tuple[str, ...]) -> search.Excerpt | None:
    """What `excerpt` finds, the slow way: every word folded on its own."""
    for paragraph in text.splitlines():
        words = list(re.finditer(r"\S+", paragraph))
        for n, word in enumerate(words):
            if any(term in search.fold(word.group()) for term in terms):
                return search._window(words, n, terms)
    return None


# Words that fold to nothing (a tatweel, a vowel mark), to several words (the ligature
# U+FDFA), or join their neighbours (the unit separator, dropped): where a guess from the
# paragraph folded whole could land on the wrong word.
_WORDS = st.sampled_from(
    ["الشاطئ", "الشّاطِئِ", "ـ", "\u064e", "\ufdfa", "وسلم", "Été", "ete", "a\x1fb", "ab", "x"]
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(_WORDS, st.sampled_from([" ", "  ", "\n", " \u200f"])), max_size=40),
    st.sampled_from([("شاطي",), ("ete",), ("وسلم",), ("ab",), ("الله", "ete")]),
)
def test_an_excerpt_starts_at_the_first_word_holding_a_match(
    words: list[tuple[str, str]], terms: tuple[str, ...]
) -> None:
    text = "".join(word + space for word, space in words)
    assert search.excerpt(text, terms) == _excerpt_folding_each_word(text, terms)


def test_an_excerpt_cuts_a_word_too_long_to_show() -> None:
    excerpt = search.excerpt("See https://example.org/" + "x" * 5000 + " beach", ("beach",))

    assert excerpt is not None
    assert len("".join(text for text, _marked in excerpt.parts)) < 100


# --- In a browser -----------------------------------------------------------------------


@pytest.mark.browser
def test_an_arabic_phone_opens_the_public_page_and_searches(
    make_page: Any, org_a: Organization, beach: Any, screenshot: Any
) -> None:
    make_event(org_a, "vigil", titles={"ar": "وقفة عند الشاطئ", "en": "Vigil at the beach"})
    page = make_page(locale="ar", javascript=False, phone=True)

    page.goto(f"/o/{org_a.slug}/")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator(".org-statements a", has_text="بيان حول الشاطئ")).to_be_visible()
    assert_fits_width(page)
    screenshot(page, "public")

    page.locator("main form[role=search] input[name=q]").fill("الشّاطِئ")
    page.locator("main form[role=search] button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/o/org-a/search/\?q="))
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(page.locator(".search-statement .search-hit")).to_have_count(1)
    expect(page.locator(".search-event .search-hit")).to_have_count(1)
    expect(page.locator(".search-hit mark").first).to_be_visible()
    expect(page.locator("main input[name=q]")).to_have_value("الشّاطِئ")
    assert_fits_width(page)
    screenshot(page, "search")

    assert console_errors(page) == []
    page.locator(".search-statement .search-hit a").click()
    expect(page).to_have_url(re.compile(r"/o/org-a/statements/beach/$"))
