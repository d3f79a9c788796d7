"""What the API needs of the RSVP service: a supporter's source, and an audit row when a
machine (an API token's label) cancels an answer, as when a member of staff does."""

from __future__ import annotations

from typing import Any

import pytest

from saha.core.models import AuditEntry
from saha.events import services
from saha.events.tests.test_rsvp import make_event
from saha.supporters.models import Person, Source
from saha.supporters.services import PersonData

pytestmark = pytest.mark.django_db


def test_a_new_supporter_keeps_the_source_it_came_through(org_a: Any) -> None:
    event = make_event(org_a)
    services.rsvp(event=event, data=PersonData(email="api@example.org"), person_source=Source.API)
    services.rsvp(event=event, data=PersonData(email="form@example.org"))
    assert list(Person.objects.order_by("id").values_list("source", flat=True)) == [
        Source.API,
        Source.EVENT,
    ]


def test_a_cancellation_by_a_machine_is_audited_and_the_attendees_own_is_not(
    org_a: Any,
) -> None:
    event = make_event(org_a)
    by_token = services.rsvp(event=event, data=PersonData(email="a@example.org")).rsvp
    own = services.rsvp(event=event, data=PersonData(email="b@example.org")).rsvp
    services.cancel_rsvp(rsvp=by_token, actor="api:sync (saha_abc…)")
    services.cancel_rsvp(rsvp=own)
    entry = AuditEntry.objects.get(action="events.rsvp.cancelled")
    assert entry.actor_label == "api:sync (saha_abc…)"
    assert entry.target_id == str(by_token.pk)
