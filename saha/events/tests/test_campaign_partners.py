"""An event held by a campaign: one unticked box per accepted partner of its published
campaigns, merged with the co-hosts' boxes (one box per organization), and a sign-up
that reaches a partner's own supporters only when its box was ticked."""

from __future__ import annotations

import html
import re
import threading
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from saha.campaigns.models import Campaign, CampaignItem, CampaignSignup, CampaignStatus, Partner
from saha.core.models import AuditEntry
from saha.events import services
from saha.events.models import CoHost, Event, Rsvp, RsvpShare
from saha.events.tests.test_public_views import event_url
from saha.events.tests.test_rsvp import make_event
from saha.organizations.models import Organization
from saha.supporters.models import ConsentRecord, Person, PersonEmail
from saha.supporters.services import PersonData, upsert_person
from saha.supporters.tests.people_factories import postgres_only
from saha.testing.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

PARTNER_WORDS = (
    "Add me to the supporters of {name}, a partner in this campaign, so they can keep me informed"
)
MERGED_WORDS = (
    "Share my name and contact details with {name}, co-host of this event and a partner "
    "in this campaign, and add me to its supporters so they can keep me informed"
)
CO_HOST_WORDS = "Share my name and contact details with {name}"


def make_campaign(
    host: Organization,
    *,
    event: Event | None = None,
    petition: Any = None,
    partners: tuple[Organization, ...] = (),
    status: str = CampaignStatus.PUBLISHED,
    accepted: bool = True,
    slug: str = "coast",
) -> Campaign:
    """A campaign of `host` holding the event or petition, with these partners."""
    campaign = Campaign.objects.create(
        organization=host, slug=slug, titles={"en": "Save the coast"}, status=status
    )
    CampaignItem.objects.create(
        organization=host, campaign=campaign, event=event, petition=petition
    )
    for partner in partners:
        Partner.objects.create(
            organization=host,
            campaign=campaign,
            partner=partner,
            accepted_at=timezone.now() if accepted else None,
        )
    return campaign


def co_host(event: Event, organization: Organization) -> None:
    CoHost.objects.create(
        event=event,
        organization=event.organization,
        co_host=organization,
        accepted_at=timezone.now(),
    )


def boxes(page: str) -> list[str]:
    """The names of the RSVP form's sharing boxes, in their order (the offer form the
    page also carries has its own, with `offer_` ids)."""
    return re.findall(r'<input type="checkbox" name="(share_\d+|partner_\d+)" id="id_', page)


def label(page: str, name: str) -> str:
    """The words shown next to a box, as the browser shows them."""
    found = re.search(rf'<label for="id_{name}">(.*?)</label>', page, re.S)
    assert found is not None, name
    return html.unescape(found.group(1))


def rsvp_form(client: Client, event: Event, language: str = "en", **fields: str) -> Any:
    data = {"given_name": "Rima", "family_name": "Haddad", "language": language, **fields}
    return client.post(event_url(event), data, HTTP_ACCEPT_LANGUAGE=language)


def people_of(organization: Organization, email: str) -> list[Person]:
    return list(Person.objects.filter(organization=organization, emails__address=email))


def nothing_reached(organization: Organization, email: str = "rima@example.org") -> bool:
    return (
        not PersonEmail.objects.filter(organization=organization, address=email).exists()
        and not Person.objects.filter(organization=organization).exists()
        and not CampaignSignup.objects.filter(organization=organization).exists()
    )


@pytest.fixture
def partner(db: Any) -> Organization:
    return OrganizationFactory(slug="org-d")


@pytest.fixture
def event(org_a: Any, partner: Organization) -> Event:
    found = make_event(org_a)
    make_campaign(org_a, event=found, partners=(partner,))
    return found


