"""The outbox: each recipient once, whatever fails, and nothing sent that should not be."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from saha.messaging import broadcasts, outbox, outcomes, reconcile
from saha.messaging.models import (
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    MessagingSettings,
)
from saha.messaging.providers.base import Outgoing, ProviderError
from saha.messaging.services import messaging_settings, send_transactional
from saha.messaging.tests.outbox_factories import broadcast, crowd
from saha.supporters.models import Channel, ConsentStatus, ContactStatus, PersonEmail
from saha.supporters.tests.people_factories import consent, grant, make_person

pytestmark = pytest.mark.django_db


def send(made: Any, actor: Any = None) -> None:
    """Press send and let the worker do its part, here and now."""
    broadcasts.request_send(actor=actor, broadcast=made)
    broadcasts.prepare(made.pk)
    outbox.drain(budget_seconds=30)
    made.refresh_from_db()


def statuses(made: Any) -> dict[str, int]:
    return {k: v for k, v in broadcasts.progress(made).counts.items() if v}


class FlakyProvider:
    """A provider that fails some addresses, to drive the outbox's error paths."""

    name = "flaky"
    channel = "email"
    rate = 0

    def __init__(self, failures: dict[str, ProviderError]) -> None:
        self.failures = failures
        self.accepted: list[Outgoing] = []

    def open(self) -> None: ...

    def close(self) -> None: ...

    def send(self, message: Outgoing) -> str:
        if message.to in self.failures:
            raise self.failures[message.to]
        self.accepted.append(message)
        return f"id-{message.reference}"


