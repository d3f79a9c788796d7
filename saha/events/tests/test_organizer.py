"""Organizers change, cancel and copy events; attendees are told once, and reminded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from saha.core.errors import DomainError
from saha.events import organizer, services, tasks
from saha.events.models import Event, EventStatus, RsvpStatus
from saha.events.tests.test_rsvp import answer, make_event
from saha.messaging import outbox
from saha.messaging.models import Delivery

pytestmark = pytest.mark.django_db


def sent_subjects() -> list[str]:
    outbox.drain(budget_seconds=5)
    return sorted(message.subject for message in mail.outbox)


@pytest.fixture
def coming(org_a: Any, django_capture_on_commit_callbacks: Any) -> Event:
    event = make_event(org_a, capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        answer(event, 1, language="en")
        answer(event, 2, language="en")  # waiting
    outbox.drain(budget_seconds=5)
    mail.outbox.clear()
    return event


def test_a_new_time_is_announced_to_everyone_who_answered(
    coming: Event, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    later = coming.starts_at + dt.timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        organizer.update_event(
            actor=owner.user, event=coming, starts_at=later, ends_at=later + dt.timedelta(hours=1)
        )
    assert coming.revision == 1
    assert sent_subjects() == ["Changed: Beach clean-up", "Changed: Beach clean-up"]
    # the task run again (a crash, a retry) tells nobody twice
    tasks.tell_attendees.call(coming.pk, "changed", "r1")
    assert Delivery.objects.filter(message__template="events/messages/changed").count() == 2


def test_a_new_title_is_no_news(coming: Event, owner: Any) -> None:
    organizer.update_event(actor=owner.user, event=coming, titles={"en": "Clean-up"})
    assert coming.revision == 0


def test_cancelling_tells_everyone_once(
    coming: Event, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert organizer.cancel_event(actor=owner.user, event=coming)
        assert not organizer.cancel_event(actor=owner.user, event=coming)
    assert sent_subjects() == ["Cancelled: Beach clean-up", "Cancelled: Beach clean-up"]
    assert Event.objects.get(pk=coming.pk).status == EventStatus.CANCELLED


def test_reminders_go_once_each_when_due(coming: Event) -> None:
    assert organizer.claim_due_reminders() == []
    day_before = coming.starts_at - dt.timedelta(hours=23)
    assert organizer.claim_due_reminders(day_before) == [(coming.pk, 24 * 60, 0)]
    assert organizer.claim_due_reminders(day_before) == []
    hour_before = coming.starts_at - dt.timedelta(minutes=90)
    assert organizer.claim_due_reminders(hour_before) == [(coming.pk, 120, 0)]
    tasks.tell_attendees.call(coming.pk, "reminder", "m1440-r0")
    # only the confirmed attendee is reminded, not the one waiting
    assert sent_subjects() == [f"Reminder: Beach clean-up, {_when(coming)}"]


def _when(event: Event) -> str:
    import zoneinfo

    from django.utils import formats, translation

    local = event.starts_at.astimezone(zoneinfo.ZoneInfo(event.time_zone))
    with translation.override("en"):
        return formats.date_format(local, "DATETIME_FORMAT")


def test_a_copy_is_a_draft_with_nobody_coming(coming: Event, owner: Any) -> None:
    start = timezone.now() + dt.timedelta(days=30)
    copy = organizer.duplicate(actor=owner.user, event=coming, slug="clean-up-2", starts_at=start)
    assert copy.status == EventStatus.DRAFT and copy.confirmed == 0
    assert copy.ends_at - copy.starts_at == coming.ends_at - coming.starts_at
    assert not copy.rsvps.exists()
    assert coming.rsvps.filter(status=RsvpStatus.CONFIRMED).count() == 1


def test_a_postponed_event_is_reminded_again_from_its_new_start(coming: Event, owner: Any) -> None:
    day_before = coming.starts_at - dt.timedelta(hours=23)
    assert organizer.claim_due_reminders(day_before) == [(coming.pk, 24 * 60, 0)]
    later = coming.starts_at + dt.timedelta(days=3)
    organizer.update_event(
        actor=owner.user, event=coming, starts_at=later, ends_at=later + dt.timedelta(hours=3)
    )
    assert coming.reminders_sent == []
    new_day_before = later - dt.timedelta(hours=23)
    assert organizer.claim_due_reminders(new_day_before) == [(coming.pk, 24 * 60, 1)]


def test_an_edit_keeps_what_rsvps_changed_meanwhile(coming: Event, owner: Any) -> None:
    stale = Event.objects.get(pk=coming.pk)  # read before the others act
    answer(coming, 3, language="en")  # waiting (capacity 1)
    organizer.cancel_event(actor=owner.user, event=coming)
    with pytest.raises(DomainError) as refused:
        organizer.update_event(actor=owner.user, event=stale, titles={"en": "New"})
    assert refused.value.code == "event_cancelled"
    fresh = Event.objects.get(pk=coming.pk)
    assert fresh.status == EventStatus.CANCELLED and fresh.confirmed == 1


def test_an_edit_does_not_reset_the_places_taken(coming: Event, owner: Any) -> None:
    stale = Event.objects.get(pk=coming.pk)
    organizer.update_event(actor=owner.user, event=coming, capacity=5)  # promotes the waiting one
    answer(coming, 3, language="en")
    organizer.update_event(actor=owner.user, event=stale, titles={"en": "New"})
    fresh = Event.objects.get(pk=coming.pk)
    assert fresh.confirmed == 3 == coming.rsvps.filter(status=RsvpStatus.CONFIRMED).count()


def test_raising_the_capacity_promotes_the_waiting_list_in_order(
    coming: Event, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for n in (3, 4, 5):
        answer(coming, n, language="en")  # all waiting, after P2
    with django_capture_on_commit_callbacks(execute=True):
        organizer.update_event(actor=owner.user, event=coming, capacity=3)
    statuses = dict(coming.rsvps.values_list("person__given_name", "status"))
    assert statuses == {
        "P1": RsvpStatus.CONFIRMED,
        "P2": RsvpStatus.CONFIRMED,
        "P3": RsvpStatus.CONFIRMED,
        "P4": RsvpStatus.WAITING,
        "P5": RsvpStatus.WAITING,
    }
    assert Event.objects.get(pk=coming.pk).confirmed == 3
    promoted = "A place opened up: you are coming to Beach clean-up"
    assert sent_subjects() == [promoted, promoted]  # P2 and P3, told once each


def test_a_cancellation_after_the_capacity_was_lowered_promotes_nobody(
    coming: Event, owner: Any
) -> None:
    organizer.update_event(actor=owner.user, event=coming, capacity=2)  # P2 promoted
    answer(coming, 3, language="en")  # waiting
    organizer.update_event(actor=owner.user, event=coming, capacity=1)
    first = coming.rsvps.get(person__given_name="P1")
    assert services.cancel_rsvp(rsvp=first) is None  # 1 coming for 1 place: still full
    assert Event.objects.get(pk=coming.pk).confirmed == 1
    assert coming.rsvps.get(person__given_name="P3").status == RsvpStatus.WAITING


def test_a_cancellation_on_a_cancelled_event_promotes_nobody(coming: Event, owner: Any) -> None:
    organizer.cancel_event(actor=owner.user, event=coming)
    first = coming.rsvps.get(person__given_name="P1")
    assert services.cancel_rsvp(rsvp=first) is None
    assert coming.rsvps.get(person__given_name="P2").status == RsvpStatus.WAITING
