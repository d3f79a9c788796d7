"""Two workers at the same instant never send the same attempt: the claim is one
conditional UPDATE. PostgreSQL only (SQLite has one writer at a time, so nothing races
there); the race is run a few times, two threads released by one barrier, each sending to
a real loopback server that counts what it gets."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from saha.api import webhooks
from saha.api.models import DeliveryState, WebhookDelivery
from saha.api.tests.conftest import Receiver, make_delivery, make_endpoint
from saha.supporters.tests.people_factories import postgres_only
from saha.testing.concurrency import at_once

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
ROUNDS = 5


def test_two_workers_send_one_attempt_once(
    org_a: Any,
    receiver: Receiver,
    settings: Any,
) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = make_endpoint(org_a, receiver.url)
    for n in range(ROUNDS):
        delivery = make_delivery(endpoint)
        results = at_once(
            lambda pk=delivery.pk: webhooks.attempt(pk),
            lambda pk=delivery.pk: webhooks.attempt(pk),
        )
        assert sorted(results, key=str) == [None, DeliveryState.DELIVERED], results
        assert len(receiver.received) == n + 1
        assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 1


def test_two_sweeps_send_each_due_delivery_once(
    org_a: Any,
    receiver: Receiver,
    settings: Any,
) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = make_endpoint(org_a, receiver.url)
    deliveries = [make_delivery(endpoint) for _ in range(10)]
    results = at_once(webhooks.send_due, webhooks.send_due)
    assert sum(results) == 10, results
    got = sorted(r.headers["Saha-Delivery"] for r in receiver.received)
    assert got == sorted(str(d.event_id) for d in deliveries)


def test_an_endpoint_deleted_at_the_same_moment_does_not_fail_the_change(
    org_a: Any, settings: Any
) -> None:
    """The change holds its endpoints (KEY SHARE) before writing their deliveries: one
    being deleted is waited for, then left out, instead of failing the change's commit
    on the foreign key (a cancel here: nothing in it retries on an IntegrityError)."""
    from django.db import transaction

    from saha.api.models import WebhookEndpoint
    from saha.api.tests.test_webhooks_attendance import answer, make_event
    from saha.events import services
    from saha.events.models import Rsvp, RsvpStatus

    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    rsvp = answer(make_event(org_a), 1)
    endpoint = make_endpoint(org_a, "http://127.0.0.1:9/hook", ["attendance.updated"])
    deleting, release = threading.Event(), threading.Event()

    def delete() -> None:
        with transaction.atomic():
            WebhookEndpoint.objects.filter(pk=endpoint.pk).delete()
            deleting.set()
            release.wait(timeout=10)  # committed only once the change is under way

    def change() -> Any:
        assert deleting.wait(timeout=10)
        threading.Timer(0.5, release.set).start()
        return services.cancel_rsvp(rsvp=rsvp, actor=None)

    deleted, changed = at_once(delete, change)
    assert deleted is None and changed is None, (deleted, changed)
    assert Rsvp.objects.get(pk=rsvp.pk).status == RsvpStatus.CANCELLED
    assert not WebhookDelivery.objects.exists()
