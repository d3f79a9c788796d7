"""Sending webhook deliveries to a real HTTP server on loopback: the signature, the
headers, retries with back-off, giving up, replay; private addresses allowed here by the
operator's setting (the refusals have their own file)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import socket
import time
from typing import Any

import pytest
from django.utils import timezone

from saha.api import manage, webhooks
from saha.api.models import DeliveryState, WebhookDelivery
from saha.api.tests.conftest import Receiver, make_delivery, make_endpoint
from saha.core.models import AuditEntry


@pytest.fixture
def allow_private(settings: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True


def verify(secret: str, header: str, body: bytes) -> bool:
    """What a receiver does with Saha-Signature (as docs/webhooks.md shows it)."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(
        secret.encode(), parts["t"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])


def make_due(delivery: Any) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


pytestmark = pytest.mark.usefixtures("allow_private")


def test_a_delivery_is_posted_signed_with_its_event_and_id(org_a: Any, receiver: Receiver) -> None:
    # given an endpoint and one delivery
    made = manage.create_endpoint(
        actor="test", organization=org_a, url=receiver.url, event_types=["person.created"]
    )
    delivery = make_delivery(made.endpoint)
    # when it is attempted
    state = webhooks.attempt(delivery.pk)
    # then the receiver got the JSON body, signed with the secret shown once
    assert state == DeliveryState.DELIVERED
    [got] = receiver.received
    assert got.path == "/hook"
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["Saha-Event"] == "person.created"
    assert got.headers["Saha-Delivery"] == str(delivery.event_id)
    assert verify(made.secret, got.headers["Saha-Signature"], got.body)
    assert not verify("whsec_other", got.headers["Saha-Signature"], got.body)
    timestamp = int(got.headers["Saha-Signature"].split(",")[0][2:])
    assert abs(timestamp - time.time()) < 60
    body = json.loads(got.body)
    assert body["id"] == str(delivery.event_id) and body["type"] == "person.created"
    assert body["data"] == {"hello": "مرحبا"}
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.last_status, delivery.last_error) == (1, 200, "")
    assert delivery.delivered_at is not None
    # and a delivered one is not sent again by the periodic sweep
    assert webhooks.attempt(delivery.pk) is None and webhooks.send_due() == 0
    assert len(receiver.received) == 1