def using(provider: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(outbox, "get_provider", lambda channel: provider)


class TestBroadcast:
    def test_each_recipient_gets_one_message_in_their_language(self, org_a: Any) -> None:
        crowd(org_a, 3, language="ar")
        crowd(org_a, 2, language="en", start=100)
        crowd(org_a, 1, language="fr", start=200)
        made = broadcast(
            org_a,
            versions={
                "ar": ("تجمع", "مرحبا {{ given_name }}"),
                "en": ("Rally", "Hi {{ given_name }}"),
            },
        )
        send(made)
        assert statuses(made) == {DeliveryStatus.SENT: 6}
        assert made.status == BroadcastStatus.SENT and made.recipients == 6
        subjects = sorted(m.subject for m in mail.outbox)
        # the French speaker gets the fallback (English)
        assert subjects == ["Rally", "Rally", "Rally", "تجمع", "تجمع", "تجمع"]
        arabic = next(m for m in mail.outbox if m.subject == "تجمع")
        assert "مرحبا P" in arabic.body
        assert 'dir="rtl"' in arabic.alternatives[0].content

    def test_merge_values_cannot_become_markup(self, org_a: Any, memory_provider_sent: Any) -> None:
        make_person(org_a, email="x@example.org", given_name="<b>Hala</b>", consents=[grant()])
        send(
            broadcast(org_a, versions={"en": ("Hi {{ given_name }}", "**Dear** {{ given_name }}")})
        )
        message = memory_provider_sent[0].message
        assert "&lt;b&gt;Hala&lt;/b&gt;" in message.html and "<b>Hala" not in message.html
        assert "<strong>Dear</strong>" in message.html
        assert message.subject == "Hi <b>Hala</b>"  # plain text: left as typed

    def test_bulk_email_offers_one_click_unsubscribe(
        self, org_a: Any, memory_provider_sent: Any
    ) -> None:
        crowd(org_a, 1)
        send(broadcast(org_a))
        headers = memory_provider_sent[0].message.headers
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert (
            headers["List-Unsubscribe"].startswith("<http") and "/u/" in headers["List-Unsubscribe"]
        )
        assert "/u/" in memory_provider_sent[0].message.body  # the footer's link

    def test_only_people_who_agreed_and_can_be_reached(self, org_a: Any) -> None:
        crowd(org_a, 2)
        make_person(org_a, email="no-consent@example.org")
        withdrawn = make_person(org_a, email="gone@example.org", consents=[grant()])
        consent(withdrawn, status=ConsentStatus.WITHDRAWN)
        bouncing = make_person(org_a, email="bounce@example.org", consents=[grant()])
        PersonEmail.objects.filter(person=bouncing).update(status=ContactStatus.BOUNCING)
        made = broadcast(org_a)
        send(made)
        assert made.recipients == 2
        assert sorted(m.to[0] for m in mail.outbox) == ["p0@example.org", "p1@example.org"]

    def test_pressing_send_twice_sends_once(
        self, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        crowd(org_a, 5)
        made = broadcast(org_a)
        with django_capture_on_commit_callbacks(execute=True):
            broadcasts.request_send(actor=None, broadcast=made)
            broadcasts.request_send(actor=None, broadcast=made)
            again = type(made).objects.get(pk=made.pk)  # a second admin's stale page
            broadcasts.request_send(actor=None, broadcast=again)
        broadcasts.prepare(made.pk)  # a task run twice
        outbox.drain(budget_seconds=10)
        assert Delivery.objects.filter(message=made.message).count() == 5
        assert len(mail.outbox) == 5

    def test_withdrawn_while_sending_is_skipped(self, org_a: Any) -> None:
        ids = crowd(org_a, 3)
        made = broadcast(org_a)
        broadcasts.request_send(actor=None, broadcast=made)
        broadcasts.prepare(made.pk)
        from saha.supporters.models import Person

        consent(Person.objects.get(pk=ids[0]), status=ConsentStatus.WITHDRAWN)
        outbox.drain(budget_seconds=10)
        assert statuses(made) == {DeliveryStatus.SENT: 2, DeliveryStatus.SKIPPED: 1}

    def test_pause_holds_and_resume_sends(self, org_a: Any) -> None:
        crowd(org_a, 4)
        made = broadcast(org_a)
        broadcasts.request_send(actor=None, broadcast=made)
        broadcasts.prepare(made.pk)
        broadcasts.pause(actor=None, broadcast=made)
        outbox.drain(budget_seconds=5)
        assert len(mail.outbox) == 0
        broadcasts.resume(actor=None, broadcast=made)
        outbox.drain(budget_seconds=5)
        assert len(mail.outbox) == 4
        made.refresh_from_db()
        assert made.status == BroadcastStatus.SENT

    def test_cancel_stops_what_has_not_gone(self, org_a: Any) -> None:
        crowd(org_a, 3)
        made = broadcast(org_a)
        broadcasts.request_send(actor=None, broadcast=made)
        broadcasts.prepare(made.pk)
        broadcasts.cancel(actor=None, broadcast=made)
        outbox.drain(budget_seconds=5)
        assert len(mail.outbox) == 0
        assert statuses(made) == {DeliveryStatus.CANCELLED: 3}

    def test_scheduled_starts_when_due(
        self, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        crowd(org_a, 1)
        made = broadcast(org_a)
        later = timezone.now() + dt.timedelta(hours=1)
        broadcasts.request_send(actor=None, broadcast=made, when=later)
        assert made.status == BroadcastStatus.SCHEDULED
        assert broadcasts.start_due() == 0
        type(made).objects.filter(pk=made.pk).update(scheduled_for=timezone.now())
        with django_capture_on_commit_callbacks(execute=False):
            assert broadcasts.start_due() == 1


class TestFailures:
    def test_temporary_error_is_retried_later(self, org_a: Any, monkeypatch: Any) -> None:
        crowd(org_a, 2)
        provider = FlakyProvider({"p0@example.org": ProviderError("451 try later")})
        using(provider, monkeypatch)
        made = broadcast(org_a)
        send(made)
        retry = Delivery.objects.get(address="p0@example.org")
        assert (retry.status, retry.attempts) == (DeliveryStatus.QUEUED, 1)
        assert retry.not_before > timezone.now() + dt.timedelta(seconds=30)
        assert made.status == BroadcastStatus.SENDING  # not finished while a retry waits

    def test_permanent_errors_fail_and_mark_the_address(
        self, org_a: Any, monkeypatch: Any, settings: Any
    ) -> None:
        settings.SAHA_BOUNCE_LIMIT = 1
        crowd(org_a, 2)
        provider = FlakyProvider(
            {"p0@example.org": ProviderError("550 no such user", permanent=True)}
        )
        using(provider, monkeypatch)
        made = broadcast(org_a)
        send(made)
        assert statuses(made) == {DeliveryStatus.SENT: 1, DeliveryStatus.FAILED: 1}
        assert PersonEmail.objects.get(address="p0@example.org").status == ContactStatus.BOUNCING
        assert made.status == BroadcastStatus.SENT

    def test_a_provider_that_is_down_stops_the_batch(self, org_a: Any, monkeypatch: Any) -> None:
        crowd(org_a, 10)
        down = ProviderError("connection refused")
        provider = FlakyProvider({f"p{n}@example.org": down for n in range(10)})
        using(provider, monkeypatch)
        send(broadcast(org_a))
        attempted = Delivery.objects.filter(attempts__gt=0).count()
        assert attempted == outbox.PROVIDER_DOWN_AFTER
        assert Delivery.objects.filter(status=DeliveryStatus.QUEUED).count() == 10


class TestLeases:
    def test_claims_never_overlap(self, org_a: Any) -> None:
        crowd(org_a, 10)
        made = broadcast(org_a)
        broadcasts.request_send(actor=None, broadcast=made)
        broadcasts.prepare(made.pk)
        _lease_a, first = outbox.claim(6)
        _lease_b, second = outbox.claim(6)
        assert len(first) == 6 and len(second) == 4
        assert not {d.pk for d in first} & {d.pk for d in second}

    def test_a_dead_workers_claim_returns_and_its_sending_chunk_is_reconciled(
        self, org_a: Any, memory_provider_sent: Any
    ) -> None:
        crowd(org_a, 6)
        made = broadcast(org_a)
        broadcasts.request_send(actor=None, broadcast=made)
        broadcasts.prepare(made.pk)
        lease, claimed = outbox.claim(6)
        # the worker marked 2 SENDING and the provider accepted one, then it died
        ours = outcomes.mark_sending(lease, claimed[:2])
        sending = [d for d in claimed if d.pk in ours]
        from saha.messaging.compose import Composer

        ready = dict(Composer().prepare(lease, claimed))
        from saha.messaging.providers import get_provider

        provider = get_provider("email")
        provider.send(ready[sending[0]])
        past = timezone.now() - dt.timedelta(seconds=1)
        Delivery.objects.filter(lease=lease).update(lease_expires=past)
        assert outbox.reap() == (4, 2)
        assert reconcile.reconcile() == 2
        outbox.drain(budget_seconds=5)
        # the memory provider can be asked: the accepted one is not sent again
        assert len(memory_provider_sent) == 6
        assert Delivery.objects.filter(outcome_was_unknown=True).count() == 2
        assert statuses(made) == {DeliveryStatus.SENT: 6}

    def test_without_a_way_to_ask_unknown_outcomes_are_resent_with_the_same_reference(
        self, org_a: Any, monkeypatch: Any
    ) -> None:
        crowd(org_a, 1)
        provider = FlakyProvider({})
        using(provider, monkeypatch)
        monkeypatch.setattr(reconcile, "get_provider", lambda channel: provider)
        made = broadcast(org_a)
        broadcasts.request_send(actor=None, broadcast=made)
        broadcasts.prepare(made.pk)
        Delivery.objects.update(status=DeliveryStatus.UNKNOWN, outcome_was_unknown=True)
        reconcile.reconcile()
        delivery = Delivery.objects.get()
        assert delivery.status == DeliveryStatus.QUEUED and delivery.error == reconcile.RESENT
        with override_settings(SAHA_UNKNOWN_OUTCOME="fail"):
            Delivery.objects.update(status=DeliveryStatus.UNKNOWN)
            reconcile.reconcile()
        assert Delivery.objects.get().status == DeliveryStatus.FAILED


class TestQuietHours:
    def test_sms_waits_for_morning_unless_urgent(
        self, org_a: Any, memory_provider_sent: Any
    ) -> None:
        crowd(org_a, 2, channel=Channel.SMS)
        # quiet all day long, but for one minute that has just passed
        now = timezone.now().astimezone(dt.UTC)
        settings_row = messaging_settings(org_a)
        MessagingSettings.objects.filter(pk=settings_row.pk).update(
            quiet_start=(now - dt.timedelta(minutes=1)).time(),
            quiet_end=(now - dt.timedelta(minutes=2)).time(),
        )
        org_a.time_zone = "UTC"
        org_a.save()
        held = broadcast(org_a, channel=Channel.SMS, versions={"en": ("", "Rally at 5")})
        send(held)
        assert statuses(held) == {DeliveryStatus.QUEUED: 2}
        assert Delivery.objects.filter(message=held.message).first().not_before > timezone.now()
        urgent = broadcast(
            org_a, channel=Channel.SMS, versions={"en": ("", "Leave by gate B")}, urgent=True
        )
        send(urgent)
        assert statuses(urgent) == {DeliveryStatus.SENT: 2}


class TestTransactional:
    def test_a_key_sends_once(self, org_a: Any) -> None:
        person = make_person(org_a, email="hala@example.org", given_name="Hala")
        first = send_transactional(
            person, "messaging/transactional/confirm_email", {"url": "https://x/c/1/"}, key="k1"
        )
        again = send_transactional(
            person, "messaging/transactional/confirm_email", {"url": "https://x/c/1/"}, key="k1"
        )
        assert first.pk == again.pk
        outbox.drain(budget_seconds=5)
        assert len(mail.outbox) == 1 and "https://x/c/1/" in mail.outbox[0].body

    def test_transactional_goes_before_a_broadcast(self, org_a: Any) -> None:
        crowd(org_a, 5)
        made = broadcast(org_a)
        broadcasts.request_send(actor=None, broadcast=made)
        broadcasts.prepare(made.pk)
        person = make_person(org_a, email="urgent@example.org")
        send_transactional(person, "messaging/transactional/confirm_email", {"url": "u"})
        _lease, batch = outbox.claim(1)
        assert batch[0].address == "urgent@example.org"

    def test_no_address_is_recorded_not_sent(self, org_a: Any) -> None:
        person = make_person(org_a, email="a@example.org")
        delivery = send_transactional(
            person, "messaging/transactional/confirm_email", {}, channel=Channel.SMS
        )
        assert delivery.status == DeliveryStatus.SKIPPED

    def test_double_opt_in_sends_the_confirmation_link(
        self, org_a: Any, client: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        from saha.supporters.models import PrivacySettings

        PrivacySettings.objects.create(organization=org_a, email_double_opt_in=True)
        with django_capture_on_commit_callbacks(execute=True):
            person = make_person(org_a, email="new@example.org", consents=[grant()])
        outbox.drain(budget_seconds=5)
        assert len(mail.outbox) == 1
        link = next(w for w in mail.outbox[0].body.split() if "/c/" in w).strip("()")
        path = link.split("127.0.0.1:8000", 1)[-1]
        assert (
            client.get(path).status_code == 200
        )  # a page with a button: a scanner confirms nothing
        from saha.supporters.consent import current_status

        assert current_status(person, Channel.EMAIL) == ConsentStatus.PENDING
        assert client.post(path).status_code == 200
        assert current_status(person, Channel.EMAIL) == ConsentStatus.GRANTED


def test_erasure_cancels_and_forgets_the_address(org_a: Any) -> None:
    from saha.supporters.services import erase_person

    person = make_person(org_a, email="hala@example.org", consents=[grant()])
    made = broadcast(org_a)
    broadcasts.request_send(actor=None, broadcast=made)
    broadcasts.prepare(made.pk)
    erase_person(actor=None, person=person)
    delivery = Delivery.objects.get()
    assert (delivery.person_id, delivery.address, delivery.status) == (
        None,
        "",
        DeliveryStatus.CANCELLED,
    )
