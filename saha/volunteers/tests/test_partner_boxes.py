"""Issue 7 on the volunteers' forms: the offer form embedded on a campaign's hub or on the
page of an event a campaign holds, and a need's sign-up form when the need belongs to a
campaign or to such an event, show one unticked box per accepted partner; what was
typed reaches a partner's own supporters only when its box was ticked, with the box's
exact words and the page's language in the partner's consent ledger."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from saha.campaigns import services as campaign_services
from saha.campaigns.models import Campaign, CampaignSignup, CampaignStatus
from saha.campaigns.tests.helpers import accepted_partner, hub_url, new_campaign
from saha.core.models import AuditEntry
from saha.events.models import Event
from saha.organizations.models import Organization
from saha.supporters.models import ConsentRecord, Person
from saha.supporters.services import PersonData
from saha.testing.factories import OrganizationFactory
from saha.volunteers import services
from saha.volunteers.models import Assignment, AssignmentStatus, Need, Offer, Shift
from saha.volunteers.tests.helpers import capability, make_event, make_need

pytestmark = pytest.mark.django_db

PARTNER_WORDS = (
    "Add me to the supporters of {name}, a partner in this campaign, so they can keep me informed"
)
OFFER_URL = "/o/org-a/volunteer/"


# --- What the tests build and read ---------------------------------------------------


@pytest.fixture
def partner(db: Any) -> Organization:
    return OrganizationFactory(slug="org-d")


@pytest.fixture
def campaign(org_a: Organization, org_b: Organization, partner: Organization) -> Campaign:
    """Published, with one accepted partner (D) and one only asked (B)."""
    found = new_campaign(org_a)
    accepted_partner(found, partner)
    campaign_services.invite_partner(actor="t", campaign=found, partner=org_b)
    return found


@pytest.fixture
def event(org_a: Organization, campaign: Campaign) -> Event:
    """Published, held by the campaign."""
    found = make_event(org_a)
    campaign_services.add_item(actor="t", campaign=campaign, target=found)
    return found


def boxes(page: str, prefix: str = "offer_") -> list[str]:
    """The ids of the partner boxes of one form of the page (`offer_` the embedded offer
    form, `id_` a form of its own page), in their order."""
    return re.findall(
        rf'<input type="checkbox" name="partner_\d+" id="({prefix}partner_\d+)"', page
    )


def label(page: str, box_id: str) -> str:
    """The words next to a box, as the browser shows them."""
    found = re.search(rf'<label for="{box_id}">(.*?)</label>', page, re.S)
    assert found is not None, box_id
    return html.unescape(found.group(1))


def page_of(client: Client, url: str, language: str = "en") -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def event_url(event: Event) -> str:
    return f"/o/{event.organization.slug}/events/{event.slug}/"


def need_url(need: Need) -> str:
    return f"/o/{need.organization.slug}/needs/{need.pk}/"


def offer_form(organization: Organization, **extra: Any) -> dict[str, Any]:
    return {
        "given_name": "Rima",
        "family_name": "Haddad",
        "email": "rima@example.org",
        "phone": "+961 71 123 456",
        "language": "en",
        "locality": "Tyre",
        f"cap_{capability(organization, 'first-aid').pk}": "on",
        **extra,
    }


def sign_up_form(**extra: Any) -> dict[str, Any]:
    return {
        "given_name": "Rima",
        "family_name": "Haddad",
        "email": "rima@example.org",
        "phone": "+961 71 123 456",
        "language": "en",
        **extra,
    }


def post(client: Client, url: str, data: dict[str, Any], language: str = "en") -> Any:
    return client.post(url, data, HTTP_ACCEPT_LANGUAGE=language)


def nothing_reached(organization: Organization) -> bool:
    return (
        not Person.objects.filter(organization=organization).exists()
        and not CampaignSignup.objects.filter(organization=organization).exists()
        and not ConsentRecord.objects.filter(organization=organization).exists()
    )


def the_partners_one_person(partner: Organization, words: str, language: str) -> Person:
    """Exactly one person of the partner, with what was typed and the box's words."""
    [person] = Person.objects.filter(organization=partner)
    assert (person.given_name, person.family_name) == ("Rima", "Haddad")
    assert list(person.emails.values_list("address", flat=True)) == ["rima@example.org"]
    assert list(person.phones.values_list("number", flat=True)) == ["+96171123456"]
    records = ConsentRecord.objects.filter(organization=partner, person=person)
    assert {record.channel for record in records} == {"email", "sms"}
    assert {(record.wording, record.language) for record in records} == {(words, language)}
    return person


