"""The demo's volunteers: offers from demo supporters (vans among them), three needs on the
demo event partly covered, loaded once, nothing sent, and the offer form's address."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from saha.events import demo as events_demo
from saha.messaging.models import Delivery
from saha.supporters import demo as supporters_demo
from saha.volunteers import demo
from saha.volunteers.models import Assignment, Need, Offer, OfferedCapability, Shift

pytestmark = pytest.mark.django_db


def test_the_demo_adds_offers_and_needs_once_and_sends_nothing(
    org_a: Any, owner: Any, client: Client
) -> None:
    supporters_demo.contribute(org_a, owner.user)
    events_demo.contribute(org_a, owner.user)
    info = demo.contribute(org_a, owner.user)
    again = demo.contribute(org_a, owner.user)
    assert info == again == {"offer_url": f"{settings.SAHA_BASE_URL}/o/{org_a.slug}/volunteer/"}
    assert Offer.objects.filter(organization=org_a).count() == demo.OFFERS
    vans = OfferedCapability.objects.filter(capability__key="driver", quantity__isnull=False)
    assert vans.count() == 3 and vans.filter(quantity__gte=8).count() == 2
    needs = {
        need.capability.key: need for need in Need.objects.filter(event__slug="beach-clean-up")
    }
    assert sorted(needs) == ["driver", "first-aid", "stewarding"]
    assert needs["stewarding"].wanted == 10
    assert Shift.objects.filter(need=needs["stewarding"]).count() == 2
    assert needs["driver"].min_quantity == 8 and not needs["driver"].public_sign_up
    assert 0 < needs["stewarding"].filled < needs["stewarding"].wanted
    assert needs["driver"].filled == 1
    assert Assignment.objects.filter(need=needs["driver"], status="invited").exists()
    assert not Delivery.objects.filter(message__template__startswith="volunteers/").exists()
    assert client.get(info["offer_url"].removeprefix(settings.SAHA_BASE_URL)).status_code == 200
    page = client.get(f"/o/{org_a.slug}/needs/{needs['stewarding'].pk}/")
    assert page.status_code == 200
