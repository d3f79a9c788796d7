"""The demo event: published, people coming, no tickets sent, loaded once."""

from __future__ import annotations

from typing import Any

import pytest

from saha.events import demo
from saha.events.models import Event, EventStatus, RsvpStatus
from saha.messaging.models import Delivery
from saha.supporters.tests.people_factories import make_person

pytestmark = pytest.mark.django_db


def test_the_demo_event_is_loaded_once_and_sends_nothing(org_a: Any, owner: Any) -> None:
    for n in range(3):
        make_person(org_a, email=f"d{n}@example.org")
    demo.contribute(org_a, owner.user)
    demo.contribute(org_a, owner.user)
    event = Event.objects.get(organization=org_a)
    assert event.status == EventStatus.PUBLISHED and event.confirmed == 3
    assert event.rsvps.filter(status=RsvpStatus.CONFIRMED).count() == 3
    assert not Delivery.objects.exists()
