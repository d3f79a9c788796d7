"""RSVPs: one per person, never past capacity however many arrive at once, a
waiting list that moves one place at a time, and check-ins that count once."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from saha.events import services, tickets
from saha.events.models import CheckIn, Event, EventStatus, Rsvp, RsvpStatus
from saha.messaging import outbox
from saha.supporters.services import PersonData
from saha.supporters.tests.people_factories import postgres_only

pytestmark = pytest.mark.django_db


def make_event(organization: Any, **fields: Any) -> Event:
    start = timezone.now() + dt.timedelta(days=3)
    values = {
        "organization": organization,
        "slug": "clean-up",
        "titles": {"en": "Beach clean-up", "ar": "تنظيف الشاطئ"},
        "kind": "rally",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=3),
        "time_zone": "Asia/Beirut",
        "status": EventStatus.PUBLISHED,
        **fields,
    }
    return Event.objects.create(**values)


def answer(event: Event, n: int, **data: Any) -> services.RsvpResult:
    return services.rsvp(
        event=event, data=PersonData(email=f"p{n}@example.org", given_name=f"P{n}", **data)
    )


def counts(event: Event) -> dict[str, int]:
    found: dict[str, int] = {}
    for status in Rsvp.objects.filter(event=event).values_list("status", flat=True):
        found[status] = found.get(status, 0) + 1
    return found


class TestRsvp:
    def test_an_answer_confirms_and_sends_the_ticket(
        self, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        event = make_event(org_a)
        with django_capture_on_commit_callbacks(execute=True):
            result = answer(event, 1, language="en")
        assert result.created and result.rsvp.status == RsvpStatus.CONFIRMED
        assert result.rsvp.person.source == "event"
        outbox.drain(budget_seconds=5)
        [email] = mail.outbox
        assert email.subject == "You are coming: Beach clean-up"
        assert result.rsvp.code in email.body
        token = email.body.split("/t/", 1)[1].split("/", 1)[0]
        assert tickets.read_ticket(token) == result.rsvp.pk

    def test_the_same_person_twice_is_one_rsvp(self, org_a: Any) -> None:
        event = make_event(org_a)
        first, again = answer(event, 1), answer(event, 1)
        assert first.rsvp.pk == again.rsvp.pk and not again.created
        assert Event.objects.get(pk=event.pk).confirmed == 1

    def test_full_means_the_waiting_list_then_promotion_of_exactly_one(self, org_a: Any) -> None:
        event = make_event(org_a, capacity=2)
        results = [answer(event, n) for n in range(4)]
        assert [r.rsvp.status for r in results] == ["confirmed", "confirmed", "waiting", "waiting"]
        promoted = services.cancel_rsvp(rsvp=results[0].rsvp)
        assert promoted is not None and promoted.pk == results[2].rsvp.pk
        assert counts(event) == {"cancelled": 1, "confirmed": 2, "waiting": 1}
        assert Event.objects.get(pk=event.pk).confirmed == 2

    def test_without_a_waiting_list_a_full_event_says_so(self, org_a: Any) -> None:
        event = make_event(org_a, capacity=1, waiting_list=False)
        answer(event, 1)
        with pytest.raises(services.EventFull):
            answer(event, 2)

    def test_a_cancelled_place_with_nobody_waiting_is_free_again(self, org_a: Any) -> None:
        event = make_event(org_a, capacity=1)
        first = answer(event, 1)
        services.cancel_rsvp(rsvp=first.rsvp)
        assert Event.objects.get(pk=event.pk).confirmed == 0
        assert answer(event, 2).rsvp.status == RsvpStatus.CONFIRMED

    def test_coming_back_after_cancelling_joins_the_queue_again(self, org_a: Any) -> None:
        event = make_event(org_a, capacity=1)
        first = answer(event, 1)
        services.cancel_rsvp(rsvp=first.rsvp)
        answer(event, 2)
        again = answer(event, 1)
        assert again.rsvp.pk == first.rsvp.pk and again.rsvp.status == RsvpStatus.WAITING

    @pytest.mark.parametrize("status", [EventStatus.DRAFT, EventStatus.CANCELLED])
    def test_only_a_published_event_takes_answers(self, org_a: Any, status: str) -> None:
        event = make_event(org_a, status=status)
        with pytest.raises(services.EventClosed):
            answer(event, 1)


class TestCheckIn:
    def test_a_request_sent_twice_is_one_check_in(self, org_a: Any, owner: Any) -> None:
        event = make_event(org_a)
        rsvp = answer(event, 1).rsvp
        first = services.check_in(event=event, rsvp=rsvp, actor=owner.user, nonce="n-1")
        again = services.check_in(event=event, rsvp=rsvp, actor=owner.user, nonce="n-1")
        assert first.check_in.pk == again.check_in.pk and not again.already
        assert CheckIn.objects.count() == 1

    def test_a_second_scan_says_who_let_them_in_and_when(self, org_a: Any, owner: Any) -> None:
        event = make_event(org_a)
        rsvp = answer(event, 1).rsvp
        first = services.check_in(event=event, rsvp=rsvp, actor=owner.user, nonce="a")
        second = services.check_in(event=event, rsvp=rsvp, actor=None, nonce="b")
        assert second.already and second.check_in.pk == first.check_in.pk
        assert second.check_in.checked_in_by == owner.user

    def test_only_confirmed_attendees_come_in(self, org_a: Any) -> None:
        event = make_event(org_a, capacity=1)
        answer(event, 1)
        waiting = answer(event, 2).rsvp
        with pytest.raises(services.DomainError):
            services.check_in(event=event, rsvp=waiting, actor=None, nonce="x")


def test_ticket_tokens_carry_no_personal_data_and_refuse_forgeries() -> None:
    token = tickets.ticket_token(42)
    assert tickets.read_ticket(token) == 42
    assert tickets.read_ticket(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert tickets.read_ticket("٤٢-abc") is None
    assert "@" not in token


def test_the_capacity_is_the_rows_not_the_one_read_before(org_a: Any) -> None:
    event = make_event(org_a)  # no limit when the page was read
    Event.objects.filter(pk=event.pk).update(capacity=1, waiting_list=True)
    assert answer(event, 1).rsvp.status == RsvpStatus.CONFIRMED
    assert answer(event, 2).rsvp.status == RsvpStatus.WAITING  # not a second place
    Event.objects.filter(pk=event.pk).update(capacity=None)
    stale = make_event(org_a, slug="other", capacity=1, waiting_list=True)
    answer(stale, 3)
    Event.objects.filter(pk=stale.pk).update(capacity=None)
    assert answer(stale, 4).rsvp.status == RsvpStatus.CONFIRMED  # the limit is gone


def test_merging_two_records_gives_the_kept_one_their_answers(org_a: Any, owner: Any) -> None:
    from saha.supporters.services import merge_people

    one, other = make_event(org_a), make_event(org_a, slug="other")
    kept = answer(one, 1).rsvp
    moved = answer(other, 2).rsvp
    merge_people(actor=owner.user, kept=kept.person, other=moved.person)
    moved.refresh_from_db()
    assert moved.person_id == kept.person_id


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_five_hundred_answers_at_once_fill_exactly_one_hundred_places(org_a: Any) -> None:
    event = make_event(org_a, capacity=100)
    threads, per_thread = 50, 10  # 500 answers; PostgreSQL allows 100 connections
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def flood(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            for n in range(per_thread):
                answer(event, index * per_thread + n)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=flood, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    assert counts(event) == {"confirmed": 100, "waiting": 400}
    assert Event.objects.get(pk=event.pk).confirmed == 100

    # one cancellation promotes exactly one: the first who waited
    first_waiting = Rsvp.objects.filter(event=event, status=RsvpStatus.WAITING).order_by("pk")[0]
    one = Rsvp.objects.filter(event=event, status=RsvpStatus.CONFIRMED).first()
    assert services.cancel_rsvp(rsvp=one) == first_waiting
    assert counts(event) == {"confirmed": 100, "waiting": 399, "cancelled": 1}

    # ... and two at once, exactly two
    confirmed = list(Rsvp.objects.filter(event=event, status=RsvpStatus.CONFIRMED)[:2])
    cancel_errors: list[BaseException] = []

    def cancel(rsvp: Rsvp) -> None:
        try:
            services.cancel_rsvp(rsvp=rsvp)
        except BaseException as error:
            cancel_errors.append(error)
        finally:
            connections.close_all()

    pair = [threading.Thread(target=cancel, args=(r,)) for r in confirmed]
    for thread in pair:
        thread.start()
    for thread in pair:
        thread.join(timeout=60)
    assert cancel_errors == []
    assert counts(event) == {"confirmed": 100, "waiting": 397, "cancelled": 3}
    assert Event.objects.get(pk=event.pk).confirmed == 100