def test_a_500_is_retried_with_back_off_then_given_up(org_a: Any, receiver: Receiver) -> None:
    endpoint = make_endpoint(org_a, receiver.url)
    delivery = make_delivery(endpoint)
    receiver.statuses = [500] * 10
    delays = []
    for n in range(1, len(webhooks.RETRY_DELAYS) + 2):
        before = timezone.now()
        state = webhooks.attempt(delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == n and delivery.last_status == 500
        if n <= len(webhooks.RETRY_DELAYS):
            assert state == DeliveryState.FAILED
            delays.append(round((delivery.next_attempt_at - before).total_seconds() / 60))
            # not due yet: neither the task run twice nor the sweep sends it early
            assert webhooks.attempt(delivery.pk) is None and webhooks.send_due() == 0
            make_due(delivery)
        else:
            assert state == DeliveryState.GAVE_UP
    assert delays == [1, 5, 30, 120, 720]
    assert len(receiver.received) == 6
    # every attempt carried the same event id, for the receiver to de-duplicate
    assert {r.headers["Saha-Delivery"] for r in receiver.received} == {str(delivery.event_id)}
    make_due(delivery)
    assert webhooks.send_due() == 0  # gave up: only a replay sends it again


def test_a_redirect_is_not_followed_and_counts_as_a_failure(org_a: Any, receiver: Receiver) -> None:
    delivery = make_delivery(make_endpoint(org_a, receiver.url))
    receiver.statuses = [302]
    assert webhooks.attempt(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert delivery.last_status == 302
    assert len(receiver.received) == 1


def test_a_refused_connection_is_retried(org_a: Any) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    delivery = make_delivery(make_endpoint(org_a, f"http://127.0.0.1:{port}/hook"))
    assert webhooks.attempt(delivery.pk) == DeliveryState.FAILED
    delivery.refresh_from_db()
    assert delivery.last_status is None and delivery.last_error
    assert delivery.next_attempt_at > timezone.now() + dt.timedelta(seconds=50)


def test_a_receiver_that_does_not_answer_in_time_is_retried(
    org_a: Any, receiver: Receiver, monkeypatch: Any
) -> None:
    monkeypatch.setattr(webhooks, "TIMEOUT", 0.3)
    receiver.delay = 1.0
    delivery = make_delivery(make_endpoint(org_a, receiver.url))
    started = time.monotonic()
    assert webhooks.attempt(delivery.pk) == DeliveryState.FAILED
    assert time.monotonic() - started < 1.0
    delivery.refresh_from_db()
    assert delivery.attempts == 1 and delivery.last_error


def test_replay_sends_again_now_with_the_same_event_id(
    org_a: Any, owner: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = make_endpoint(org_a, receiver.url)
    delivery = make_delivery(endpoint)
    assert webhooks.attempt(delivery.pk) == DeliveryState.DELIVERED
    # when an organizer replays it (the task runs once the transaction commits)
    with django_capture_on_commit_callbacks(execute=True):
        assert webhooks.replay(actor=owner.user, delivery=delivery)
    # then it went out again, the same event under the same id
    assert len(receiver.received) == 2
    first, second = receiver.received
    assert first.headers["Saha-Delivery"] == second.headers["Saha-Delivery"]
    assert json.loads(first.body) == json.loads(second.body)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 2
    assert AuditEntry.objects.filter(action="api.webhook.replayed").count() == 1


def test_replay_of_one_that_gave_up_is_one_more_attempt(org_a: Any, receiver: Receiver) -> None:
    delivery = make_delivery(make_endpoint(org_a, receiver.url))
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.GAVE_UP, attempts=6, last_status=500
    )
    delivery.refresh_from_db()
    assert webhooks.replay(actor="test", delivery=delivery)
    assert webhooks.send_due() == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED and delivery.attempts == 7


def test_an_attempt_in_flight_is_not_replayed_nor_claimed_twice(
    org_a: Any, receiver: Receiver
) -> None:
    delivery = make_delivery(make_endpoint(org_a, receiver.url))
    claimed = webhooks.claim(delivery.pk)
    assert claimed is not None and claimed.attempts == 1
    assert webhooks.claim(delivery.pk) is None
    assert not webhooks.replay(actor="test", delivery=delivery)
    # a worker that died mid-attempt: its lease runs out, the attempt is due again
    make_due(delivery)
    again = webhooks.claim(delivery.pk)
    assert again is not None and again.attempts == 2


def test_a_switched_off_endpoint_gets_nothing(org_a: Any, receiver: Receiver) -> None:
    endpoint = make_endpoint(org_a, receiver.url)
    delivery = make_delivery(endpoint)
    manage.set_endpoint_active(actor="test", endpoint=endpoint, active=False)
    assert webhooks.attempt(delivery.pk) == DeliveryState.GAVE_UP
    assert receiver.received == []


def test_the_test_event_reaches_only_its_endpoint(
    org_a: Any, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = make_endpoint(org_a, receiver.url)
    make_endpoint(org_a, receiver.url.replace("/hook", "/other"))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = webhooks.send_test(actor="test", endpoint=endpoint)
    [got] = receiver.received
    assert got.path == "/hook" and got.headers["Saha-Event"] == "test"
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED


def test_the_periodic_task_sends_what_is_due(org_a: Any, receiver: Receiver) -> None:
    from saha.api.tasks import send_due_webhooks
    from saha.core.jobs import registered_periodic

    assert send_due_webhooks in [job.task for job in registered_periodic()]
    endpoint = make_endpoint(org_a, receiver.url)
    deliveries = [make_delivery(endpoint) for _ in range(3)]
    later = make_delivery(endpoint)
    WebhookDelivery.objects.filter(pk=later.pk).update(
        state=DeliveryState.FAILED, next_attempt_at=timezone.now() + dt.timedelta(minutes=5)
    )
    assert send_due_webhooks.call() == 3
    assert sorted(r.headers["Saha-Delivery"] for r in receiver.received) == sorted(
        str(d.event_id) for d in deliveries
    )
