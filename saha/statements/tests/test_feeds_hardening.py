"""The feeds under strain: characters XML cannot hold wherever a feed takes text from,
a 304 that builds nothing, a cache, and bounds on how many entries and how much text."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any

import feedparser
import pytest
from django.core.cache import cache
from django.test import Client

from saha.campaigns.models import Campaign, CampaignItem, CampaignStatus
from saha.organizations.models import Organization
from saha.statements import feeds, services
from saha.statements.models import Statement, StatementVersion
from saha.statements.services import VersionText
from saha.statements.tests.helpers import TEXTS, make_statement
from saha.statements.views import feeds as feed_views

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
ALL = "/o/org-a/statements/feed.atom"
BAD = ["\x0b", "\x01", "\ufffe"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def well_formed(client: Client, url: str) -> tuple[Any, ET.Element]:
    response = client.get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    return feed, ET.fromstring(response.content)  # noqa: S314 - our own output


def contents(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{ATOM}content")]


def campaign_of(organization: Organization, *statements: Statement) -> Campaign:
    campaign = Campaign.objects.create(
        organization=organization,
        slug="beach",
        titles={"en": "Open beach"},
        status=CampaignStatus.PUBLISHED,
    )
    for position, statement in enumerate(statements):
        CampaignItem.objects.create(
            organization=organization, campaign=campaign, statement=statement, position=position
        )
    return campaign


class TestCharactersXmlCannotHold:
    def test_typed_into_a_statement_they_are_dropped(self, org_a: Any) -> None:
        dirty = VersionText(
            title="T\x0bitle\ufffe",
            body="Bo\x01dy\x0c",
            summary="Su\x1fmmary",
            issuing_body="Commi\x0bttee",
            place="Bei\uffffrut",
        )
        statement = make_statement(org_a, languages=("en",), en=dirty)
        version = statement.versions.get()
        assert (version.title, version.body, version.summary) == ("Title", "Body", "Summary")
        assert (version.issuing_body, version.place) == ("Committee", "Beirut")
        services.set_date_line(
            actor="test",
            statement=statement,
            dated=statement.dated,
            original_language="en",
            issuing_bodies={"en": "Bo\x0bard"},
            places={"en": "Sa\x01ida"},
        )
        version.refresh_from_db()
        assert (version.issuing_body, version.place) == ("Board", "Saida")

    @pytest.mark.parametrize("bad", BAD)
    def test_already_stored_anywhere_the_feeds_stay_xml(
        self, client: Client, org_a: Any, org_b: Any, bad: str
    ) -> None:
        """Rows written before the cleaning, or by other apps: each text a feed shows."""
        statement = make_statement(org_a, languages=("ar", "en"), publish=True)
        services.invite_co_signer(actor="test", statement=statement, co_signer=org_b)
        services.accept_co_signing(actor="test", statement=statement, co_signer=org_b)
        StatementVersion.objects.filter(statement=statement).update(
            title=f"Ti{bad}tle",
            body=f"Bo{bad}dy [li{bad}nk](https://x.example/{bad}) ![a{bad}lt](https://x.example/p.png)",
            summary=f"Sum{bad}mary",
            issuing_body=f"Commit{bad}tee",
            place=f"Bei{bad}rut",
        )
        withdrawn = make_statement(org_a, slug="old", languages=("en",), publish=True)
        services.withdraw(actor="test", statement=withdrawn, notes={"en": "Old."})
        Statement.objects.filter(pk=withdrawn.pk).update(withdrawal_notes={"en": f"No{bad}te"})
        for organization in (org_a, org_b):
            Organization.objects.filter(pk=organization.pk).update(
                names={"en": f"Org{bad} {organization.slug}", "ar": f"منظ{bad}مة"}
            )
        campaign = campaign_of(org_a, statement, withdrawn)
        Campaign.objects.filter(pk=campaign.pk).update(titles={"en": f"Open{bad} beach"})
        for url in (
            ALL,
            "/o/org-a/statements/feed/en.atom",
            "/o/org-a/statements/feed/ar.atom",
            f"/o/org-a/campaigns/{campaign.slug}/feed.atom",
            f"/o/org-a/campaigns/{campaign.slug}/feed/en.atom",
        ):
            feed, root = well_formed(client, url)
            assert feed.entries, url
            everything = ET.tostring(root, encoding="unicode")
            assert bad not in everything
        feed, _root = well_formed(client, "/o/org-a/statements/feed/en.atom")
        titles = {entry.title for entry in feed.entries}
        assert titles == {"Title", "Withdrawn: The shore belongs to everyone"}
        signed = next(entry for entry in feed.entries if entry.title == "Title")
        assert "Org org-b" in signed.content[0].value
        campaign_feed, _root = well_formed(client, f"/o/org-a/campaigns/{campaign.slug}/feed.atom")
        assert "Open beach" in campaign_feed.feed.title

    def test_the_writer_drops_lone_surrogates_too(self) -> None:
        out = io.StringIO()
        handler = feeds.SafeXMLGenerator(out, "utf-8")
        handler.startElement("t", {"a": "x\ud800y"})
        handler.characters("a\udfffb\x0bc\ufffed")
        handler.endElement("t")
        assert out.getvalue().encode("utf-8") == b'<t a="xy">abcd</t>'


class TestConditionalAndCached:
    @pytest.fixture
    def published(self, org_a: Any) -> Statement:
        return make_statement(org_a, languages=("ar", "en"), publish=True)

    @staticmethod
    def refuse_to_build(monkeypatch: pytest.MonkeyPatch) -> None:
        def build(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("the feed was built")

        monkeypatch.setattr(feed_views, "build", build)

    def test_a_304_builds_nothing_and_costs_two_queries(
        self,
        client: Client,
        published: Statement,
        monkeypatch: pytest.MonkeyPatch,
        django_assert_num_queries: Any,
    ) -> None:
        first = client.get(ALL)
        assert first.status_code == 200
        self.refuse_to_build(monkeypatch)
        with django_assert_num_queries(2):  # the organization; one aggregate
            unchanged = client.get(ALL, HTTP_IF_NONE_MATCH=first["ETag"])
        assert unchanged.status_code == 304 and unchanged.content == b""
        assert unchanged["ETag"] == first["ETag"]
        assert unchanged["Last-Modified"] == first["Last-Modified"]
        since = client.get(ALL, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
        assert since.status_code == 304
        # Without a condition: the cached bytes, still no build.
        with django_assert_num_queries(2):
            again = client.get(ALL)
        assert again.status_code == 200 and again.content == first.content

    def test_a_campaigns_304_builds_nothing(
        self,
        client: Client,
        published: Statement,
        monkeypatch: pytest.MonkeyPatch,
        django_assert_num_queries: Any,
    ) -> None:
        campaign = campaign_of(published.organization, published)
        url = f"/o/org-a/campaigns/{campaign.slug}/feed.atom"
        first = client.get(url)
        self.refuse_to_build(monkeypatch)
        with django_assert_num_queries(2):  # the campaign and its organization; one aggregate
            assert client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304

    def test_every_change_a_reader_would_see_changes_the_etag(
        self, client: Client, published: Statement, org_b: Any
    ) -> None:
        campaign = campaign_of(published.organization, published)
        urls = [ALL, f"/o/org-a/campaigns/{campaign.slug}/feed.atom"]
        etags = {url: client.get(url)["ETag"] for url in urls}

        def changed(url: str) -> bool:
            response = client.get(url, HTTP_IF_NONE_MATCH=etags[url])
            if response.status_code == 304:
                return False
            assert response.status_code == 200
            etags[url] = response["ETag"]
            return True

        text = VersionText(**{**vars(TEXTS["en"]), "body": "A new text."})
        services.save_version(actor="test", statement=published, language="en", text=text)
        assert changed(ALL) and changed(urls[1])
        assert b"A new text." in client.get(ALL).content
        services.invite_co_signer(actor="test", statement=published, co_signer=org_b)
        assert not changed(ALL)  # asked, not yet named
        services.accept_co_signing(actor="test", statement=published, co_signer=org_b)
        assert changed(ALL)
        Organization.objects.filter(slug="org-a").update(names={"en": "Renamed"})
        assert changed(ALL) and changed(urls[1])
        Campaign.objects.filter(pk=campaign.pk).update(titles={"en": "Renamed campaign"})
        assert not changed(ALL) and changed(urls[1])
        second = make_statement(published.organization, slug="second", languages=("en",))
        assert not changed(ALL)  # a draft
        services.publish(actor="test", statement=second)
        assert changed(ALL) and not changed(urls[1])  # not in the campaign
        CampaignItem.objects.create(
            organization=published.organization, campaign=campaign, statement=second, position=1
        )
        assert changed(urls[1])


class TestBounds:
    def test_the_newest_entries_only(self, client: Client, org_a: Any) -> None:
        for number in range(20):
            make_statement(org_a, slug=f"s{number}", languages=("ar", "en"), publish=True)
        feed, _root = well_formed(client, ALL)
        assert len(feed.entries) == feeds.MAX_ENTRIES == 30
        slugs = [entry.link.rsplit("/", 3)[-3] for entry in feed.entries]
        assert slugs[0] == "s19" and slugs[-1] == "s5"  # the 15 newest, both languages
        english, _root = well_formed(client, "/o/org-a/statements/feed/en.atom")
        assert len(english.entries) == 20

    def test_a_long_text_is_cut_and_links_to_its_page(self, client: Client, org_a: Any) -> None:
        paragraph = "word " * 199 + "end.\n\n"  # 1,001 characters
        long = VersionText(title="Long", body=paragraph * 30 + "THE LAST WORDS")
        make_statement(org_a, slug="long", languages=("en",), publish=True, en=long)
        _feed, root = well_formed(client, "/o/org-a/statements/feed/en.atom")
        (content,) = contents(root)
        assert "THE LAST WORDS" not in content
        # 19 paragraphs of 1,001 characters fit in 20,000: cut after the 19th, ellipsis.
        assert content.count("end.") == 19
        assert content.count("…") == 1 and "end. …</p>" in content
        assert '<a href="http://127.0.0.1:8000/o/org-a/statements/long/en/">' in content

    def test_a_short_text_is_whole(self, client: Client, org_a: Any) -> None:
        make_statement(org_a, slug="short", languages=("en",), publish=True)
        _feed, root = well_formed(client, "/o/org-a/statements/feed/en.atom")
        (content,) = contents(root)
        assert "We invite everyone to clean it." in content and "…" not in content
        assert "/o/org-a/statements/short/en/" not in content


def test_each_entry_says_its_language_and_direction(client: Client, org_a: Any) -> None:
    make_statement(org_a, languages=("ar", "en", "fr"), publish=True)
    _feed, root = well_formed(client, ALL)
    starts = sorted(text.split(">", 1)[0] + ">" for text in contents(root))
    assert starts == [
        '<div dir="ltr" lang="en">',
        '<div dir="ltr" lang="fr">',
        '<div dir="rtl" lang="ar">',
    ]
    assert all(text.rstrip().endswith("</div>") for text in contents(root))
