"""A member of organization A gets 404 on every organizer URL of B's campaigns, by GET and
by POST, even when A is B's campaign's partner for the pages that change it; and nothing
of B changes. Every campaigns pattern under manage/ is walked, so a new one is checked
the day it is added."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLResolver, get_resolver

from saha.campaigns import services
from saha.campaigns.models import Campaign, CampaignItem, CampaignStatus, Partner
from saha.campaigns.tests.helpers import new_campaign, new_event
from saha.core.models import AuditEntry

pytestmark = pytest.mark.django_db

# Pages a partner's member may open (read-only, or leaving): the others are the host's.
PARTNER_PAGES = ("campaigns/<int:pk>/", "/signups/", "/partnership/")


def campaign_routes() -> list[str]:
    [resolver] = [
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and getattr(entry, "namespace", "") == "campaigns"
    ]
    routes = [str(entry.pattern) for entry in resolver.url_patterns]
    return [route for route in routes if route.startswith("manage/")]


def url_for(route: str, values: dict[str, Any]) -> str:
    url = "/" + route
    for name in re.findall(r"<\w+:(\w+)>", route):
        url = re.sub(rf"<\w+:{name}>", str(values[name]), url)
    return url


def answers(client: Any, url: str) -> list[int]:
    """The status of a GET and of a POST (with every field a campaign form reads)."""
    data = {"confirm": "1", "direction": "up", "target": "x", "organization": "org-a"}
    return [client.get(url).status_code, client.post(url, data).status_code]


@pytest.fixture
def bs(outsider: Any, org_b: Any) -> dict[str, Any]:
    campaign = new_campaign(org_b, slug="b-campaign", publish=False)
    item = services.add_item(actor="t", campaign=campaign, target=new_event(org_b, "b-event"))
    return {"campaign": campaign, "item": item}


def test_every_campaign_page_of_b_is_not_found_for_a(
    owner: Any, org_a: Any, org_b: Any, bs: dict[str, Any]
) -> None:
    routes = campaign_routes()
    assert len(routes) >= 15
    client = owner.mfa_client()
    values = {"pk": bs["campaign"].pk, "item": bs["item"].pk, "partner": org_a.pk}
    before = AuditEntry.objects.count()
    for route in routes:
        for slug in (org_b.slug, org_a.slug):  # B's address, and A's own with B's ids
            url = url_for(route, {**values, "slug": slug})
            if slug == org_a.slug and "<int:pk>" not in route:
                continue  # A's own list and form: its own pages
            statuses = answers(client, url)
            # Under A's own address a page refuses a method it never takes (405),
            # whatever the id: that says nothing of B. The other method finds nothing.
            allowed = {404, 405} if slug == org_a.slug else {404}
            assert 404 in statuses and set(statuses) <= allowed, f"{url}: {statuses}"
    campaign = Campaign.objects.get(pk=bs["campaign"].pk)
    assert campaign.status == CampaignStatus.DRAFT and CampaignItem.objects.count() == 1
    assert AuditEntry.objects.count() == before


def test_a_partner_cannot_open_the_hosts_changing_pages(
    outsider: Any, owner: Any, org_a: Any, org_b: Any, bs: dict[str, Any]
) -> None:
    campaign = bs["campaign"]
    services.invite_partner(actor="t", campaign=campaign, partner=org_a)
    services.accept_partnership(actor="t", campaign=campaign, partner=org_a)
    client = owner.mfa_client()
    values = {"pk": campaign.pk, "item": bs["item"].pk, "partner": org_a.pk, "slug": org_a.slug}
    for route in campaign_routes():
        if "<int:pk>" not in route or any(page in route for page in PARTNER_PAGES):
            continue
        url = url_for(route, values)
        statuses = answers(client, url)
        assert 404 in statuses and set(statuses) <= {404, 405}, f"{url}: {statuses}"
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT
    assert Partner.objects.get().accepted_at is not None
