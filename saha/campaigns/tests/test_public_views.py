"""The public campaign pages: the list, the hub (in English and Arabic, with its progress,
its calls to action in the host's order, never a draft) and its join form: the same
thank-you page whatever is typed, a partner's box unticked by default and shared only
when ticked, a honeypot and a limit per client address."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from saha.campaigns import services
from saha.campaigns.models import CampaignSignup
from saha.campaigns.tests.helpers import (
    accepted_partner,
    hub_url,
    new_campaign,
    new_event,
    new_petition,
    new_statement,
    post_join,
)
from saha.events.models import EventStatus
from saha.events.tests.test_rsvp import answer
from saha.petitions.models import PetitionStatus
from saha.petitions.tests.test_sign import sign
from saha.statements.models import StatementStatus
from saha.supporters.models import ConsentRecord, Person
from saha.supporters.tests.people_factories import make_person

pytestmark = pytest.mark.django_db


def _statements_routed() -> bool:
    try:
        reverse("statements:statement", args=["o", "s"])
    except NoReverseMatch:
        return False
    return True


# The hub links to statements and to the campaign's feed, which the statements app serves.
needs_statements = pytest.mark.skipif(
    not _statements_routed(), reason="statements:statement is not routed yet"
)


def cards(page: str) -> list[str]:
    return re.findall(r'<li class="campaign-card card" data-kind="(\w+)"', page)


@pytest.fixture
def hub(org_a: Any) -> Any:
    """A published campaign: a petition, a statement, an event, in that order, and goals."""
    campaign = new_campaign(
        org_a,
        summaries={"en": "Keep it open.", "ar": "لنبقه مفتوحًا."},
        descriptions={"en": "Three **steps** <script>alert(1)</script>"},
        goal_signatures=10,
        goal_rsvps=4,
    )
    petition = new_petition(org_a, count_unverified=True)
    statement = new_statement(org_a)
    event = new_event(org_a)
    for target in (petition, statement, event):
        services.add_item(actor="t", campaign=campaign, target=target)
    for n in range(3):
        sign(petition, n)
    answer(event, 1)
    return campaign


@needs_statements
class TestHub:
    def test_in_english_with_progress_calls_to_action_in_order_and_sharing(
        self, client: Client, hub: Any
    ) -> None:
        response = client.get(hub_url(hub), HTTP_ACCEPT_LANGUAGE="en")
        page = response.content.decode()
        assert response.status_code == 200
        assert "<h1>Save the shore</h1>" in page and "Keep it open." in page
        assert cards(page) == ["petition", "statement", "event"]
        assert '<progress max="10" value="3" aria-labelledby="bar-signatures">' in page
        assert "3 of 10 signatures (30%)" in page
        assert '<progress max="4" value="1" aria-labelledby="bar-rsvps">' in page
        assert 'data-goal="check_ins"' not in page  # no goal, no bar
        assert "<strong>steps</strong>" in page and "<script>alert" not in page
        assert ">Sign the petition</a>" in page and ">RSVP</a>" in page
        assert ">Read the statement</a>" in page
        assert 'href="/o/org-a/events/clean-up/"' in page
        assert 'href="/o/org-a/petitions/beach/"' in page
        assert 'href="/o/org-a/statements/statement/"' in page
        assert 'property="og:title" content="Save the shore"' in page
        assert "https://wa.me/?text=" in page
        feed = reverse("statements:campaign_feed", args=["org-a", hub.slug, "en"])
        assert 'type="application/atom+xml" href="http://' in page and feed in page
        assert 'name="csrfmiddlewaretoken"' in page and "<script" not in page.split("</head>")[1]

    def test_in_arabic_right_to_left_and_a_text_missing_in_arabic_keeps_its_language(
        self, client: Client, hub: Any
    ) -> None:
        page = client.get(hub_url(hub), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
        assert 'lang="ar" dir="rtl"' in page
        assert "<h1>أنقذوا الشاطئ</h1>" in page and "لنبقه مفتوحًا." in page
        # The description exists in English only: marked as such inside the Arabic page.
        assert '<div class="campaign-description" lang="en" dir="ltr">' in page
        assert cards(page) == ["petition", "statement", "event"]

    def test_the_order_follows_the_host_and_custom_buttons(self, client: Client, hub: Any) -> None:
        event_item = hub.items.get(event__isnull=False)
        services.move_item(actor="t", item=event_item, direction="up")
        services.move_item(actor="t", item=event_item, direction="up")
        services.set_labels(actor="t", item=event_item, labels={"en": "Come on Sunday"})
        page = client.get(hub_url(hub), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert cards(page) == ["event", "petition", "statement"]
        assert ">Come on Sunday</a>" in page
        arabic = client.get(hub_url(hub), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
        assert "Come on Sunday" not in arabic  # no English words on an Arabic button

    def test_drafts_never_appear_and_count_for_nothing(
        self, client: Client, hub: Any, org_a: Any
    ) -> None:
        draft_event = new_event(org_a, slug="secret", status=EventStatus.DRAFT)
        draft_petition = new_petition(org_a, slug="hidden", count_unverified=True)
        sign(draft_petition, 9)  # signed while open, then back to a draft, as if never open
        draft_petition.status = PetitionStatus.DRAFT
        draft_petition.save(update_fields=["status"])
        draft_statement = new_statement(org_a, "draft", status=StatementStatus.DRAFT)
        for target in (draft_event, draft_petition, draft_statement):
            services.add_item(actor="t", campaign=hub, target=target)
        page = client.get(hub_url(hub), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert cards(page) == ["petition", "statement", "event"]
        for address in ("/events/secret/", "/petitions/hidden/", "/statements/draft/"):
            assert address not in page
        assert "3 of 10 signatures" in page

    def test_a_draft_campaign_is_not_found_and_an_ended_one_says_so(
        self, client: Client, org_a: Any, hub: Any
    ) -> None:
        draft = new_campaign(org_a, slug="draft", publish=False)
        assert client.get(hub_url(draft)).status_code == 404
        assert client.get(hub_url(draft, "joined/")).status_code == 404
        services.end(actor="t", campaign=hub)
        page = client.get(hub_url(hub), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "data-ended" in page and 'class="join-form"' not in page
        assert post_join(client, hub).status_code == 409
        assert not CampaignSignup.objects.exists()

    def test_partners_are_named_once_accepted(self, client: Client, hub: Any, org_b: Any) -> None:
        services.invite_partner(actor="t", campaign=hub, partner=org_b)
        page = client.get(hub_url(hub), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert org_b.name not in page
        accepted_partner(hub, org_b)
        page = client.get(hub_url(hub), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert f'with <bdi class="campaign-partners">{org_b.name}</bdi>' in page
        assert f'name="partner_{org_b.pk}"' in page
        box = re.search(rf'<input type="checkbox" name="partner_{org_b.pk}"[^>]*>', page)
        assert box is not None and "checked" not in box.group()

    def test_the_list_shows_published_and_ended_campaigns(
        self, client: Client, org_a: Any, hub: Any
    ) -> None:
        new_campaign(org_a, slug="draft", publish=False, titles={"en": "Not yet"})
        ended = new_campaign(org_a, slug="over", titles={"en": "Done"})
        services.end(actor="t", campaign=ended)
        page = client.get("/o/org-a/campaigns/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "Save the shore" in page and "Done" in page and "Not yet" not in page
        assert 'data-status="ended"' in page


@needs_statements
class TestJoin:
    def test_joining_gives_the_host_a_person_a_sign_up_and_consent_with_its_words(
        self, client: Client, hub: Any, org_a: Any
    ) -> None:
        response = post_join(client, hub, consent_email="on")
        assert response.status_code == 303
        assert response["Location"] == hub_url(hub, "joined/")
        signup = CampaignSignup.objects.get()
        assert (signup.organization, signup.source) == (org_a, "join")
        assert signup.person.given_name == "Rima"
        [record] = ConsentRecord.objects.filter(person=signup.person)
        assert record.wording == f"Send me news from {org_a.name} by email."
        thanks = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
        assert thanks.status_code == 200 and "data-joined" in thanks.content.decode()

    def test_joining_by_phone_in_arabic_records_the_sms_consent_in_arabic(
        self, client: Client, hub: Any, org_a: Any
    ) -> None:
        page = client.get(hub_url(hub), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
        shown = re.search(r'<label for="id_consent_sms">(.*?)</label>', page)
        assert shown is not None
        response = post_join(client, hub, "ar", email="", phone="+961 71 222 333", consent_sms="on")
        assert response.status_code == 303
        [record] = ConsentRecord.objects.filter(person__organization=org_a, channel="sms")
        assert html.escape(record.wording) == shown.group(1)  # the words on the page
        assert org_a.name in record.wording and record.language == "ar"

    def test_the_same_thanks_whatever_is_typed_and_nothing_attached_to_a_supporter(
        self, client: Client, hub: Any, org_a: Any
    ) -> None:
        known = make_person(org_a, email="rima@example.org", given_name="Rima")
        first = post_join(client, hub, phone="+96171000111", given_name="Someone")
        new = post_join(client, hub, email="new@example.org")
        assert first.status_code == new.status_code == 303
        assert first["Location"] == new["Location"]
        assert not known.phones.exists()  # the typed phone is not attached to them
        known.refresh_from_db()
        assert known.given_name == "Rima"
        assert not ConsentRecord.objects.filter(person=known).exists()

    def test_a_partner_gets_the_person_only_when_its_box_is_ticked(
        self, client: Client, hub: Any, org_b: Any
    ) -> None:
        accepted_partner(hub, org_b)
        post_join(client, hub, email="unticked@example.org")
        assert not Person.objects.filter(organization=org_b).exists()
        post_join(client, hub, email="ticked@example.org", **{f"partner_{org_b.pk}": "on"})
        [person] = Person.objects.filter(organization=org_b)
        assert person.emails.get().address == "ticked@example.org"
        assert CampaignSignup.objects.filter(organization=org_b).count() == 1
        assert CampaignSignup.objects.filter(organization=hub.organization).count() == 2

    def test_a_box_for_an_organization_that_is_not_a_partner_is_ignored(
        self, client: Client, hub: Any, org_b: Any
    ) -> None:
        post_join(client, hub, **{f"partner_{org_b.pk}": "on"})
        assert not Person.objects.filter(organization=org_b).exists()

    def test_errors_are_clear_and_keep_what_was_typed(self, client: Client, hub: Any) -> None:
        response = post_join(client, hub, email="", phone="")
        assert response.status_code == 400
        assert "Give an email address or a phone number." in response.content.decode()
        response = post_join(client, hub, email="", phone="not a number", given_name="Kept")
        assert response.status_code == 400
        page = response.content.decode()
        assert 'value="Kept"' in page and "This phone number is not valid." in page
        assert not CampaignSignup.objects.exists()

    def test_the_honeypot_answers_the_same_and_saves_nothing(
        self, client: Client, hub: Any
    ) -> None:
        people = Person.objects.count()
        response = post_join(client, hub, website="http://spam.example")
        assert response.status_code == 303 and response["Location"] == hub_url(hub, "joined/")
        assert Person.objects.count() == people and not CampaignSignup.objects.exists()

    def test_too_many_from_one_address_is_a_429(
        self, client: Client, hub: Any, settings: Any
    ) -> None:
        settings.SAHA_CAMPAIGN_JOIN_IP_LIMIT = 2
        for n in range(2):
            assert post_join(client, hub, email=f"p{n}@example.org").status_code == 303
        response = post_join(client, hub, email="p3@example.org")
        assert response.status_code == 429 and int(response["Retry-After"]) >= 1
        assert CampaignSignup.objects.count() == 2

    def test_too_many_for_one_mailbox_is_a_429(
        self, client: Client, hub: Any, settings: Any
    ) -> None:
        settings.SAHA_CAMPAIGN_JOIN_EMAIL_LIMIT = 1
        assert post_join(client, hub, email="a+1@example.org").status_code == 303
        assert post_join(client, hub, email="A+2@example.org").status_code == 429


def test_an_unknown_organization_or_campaign_is_not_found(client: Client, org_a: Any) -> None:
    assert client.get("/o/nobody/campaigns/").status_code == 404
    assert client.get("/o/org-a/campaigns/nothing/").status_code == 404
