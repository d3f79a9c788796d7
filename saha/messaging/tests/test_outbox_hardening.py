"""What a review of the outbox found, each pinned by a test: lease renewal,
writes only under one's own lease, errors halfway, a provider that is down,
races with pause and cancel, and the tasks' priorities."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from saha.messaging import broadcasts, outbox, outcomes, reconcile, tasks
from saha.messaging.compose import PAUSED_UNTIL, Composer
from saha.messaging.models import BroadcastStatus, Delivery, DeliveryStatus
from saha.messaging.providers.base import Outgoing, ProviderError
from saha.messaging.tests.outbox_factories import broadcast, crowd
from saha.supporters.models import ContactStatus, PersonEmail

pytestmark = pytest.mark.django_db


def start(made: Any) -> None:
    broadcasts.request_send(actor=None, broadcast=made)
    broadcasts.prepare(made.pk)


class Recorder:
    """A provider without `find` (like SMTP) that records every hand-over."""

    name = "recorder"
    channel = "email"
    rate = 0

    def __init__(self, *, each: Any = None, fail: dict[str, ProviderError] | None = None) -> None:
        self.each = each
        self.fail = fail or {}
        self.accepted: list[str] = []

    def open(self) -> None: ...

    def close(self) -> None: ...

    def send(self, message: Outgoing) -> str:
        if self.each is not None:
            self.each(message)
        if message.to in self.fail:
            raise self.fail[message.to]
        self.accepted.append(message.to)
        return f"id-{message.reference}"


def using(provider: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(outbox, "get_provider", lambda channel: provider)
    monkeypatch.setattr(reconcile, "get_provider", lambda channel: provider)


def statuses() -> dict[str, int]:
    counts: dict[str, int] = {}
    for status in Delivery.objects.values_list("status", flat=True):
        counts[status] = counts.get(status, 0) + 1
    return counts


class TestLeases:
    def test_a_slow_chunk_keeps_its_lease(
        self, org_a: Any, monkeypatch: Any, settings: Any
    ) -> None:
        settings.SAHA_OUTBOX_LEASE_SECONDS = 3
        crowd(org_a, 3)
        reaped: list[tuple[int, int]] = []

        def slow(message: Outgoing) -> None:
            time.sleep(1.2)  # three of these outlast the lease
            reaped.append(outbox.reap())  # another worker's reaper, meanwhile

        provider = Recorder(each=slow)
        using(provider, monkeypatch)
        start(broadcast(org_a))
        outbox.drain(budget_seconds=30)
        assert reaped == [(0, 0)] * 3
        assert statuses() == {DeliveryStatus.SENT: 3}
        assert len(provider.accepted) == 3

    def test_after_losing_its_lease_a_worker_writes_nothing(
        self, org_a: Any, monkeypatch: Any
    ) -> None:
        crowd(org_a, 2)

        def lose_lease(message: Outgoing) -> None:
            # the lease ran out and a reaper turned the chunk UNKNOWN
            Delivery.objects.update(lease_expires=timezone.now() - dt.timedelta(seconds=5))
            outbox.reap()

        using(Recorder(each=lose_lease), monkeypatch)
        start(broadcast(org_a))
        lease, claimed = outbox.claim(10)
        outbox.send_claimed(lease, claimed, Composer())
        # the SENT it would have written is refused: the rows stay unknown, to reconcile
        assert statuses() == {DeliveryStatus.UNKNOWN: 2}

    def test_release_leaves_other_workers_rows_alone(self, org_a: Any) -> None:
        crowd(org_a, 2)
        start(broadcast(org_a))
        lease_a, mine = outbox.claim(1)
        _lease_b, theirs = outbox.claim(1)
        assert outcomes.release(lease_a, [*mine, *theirs]) == 1
        assert Delivery.objects.get(pk=theirs[0].pk).status == DeliveryStatus.CLAIMED


class TestErrors:
    def test_an_error_halfway_records_what_went_and_gives_back_the_rest(
        self, org_a: Any, monkeypatch: Any
    ) -> None:
        crowd(org_a, 5)
        provider = Recorder()
        using(provider, monkeypatch)
        calls = {"n": 0}

        def wait(self: Any) -> None:
            calls["n"] += 1
            if calls["n"] == 3:
                raise RuntimeError("the cache went away")

        monkeypatch.setattr(outbox.Throttle, "wait", wait)
        start(broadcast(org_a))
        with pytest.raises(RuntimeError):
            outbox.drain(budget_seconds=10)
        assert statuses() == {DeliveryStatus.SENT: 2, DeliveryStatus.QUEUED: 3}
        assert not Delivery.objects.exclude(lease="").exists()

    def test_a_provider_down_stops_the_drain_not_just_the_batch(
        self, org_a: Any, monkeypatch: Any, settings: Any
    ) -> None:
        settings.SAHA_OUTBOX_BATCH = 4
        crowd(org_a, 12)
        down = ProviderError("connection refused")
        using(Recorder(fail={f"p{n}@example.org": down for n in range(12)}), monkeypatch)
        start(broadcast(org_a))
        drained = outbox.drain(budget_seconds=10)
        assert drained.provider_down
        assert Delivery.objects.filter(attempts__gt=0).count() == outbox.PROVIDER_DOWN_AFTER
        later = timezone.now() + dt.timedelta(seconds=30)
        assert Delivery.objects.filter(status=DeliveryStatus.QUEUED, not_before__gt=later).count()

    def test_running_out_of_attempts_is_not_a_bounce(
        self, org_a: Any, monkeypatch: Any, settings: Any
    ) -> None:
        settings.SAHA_SEND_ATTEMPTS = 1
        settings.SAHA_BOUNCE_LIMIT = 1
        crowd(org_a, 1)
        using(Recorder(fail={"p0@example.org": ProviderError("421 busy")}), monkeypatch)
        start(broadcast(org_a))
        outbox.drain(budget_seconds=5)
        assert statuses() == {DeliveryStatus.FAILED: 1}
        assert PersonEmail.objects.get().status == ContactStatus.SUBSCRIBED

    def test_a_provider_that_cannot_answer_falls_back_to_the_policy(
        self, org_a: Any, monkeypatch: Any
    ) -> None:
        class Unanswering(Recorder):
            def find(self, reference: str) -> str | None:
                raise ProviderError("gateway timeout")

        crowd(org_a, 2)
        using(Unanswering(), monkeypatch)
        start(broadcast(org_a))
        Delivery.objects.update(status=DeliveryStatus.UNKNOWN, outcome_was_unknown=True)
        reconcile.reconcile()
        assert statuses() == {DeliveryStatus.QUEUED: 2}  # resent, flagged, not stuck


def test_the_bounce_check_reads_each_organizations_own_contacts(org_a: Any, org_b: Any) -> None:
    crowd(org_a, 1)
    crowd(org_b, 1, start=50)
    start(broadcast(org_a))
    start(broadcast(org_b))
    PersonEmail.objects.filter(organization=org_b).update(status=ContactStatus.BOUNCING)
    lease, claimed = outbox.claim(10)
    ready = Composer().prepare(lease, claimed)
    assert sorted(o.to for _d, o in ready) == ["p0@example.org"]


class TestBroadcastRaces:
    def test_rows_held_by_a_pause_that_a_resume_raced_are_released(self, org_a: Any) -> None:
        crowd(org_a, 2)
        made = broadcast(org_a)
        start(made)
        Delivery.objects.update(not_before=PAUSED_UNTIL)  # halted by a stale pause
        assert broadcasts.repair_halted() == 2
        outbox.drain(budget_seconds=5)
        made.refresh_from_db()
        assert made.status == BroadcastStatus.SENT

    def test_a_cancel_before_preparing_writes_nobody_into_the_outbox(self, org_a: Any) -> None:
        crowd(org_a, 3)
        made = broadcast(org_a)
        broadcasts.request_send(actor=None, broadcast=made)
        broadcasts.cancel(actor=None, broadcast=made)
        assert broadcasts.prepare(made.pk) == 0
        assert not Delivery.objects.exists()

    def test_a_stalled_preparation_is_found_again(self, org_a: Any) -> None:
        made = broadcast(org_a)
        broadcasts.request_send(actor=None, broadcast=made)
        assert broadcasts.stalled_preparations() == []
        type(made).objects.filter(pk=made.pk).update(
            modified_at=timezone.now() - dt.timedelta(minutes=10)
        )
        assert broadcasts.stalled_preparations() == [made.pk]

    def test_an_approver_approves_the_audience_that_was_requested(
        self, org_a: Any, settings: Any
    ) -> None:
        from saha.messaging.models import MessagingSettings
        from saha.messaging.services import messaging_settings
        from saha.supporters.models import Segment

        crowd(org_a, 2)
        segment = Segment.objects.create(
            organization=org_a, name="Arabic", definition={"language": ["ar"]}
        )
        made = broadcast(org_a, segment=segment)
        MessagingSettings.objects.filter(pk=messaging_settings(org_a).pk).update(
            broadcast_requires_approval=True
        )
        broadcasts.request_send(actor=None, broadcast=made)
        segment.delete()  # meanwhile: the audience must not widen to everybody
        made.refresh_from_db()
        assert made.definition == {"language": ["ar"]}
        assert broadcasts.audience(made, made.definition).count() == 0


class TestTasks:
    def test_successor_drains_take_turns_with_other_tasks(self, org_a: Any) -> None:
        tasks.wake_outbox(priority=0)
        assert DBTaskResult.objects.get().priority == 0

    def test_a_deferred_drain_does_not_stop_an_urgent_one(self, org_a: Any) -> None:
        tasks.wake_outbox(after=dt.timedelta(minutes=2))
        assert tasks.wake_outbox() == 1
        assert DBTaskResult.objects.filter(priority=tasks.URGENT).count() == 2


def test_erasure_forgets_an_address_quoted_in_an_error(org_a: Any) -> None:
    from saha.supporters.services import erase_person
    from saha.supporters.tests.people_factories import grant, make_person

    person = make_person(org_a, email="hala@example.org", consents=[grant()])
    start(broadcast(org_a))
    Delivery.objects.update(status=DeliveryStatus.FAILED, error="550 <hala@example.org> unknown")
    erase_person(actor=None, person=person)
    assert Delivery.objects.get().error == ""


class TestSecondReview:
    def test_a_stalled_workers_set_aside_leaves_another_workers_rows_alone(
        self, org_a: Any
    ) -> None:
        crowd(org_a, 2)
        made = broadcast(org_a)
        start(made)
        stale_lease, stale = outbox.claim(10)
        # A stalled; its lease ran out; B claimed the rows again and sent them
        Delivery.objects.update(lease_expires=timezone.now() - dt.timedelta(seconds=5))
        outbox.reap()
        outbox.drain(budget_seconds=5)
        broadcasts.pause(actor=None, broadcast=made)  # too late, but A now sees PAUSED
        Composer().prepare(stale_lease, stale)
        assert statuses() == {DeliveryStatus.SENT: 2}

    def test_a_failure_counting_bounces_does_not_strand_the_next_chunk(
        self, org_a: Any, monkeypatch: Any, settings: Any
    ) -> None:
        settings.SAHA_OUTBOX_CHUNK = 2
        crowd(org_a, 4)
        refused = ProviderError("550 no such user", permanent=True)
        using(Recorder(fail={"p0@example.org": refused}), monkeypatch)

        def broken(outcome: Any) -> None:
            raise RuntimeError("database hiccup")

        monkeypatch.setattr(outbox.outcomes, "after_commit", broken)
        start(broadcast(org_a))
        outbox.drain(budget_seconds=5)
        assert statuses() == {DeliveryStatus.SENT: 3, DeliveryStatus.FAILED: 1}

    def test_a_large_paused_broadcast_does_not_hide_others_held_rows(self, org_a: Any) -> None:
        crowd(org_a, 3)
        paused, other = broadcast(org_a), broadcast(org_a)
        start(paused)
        start(other)
        broadcasts.pause(actor=None, broadcast=paused)
        Delivery.objects.filter(message=other.message).update(not_before=PAUSED_UNTIL)
        assert broadcasts.repair_halted() == 3
        assert Delivery.objects.filter(not_before=PAUSED_UNTIL).count() == 3  # the paused one

    def test_unknown_outcomes_are_not_resent_for_ever(
        self, org_a: Any, monkeypatch: Any, settings: Any
    ) -> None:
        from saha.messaging.providers import OutcomeUnknown

        settings.SAHA_SEND_ATTEMPTS = 3
        crowd(org_a, 1)
        using(Recorder(fail={"p0@example.org": OutcomeUnknown("no answer")}), monkeypatch)
        start(broadcast(org_a))
        for _ in range(8):
            Delivery.objects.filter(status=DeliveryStatus.QUEUED).update(not_before=timezone.now())
            outbox.drain(budget_seconds=5)
            reconcile.reconcile()
        delivery = Delivery.objects.get()
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)

    def test_when_the_provider_goes_down_the_rest_of_the_chunk_waits_too(
        self, org_a: Any, monkeypatch: Any, settings: Any
    ) -> None:
        settings.SAHA_OUTBOX_CHUNK = 10
        crowd(org_a, 10)
        down = ProviderError("connection refused")
        using(Recorder(fail={f"p{n}@example.org": down for n in range(10)}), monkeypatch)
        start(broadcast(org_a))
        outbox.drain(budget_seconds=5)
        assert not Delivery.objects.filter(
            status=DeliveryStatus.QUEUED, not_before__lte=timezone.now()
        ).exists()

    def test_resume_keeps_a_retry_waiting_out_its_back_off(self, org_a: Any) -> None:
        crowd(org_a, 2)
        made = broadcast(org_a)
        start(made)
        later = timezone.now() + dt.timedelta(hours=4)
        first = Delivery.objects.order_by("id").first()
        Delivery.objects.filter(pk=first.pk).update(not_before=later)
        broadcasts.pause(actor=None, broadcast=made)
        broadcasts.resume(actor=None, broadcast=made)
        assert Delivery.objects.get(pk=first.pk).not_before == later