def campaign_need(organization: Organization, campaign: Campaign, **fields: Any) -> Need:
    """A need of the campaign itself, on no event."""
    starts = timezone.now() + dt.timedelta(days=3)
    values = {
        "wanted": 2,
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(hours=3),
        "titles": {"en": "Leaflets at the market"},
        **fields,
    }
    return services.create_need(
        actor="t",
        organization=organization,
        capability=capability(organization, "stewarding"),
        campaign=campaign,
        **values,
    )


def ids_of(page: str) -> Counter[str]:
    return Counter(re.findall(r'\sid="([^"]+)"', page))


# --- The boxes shown -----------------------------------------------------------------


class TestTheOfferFormShowsTheBoxes:
    def test_on_the_hub_one_unticked_box_per_accepted_partner_with_its_exact_words(
        self, client: Client, campaign: Campaign, partner: Organization
    ) -> None:
        page = page_of(client, hub_url(campaign))
        assert boxes(page) == [f"offer_partner_{partner.pk}"]
        assert label(page, f"offer_partner_{partner.pk}") == PARTNER_WORDS.format(name=partner.name)
        assert not re.search(r'name="partner_\d+" id="offer_[^"]*"[^>]*checked', page)
        # the hub's own join form keeps its box, and no two elements share an id
        assert boxes(page, "id_") == [f"id_partner_{partner.pk}"]
        assert [name for name, n in ids_of(page).items() if n > 1] == []

    def test_on_the_page_of_an_event_the_campaign_holds(
        self, client: Client, event: Event, partner: Organization
    ) -> None:
        page = page_of(client, event_url(event))
        assert boxes(page) == [f"offer_partner_{partner.pk}"]
        assert label(page, f"offer_partner_{partner.pk}") == PARTNER_WORDS.format(name=partner.name)
        assert [name for name, n in ids_of(page).items() if n > 1] == []

    def test_each_partner_once_in_name_order_across_campaigns(
        self, client: Client, org_a: Organization, event: Event, partner: Organization
    ) -> None:
        second = new_campaign(org_a, slug="second")
        campaign_services.add_item(actor="t", campaign=second, target=event)
        accepted_partner(second, partner)
        org_c = OrganizationFactory(slug="org-c")
        accepted_partner(second, org_c)
        page = page_of(client, event_url(event))
        assert boxes(page) == [f"offer_partner_{org_c.pk}", f"offer_partner_{partner.pk}"]

    def test_no_box_for_a_draft_campaign_nor_for_an_event_in_no_campaign(
        self, client: Client, org_a: Organization, partner: Organization
    ) -> None:
        draft = new_campaign(org_a, slug="draft", publish=False)
        accepted_partner(draft, partner)
        in_draft = make_event(org_a, slug="in-draft")
        campaign_services.add_item(actor="t", campaign=draft, target=in_draft)
        alone = make_event(org_a, slug="alone")
        for event in (in_draft, alone):
            page = page_of(client, event_url(event))
            assert 'action="/o/org-a/volunteer/"' in page
            assert boxes(page) == [] and "a partner in this campaign" not in page

    def test_the_standalone_page_for_an_event_or_a_campaign_and_for_nothing(
        self,
        client: Client,
        org_b: Organization,
        campaign: Campaign,
        event: Event,
        partner: Organization,
    ) -> None:
        for query in (f"?campaign={campaign.pk}", f"?event={event.pk}"):
            page = page_of(client, OFFER_URL + query)
            assert boxes(page, "id_") == [f"id_partner_{partner.pk}"], query
        assert boxes(page_of(client, OFFER_URL), "id_") == []
        # another organization's campaign, or nonsense: ignored
        theirs = new_campaign(org_b, slug="theirs")
        for query in (f"?campaign={theirs.pk}", "?event=x", "?campaign=99999999"):
            assert boxes(page_of(client, OFFER_URL + query), "id_") == [], query