class TestTheForm:
    def test_one_box_per_partner_and_co_host_merged_when_the_same_organization(
        self, client: Client, org_a: Any, org_b: Any
    ) -> None:
        # given: B co-hosts the event and is a partner; C only co-hosts; D is only a
        # partner; E was asked to be a partner but has not accepted
        event = make_event(org_a)
        org_c, org_d, org_e = (OrganizationFactory(slug=f"org-{x}") for x in "cde")
        co_host(event, org_b)
        co_host(event, org_c)
        make_campaign(org_a, event=event, partners=(org_b, org_d))
        make_campaign(org_a, event=event, partners=(org_e,), accepted=False, slug="other")
        # when
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        # then: one box each, in name order, none ticked
        assert boxes(page) == [f"share_{org.pk}" for org in (org_b, org_c, org_d)]
        assert not re.search(r'<input type="checkbox" name="share_\d+"[^>]*checked', page)
        assert label(page, f"share_{org_b.pk}") == MERGED_WORDS.format(name=org_b.name)
        assert label(page, f"share_{org_c.pk}") == CO_HOST_WORDS.format(name=org_c.name)
        assert label(page, f"share_{org_d.pk}") == PARTNER_WORDS.format(name=org_d.name)

    def test_a_partner_of_two_campaigns_holding_the_event_gets_one_box(
        self, client: Client, org_a: Any, partner: Organization, event: Event
    ) -> None:
        make_campaign(org_a, event=event, partners=(partner,), slug="second")
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert boxes(page) == [f"share_{partner.pk}"]

    def test_a_draft_campaign_or_an_unaccepted_partner_shows_no_box(
        self, client: Client, org_a: Any, org_b: Any, partner: Organization
    ) -> None:
        in_draft = make_event(org_a, slug="in-draft")
        make_campaign(org_a, event=in_draft, partners=(partner,), status=CampaignStatus.DRAFT)
        unaccepted = make_event(org_a, slug="unaccepted")
        make_campaign(org_a, event=unaccepted, partners=(org_b,), accepted=False, slug="asked")
        for event in (in_draft, unaccepted):
            page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
            assert boxes(page) == [] and "a partner in this campaign" not in page


