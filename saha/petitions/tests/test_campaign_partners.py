"""A petition held by a campaign: one unticked box per accepted partner of its published
campaigns; a signature reaches a partner's own supporters only when its box was
ticked, and only if that organization is still a partner when the worker takes the
signature in. The sign path stays one INSERT."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connections
from django.test import Client

from saha.campaigns.models import CampaignSignup, CampaignStatus, Partner
from saha.events.tests.test_campaign_partners import (
    PARTNER_WORDS,
    boxes,
    label,
    make_campaign,
    nothing_reached,
    people_of,
)
from saha.organizations.models import Organization
from saha.petitions import intake
from saha.petitions.models import PendingSignature, Petition, Signature
from saha.petitions.tests.test_public_views import petition_url, post_signature
from saha.petitions.tests.test_sign import make_petition
from saha.supporters.models import ConsentRecord, Person
from saha.supporters.services import PersonData
from saha.supporters.tests.people_factories import postgres_only
from saha.testing.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner(db: Any) -> Organization:
    return OrganizationFactory(slug="org-d")


@pytest.fixture
def petition(org_a: Any, partner: Organization) -> Petition:
    found = make_petition(org_a)
    make_campaign(org_a, petition=found, partners=(partner,))
    return found


def page_of(client: Client, petition: Petition, language: str = "en") -> str:
    return client.get(petition_url(petition), HTTP_ACCEPT_LANGUAGE=language).content.decode()


class TestTheForm:
    def test_one_unticked_box_per_accepted_partner_in_name_order(
        self, client: Client, org_a: Any, org_b: Any, partner: Organization, petition: Petition
    ) -> None:
        org_c = OrganizationFactory(slug="org-c")
        make_campaign(org_a, petition=petition, partners=(org_c, partner), slug="second")
        make_campaign(org_a, petition=petition, partners=(org_b,), accepted=False, slug="asked")
        page = page_of(client, petition)
        assert boxes(page) == [f"partner_{org.pk}" for org in (org_c, partner)]
        assert 'checked name="partner_' not in page and "checked>" not in page
        assert label(page, f"partner_{partner.pk}") == PARTNER_WORDS.format(name=partner.name)

    def test_a_draft_campaign_or_an_unaccepted_partner_shows_no_box(
        self, client: Client, org_a: Any, org_b: Any, partner: Organization
    ) -> None:
        in_draft = make_petition(org_a, slug="in-draft")
        make_campaign(org_a, petition=in_draft, partners=(partner,), status=CampaignStatus.DRAFT)
        unaccepted = make_petition(org_a, slug="unaccepted")
        make_campaign(org_a, petition=unaccepted, partners=(org_b,), accepted=False, slug="asked")
        for petition in (in_draft, unaccepted):
            assert boxes(page_of(client, petition)) == []

    def test_the_sign_path_of_a_campaign_petition_stays_one_insert(
        self,
        client: Client,
        petition: Petition,
        partner: Organization,
        django_assert_max_num_queries: Any,
    ) -> None:
        page_of(client, petition)  # the boxes are remembered a few seconds
        ticked = {f"partner_{partner.pk}": "on"}
        with django_assert_max_num_queries(2):  # the petition, the INSERT
            assert post_signature(client, petition, **ticked).status_code == 303
        assert PendingSignature.objects.count() == 1 and nothing_reached(partner)


class TestSharing:
    def test_an_unticked_box_gives_the_partner_nothing(
        self, client: Client, petition: Petition, partner: Organization
    ) -> None:
        assert post_signature(client, petition).status_code == 303
        assert intake.take_in() == 1
        assert Signature.objects.filter(petition=petition).count() == 1
        assert nothing_reached(partner)

    def test_a_ticked_box_makes_one_supporter_of_the_partner_at_take_in(
        self, client: Client, petition: Petition, partner: Organization
    ) -> None:
        words = label(page_of(client, petition), f"partner_{partner.pk}")
        post_signature(client, petition, phone="+961 71 123 456", **{f"partner_{partner.pk}": "on"})
        pending = PendingSignature.objects.get()
        assert pending.data["partners"] == {str(partner.pk): words}
        assert nothing_reached(partner)  # not before the worker takes it in
        assert intake.take_in() == 1
        [person] = Person.objects.filter(organization=partner)
        assert (person.given_name, person.family_name, person.locality) == (
            "Rima",
            "Haddad",
            "Tyre",
        )
        assert list(person.emails.values_list("address", flat=True)) == ["rima@example.org"]
        assert list(person.phones.values_list("number", flat=True)) == ["+96171123456"]
        records = ConsentRecord.objects.filter(organization=partner, person=person)
        assert {record.channel for record in records} == {"email", "sms"}
        assert {record.wording for record in records} == {words}
        signup = CampaignSignup.objects.get(organization=partner)
        assert (signup.person, signup.source) == (person, f"petition:{petition.pk}")
        assert signup.wording == words

    def test_the_words_kept_are_those_of_the_page_in_its_language(
        self, client: Client, petition: Petition, partner: Organization
    ) -> None:
        shown = label(page_of(client, petition, "ar"), f"partner_{partner.pk}")
        assert "منظمة org-d" in shown  # the partner's Arabic name, as the page showed it
        post_signature(client, petition, "ar", **{f"partner_{partner.pk}": "on"})
        intake.take_in()  # the worker has no page language of its own
        assert ConsentRecord.objects.get(organization=partner).wording == shown
        assert CampaignSignup.objects.get(organization=partner).wording == shown

    def test_the_words_are_kept_in_the_language_shown_not_the_one_chosen_for_messages(
        self, client: Client, petition: Petition, partner: Organization
    ) -> None:
        shown = label(page_of(client, petition, "ar"), f"partner_{partner.pk}")
        client.post(
            petition_url(petition),
            {
                "given_name": "Rima",
                "email": "rima@example.org",
                "language": "en",  # messages in English, the page read in Arabic
                f"partner_{partner.pk}": "on",
            },
            HTTP_ACCEPT_LANGUAGE="ar",
        )
        intake.take_in()
        record = ConsentRecord.objects.get(organization=partner)
        assert (record.wording, record.language) == (shown, "ar")
        assert Person.objects.get(organization=partner).language == "en"

    def test_a_partner_removed_between_accept_and_take_in_receives_nothing(
        self, client: Client, org_a: Any, petition: Petition, partner: Organization
    ) -> None:
        org_c = OrganizationFactory(slug="org-c")
        make_campaign(org_a, petition=petition, partners=(org_c,), slug="second")
        ticked = {f"partner_{partner.pk}": "on", f"partner_{org_c.pk}": "on"}
        assert post_signature(client, petition, **ticked).status_code == 303
        Partner.objects.filter(partner=partner).delete()
        assert intake.take_in() == 1
        assert Signature.objects.filter(petition=petition).count() == 1
        assert nothing_reached(partner)
        assert len(people_of(org_c, "rima@example.org")) == 1  # still a partner: it does

    def test_a_campaign_taken_back_to_draft_before_take_in_shares_nothing(
        self, client: Client, petition: Petition, partner: Organization
    ) -> None:
        post_signature(client, petition, **{f"partner_{partner.pk}": "on"})
        from saha.campaigns.models import Campaign

        Campaign.objects.update(status=CampaignStatus.DRAFT)
        intake.take_in()
        assert nothing_reached(partner)

    def test_a_forged_box_for_an_organization_offered_no_box_shares_nothing(
        self, client: Client, petition: Petition
    ) -> None:
        outsider = OrganizationFactory(slug="org-outsider")
        forged = {f"partner_{outsider.pk}": "on", f"share_{outsider.pk}": "on"}
        assert post_signature(client, petition, **forged).status_code == 303
        assert "partners" not in PendingSignature.objects.get().data
        intake.take_in()
        assert nothing_reached(outsider) and not CampaignSignup.objects.exists()

    def test_a_forged_payload_for_a_non_partner_shares_nothing(
        self, petition: Petition, partner: Organization
    ) -> None:
        outsider = OrganizationFactory(slug="org-outsider")
        intake.accept(
            petition=petition,
            data=PersonData(email="rima@example.org", given_name="Rima"),
            partners={outsider.pk: "Forged words", partner.pk: ""},
        )
        intake.take_in()
        assert nothing_reached(outsider) and nothing_reached(partner)

    def test_signing_twice_with_the_box_ticked_is_one_supporter_and_one_signup(
        self, client: Client, petition: Petition, partner: Organization
    ) -> None:
        for _ in range(2):
            post_signature(client, petition, **{f"partner_{partner.pk}": "on"})
        assert intake.take_in() == 2
        assert Signature.objects.filter(petition=petition).count() == 1
        assert len(people_of(partner, "rima@example.org")) == 1
        assert CampaignSignup.objects.filter(organization=partner).count() == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_workers_taking_in_the_same_signer_at_once_make_one_supporter_of_the_partner(
    org_a: Any, partner: Organization
) -> None:
    """The same address accepted many times, taken in by four workers at once."""
    petition = make_petition(org_a)
    make_campaign(org_a, petition=petition, partners=(partner,))
    words = PARTNER_WORDS.format(name=partner.name)
    for n in range(40):
        intake.accept(
            petition=petition,
            data=PersonData(email=f"s{n % 5}@example.org", given_name=f"S{n % 5}"),
            partners={partner.pk: words},
        )
    barrier, errors = threading.Barrier(4), []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            intake.take_in(limit=1000)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert not PendingSignature.objects.exists()
    assert Signature.objects.filter(petition=petition).count() == 5
    assert Person.objects.filter(organization=partner).count() == 5
    assert CampaignSignup.objects.filter(organization=partner).count() == 5