# --- What a ticked box does ----------------------------------------------------------


class TestTheOfferShares:
    def test_an_unticked_box_gives_the_partner_nothing(
        self, client: Client, org_a: Organization, campaign: Campaign, partner: Organization
    ) -> None:
        response = post(client, OFFER_URL, offer_form(org_a, campaign=campaign.pk))
        assert response.status_code == 303
        assert Offer.objects.get().source_ref == f"campaign:{campaign.pk}"
        assert nothing_reached(partner)

    @pytest.mark.parametrize("language", ["en", "ar"])
    def test_a_ticked_box_on_the_hub_makes_one_supporter_of_the_partner(
        self,
        client: Client,
        org_a: Organization,
        campaign: Campaign,
        partner: Organization,
        language: str,
    ) -> None:
        # given: the form as the hub shows it, in the page's language
        words = label(page_of(client, hub_url(campaign), language), f"offer_partner_{partner.pk}")
        # when
        data = offer_form(org_a, campaign=campaign.pk, **{f"partner_{partner.pk}": "on"})
        response = post(client, OFFER_URL, data, language)
        # then: the host has the offer; the partner the person, with the words shown
        assert response.status_code == 303
        assert Offer.objects.filter(organization=org_a).count() == 1
        person = the_partners_one_person(partner, words, language)
        assert person.locality == "Tyre"
        signup = CampaignSignup.objects.get(organization=partner)
        assert (signup.campaign, signup.person, signup.source, signup.wording) == (
            campaign,
            person,
            f"offer:campaign:{campaign.pk}",
            words,
        )
        assert AuditEntry.objects.filter(
            action="campaigns.signup.shared", organization=partner
        ).exists()
        # nothing of the host's own consent, and no offer, on the partner's side
        assert not ConsentRecord.objects.filter(
            organization=partner, wording__startswith="Send me"
        ).exists()
        assert not Offer.objects.filter(organization=partner).exists()

    def test_a_ticked_box_on_an_events_page(
        self,
        client: Client,
        org_a: Organization,
        campaign: Campaign,
        event: Event,
        partner: Organization,
    ) -> None:
        words = label(page_of(client, event_url(event)), f"offer_partner_{partner.pk}")
        data = offer_form(org_a, event=event.pk, **{f"partner_{partner.pk}": "on"})
        assert post(client, OFFER_URL, data).status_code == 303
        person = the_partners_one_person(partner, words, "en")
        signup = CampaignSignup.objects.get(organization=partner)
        assert (signup.campaign, signup.person, signup.source) == (
            campaign,
            person,
            f"offer:event:{event.pk}",
        )

    def test_a_forged_box_shares_nothing(
        self,
        client: Client,
        org_a: Organization,
        org_b: Organization,
        campaign: Campaign,
        partner: Organization,
    ) -> None:
        # B was only asked; E is no partner at all
        org_e = OrganizationFactory(slug="org-e")
        forged = {f"partner_{org_b.pk}": "on", f"partner_{org_e.pk}": "on"}
        assert (
            post(client, OFFER_URL, offer_form(org_a, campaign=campaign.pk, **forged)).status_code
            == 303
        )
        # the partner's box, sent with no campaign, or with another organization's campaign
        ticked = {f"partner_{partner.pk}": "on"}
        theirs = new_campaign(org_b, slug="theirs")
        accepted_partner(theirs, partner)
        for where in ({}, {"campaign": theirs.pk}):
            n = len(where)
            data = offer_form(
                org_a, email=f"x{n}@example.org", phone=f"+961 71 000 00{n}", **where, **ticked
            )
            assert post(client, OFFER_URL, data).status_code == 303
        assert Offer.objects.filter(organization=org_a).count() == 3
        assert {o.source_ref for o in Offer.objects.filter(organization=org_a)} == {
            f"campaign:{campaign.pk}",
            "form",
        }
        for organization in (org_b, org_e, partner):
            assert nothing_reached(organization), organization.slug

    def test_a_draft_campaign_named_by_the_form_shares_nothing(
        self, client: Client, org_a: Organization, partner: Organization
    ) -> None:
        draft = new_campaign(org_a, slug="draft", publish=False)
        accepted_partner(draft, partner)
        data = offer_form(org_a, campaign=draft.pk, **{f"partner_{partner.pk}": "on"})
        assert post(client, OFFER_URL, data).status_code == 303
        assert Offer.objects.get().source_ref == "form"
        assert nothing_reached(partner)

    def test_a_form_with_an_error_shares_nothing_and_keeps_the_tick(
        self, client: Client, org_a: Organization, campaign: Campaign, partner: Organization
    ) -> None:
        data = offer_form(org_a, campaign=campaign.pk, **{f"partner_{partner.pk}": "on"})
        data.pop(f"cap_{capability(org_a, 'first-aid').pk}")
        response = post(client, OFFER_URL, data)
        assert response.status_code == 400
        page = response.content.decode()
        assert f'name="campaign" value="{campaign.pk}"' in page
        assert re.search(rf'name="partner_{partner.pk}" id="id_partner_{partner.pk}" checked', page)
        assert not Offer.objects.exists() and nothing_reached(partner)

    def test_the_share_is_in_the_offers_transaction(
        self, org_a: Organization, campaign: Campaign, partner: Organization, monkeypatch: Any
    ) -> None:
        def broken(offer: Offer) -> None:
            raise RuntimeError("the offer fails after the share")

        monkeypatch.setattr("saha.volunteers.offers.notices.offer_saved", broken)
        with pytest.raises(RuntimeError):
            services.submit_offer(
                organization=org_a,
                data=PersonData(email="rima@example.org", given_name="Rima", language="en"),
                offered={capability(org_a, "first-aid").pk: (None, "")},
                availability=[],
                anonymous=True,
                source_ref=f"campaign:{campaign.pk}",
                partners={partner.pk: "the words"},
            )
        assert not Offer.objects.exists() and nothing_reached(partner)

    def test_a_partner_gone_since_the_page_was_shown_receives_nothing(
        self, org_a: Organization, campaign: Campaign, partner: Organization
    ) -> None:
        campaign_services.remove_partner(actor="t", campaign=campaign, partner=partner)
        services.submit_offer(
            organization=org_a,
            data=PersonData(email="rima@example.org", given_name="Rima", language="en"),
            offered={capability(org_a, "first-aid").pk: (None, "")},
            availability=[],
            anonymous=True,
            source_ref=f"campaign:{campaign.pk}",
            partners={partner.pk: "the words"},
            notify=False,
        )
        assert Offer.objects.count() == 1 and nothing_reached(partner)


