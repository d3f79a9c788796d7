"""Two workers at the same instant never send the same attempt: the claim is one
conditional UPDATE. PostgreSQL only (SQLite has one writer at a time, so nothing races
there); the race is run a few times, two threads released by one barrier, each sending to
a real loopback server that counts what it gets."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connections

from saha.api import webhooks
from saha.api.models import DeliveryState, WebhookDelivery
from saha.api.tests.test_webhooks_engine import (  # noqa: F401
    Receiver,
    make_delivery,
    make_endpoint,
    receiver,
)
from saha.supporters.tests.people_factories import postgres_only

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
ROUNDS = 5


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released together; each result, or the error it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = calls[index]()
        except BaseException as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_workers_send_one_attempt_once(
    org_a: Any,
    receiver: Receiver,  # noqa: F811
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
    receiver: Receiver,  # noqa: F811
    settings: Any,
) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = make_endpoint(org_a, receiver.url)
    deliveries = [make_delivery(endpoint) for _ in range(10)]
    results = at_once(webhooks.send_due, webhooks.send_due)
    assert sum(results) == 10, results
    got = sorted(r.headers["Saha-Delivery"] for r in receiver.received)
    assert got == sorted(str(d.event_id) for d in deliveries)
