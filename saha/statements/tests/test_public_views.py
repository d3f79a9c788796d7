"""The public statement pages: the list, a statement in the reader's language or in one
chosen, the switcher, the text's own direction, link previews, sharing, the print page;
drafts and scheduled statements are not found, a withdrawn one says so."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import timezone

from saha.statements import services
from saha.statements.models import Statement
from saha.statements.services import VersionText
from saha.statements.tests.helpers import make_statement
from saha.testing.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

BASE = "http://testserver.example"
STATIC = Path(__file__).resolve().parents[2] / "static" / "statements"
# The smallest PNG there is: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)


def page_of(client: Client, url: str, language: str = "en", status: int = 200) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == status, url
    return response.content.decode()


def article(page: str) -> str:
    found = re.search(r'<article class="statement"[^>]*>', page)
    assert found is not None
    return found.group()


@pytest.fixture
def shore(org_a: Any) -> Statement:
    return make_statement(org_a, languages=("ar", "en"), publish=True)


class TestOneStatement:
    def test_in_the_readers_language_else_the_original(self, client: Client, shore: Any) -> None:
        url = f"/o/org-a/statements/{shore.slug}/"
        english = page_of(client, url, "en")
        assert '<html lang="en" dir="ltr">' in english
        assert article(english) == '<article class="statement" lang="en" dir="ltr">'
        assert "The shore belongs to everyone" in english
        arabic = page_of(client, url, "ar")
        assert '<html lang="ar" dir="rtl">' in arabic
        assert article(arabic) == '<article class="statement" lang="ar" dir="rtl">'
        french = page_of(client, url, "fr")  # no French version: the original, Arabic
        assert '<html lang="fr" dir="ltr">' in french
        assert article(french) == '<article class="statement" lang="ar" dir="rtl">'

    def test_an_arabic_version_read_in_english_is_right_to_left(
        self, client: Client, shore: Any
    ) -> None:
        page = page_of(client, f"/o/org-a/statements/{shore.slug}/ar/", "en")
        assert '<html lang="en" dir="ltr">' in page
        assert article(page) == '<article class="statement" lang="ar" dir="rtl">'
        assert "الشاطئ للجميع" in page
        date_line = re.search(r'<p class="statement-date-line">([^<]*)</p>', page)
        assert date_line is not None  # in Arabic, though the page is in English
        assert "بيروت" in date_line.group(1) and "24 نوفمبر 2026" in date_line.group(1)
        assert "اللجنة التنفيذية" in date_line.group(1)

    def test_the_switcher_names_each_language_in_its_own_words(
        self, client: Client, org_a: Any
    ) -> None:
        statement = make_statement(org_a, languages=("ar", "en", "fr"), publish=True)
        page = page_of(client, f"/o/org-a/statements/{statement.slug}/en/", "fr")
        switcher = re.search(r'<nav class="statement-versions.*?</nav>', page, re.S)
        assert switcher is not None
        links = re.findall(r"<a ([^>]*)>([^<]*)</a>", switcher.group())
        assert [name for _attrs, name in links] == ["العربية", "English", "Français"]
        first, second, _third = (attrs for attrs, _name in links)
        assert 'hreflang="ar"' in first and 'dir="rtl"' in first and 'lang="ar"' in first
        assert f'href="/o/org-a/statements/{statement.slug}/ar/"' in first
        assert 'aria-current="page"' in second and 'hreflang="en"' in second

    def test_the_date_line_and_the_signatories_in_the_versions_language(
        self, client: Client, shore: Any, org_b: Any
    ) -> None:
        services.invite_co_signer(actor="test", statement=shore, co_signer=org_b)
        asked_only = OrganizationFactory(slug="org-c", names={"en": "Only Asked"})
        services.invite_co_signer(actor="test", statement=shore, co_signer=asked_only)
        services.accept_co_signing(actor="test", statement=shore, co_signer=org_b)
        english = page_of(client, f"/o/org-a/statements/{shore.slug}/en/")
        assert "Beirut, 24 November 2026 — Executive Committee" in english
        assert "Issued by <bdi>Organization org-a</bdi>." in english
        assert "Co-signed by <bdi>Organization org-b</bdi>." in english
        assert "Only Asked" not in english
        arabic = page_of(client, f"/o/org-a/statements/{shore.slug}/ar/", "en")
        assert "منظمة org-b" in arabic  # the co-signer's Arabic name in the Arabic text

    def test_link_previews_alternates_and_canonical(self, client: Client, shore: Any) -> None:
        with override_settings(SAHA_BASE_URL=BASE):
            page = page_of(client, f"/o/org-a/statements/{shore.slug}/", "en")
        own = f"{BASE}/o/org-a/statements/{shore.slug}/en/"
        assert f'<link rel="canonical" href="{own}">' in page
        assert f'<link rel="alternate" hreflang="en" href="{own}">' in page
        assert (
            f'<link rel="alternate" hreflang="ar" href="{BASE}/o/org-a/statements/shore/ar/">'
            in page
        )
        assert 'hreflang="x-default"' in page
        assert '<meta property="og:type" content="article">' in page
        assert '<meta property="og:title" content="The shore belongs to everyone">' in page
        assert f'<meta property="og:url" content="{own}">' in page
        assert '<meta property="og:locale" content="en_US">' in page
        assert '<meta property="og:locale:alternate" content="ar_AR">' in page
        assert '<meta property="og:description" content="The beach is a common good.">' in page
        assert '<meta name="twitter:card" content="summary">' in page
        assert "og:image" not in page
        feeds = re.findall(
            r'<link rel="alternate" type="application/atom\+xml" href="([^"]+)"', page
        )
        assert (
            "/o/org-a/statements/feed.atom" in feeds and "/o/org-a/statements/feed/ar.atom" in feeds
        )

    def test_with_a_picture_the_card_is_large(
        self, client: Client, shore: Any, tmp_path: Any
    ) -> None:
        with override_settings(MEDIA_ROOT=tmp_path, SAHA_BASE_URL=BASE):
            services.set_image(
                actor="test",
                statement=shore,
                image=SimpleUploadedFile("card.png", PNG, content_type="image/png"),
            )
            page = page_of(client, f"/o/org-a/statements/{shore.slug}/en/")
        assert '<meta name="twitter:card" content="summary_large_image">' in page
        image = re.search(r'<meta property="og:image" content="([^"]+)">', page)
        assert image is not None and image.group(1).startswith(f"{BASE}/media/statements/")

    def test_share_links_are_plain_links_and_the_page_has_no_script(
        self, client: Client, shore: Any
    ) -> None:
        page = page_of(client, f"/o/org-a/statements/{shore.slug}/en/")
        for start in (
            "https://wa.me/?text=",
            "https://t.me/share/url?url=",
            "https://x.com/intent/post?text=",
            "https://www.facebook.com/sharer/sharer.php?u=",
            "mailto:?subject=",
        ):
            assert f'href="{start}' in page, start
        assert "<script" not in page

    def test_markdown_is_rendered_and_raw_html_is_not(self, client: Client, org_a: Any) -> None:
        text = VersionText(
            title="T", body="**Open** the beach.\n\n<script>x()</script> [a](javascript:x)"
        )
        statement = make_statement(org_a, languages=("en",), publish=True, en=text)
        page = page_of(client, f"/o/org-a/statements/{statement.slug}/")
        assert "<strong>Open</strong> the beach." in page
        assert "<script>x()" not in page and 'href="javascript' not in page

    def test_a_machine_translation_says_so_and_links_the_original(
        self, client: Client, org_a: Any
    ) -> None:
        machine = VersionText(title="Translated", body="Text.", machine_translated=True)
        statement = make_statement(org_a, languages=("ar", "en"), publish=True, en=machine)
        page = page_of(client, f"/o/org-a/statements/{statement.slug}/en/")
        note = re.search(r'<p class="statement-machine".*?</p>', page, re.S)
        assert note is not None
        assert f'href="/o/org-a/statements/{statement.slug}/ar/" hreflang="ar"' in note.group()

    def test_drafts_scheduled_and_unknown_versions_are_not_found(
        self, client: Client, org_a: Any, shore: Any
    ) -> None:
        draft = make_statement(org_a, slug="draft")
        scheduled = make_statement(org_a, slug="scheduled")
        services.schedule(
            actor="test", statement=scheduled, publish_at=timezone.now() + dt.timedelta(hours=1)
        )
        for slug in ("draft", "scheduled"):
            for suffix in ("", "en/", "?print=1"):
                page_of(client, f"/o/org-a/statements/{slug}/{suffix}", status=404)
        page_of(client, f"/o/org-a/statements/{shore.slug}/fr/", status=404)
        page_of(client, f"/o/org-a/statements/{shore.slug}/xx/", status=404)
        page_of(client, f"/o/org-b/statements/{shore.slug}/", status=404)
        assert draft.pk and scheduled.pk

    def test_a_withdrawn_statement_stays_and_says_why_above_its_text(
        self, client: Client, shore: Any
    ) -> None:
        services.withdraw(
            actor="test", statement=shore, notes={"ar": "استُبدل ببيان جديد.", "en": "Superseded."}
        )
        page = page_of(client, f"/o/org-a/statements/{shore.slug}/ar/", "en")
        banner = page.index('class="statement-withdrawn"')
        assert banner < page.index('<article class="statement"')
        assert (
            '<div class="statement-withdrawal-note" lang="en" dir="ltr"><p>Superseded.</p>' in page
        )
        arabic = page_of(client, f"/o/org-a/statements/{shore.slug}/", "ar")
        assert 'lang="ar" dir="rtl"><p>استُبدل ببيان جديد.</p>' in arabic

    def test_the_print_page_is_the_text_alone_for_a4(
        self, client: Client, shore: Any, org_b: Any
    ) -> None:
        services.invite_co_signer(actor="test", statement=shore, co_signer=org_b)
        services.accept_co_signing(actor="test", statement=shore, co_signer=org_b)
        normal = page_of(client, f"/o/org-a/statements/{shore.slug}/ar/", "en")
        assert 'href="?print=1"' in normal
        response = client.get(
            f"/o/org-a/statements/{shore.slug}/ar/?print=1", HTTP_ACCEPT_LANGUAGE="en"
        )
        page = response.content.decode()
        assert response.status_code == 200 and response.headers["Content-Language"] == "ar"
        assert '<html lang="ar" dir="rtl">' in page  # all of it in the version's language
        assert 'href="/static/statements/print.css"' in page
        assert 'class="topbar"' not in page and 'class="share' not in page and "<nav" not in page
        assert "اللجنة التنفيذية" in page and "بيروت" in page
        assert "منظمة org-a" in page and "منظمة org-b" in page
        assert '<meta name="robots" content="noindex">' in page
        css = (STATIC / "print.css").read_text()
        assert "@media print" in css and "@page { size: A4;" in css
        assert "@page { size: A4;" in (STATIC / "public.css").read_text()


class TestTheList:
    def test_published_and_withdrawn_newest_first_each_in_its_direction(
        self, client: Client, org_a: Any
    ) -> None:
        make_statement(org_a, slug="draft")
        older = make_statement(org_a, slug="older", publish=True, dated=dt.date(2026, 1, 5))
        services.withdraw(actor="test", statement=older, notes={"en": "Old."})
        make_statement(org_a, slug="newer", publish=True, dated=dt.date(2026, 6, 1))
        make_statement(OrganizationFactory(slug="org-other"), slug="elsewhere", publish=True)
        page = page_of(client, "/o/org-a/statements/", "en")
        links = re.findall(r'<h2><a href="/o/org-a/statements/([a-z-]+)/(\w+)/"', page)
        assert links == [("newer", "en"), ("older", "en")]
        assert page.count("statement-badge-withdrawn") == 1
        arabic = page_of(client, "/o/org-a/statements/", "ar")
        assert arabic.count('<div lang="ar" dir="rtl">') == 2
        assert 'rel="alternate" type="application/atom+xml"' in page
        page_of(client, "/o/nobody/statements/", status=404)

    def test_pages_and_a_constant_number_of_queries(self, client: Client, org_a: Any) -> None:
        make_statement(org_a, slug="s0", publish=True)
        with CaptureQueriesContext(connection) as few:
            page_of(client, "/o/org-a/statements/")
        for n in range(1, 25):
            make_statement(org_a, slug=f"s{n}", publish=True, languages=("ar", "en", "fr"))
        with CaptureQueriesContext(connection) as many:
            first = page_of(client, "/o/org-a/statements/")
        assert len(many) == len(few)
        assert first.count('class="statement-item') == 20 and 'rel="next" href="?page=2"' in first
        second = page_of(client, "/o/org-a/statements/?page=2")
        assert second.count('class="statement-item') == 5
        page_of(client, "/o/org-a/statements/?page=x%00")  # a bad page number is the first


def test_share_links_add_x_and_facebook_only_when_asked() -> None:
    from saha.core.public_pages import share_links

    keys = [link["key"] for link in share_links("T", "https://saha.example/s/")]
    assert keys == ["whatsapp", "telegram", "email", "sms"]  # other pages: as before
    social = share_links("Title & more", "https://saha.example/s/", social=True)
    assert [link["key"] for link in social] == [
        "whatsapp",
        "telegram",
        "x",
        "facebook",
        "email",
        "sms",
    ]
    assert social[2]["href"] == (
        "https://x.com/intent/post?text=Title%20%26%20more&url=https%3A%2F%2Fsaha.example%2Fs%2F"
    )
    assert social[3]["href"] == (
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fsaha.example%2Fs%2F"
    )
