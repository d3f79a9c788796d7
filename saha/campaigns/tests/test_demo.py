"""The demo campaign: published, in three languages, gathering the demo statement, petition
and clean-up with goals, a second demo organization as its accepted partner; loaded
once however often `saha demo` runs, nothing sent, its address in `saha demo --json`."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils.module_loading import import_string

from saha.campaigns import demo, partners
from saha.campaigns.models import Campaign, CampaignItem, CampaignStatus, Partner
from saha.campaigns.tests.helpers import new_statement
from saha.events import demo as events_demo
from saha.messaging.models import Delivery
from saha.organizations.models import Membership, Organization
from saha.organizations.roles import Role
from saha.petitions import demo as petitions_demo
from saha.testing.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded(org_a: Any, owner: Any) -> dict[str, str]:
    """What `saha demo` does before the campaigns' turn: the event and the petition (the
    statements' demo is theirs to test; here its statement is made by hand)."""
    events_demo.contribute(org_a, owner.user)
    petitions_demo.contribute(org_a, owner.user)
    return demo.contribute(org_a, owner.user)


def test_the_demo_campaign_is_loaded_once_and_sends_nothing(
    org_a: Any, owner: Any, loaded: dict[str, str], django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = demo.contribute(org_a, owner.user)
    campaign = Campaign.objects.get(slug=demo.SLUG)
    assert campaign.status == CampaignStatus.PUBLISHED and campaign.created_by == owner.user
    assert set(campaign.titles) == set(campaign.summaries) == {"ar", "en", "fr"}
    assert campaign.goal_signatures and campaign.goal_rsvps and campaign.goal_check_ins
    kinds = [item.kind for item in CampaignItem.objects.filter(campaign=campaign)]
    assert kinds == ["petition", "event"]
    partner = Organization.objects.get(slug=demo.PARTNER_SLUG)
    assert partner.names == demo.PARTNER_NAMES
    link = Partner.objects.get(campaign=campaign)
    assert link.partner == partner and link.accepted_at is not None
    assert Membership.objects.get(organization=partner).user == owner.user
    assert [box.organization for box in partners.boxes_for(campaign=campaign)] == [partner]
    assert (
        loaded
        == again
        == {"campaign_url": f"{settings.SAHA_BASE_URL}/o/{org_a.slug}/campaigns/{demo.SLUG}/"}
    )
    assert Campaign.objects.count() == 1 and Partner.objects.count() == 1
    assert CampaignItem.objects.count() == 2
    assert not Delivery.objects.exists() and mail.outbox == [] and not callbacks


def test_a_demo_statement_written_later_joins_at_the_next_load(
    org_a: Any, owner: Any, loaded: dict[str, str]
) -> None:
    try:
        slug = import_string("saha.statements.demo.DEMO_STATEMENT_SLUG")
    except ImportError:
        pytest.skip("the statements app has no demo statement")
    statement = new_statement(org_a, slug)
    demo.contribute(org_a, owner.user)
    items = CampaignItem.objects.filter(campaign__slug=demo.SLUG).order_by("position")
    assert [item.kind for item in items] == ["petition", "event", "statement"]
    assert items[2].statement == statement


def test_the_demo_hub_opens_in_each_language(
    client: Client, org_a: Any, loaded: dict[str, str]
) -> None:
    path = loaded["campaign_url"].removeprefix(settings.SAHA_BASE_URL)
    for language in ("ar", "en", "fr"):
        page = client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert demo.TITLES[language] in page
        assert demo.PARTNER_NAMES[language] in page
        assert 'data-cta="petition"' in page and 'data-cta="event"' in page


def test_an_organization_not_made_by_the_demo_is_never_taken_as_its_partner(
    org_a: Any, owner: Any
) -> None:
    """Someone else's organization holds the partner's address: the demo's owner does not
    join it, and the campaign is loaded without naming it a partner."""
    theirs = OrganizationFactory(slug=demo.PARTNER_SLUG, names={"en": "Real walkers"})
    stranger = MembershipFactory(organization=theirs, role=Role.OWNER).user
    events_demo.contribute(org_a, owner.user)
    petitions_demo.contribute(org_a, owner.user)
    info = demo.contribute(org_a, owner.user)
    demo.contribute(org_a, owner.user)
    campaign = Campaign.objects.get(slug=demo.SLUG)
    assert info["campaign_url"].endswith(f"/campaigns/{demo.SLUG}/")
    assert campaign.status == CampaignStatus.PUBLISHED
    assert not Partner.objects.exists() and partners.boxes_for(campaign=campaign) == []
    assert list(Membership.objects.filter(organization=theirs).values_list("user", "role")) == [
        (stranger.pk, Role.OWNER)
    ]
    theirs.refresh_from_db()
    assert theirs.names == {"en": "Real walkers"}


def test_a_member_that_is_not_the_owner_does_not_make_it_the_demo_s(org_a: Any, owner: Any) -> None:
    theirs = OrganizationFactory(slug=demo.PARTNER_SLUG)
    MembershipFactory(organization=theirs, user=owner.user, role=Role.VIEWER)
    demo.contribute(org_a, owner.user)
    assert not Partner.objects.exists()
    assert Membership.objects.get(organization=theirs, user=owner.user).role == Role.VIEWER
