"""`rsvp_status_changed`: sent inside the transaction for every change of status of an
RSVP that already stood (cancelled by anyone, back after cancelling, promoted from the
waiting list), and for nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from saha.events import services
from saha.events.models import Event, RsvpStatus
from saha.events.tests.test_rsvp import answer, make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def told() -> Iterator[list[tuple[int, int, str, bool]]]:
    """(rsvp id, organization id, new status, sent inside a transaction) for each signal."""
    sent: list[tuple[int, int, str, bool]] = []

    def listen(sender: Any, rsvp_id: int, organization_id: int, status: str, **kw: Any) -> None:
        # The test database wraps each test in a transaction: one more level means the
        # service's own transaction is open.
        sent.append((rsvp_id, organization_id, status, len(connection.atomic_blocks) > 1))

    services.rsvp_status_changed.connect(listen, dispatch_uid="test.rsvp_signal")
    yield sent
    services.rsvp_status_changed.disconnect(dispatch_uid="test.rsvp_signal")


def test_a_new_answer_and_the_same_answer_again_send_nothing(org_a: Any, told: list) -> None:
    event = make_event(org_a)
    answer(event, 1)
    answer(event, 1)
    assert told == []


def test_an_attendee_cancelling_from_their_ticket(org_a: Any, told: list) -> None:
    rsvp = answer(make_event(org_a), 1).rsvp
    services.cancel_rsvp(rsvp=rsvp, actor=None)
    assert told == [(rsvp.pk, org_a.pk, RsvpStatus.CANCELLED, True)]


def test_a_cancel_by_staff_or_a_token_and_a_second_cancel(
    org_a: Any, owner: Any, told: list
) -> None:
    event = make_event(org_a)
    first, second = answer(event, 1).rsvp, answer(event, 2).rsvp
    services.cancel_rsvp(rsvp=first, actor=owner.user)
    services.cancel_rsvp(rsvp=second, actor="api:sync (saha_abc…)")
    services.cancel_rsvp(rsvp=second, actor="api:sync (saha_abc…)")  # already cancelled
    assert [(pk, status) for pk, _org, status, _inside in told] == [
        (first.pk, RsvpStatus.CANCELLED),
        (second.pk, RsvpStatus.CANCELLED),
    ]


def test_coming_back_after_cancelling(org_a: Any, told: list) -> None:
    event = make_event(org_a)
    rsvp = answer(event, 1).rsvp
    services.cancel_rsvp(rsvp=rsvp)
    told.clear()
    back = answer(event, 1)
    assert back.rsvp.pk == rsvp.pk and back.rsvp.status == RsvpStatus.CONFIRMED
    assert told == [(rsvp.pk, org_a.pk, RsvpStatus.CONFIRMED, True)]


def test_coming_back_onto_the_waiting_list(org_a: Any, told: list) -> None:
    event = make_event(org_a, capacity=1)
    rsvp = answer(event, 1).rsvp
    services.cancel_rsvp(rsvp=rsvp)
    answer(event, 2)  # takes the place meanwhile
    told.clear()
    answer(event, 1)
    assert told == [(rsvp.pk, org_a.pk, RsvpStatus.WAITING, True)]


def test_a_cancel_promotes_the_first_person_waiting(org_a: Any, told: list) -> None:
    event = make_event(org_a, capacity=1)
    going, waiting = answer(event, 1).rsvp, answer(event, 2).rsvp
    services.cancel_rsvp(rsvp=going)
    assert [(pk, status, inside) for pk, _org, status, inside in told] == [
        (going.pk, RsvpStatus.CANCELLED, True),
        (waiting.pk, RsvpStatus.CONFIRMED, True),
    ]


def test_places_added_promote_the_people_waiting(org_a: Any, told: list) -> None:
    event = make_event(org_a, capacity=1)
    answer(event, 1)
    waiting = [answer(event, n).rsvp for n in (2, 3)]
    Event.objects.filter(pk=event.pk).update(capacity=3)
    services.fill_free_places(event)
    assert [(pk, status) for pk, _org, status, _inside in told] == [
        (row.pk, RsvpStatus.CONFIRMED) for row in waiting
    ]


def test_a_full_event_refusing_a_comeback_sends_nothing(org_a: Any, told: list) -> None:
    event = make_event(org_a, capacity=1, waiting_list=False)
    rsvp = answer(event, 1).rsvp
    services.cancel_rsvp(rsvp=rsvp)
    answer(event, 2)
    told.clear()
    with pytest.raises(services.EventFull):
        answer(event, 1)
    assert told == []  # sent only once the place is taken; nothing was
