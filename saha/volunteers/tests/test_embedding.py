"""An event's page and a campaign's hub carry the open needs and the offer form: the
offer posts to the organization's offer page and records where it came from, and the
page's own form keeps its field ids (no two elements share an id)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest
from django.test import Client

from saha.campaigns import services as campaign_services
from saha.campaigns.tests.helpers import hub_url, new_campaign
from saha.volunteers.models import Offer
from saha.volunteers.tests.helpers import capability, make_need

pytestmark = pytest.mark.django_db


def ids_of(page: str) -> Counter[str]:
    return Counter(re.findall(r'\sid="([^"]+)"', page))


def test_the_event_page_lists_its_needs_and_carries_the_offer_form(
    client: Client, org_a: Any
) -> None:
    need = make_need(org_a)
    event = need.event
    page = client.get(f"/o/org-a/events/{event.slug}/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()

    assert f'href="/o/org-a/needs/{need.pk}/"' in page
    assert 'action="/o/org-a/volunteer/"' in page
    assert f'<input type="hidden" name="event" value="{event.pk}">' in page
    assert [name for name, n in ids_of(page).items() if n > 1] == []


def test_the_hub_lists_the_campaign_needs_and_an_offer_records_the_campaign(
    client: Client, org_a: Any
) -> None:
    campaign = new_campaign(org_a)
    need = make_need(org_a)
    campaign_services.add_item(actor="t", campaign=campaign, target=need.event)
    campaign_need = make_need(org_a, "first-aid", event=need.event, campaign=campaign)
    page = client.get(hub_url(campaign)).content.decode()

    assert f'href="/o/org-a/needs/{campaign_need.pk}/"' in page
    assert f'<input type="hidden" name="campaign" value="{campaign.pk}">' in page
    assert [name for name, n in ids_of(page).items() if n > 1] == []

    client.post(
        "/o/org-a/volunteer/",
        {
            "campaign": campaign.pk,
            "given_name": "Rima",
            "email": "rima@example.org",
            "language": "en",
            f"cap_{capability(org_a, 'first-aid').pk}": "on",
        },
    )
    assert Offer.objects.get().source_ref == f"campaign:{campaign.pk}"
