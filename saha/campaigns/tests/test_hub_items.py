"""What the hub shows of each item, and what it never shows: an unlisted event stays
reachable by its own link only (the organizer is told), an event's card says no more
than its own page, a withdrawn statement stays marked withdrawn, the partner's box
keeps exactly the words it shows, and what an organizer types in a description is
Markdown made safe."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from saha.campaigns import services
from saha.campaigns.models import Campaign
from saha.campaigns.tests.helpers import (
    accepted_partner,
    hub_url,
    manage_url,
    new_campaign,
    new_event,
    new_statement,
    post_join,
)
from saha.campaigns.tests.test_public_views import cards, needs_statements
from saha.events.models import Event, Visibility
from saha.events.tests.test_rsvp import answer
from saha.statements.models import Statement, StatementStatus
from saha.supporters.models import ConsentRecord

pytestmark = pytest.mark.django_db


def hub_page(client: Client, campaign: Campaign, language: str = "en") -> str:
    response = client.get(hub_url(campaign), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def card_of(page: str, kind: str) -> str:
    found = re.search(rf'<li class="campaign-card card" data-kind="{kind}">(.*?)</li>', page, re.S)
    assert found is not None
    return found.group(1)


class TestUnlistedEvents:
    @pytest.fixture
    def campaign(self, org_a: Any) -> Campaign:
        campaign = new_campaign(org_a, goal_rsvps=10)
        listed = new_event(org_a, slug="listed")
        unlisted = new_event(org_a, slug="by-link", visibility=Visibility.UNLISTED)
        for target in (listed, unlisted):
            services.add_item(actor="t", campaign=campaign, target=target)
        answer(listed, 1)
        answer(unlisted, 2)
        answer(unlisted, 3)
        return campaign

    def test_an_unlisted_event_gets_no_card_but_counts_towards_the_goal(
        self, client: Client, campaign: Campaign
    ) -> None:
        page = hub_page(client, campaign)
        assert cards(page) == ["event"]
        assert "/events/listed/" in page and "/events/by-link/" not in page
        assert '<progress max="10" value="3" aria-labelledby="bar-rsvps">' in page
        # Its own link still opens it, kept out of search engines as before.
        own = client.get("/o/org-a/events/by-link/")
        assert own.status_code == 200

    def test_made_public_it_gets_its_card(self, client: Client, campaign: Campaign) -> None:
        Event.objects.filter(slug="by-link").update(visibility=Visibility.PUBLIC)
        assert cards(hub_page(client, campaign)) == ["event", "event"]

    def test_the_organizer_is_told_it_is_not_shown(
        self, campaign: Campaign, organizer: Any
    ) -> None:
        client = organizer.client()
        page = client.get(manage_url(campaign), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        rows = re.findall(r'<li data-item="\d+" data-kind="event">(.*?)</li>', page, re.S)
        assert len(rows) == 2
        assert "data-unlisted" not in rows[0] and "data-hidden" not in rows[0]
        assert "data-unlisted" in rows[1]
        assert "Unlisted event: not shown on the campaign's page" in rows[1]

    def test_adding_one_warns_and_the_choice_says_so_first(
        self, org_a: Any, organizer: Any
    ) -> None:
        campaign = new_campaign(org_a)
        secret = new_event(org_a, slug="quiet", visibility=Visibility.UNLISTED)
        client = organizer.client()
        form = client.get(manage_url(campaign), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        option = re.search(rf'<option value="event:{secret.pk}">(.*?)</option>', form)
        assert option is not None
        assert "unlisted: not shown on the campaign&#x27;s page" in option.group(1)
        response = client.post(
            manage_url(campaign, "items/"),
            {"target": f"event:{secret.pk}"},
            follow=True,
            HTTP_ACCEPT_LANGUAGE="en",
        )
        page = response.content.decode()
        assert response.status_code == 200 and "Added to the campaign." in page
        assert "This event is unlisted: the campaign&#x27;s page does not show it." in page

    def test_a_partner_does_not_see_it_either(
        self, campaign: Campaign, org_b: Any, outsider: Any
    ) -> None:
        accepted_partner(campaign, org_b)
        page = outsider.client().get(manage_url(campaign, "", org_b)).content.decode()
        assert len(re.findall(r'<li data-item="\d+" data-kind="event">', page)) == 1


class TestEventCards:
    def test_without_capacity_the_card_shows_no_count_like_the_event_page(
        self, client: Client, org_a: Any
    ) -> None:
        campaign = new_campaign(org_a)
        event = new_event(org_a)
        services.add_item(actor="t", campaign=campaign, target=event)
        for n in range(3):
            answer(event, n)
        card = card_of(hub_page(client, campaign), "event")
        own = client.get("/o/org-a/events/clean-up/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        for words in ("people coming", "3 people", "places left", "place left"):
            assert words not in card and words not in own
        assert "data-places" not in card

    def test_with_capacity_the_card_shows_the_places_left_as_the_event_page(
        self, client: Client, org_a: Any
    ) -> None:
        campaign = new_campaign(org_a)
        event = new_event(org_a, capacity=5)
        full = new_event(org_a, slug="full", capacity=1, waiting_list=False)
        for target in (event, full):
            services.add_item(actor="t", campaign=campaign, target=target)
        answer(event, 1)
        answer(event, 2)
        answer(full, 3)
        page = hub_page(client, campaign)
        own = client.get("/o/org-a/events/clean-up/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "3 places left" in own
        first, second = re.findall(r'data-kind="event">(.*?)</li>', page, re.S)
        assert "3 places left" in first and "coming" not in first
        assert "Full" in second and "places left" not in second


@needs_statements
class TestWithdrawnStatements:
    def test_a_withdrawn_statement_stays_in_its_place_marked_and_without_a_call(
        self, client: Client, org_a: Any
    ) -> None:
        campaign = new_campaign(org_a)
        first = new_event(org_a)
        statement = new_statement(org_a, "our-word")
        last = new_event(org_a, slug="later")
        for target in (first, statement, last):
            services.add_item(actor="t", campaign=campaign, target=target)
        Statement.objects.filter(pk=statement.pk).update(
            status=StatementStatus.WITHDRAWN,
            withdrawn_at=timezone.now(),
            withdrawal_notes={"en": "We got the facts wrong.", "ar": "أخطأنا في الوقائع."},
        )
        page = hub_page(client, campaign)
        assert cards(page) == ["event", "statement", "event"]
        card = card_of(page, "statement")
        assert "data-withdrawn" in card and ">Withdrawn<" in card
        assert "We got the facts wrong." in card
        assert 'data-cta="statement"' not in card and 'class="button"' not in card
        assert 'href="/o/org-a/statements/our-word/" data-read>Read</a>' in card
        arabic = card_of(hub_page(client, campaign, "ar"), "statement")
        assert "أخطأنا في الوقائع." in arabic and "We got the facts" not in arabic
        assert client.get("/o/org-a/statements/our-word/").status_code == 200


@needs_statements
class TestPartnerBoxWords:
    @pytest.mark.parametrize("language", ["en", "ar", "fr"])
    def test_the_words_kept_are_the_words_shown(
        self, client: Client, org_a: Any, org_b: Any, language: str
    ) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        page = hub_page(client, campaign, language)
        field = f"partner_{org_b.pk}"
        shown = re.search(rf'<label for="id_{field}">(.*?)</label>', page, re.S)
        host_box = re.search(r'<label for="id_consent_email">(.*?)</label>', page, re.S)
        assert shown is not None and host_box is not None
        assert not html.unescape(shown.group(1)).endswith(":")
        response = post_join(client, campaign, language, consent_email="on", **{field: "on"})
        assert response.status_code == 303
        partner_record = ConsentRecord.objects.get(person__organization=org_b)
        host_record = ConsentRecord.objects.get(person__organization=org_a)
        assert partner_record.wording == html.unescape(shown.group(1))
        assert host_record.wording == html.unescape(host_box.group(1))


@needs_statements
class TestDescriptionMarkdown:
    def test_images_raw_html_and_script_links_are_not_rendered(
        self, client: Client, org_a: Any
    ) -> None:
        description = (
            "**Come** and see.\n\n"
            "![the beach](https://tracker.example/pixel.png)\n\n"
            '<img src="https://tracker.example/raw.png" onerror="alert(1)">\n\n'
            "<script>alert(2)</script>\n\n"
            "[click me](javascript:alert(3)) and [the map](https://maps.example/beach)"
        )
        campaign = new_campaign(org_a, descriptions={"en": description})
        page = hub_page(client, campaign)
        body = page.split('<div class="campaign-description">')[1].split("</div>")[0]
        assert "<strong>Come</strong>" in body
        assert "<img" not in body and "<script" not in body
        assert re.search(r"<[^>]*onerror", body) is None  # typed HTML stays text
        assert "&lt;img" in body and "&lt;script&gt;" in body
        assert re.search(r"<[^>]*src=", body) is None and 'href="javascript:' not in page
        # Raw HTML stays words, escaped once, in the link preview too.
        assert 'content="Come and see. the beach &lt;img src=&quot;https://tracker' in page
        # The image is a plain link to it, named by its text: no reader's browser fetches it.
        assert 'href="https://tracker.example/pixel.png"' in body and ">the beach</a>" in body
        assert 'href="https://maps.example/beach"' in body

    def test_text_that_looks_like_a_merge_field_token_is_just_text(
        self, client: Client, org_a: Any
    ) -> None:
        campaign = new_campaign(
            org_a,
            descriptions={"en": "Code SAHAMERGE7Z and SAHA0123456789abcdefM0Z {{ first_name }}"},
        )
        page = hub_page(client, campaign)
        assert "SAHAMERGE7Z" in page and "SAHA0123456789abcdefM0Z" in page
        assert "{{ first_name }}" in page

    def test_a_statement_excerpt_on_its_card_has_no_markup(
        self, client: Client, org_a: Any
    ) -> None:
        campaign = new_campaign(org_a)
        statement = new_statement(org_a)
        statement.versions.update(summary="", body="![x](https://t.example/a.png) <b>Bold</b> end")
        services.add_item(actor="t", campaign=campaign, target=statement)
        card = card_of(hub_page(client, campaign), "statement")
        assert "<img" not in card and "<b>" not in card
        assert "x &lt;b&gt;Bold&lt;/b&gt; end" in card
