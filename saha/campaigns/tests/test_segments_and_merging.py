"""The segment criterion "came through campaign X" (an organization's own sign-ups only),
and merging two records of one person (their sign-ups follow, once per campaign and form)."""

from __future__ import annotations

from typing import Any

import pytest

from saha.campaigns.models import CampaignSignup
from saha.campaigns.tests.helpers import accepted_partner, new_campaign
from saha.supporters.models import Person
from saha.supporters.segments import criterion
from saha.supporters.services import merge_people
from saha.supporters.tests.people_factories import make_person

pytestmark = pytest.mark.django_db


def signed_up(campaign: Any, person: Person, source: str = "join") -> CampaignSignup:
    return CampaignSignup.objects.create(
        organization=person.organization, campaign=campaign, person=person, source=source
    )


def matching(organization: Any, value: Any) -> set[str]:
    found = criterion("came_through_campaign")
    assert found is not None
    people = Person.objects.for_org(organization).filter(found.to_q(organization, value))
    return set(people.values_list("given_name", flat=True))


def test_came_through_a_campaign_is_the_organizations_own_sign_ups(org_a: Any, org_b: Any) -> None:
    campaign = new_campaign(org_a)
    other = new_campaign(org_a, slug="other")
    accepted_partner(campaign, org_b)
    signed_up(campaign, make_person(org_a, given_name="Joined"))
    signed_up(other, make_person(org_a, given_name="Elsewhere"))
    make_person(org_a, given_name="Never")
    signed_up(campaign, make_person(org_b, given_name="Ticked"))
    assert matching(org_a, [campaign.pk]) == {"Joined"}
    assert matching(org_a, [campaign.pk, other.pk]) == {"Joined", "Elsewhere"}
    assert matching(org_b, [campaign.pk]) == {"Ticked"}
    assert matching(org_a, "nonsense") == set()


def test_the_criterions_choices_are_the_campaigns_it_hosts_or_partners_in(
    org_a: Any, org_b: Any
) -> None:
    mine = new_campaign(org_b, slug="mine")
    partnered = new_campaign(org_a, slug="partnered")
    accepted_partner(partnered, org_b)
    new_campaign(org_a, slug="not-ours")
    found = criterion("came_through_campaign")
    assert found is not None
    field = found.form_field(org_b)
    assert set(field.queryset) == {mine, partnered}  # type: ignore[attr-defined]
    assert found.to_json([mine, partnered]) == [mine.pk, partnered.pk]


def test_merging_moves_sign_ups_without_doubling_them(org_a: Any, owner: Any) -> None:
    one, two = new_campaign(org_a, slug="one"), new_campaign(org_a, slug="two")
    kept = make_person(org_a, email="kept@example.org")
    other = make_person(org_a, email="other@example.org")
    signed_up(one, kept)
    signed_up(one, other)  # both joined the same campaign: one row stays
    signed_up(one, other, source="event:1")
    signed_up(two, other)
    merge_people(actor=owner.user, kept=kept, other=other)
    rows = CampaignSignup.objects.order_by("campaign_id", "source")
    assert [(r.campaign_id, r.source, r.person_id) for r in rows] == [
        (one.pk, "event:1", kept.pk),
        (one.pk, "join", kept.pk),
        (two.pk, "join", kept.pk),
    ]