# --- A need's sign-up form -----------------------------------------------------------


class TestTheNeedSignUp:
    def test_a_need_of_the_campaign_shows_the_box_and_a_tick_shares(
        self, client: Client, org_a: Organization, campaign: Campaign, partner: Organization
    ) -> None:
        need = campaign_need(org_a, campaign)
        page = page_of(client, need_url(need))
        assert boxes(page, "id_") == [f"id_partner_{partner.pk}"]
        words = label(page, f"id_partner_{partner.pk}")
        assert words == PARTNER_WORDS.format(name=partner.name)
        data = sign_up_form(**{f"partner_{partner.pk}": "on"})
        assert post(client, need_url(need), data).status_code == 303
        assert Assignment.objects.get().status == AssignmentStatus.ACCEPTED
        person = the_partners_one_person(partner, words, "en")
        signup = CampaignSignup.objects.get(organization=partner)
        assert (signup.campaign, signup.person, signup.source, signup.wording) == (
            campaign,
            person,
            f"need:{need.pk}",
            words,
        )

    def test_unticked_the_partner_has_nothing(
        self, client: Client, org_a: Organization, campaign: Campaign, partner: Organization
    ) -> None:
        need = campaign_need(org_a, campaign)
        assert post(client, need_url(need), sign_up_form()).status_code == 303
        assert Assignment.objects.count() == 1 and nothing_reached(partner)

    @pytest.mark.parametrize("language", ["en", "ar"])
    def test_a_shift_of_a_need_of_an_event_the_campaign_holds(
        self,
        client: Client,
        org_a: Organization,
        event: Event,
        partner: Organization,
        language: str,
    ) -> None:
        need = make_need(org_a, event=event, wanted=5)
        shift: Shift = services.add_shift(
            actor="t", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=2
        )
        page = page_of(client, need_url(need), language)
        words = label(page, f"id_partner_{partner.pk}")
        data = sign_up_form(shift=shift.pk, **{f"partner_{partner.pk}": "on"})
        assert post(client, need_url(need), data, language).status_code == 303
        assert Assignment.objects.get().shift == shift
        person = the_partners_one_person(partner, words, language)
        assert CampaignSignup.objects.get(organization=partner).person == person

    def test_a_need_of_an_event_in_no_campaign_has_no_box_and_forged_ones_share_nothing(
        self, client: Client, org_a: Organization, org_b: Organization, partner: Organization
    ) -> None:
        need = make_need(org_a)  # its own event, in no campaign
        assert boxes(page_of(client, need_url(need)), "id_") == []
        forged = {f"partner_{partner.pk}": "on", f"partner_{org_b.pk}": "on"}
        assert post(client, need_url(need), sign_up_form(**forged)).status_code == 303
        assert Assignment.objects.count() == 1
        assert nothing_reached(partner) and nothing_reached(org_b)

    def test_a_need_of_both_an_event_and_a_campaign_offers_each_partner_once(
        self,
        client: Client,
        org_a: Organization,
        org_b: Organization,
        campaign: Campaign,
        event: Event,
        partner: Organization,
    ) -> None:
        # the event is also in a second campaign, with C and the same D as partners
        second = new_campaign(org_a, slug="second")
        campaign_services.add_item(actor="t", campaign=second, target=event)
        org_c = OrganizationFactory(slug="org-c")
        accepted_partner(second, org_c)
        accepted_partner(second, partner)
        need = make_need(org_a, event=event, campaign=campaign)
        page = page_of(client, need_url(need))
        assert boxes(page, "id_") == [f"id_partner_{org_c.pk}", f"id_partner_{partner.pk}"]
        ticked = {f"partner_{partner.pk}": "on", f"partner_{org_b.pk}": "on"}
        assert post(client, need_url(need), sign_up_form(**ticked)).status_code == 303
        # D, through both campaigns; C (unticked) and B (only asked) nothing
        signups = CampaignSignup.objects.filter(organization=partner)
        assert sorted(signups.values_list("campaign_id", "source")) == sorted(
            [(campaign.pk, f"need:{need.pk}"), (second.pk, f"need:{need.pk}")]
        )
        assert Person.objects.filter(organization=partner).count() == 1
        assert nothing_reached(org_c) and nothing_reached(org_b)

    def test_an_ended_campaign_offers_no_box_and_shares_nothing(
        self, client: Client, org_a: Organization, campaign: Campaign, partner: Organization
    ) -> None:
        need = make_need(org_a, campaign=campaign)
        Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.ENDED)
        assert boxes(page_of(client, need_url(need)), "id_") == []
        data = sign_up_form(**{f"partner_{partner.pk}": "on"})
        assert post(client, need_url(need), data).status_code == 303
        assert nothing_reached(partner)
