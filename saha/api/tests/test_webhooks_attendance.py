"""attendance.updated for every change of status of an RSVP: cancelled by the attendee
from their ticket, by an organizer, through the API; back after cancelling; promoted
from the waiting list. Each told once, from real transactions that commit (as in
production: the after-commit wake-up runs and sends the first attempt)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from saha.api.models import WebhookDelivery
from saha.api.tests.conftest import make_endpoint
from saha.events import services
from saha.events.models import Event, EventStatus, Rsvp
from saha.supporters.services import PersonData

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allow_private")]


@pytest.fixture
def allow_private(settings: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True


@pytest.fixture
def hook(org_a: Any) -> Any:
    # Nothing listens on port 9: the first attempt fails, but renders and keeps the payload.
    return make_endpoint(org_a, "http://127.0.0.1:9/hook", ["attendance.updated"])


def make_event(organization: Any, **fields: Any) -> Event:
    start = timezone.now() + dt.timedelta(days=2)
    return Event.objects.create(
        organization=organization,
        slug="rally",
        titles={"en": "Rally"},
        kind="rally",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        time_zone="Asia/Beirut",
        status=EventStatus.PUBLISHED,
        **fields,
    )


def answer(event: Event, n: int) -> Rsvp:
    data = PersonData(email=f"p{n}@example.org", given_name=f"P{n}")
    return services.rsvp(event=event, data=data, notify=False).rsvp


def updates(endpoint: Any) -> list[tuple[str, str]]:
    """(attendance uuid, status as the API says it) of each attendance.updated told."""
    rows = WebhookDelivery.objects.filter(endpoint=endpoint, event_type="attendance.updated")
    told = []
    for row in rows.order_by("pk"):
        attendance = row.payload["data"]["osdi:attendance"]
        told.append((attendance["identifiers"][0].removeprefix("saha:"), attendance["status"]))
    return told


def test_an_attendee_cancelling_from_their_ticket(org_a: Any, hook: Any) -> None:
    rsvp = answer(make_event(org_a), 1)
    services.cancel_rsvp(rsvp=rsvp, actor=None)  # the ticket page: no actor, no audit row
    assert updates(hook) == [(str(rsvp.uuid), "declined")]


def test_an_organizer_cancelling_is_told_once(org_a: Any, owner: Any, hook: Any) -> None:
    rsvp = answer(make_event(org_a), 1)
    services.cancel_rsvp(rsvp=rsvp, actor=owner.user)
    assert updates(hook) == [(str(rsvp.uuid), "declined")]


def test_a_cancel_through_the_api_is_told_once(org_a: Any, api: Any, hook: Any) -> None:
    event = make_event(org_a)
    rsvp = answer(event, 1)
    answered = api.put(
        f"/api/v2/events/{event.uuid}/attendances/{rsvp.uuid}", {"status": "declined"}
    )
    assert answered.status_code == 200
    assert updates(hook) == [(str(rsvp.uuid), "declined")]


def test_coming_back_after_cancelling(org_a: Any, hook: Any) -> None:
    event = make_event(org_a)
    rsvp = answer(event, 1)
    services.cancel_rsvp(rsvp=rsvp)
    answer(event, 1)
    assert updates(hook) == [(str(rsvp.uuid), "declined"), (str(rsvp.uuid), "accepted")]


def test_a_cancel_that_promotes_someone_waiting_tells_both(org_a: Any, hook: Any) -> None:
    event = make_event(org_a, capacity=1, waiting_list=True)
    going, waiting = answer(event, 1), answer(event, 2)
    assert updates(hook) == []  # new answers are attendance.created, not updates
    services.cancel_rsvp(rsvp=going)
    assert updates(hook) == [(str(going.uuid), "declined"), (str(waiting.uuid), "accepted")]


def test_places_added_promote_the_people_waiting(org_a: Any, hook: Any) -> None:
    event = make_event(org_a, capacity=1, waiting_list=True)
    answer(event, 1)
    waiting = [answer(event, n) for n in (2, 3)]
    with transaction.atomic():
        Event.objects.filter(pk=event.pk).update(capacity=3)
        services.fill_free_places(event)
    assert updates(hook) == [(str(row.uuid), "accepted") for row in waiting]


def test_a_real_rollback_leaves_no_delivery_and_wakes_nobody(org_a: Any, hook: Any) -> None:
    rsvp = answer(make_event(org_a), 1)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.cancel_rsvp(rsvp=rsvp, actor=None)
        assert WebhookDelivery.objects.filter(event_type="attendance.updated").count() == 1
        raise RuntimeError("undone")
    assert not WebhookDelivery.objects.filter(event_type="attendance.updated").exists()
    assert Rsvp.objects.get(pk=rsvp.pk).status != "cancelled"
