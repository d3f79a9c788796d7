"""Reminders 24 hours and 2 hours before a shift (or a need without shifts): each claimed
once however many workers tick, sent once to each volunteer with a place, never late."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from saha.events.models import Event, EventStatus
from saha.messaging.models import Delivery
from saha.supporters.services import PersonData
from saha.volunteers import reminders, services, tasks
from saha.volunteers.models import Need, Shift
from saha.volunteers.tests.helpers import make_event, make_need, sent_email_bodies

pytestmark = pytest.mark.django_db


def reminder_deliveries() -> list[Delivery]:
    return list(Delivery.objects.filter(message__template="volunteers/messages/reminder"))


@pytest.fixture
def shift(org_a: Any) -> Shift:
    start = timezone.now() + dt.timedelta(days=2)
    need = make_need(org_a, event=make_event(org_a, starts_at=start, ends_at=start), wanted=5)
    made = services.add_shift(
        actor="test", need=need, starts_at=start, ends_at=start + dt.timedelta(hours=2), capacity=2
    )
    for n in range(3):  # two with a place, one waiting: only the two are reminded
        services.sign_up_for_shift(
            shift=made, data=PersonData(email=f"s{n}@example.org", language="en")
        )
    return made


def test_nothing_is_due_two_days_before(shift: Shift) -> None:
    assert reminders.claim_due_reminders() == []


def test_each_reminder_is_claimed_once_and_sent_to_those_with_a_place(
    shift: Shift, django_capture_on_commit_callbacks: Any
) -> None:
    day_before = shift.starts_at - dt.timedelta(hours=23)
    due = reminders.claim_due_reminders(day_before)
    assert [(d.kind, d.pk, d.minutes) for d in due] == [("shift", shift.pk, 24 * 60)]
    assert reminders.claim_due_reminders(day_before) == []  # another worker, same tick
    with django_capture_on_commit_callbacks(execute=True):
        assert reminders.remind(due[0]) == 2
        assert reminders.remind(due[0]) == 2  # the task run twice
    assert len(reminder_deliveries()) == 2
    two_hours = shift.starts_at - dt.timedelta(minutes=90)
    due = reminders.claim_due_reminders(two_hours)
    assert [d.minutes for d in due] == [120]
    with django_capture_on_commit_callbacks(execute=True):
        reminders.remind(due[0])
    assert len(reminder_deliveries()) == 4
    bodies = sent_email_bodies()
    assert sum("Reminder" in body or "See you soon" in body for body in bodies) >= 4


def test_a_shift_added_late_gets_no_reminder_whose_time_has_passed(org_a: Any) -> None:
    start = timezone.now() + dt.timedelta(hours=5)
    need = make_need(org_a, event=make_event(org_a, starts_at=start, ends_at=start))
    late = services.add_shift(actor="test", need=need, starts_at=start, ends_at=start, capacity=1)
    assert late.reminders_sent == [24 * 60]
    due = reminders.claim_due_reminders(start - dt.timedelta(hours=1))
    assert [(d.kind, d.minutes) for d in due] == [("shift", 120)]


def test_a_need_without_shifts_is_reminded_too_and_again_when_it_moves(org_a: Any) -> None:
    start = timezone.now() + dt.timedelta(days=3)
    need = make_need(org_a, event=make_event(org_a, starts_at=start, ends_at=start))
    services.sign_up_for_need(need=need, data=PersonData(email="a@example.org"))
    due = reminders.claim_due_reminders(start - dt.timedelta(hours=20))
    assert [(d.kind, d.pk, d.minutes) for d in due] == [("need", need.pk, 24 * 60)]
    later = start + dt.timedelta(days=2)
    services.update_need(actor="test", need=need, starts_at=later, ends_at=later)
    assert Need.objects.get(pk=need.pk).reminders_sent == []
    again = reminders.claim_due_reminders(later - dt.timedelta(hours=20))
    assert [(d.minutes, d.starts) for d in again] == [(24 * 60, later.isoformat())]


def test_a_cancelled_events_volunteers_are_not_reminded(shift: Shift) -> None:
    Event.objects.filter(pk=shift.need.event_id).update(status=EventStatus.CANCELLED)
    assert reminders.claim_due_reminders(shift.starts_at - dt.timedelta(hours=1)) == []


def test_the_periodic_task_claims_and_sends(
    shift: Shift, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    moment = shift.starts_at - dt.timedelta(hours=23)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_due_reminders.call() == 1
        assert tasks.send_due_reminders.call() == 0
    assert len(reminder_deliveries()) == 2