class TestSharing:
    def test_an_unticked_box_gives_the_partner_nothing(
        self, client: Client, event: Event, partner: Organization
    ) -> None:
        response = rsvp_form(client, event, email="rima@example.org")
        assert response.status_code == 303
        assert Rsvp.objects.filter(event=event).count() == 1
        assert nothing_reached(partner)

    def test_a_ticked_box_makes_one_supporter_of_the_partner_with_the_words_shown(
        self, client: Client, event: Event, partner: Organization
    ) -> None:
        # given: the form as shown
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="en").content.decode()
        words = label(page, f"share_{partner.pk}")
        # when
        response = rsvp_form(
            client,
            event,
            email="Rima@Example.org",
            phone="+961 71 123 456",
            **{f"share_{partner.pk}": "on"},
        )
        # then
        assert response.status_code == 303
        [person] = Person.objects.filter(organization=partner)
        assert (person.given_name, person.family_name) == ("Rima", "Haddad")
        assert list(person.emails.values_list("address", flat=True)) == ["rima@example.org"]
        assert list(person.phones.values_list("number", flat=True)) == ["+96171123456"]
        records = ConsentRecord.objects.filter(organization=partner, person=person)
        assert {record.channel for record in records} == {"email", "sms"}
        assert {record.wording for record in records} == {words}
        signup = CampaignSignup.objects.get(organization=partner)
        assert (signup.person, signup.source, signup.wording) == (
            person,
            f"event:{event.pk}",
            words,
        )
        assert AuditEntry.objects.filter(
            action="campaigns.signup.shared", organization=partner
        ).exists()
        # nothing of the host's own consent goes with it
        assert not records.filter(wording__startswith="Send me news").exists()

    def test_the_merged_box_shares_with_the_co_host_and_the_partner(
        self, client: Client, org_a: Any, org_b: Any
    ) -> None:
        event = make_event(org_a)
        co_host(event, org_b)
        make_campaign(org_a, event=event, partners=(org_b,))
        rsvp_form(client, event, email="rima@example.org", **{f"share_{org_b.pk}": "on"})
        words = MERGED_WORDS.format(name=org_b.name)
        share = RsvpShare.objects.get(rsvp__event=event)
        assert (share.co_host, share.wording) == (org_b, words)
        [person] = people_of(org_b, "rima@example.org")
        assert CampaignSignup.objects.get(organization=org_b).wording == words
        assert set(
            ConsentRecord.objects.filter(person=person).values_list("wording", flat=True)
        ) == {words}

    def test_the_words_kept_are_those_of_the_page_in_its_language(
        self, client: Client, event: Event, partner: Organization
    ) -> None:
        page = client.get(event_url(event), HTTP_ACCEPT_LANGUAGE="ar").content.decode()
        shown = label(page, f"share_{partner.pk}")
        assert "منظمة org-d" in shown  # the partner's Arabic name, as the page showed it
        rsvp_form(client, event, "ar", email="rima@example.org", **{f"share_{partner.pk}": "on"})
        assert ConsentRecord.objects.get(organization=partner).wording == shown
        assert CampaignSignup.objects.get(organization=partner).wording == shown

    def test_someone_already_known_gets_no_co_host_share_but_the_partner_gets_what_was_typed(
        self, client: Client, org_a: Any, org_b: Any
    ) -> None:
        # given: the host knows this address, with a phone the form does not give
        upsert_person(
            organization=org_a,
            actor="test",
            data=PersonData(email="known@example.org", phone="+96171000111", given_name="Known"),
            source="manual",
        )
        event = make_event(org_a)
        co_host(event, org_b)
        make_campaign(org_a, event=event, partners=(org_b,))
        # when: anyone types the address and ticks the box
        rsvp_form(
            client,
            event,
            email="known@example.org",
            given_name="Typed",
            **{f"share_{org_b.pk}": "on"},
        )
        # then: the co-host does not see the host's supporter ...
        assert not RsvpShare.objects.exists()
        # ... and the partner has only what was typed, nothing the host knew
        [person] = people_of(org_b, "known@example.org")
        assert person.given_name == "Typed" and not person.phones.exists()

    def test_a_forged_box_for_an_organization_offered_no_box_shares_nothing(
        self, client: Client, event: Event
    ) -> None:
        outsider = OrganizationFactory(slug="org-outsider")
        forged = {f"share_{outsider.pk}": "on", f"partner_{outsider.pk}": "on"}
        assert rsvp_form(client, event, email="rima@example.org", **forged).status_code == 303
        assert nothing_reached(outsider)
        assert not CampaignSignup.objects.exists()

    def test_a_draft_campaign_or_an_unaccepted_partner_receives_nothing_even_when_forged(
        self, client: Client, org_a: Any, org_b: Any, partner: Organization
    ) -> None:
        in_draft = make_event(org_a, slug="in-draft")
        make_campaign(org_a, event=in_draft, partners=(partner,), status=CampaignStatus.DRAFT)
        unaccepted = make_event(org_a, slug="unaccepted")
        make_campaign(org_a, event=unaccepted, partners=(org_b,), accepted=False, slug="asked")
        for event, org in ((in_draft, partner), (unaccepted, org_b)):
            forged = {f"share_{org.pk}": "on", f"partner_{org.pk}": "on"}
            assert rsvp_form(client, event, email="rima@example.org", **forged).status_code == 303
            assert nothing_reached(org)
        # and through the service itself, whatever a caller passes
        services.rsvp(
            event=in_draft,
            data=PersonData(email="other@example.org", given_name="O"),
            partners={partner.pk: "Forged words"},
        )
        assert nothing_reached(partner, "other@example.org")

    def test_a_partner_removed_before_the_answer_receives_nothing(
        self, event: Event, partner: Organization
    ) -> None:
        Partner.objects.filter(partner=partner).delete()
        services.rsvp(
            event=event,
            data=PersonData(email="rima@example.org", given_name="Rima"),
            partners={partner.pk: PARTNER_WORDS.format(name=partner.name)},
            anonymous=True,
        )
        assert Rsvp.objects.filter(event=event).count() == 1
        assert nothing_reached(partner)

    def test_a_full_event_takes_no_answer_and_shares_nothing(
        self, client: Client, org_a: Any, partner: Organization
    ) -> None:
        event = make_event(org_a, capacity=1, waiting_list=False)
        make_campaign(org_a, event=event, partners=(partner,))
        rsvp_form(client, event, email="first@example.org")
        response = rsvp_form(
            client, event, email="rima@example.org", **{f"share_{partner.pk}": "on"}
        )
        assert response.status_code == 409
        assert nothing_reached(partner)

    def test_answering_twice_with_the_box_ticked_is_one_supporter_and_one_signup(
        self, client: Client, event: Event, partner: Organization
    ) -> None:
        for _ in range(2):
            rsvp_form(client, event, email="rima@example.org", **{f"share_{partner.pk}": "on"})
        assert len(people_of(partner, "rima@example.org")) == 1
        assert CampaignSignup.objects.filter(organization=partner).count() == 1
        assert Rsvp.objects.filter(event=event).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_same_answer_at_once_is_one_supporter_of_the_partner(
    org_a: Any, partner: Organization
) -> None:
    """Eight requests with the same address, all ticking the partner's box, at once."""
    event = make_event(org_a)
    make_campaign(org_a, event=event, partners=(partner,))
    words = PARTNER_WORDS.format(name=partner.name)
    barrier, errors = threading.Barrier(8), []

    def answer() -> None:
        try:
            barrier.wait(timeout=10)
            services.rsvp(
                event=event,
                data=PersonData(email="rima@example.org", given_name="Rima"),
                partners={partner.pk: words},
                anonymous=True,
            )
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=answer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert Rsvp.objects.filter(event=event).count() == 1
    assert len(people_of(partner, "rima@example.org")) == 1
    assert CampaignSignup.objects.filter(organization=partner).count() == 1
