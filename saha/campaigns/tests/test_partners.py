"""The partner boxes (`saha.campaigns.partners`): which partners a form offers, and what a
ticked box gives a partner: a person of its own, with the box's words in its consent
ledger, made only of what was typed, and nothing for a box not ticked or a partner
that is no longer one."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation

from saha.campaigns import partners, services
from saha.campaigns.models import CampaignItem, CampaignSignup, Partner
from saha.campaigns.tests.helpers import accepted_partner, new_campaign, new_event, new_petition
from saha.supporters.models import Channel, ConsentRecord, Person, PersonEmail, PersonPhone
from saha.supporters.services import PersonData
from saha.supporters.tests.people_factories import make_person
from saha.testing.factories import OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def org_c(db: Any) -> Any:
    return OrganizationFactory(slug="org-c", names={"en": "Coastal Walkers", "ar": "نادي المشي"})


def typed(**fields: Any) -> PersonData:
    values: dict[str, Any] = {
        "email": "nour@example.org",
        "phone": "+961 71 555 111",
        "given_name": "Nour",
        "language": "en",
        **fields,
    }
    return PersonData(**values)


def share(campaign: Any, ticked_ids: list[int], data: PersonData | None = None) -> int:
    boxes = partners.boxes_for(campaign=campaign)
    words = {box.organization.pk: box.wording for box in boxes if box.organization.pk in ticked_ids}
    return partners.share(boxes=boxes, ticked=words, data=data or typed(), source="join")


class TestBoxes:
    def test_only_accepted_partners_of_published_campaigns_by_name(
        self, org_a: Any, org_b: Any, org_c: Any
    ) -> None:
        campaign = new_campaign(org_a)
        services.invite_partner(actor="t", campaign=campaign, partner=org_b)
        assert partners.boxes_for(campaign=campaign) == []  # asked, not accepted
        accepted_partner(campaign, org_b)
        accepted_partner(campaign, org_c)
        boxes = partners.boxes_for(campaign=campaign)
        assert [box.organization for box in boxes] == sorted(
            [org_b, org_c], key=lambda o: o.name.casefold()
        )
        assert boxes[0].field_name == f"partner_{boxes[0].organization.pk}"
        services.end(actor="t", campaign=campaign)
        assert partners.boxes_for(campaign=campaign) == []
        assert partners.boxes_for() == []

    def test_an_event_or_petition_offers_the_partners_of_each_campaign_holding_it(
        self, org_a: Any, org_b: Any, org_c: Any
    ) -> None:
        event, petition = new_event(org_a), new_petition(org_a)
        one, two = new_campaign(org_a, slug="one"), new_campaign(org_a, slug="two")
        for campaign in (one, two):
            services.add_item(actor="t", campaign=campaign, target=event)
        services.add_item(actor="t", campaign=two, target=petition)
        accepted_partner(one, org_b)
        accepted_partner(two, org_b)
        accepted_partner(two, org_c)
        [b, c] = sorted(partners.boxes_for(event=event), key=lambda box: box.organization.pk)
        assert b.organization == org_b and sorted(b.campaign_ids) == sorted([one.pk, two.pk])
        assert c.campaign_ids == (two.pk,)
        assert {box.organization for box in partners.boxes_for(petition=petition)} == {
            org_b,
            org_c,
        }

    def test_the_words_are_in_the_page_language_and_kept_with_each_yes(
        self, org_a: Any, org_b: Any
    ) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        [box] = partners.boxes_for(campaign=campaign)
        with translation.override("en"):
            assert org_b.name in box.wording
            assert partners.ticked([box], {box.field_name: True}) == {org_b.pk: box.wording}
            assert partners.ticked([box], {box.field_name: False}) == {}


class TestShare:
    def test_a_ticked_box_makes_a_person_of_that_partner_only(
        self, org_a: Any, org_b: Any, org_c: Any
    ) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        accepted_partner(campaign, org_c)
        assert share(campaign, [org_b.pk]) == 1
        person = Person.objects.get(organization=org_b)
        assert person.given_name == "Nour"
        assert not Person.objects.filter(organization__in=[org_a, org_c]).exists()
        signup = CampaignSignup.objects.get()
        assert (signup.organization, signup.person, signup.source) == (org_b, person, "join")
        [box] = [b for b in partners.boxes_for(campaign=campaign) if b.organization == org_b]
        assert signup.wording == box.wording

    def test_consent_is_recorded_with_the_words_of_the_box(self, org_a: Any, org_b: Any) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        share(campaign, [org_b.pk])
        [box] = partners.boxes_for(campaign=campaign)
        records = ConsentRecord.objects.filter(person__organization=org_b)
        assert {r.channel for r in records} == {Channel.EMAIL, Channel.SMS}
        assert {r.wording for r in records} == {box.wording}
        assert {r.source_ref for r in records} == {f"partner-box:{org_b.pk}"}

    def test_an_unaccepted_or_removed_partner_receives_nothing(
        self, org_a: Any, org_b: Any
    ) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        shown = partners.boxes_for(campaign=campaign)  # the form as it was shown
        words = {box.organization.pk: box.wording for box in shown}
        services.remove_partner(actor="t", campaign=campaign, partner=org_b)
        # At share time the boxes are computed again: the removed partner is gone.
        now = partners.boxes_for(campaign=campaign)
        assert partners.share(boxes=now, ticked=words, data=typed(), source="join") == 0
        services.invite_partner(actor="t", campaign=campaign, partner=org_b)  # asked again
        assert share(campaign, [org_b.pk]) == 0
        assert not Person.objects.filter(organization=org_b).exists()
        assert not CampaignSignup.objects.exists()

    def test_the_hosts_tags_custom_fields_and_consents_never_travel(
        self, org_a: Any, org_b: Any
    ) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        data = typed(tags=["host-secret"], custom_fields={"vip": True}, locality="Tyre")
        share(campaign, [org_b.pk], data)
        person = Person.objects.get(organization=org_b)
        assert not person.taggings.exists()
        assert person.custom_fields == {}
        assert person.locality == "Tyre"  # what was typed does travel

    def test_a_phone_the_partner_has_is_not_attached_to_another_address(
        self, org_a: Any, org_b: Any
    ) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        theirs = make_person(org_b, email="walid@example.org", phone="+96171555111")
        assert share(campaign, [org_b.pk]) == 1  # the same number, another address
        newcomer = PersonEmail.objects.get(organization=org_b, address="nour@example.org").person
        assert newcomer != theirs
        assert not PersonPhone.objects.filter(person=newcomer).exists()
        assert PersonPhone.objects.get(organization=org_b).person == theirs
        assert not ConsentRecord.objects.filter(person=theirs).exists()
        assert not ConsentRecord.objects.filter(person=newcomer, channel=Channel.SMS).exists()

    def test_an_address_the_partner_knows_gets_no_new_phone(self, org_a: Any, org_b: Any) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        known = make_person(org_b, email="nour@example.org")
        share(campaign, [org_b.pk])
        assert not PersonPhone.objects.filter(person=known).exists()
        assert CampaignSignup.objects.get().person == known

    def test_one_partners_refusal_does_not_stop_the_others(
        self, org_a: Any, org_b: Any, org_c: Any, caplog: Any
    ) -> None:
        campaign = new_campaign(org_a)
        accepted_partner(campaign, org_b)
        accepted_partner(campaign, org_c)
        with caplog.at_level("WARNING", logger="saha.campaigns"):
            refused = typed(email="not an address", phone="")
            assert share(campaign, [org_b.pk, org_c.pk], refused) == 0
        assert "invalid_email" in caplog.text and "not an address" not in caplog.text
        assert share(campaign, [org_b.pk, org_c.pk]) == 2
        assert CampaignSignup.objects.count() == 2

    def test_twice_is_one_sign_up_per_campaign_and_form(self, org_a: Any, org_b: Any) -> None:
        campaign = new_campaign(org_a)
        event = new_event(org_a)
        services.add_item(actor="t", campaign=campaign, target=event)
        accepted_partner(campaign, org_b)
        share(campaign, [org_b.pk])
        share(campaign, [org_b.pk])
        boxes = partners.boxes_for(event=event)
        partners.share(
            boxes=boxes,
            ticked={org_b.pk: boxes[0].wording},
            data=typed(),
            source=f"event:{event.pk}",
        )
        assert sorted(CampaignSignup.objects.values_list("source", flat=True)) == [
            f"event:{event.pk}",
            "join",
        ]
        assert Person.objects.filter(organization=org_b).count() == 1
        assert CampaignItem.objects.count() == 1 and Partner.objects.count() == 1
