"""The Atom feeds: an organization's and a campaign's, in one language or all, parsed
back with feedparser (well-formed) and with ElementTree (each entry's xml:lang); stable
ids, withdrawn statements kept with their note, and 304s for an unchanged feed."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import feedparser
import pytest
from django.test import Client

from saha.campaigns.models import Campaign, CampaignItem, CampaignStatus
from saha.statements import services
from saha.statements.models import Statement
from saha.statements.tests.helpers import make_statement

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def fetch(client: Client, url: str, **headers: Any) -> Any:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    return response


def parsed(body: bytes) -> tuple[Any, ET.Element]:
    feed = feedparser.parse(body)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed, ET.fromstring(body)  # noqa: S314 - our own output


def entry_languages(root: ET.Element) -> list[str | None]:
    return [entry.get(XML_LANG) for entry in root.findall(f"{ATOM}entry")]


@pytest.fixture
def statements(org_a: Any, org_b: Any) -> list[Statement]:
    shore = make_statement(org_a, slug="shore", languages=("ar", "en", "fr"), publish=True)
    services.invite_co_signer(actor="test", statement=shore, co_signer=org_b)
    services.accept_co_signing(actor="test", statement=shore, co_signer=org_b)
    old = make_statement(org_a, slug="old", languages=("ar", "en"), publish=True)
    services.withdraw(actor="test", statement=old, notes={"en": "Superseded by the new one."})
    make_statement(org_a, slug="draft")  # never in a feed
    return [shore, old]


def test_the_feed_of_every_language_has_each_version_with_its_own_lang(
    client: Client, statements: list[Statement]
) -> None:
    body = fetch(client, "/o/org-a/statements/feed.atom").content
    feed, root = parsed(body)
    assert root.get(XML_LANG) == "en"  # the organization's default; each entry says its own
    assert sorted(entry_languages(root)) == ["ar", "ar", "en", "en", "fr"]
    assert sorted(entry.content[0].language for entry in feed.entries) == [
        "ar",
        "ar",
        "en",
        "en",
        "fr",
    ]
    assert feed.feed.id.startswith("tag:127.0.0.1,")
    ids = [entry.id for entry in feed.entries]
    assert len(set(ids)) == 5 and all(i.startswith("tag:127.0.0.1,") for i in ids)
    shore, _old = statements
    arabic = next(e for e in feed.entries if e.id.endswith(f"statements/{shore.pk}/ar"))
    assert arabic.link == "http://127.0.0.1:8000/o/org-a/statements/shore/ar/"
    assert arabic.links[0].hreflang == "ar" and arabic.links[0].type == "text/html"
    assert len(arabic.links) == 1  # readers open the last alternate: only its own
    assert arabic.author == "منظمة org-a"
    assert arabic.published_parsed and arabic.updated_parsed
    assert arabic.content[0].type == "text/html"
    assert "منظمة org-b" in arabic.content[0].value  # the accepted co-signer
    assert "draft" not in body.decode()


def test_a_feed_in_one_language_and_the_withdrawn_statement_with_its_note(
    client: Client, statements: list[Statement]
) -> None:
    feed, root = parsed(fetch(client, "/o/org-a/statements/feed/en.atom").content)
    assert root.get(XML_LANG) == "en" and feed.feed.language == "en"
    assert entry_languages(root) == ["en", "en"]
    withdrawn = next(e for e in feed.entries if "Withdrawn" in e.title)
    assert withdrawn.link.endswith("/o/org-a/statements/old/en/")
    assert "Superseded by the new one." in withdrawn.content[0].value
    arabic, root = parsed(fetch(client, "/o/org-a/statements/feed/ar.atom").content)
    assert root.get(XML_LANG) == "ar" and entry_languages(root) == ["ar", "ar"]
    # the Arabic entry of the withdrawn statement carries the only note there is
    assert any("Superseded by the new one." in e.content[0].value for e in arabic.entries)


def test_the_html_in_a_feed_is_sanitized(client: Client, org_a: Any) -> None:
    from saha.statements.services import VersionText

    text = VersionText(title="<b>T</b>", body="<script>x()</script> [a](javascript:x) *ok*")
    make_statement(org_a, slug="s", languages=("en",), publish=True, en=text)
    body = fetch(client, "/o/org-a/statements/feed/en.atom").content
    feed, root = parsed(body)
    content = root.find(f"{ATOM}entry/{ATOM}content")
    assert content is not None and content.text is not None
    assert "<script" not in content.text and 'href="javascript' not in content.text
    assert "&lt;script&gt;" in content.text  # shown as text
    assert "<em>ok</em>" in content.text
    assert feed.entries[0].title == "<b>T</b>"  # a title is text, shown as typed


def test_an_unchanged_feed_answers_304_and_a_change_shows(
    client: Client, statements: list[Statement]
) -> None:
    first = fetch(client, "/o/org-a/statements/feed.atom")
    again = fetch(client, "/o/org-a/statements/feed.atom")
    assert first.content == again.content and first["ETag"] == again["ETag"]
    assert first["Last-Modified"] and "max-age" in first["Cache-Control"]
    unchanged = client.get("/o/org-a/statements/feed.atom", HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304 and unchanged.content == b""
    since = client.get(
        "/o/org-a/statements/feed.atom", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
    )
    assert since.status_code == 304
    make_statement(statements[0].organization, slug="newer", languages=("en",), publish=True)
    changed = client.get("/o/org-a/statements/feed.atom", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and b"newer" in changed.content


def test_an_empty_feed_is_well_formed_and_the_same_every_time(client: Client, org_a: Any) -> None:
    first = fetch(client, "/o/org-a/statements/feed/fr.atom")
    feed, root = parsed(first.content)
    assert feed.entries == [] and root.get(XML_LANG) == "fr"
    assert fetch(client, "/o/org-a/statements/feed/fr.atom")["ETag"] == first["ETag"]


def test_unknown_language_or_organization_is_not_found(client: Client, org_a: Any) -> None:
    assert client.get("/o/org-a/statements/feed/xx.atom").status_code == 404
    assert client.get("/o/nobody/statements/feed.atom").status_code == 404


def _campaign(organization: Any, status: str, statements: list[Statement]) -> Campaign:
    campaign = Campaign.objects.create(
        organization=organization, slug="beach", titles={"en": "Open beach"}, status=status
    )
    for position, statement in enumerate(statements):
        CampaignItem.objects.create(
            organization=organization, campaign=campaign, statement=statement, position=position
        )
    return campaign


def test_a_public_campaigns_feed_carries_its_statements_only(
    client: Client, org_a: Any, statements: list[Statement]
) -> None:
    shore, _old = statements
    campaign = _campaign(org_a, CampaignStatus.PUBLISHED, [shore])
    url = f"/o/org-a/campaigns/{campaign.slug}/feed.atom"
    feed, root = parsed(fetch(client, url).content)
    assert sorted(entry_languages(root)) == ["ar", "en", "fr"]
    assert all(
        e.link.startswith("http://127.0.0.1:8000/o/org-a/statements/shore/") for e in feed.entries
    )
    assert "Open beach" in feed.feed.title
    # the same statement keeps the same entry id in every feed
    everything, _root = parsed(fetch(client, "/o/org-a/statements/feed.atom").content)
    assert {e.id for e in feed.entries} <= {e.id for e in everything.entries}
    _french, root = parsed(
        fetch(client, f"/o/org-a/campaigns/{campaign.slug}/feed/fr.atom").content
    )
    assert root.get(XML_LANG) == "fr" and entry_languages(root) == ["fr"]


def test_a_draft_campaign_has_no_feed_and_a_draft_statement_stays_out(
    client: Client, org_a: Any, statements: list[Statement]
) -> None:
    draft_statement = make_statement(org_a, slug="unpublished", languages=("en",))
    campaign = _campaign(org_a, CampaignStatus.DRAFT, [statements[0], draft_statement])
    assert client.get(f"/o/org-a/campaigns/{campaign.slug}/feed.atom").status_code == 404
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ENDED)
    feed, _root = parsed(fetch(client, f"/o/org-a/campaigns/{campaign.slug}/feed/en.atom").content)
    assert [e.link.rsplit("/", 3)[-3] for e in feed.entries] == ["shore"]
    assert client.get("/o/org-b/campaigns/beach/feed.atom").status_code == 404
