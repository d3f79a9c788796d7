"""The outbox: claim deliveries with a lease, hand them over, record the outcome.

The life of a delivery::

    QUEUED --claim--> CLAIMED --mark chunk--> SENDING --provider--> SENT
                                                     \\-> FAILED (permanent)
                                                     \\-> QUEUED (temporary, later)

A worker claims up to SAHA_OUTBOX_BATCH deliveries at once (SKIP LOCKED on
PostgreSQL; SQLite's IMMEDIATE transactions queue the writers), then walks
them in chunks of SAHA_OUTBOX_CHUNK: it commits the chunk as SENDING, hands
each message to the provider, and commits the outcomes. If it dies,

- CLAIMED rows were never handed over: once the lease expires they go back
  to QUEUED and another worker sends them;
- SENDING rows may or may not have been accepted: they become UNKNOWN and are
  reconciled, by asking the provider when it can answer, otherwise according
  to SAHA_UNKNOWN_OUTCOME (by default resent with the same Message-ID and
  marked `outcome_was_unknown`, so the possible duplicate is visible).

So a crash can duplicate at most one chunk per dead worker, and loses nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, Q, Value
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.crypto import get_random_string

from saha.messaging.compose import Composer
from saha.messaging.contacts import record_permanent_failure
from saha.messaging.models import Delivery, DeliveryStatus
from saha.messaging.providers import OutcomeUnknown, get_provider
from saha.messaging.providers.base import Outgoing, Provider, ProviderError
from saha.messaging.throttle import Throttle

logger = logging.getLogger("saha.messaging")

# After a temporary failure, try again after these many seconds.
RETRY_DELAYS = (60, 300, 900, 3600, 4 * 3600, 12 * 3600)
# This many temporary failures in a row: the provider is down, stop the batch.
PROVIDER_DOWN_AFTER = 3
PROVIDER_DOWN_PAUSE = dt.timedelta(seconds=60)


# Two clocks, each used consistently: leases live on the database's clock (the
# one every worker host shares, written and compared there); `not_before` on
# the application's, which is what schedules and back-offs are computed with.
# Mixing them breaks on a host whose clock differs from the database's.


def _lease_until() -> ExpressionWrapper:
    lease = dt.timedelta(seconds=settings.SAHA_OUTBOX_LEASE_SECONDS)
    return ExpressionWrapper(
        Now() + Value(lease, output_field=DurationField()), output_field=DateTimeField()
    )


def claim(limit: int) -> tuple[str, list[Delivery]]:
    """Take up to `limit` due deliveries for this worker, most urgent first."""
    lease = get_random_string(24)
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(status=DeliveryStatus.QUEUED, not_before__lte=timezone.now())
            .order_by("priority", "not_before", "id")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return lease, []
        Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.CLAIMED, lease=lease, lease_expires=_lease_until()
        )
    claimed = list(
        Delivery.objects.filter(lease=lease, status=DeliveryStatus.CLAIMED)
        .select_related("person")
        .order_by("priority", "id")
    )
    return lease, claimed


def reap() -> tuple[int, int]:
    """Deal with the deliveries of workers whose lease ran out.

    Returns (put back in the queue, marked unknown).
    """
    expired = Q(lease_expires__lt=Now())
    requeued = (
        Delivery.objects.filter(status=DeliveryStatus.CLAIMED)
        .filter(expired)
        .update(status=DeliveryStatus.QUEUED, lease="", lease_expires=None)
    )
    unknown = (
        Delivery.objects.filter(status=DeliveryStatus.SENDING)
        .filter(expired)
        .update(
            status=DeliveryStatus.UNKNOWN, outcome_was_unknown=True, lease="", lease_expires=None
        )
    )
    if requeued or unknown:
        logger.warning(
            "Outbox: %d claimed deliveries returned to the queue, %d with an unknown outcome",
            requeued,
            unknown,
        )
    return requeued, unknown


@dataclass
class Outcome:
    sent: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)
    retry: list[Delivery] = field(default_factory=list)
    unknown: list[Delivery] = field(default_factory=list)
    untouched: list[Delivery] = field(default_factory=list)


def _mark_sending(lease: str, chunk: Sequence[Delivery]) -> list[Delivery]:
    """Commit a chunk as SENDING before handing it over; return the rows still ours."""
    ids = [delivery.pk for delivery in chunk]
    changed = Delivery.objects.filter(
        pk__in=ids, lease=lease, status=DeliveryStatus.CLAIMED
    ).update(status=DeliveryStatus.SENDING, lease_expires=_lease_until())
    if changed == len(ids):
        return list(chunk)
    # The lease ran out and a reaper took some back: send only what is still ours.
    ours = set(
        Delivery.objects.filter(pk__in=ids, lease=lease, status=DeliveryStatus.SENDING).values_list(
            "pk", flat=True
        )
    )
    return [delivery for delivery in chunk if delivery.pk in ours]


def _send_chunk(
    provider: Provider, throttle: Throttle, chunk: Sequence[tuple[Delivery, Outgoing]]
) -> Outcome:
    outcome = Outcome()
    temporary_in_a_row = 0
    for index, (delivery, message) in enumerate(chunk):
        if temporary_in_a_row >= PROVIDER_DOWN_AFTER:
            outcome.untouched = [d for d, _ in chunk[index:]]
            break
        throttle.wait()
        delivery.attempts += 1
        try:
            delivery.provider_id = provider.send(message)[:200]
        except OutcomeUnknown as error:
            # Handed over, no answer: perhaps accepted. Reconcile, never resend blindly.
            delivery.error = str(error)[:500]
            outcome.unknown.append(delivery)
            temporary_in_a_row += 1
            continue
        except ProviderError as error:
            delivery.error = str(error)[:500]
            if error.permanent:
                outcome.failed.append(delivery)
            else:
                temporary_in_a_row += 1
                outcome.retry.append(delivery)
            continue
        except Exception as error:  # a provider's bug: treat as temporary, keep the batch going
            logger.exception(
                "Outbox: provider %s failed on delivery %s", provider.name, delivery.pk
            )
            delivery.error = f"{type(error).__name__}: {error}"[:500]
            temporary_in_a_row += 1
            outcome.retry.append(delivery)
            continue
        temporary_in_a_row = 0
        delivery.provider = provider.name
        outcome.sent.append(delivery)
    return outcome


def _record(outcome: Outcome, now: dt.datetime) -> None:
    """Write a chunk's outcomes, inside the caller's transaction."""
    for delivery in outcome.sent:
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = now
        delivery.lease, delivery.lease_expires = "", None
    _record_sent(outcome.sent, now)
    for delivery in outcome.retry:
        if delivery.attempts >= settings.SAHA_SEND_ATTEMPTS:
            outcome.failed.append(delivery)
            continue
        delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS)) - 1]
        delivery.status = DeliveryStatus.QUEUED
        delivery.not_before = now + dt.timedelta(seconds=delay)
        delivery.lease, delivery.lease_expires = "", None
    retry = [d for d in outcome.retry if d.status == DeliveryStatus.QUEUED]
    for delivery in outcome.failed:
        delivery.status = DeliveryStatus.FAILED
        delivery.lease, delivery.lease_expires = "", None
    for delivery in outcome.unknown:
        delivery.status = DeliveryStatus.UNKNOWN
        delivery.outcome_was_unknown = True
        delivery.lease, delivery.lease_expires = "", None
    if retry or outcome.failed or outcome.unknown:
        Delivery.objects.bulk_update(
            [*retry, *outcome.failed, *outcome.unknown],
            [
                "status",
                "not_before",
                "attempts",
                "error",
                "lease",
                "lease_expires",
                "outcome_was_unknown",
            ],
        )
    release(outcome.untouched, not_before=now + PROVIDER_DOWN_PAUSE)


def _settle(outcome: Outcome | None, *, last: bool) -> None:
    """Commit what the previous chunk did; the last commit need not wait for the disk."""
    if outcome is None:
        return
    with transaction.atomic():
        if last:
            _relax_durability()
        _record(outcome, timezone.now())
    for delivery in outcome.failed:
        record_permanent_failure(delivery)


def _relax_durability() -> None:
    """Commit the outcomes without waiting for the disk (PostgreSQL).

    Only a crash of the database server itself can lose such a commit, and
    what it loses is safe: the chunk is still SENDING there, so it becomes
    UNKNOWN and is reconciled like a worker's crash. The SENDING mark before
    the provider call keeps its full durability; that one must not be lost.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _record_sent(deliveries: Sequence[Delivery], now: dt.datetime) -> None:
    """The common case, kept cheap: one prepared statement, executed per row in a
    pipeline (bulk_update's CASE per field costs more than sending on loopback)."""
    if not deliveries:
        return
    sent_at = connection.ops.adapt_datetimefield_value(now)
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET status = %s, sent_at = %s, provider = %s, provider_id = %s, "  # noqa: S608
            "attempts = %s, lease = '', lease_expires = NULL WHERE id = %s",
            [
                (DeliveryStatus.SENT.value, sent_at, d.provider, d.provider_id, d.attempts, d.pk)
                for d in deliveries
            ],
        )


def release(deliveries: Iterable[Delivery], *, not_before: dt.datetime | None = None) -> int:
    """Give deliveries that were never handed over back to the queue."""
    ids = [delivery.pk for delivery in deliveries]
    if not ids:
        return 0
    fields: dict[str, object] = {
        "status": DeliveryStatus.QUEUED,
        "lease": "",
        "lease_expires": None,
    }
    if not_before is not None:
        fields["not_before"] = not_before
    return Delivery.objects.filter(
        pk__in=ids, status__in=(DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
    ).update(**fields)


def send_claimed(lease: str, deliveries: list[Delivery], composer: Composer) -> int:
    """Send a claimed batch; returns how many were accepted by a provider."""
    ready = composer.prepare(deliveries)
    sent = 0
    by_channel: dict[str, list[tuple[Delivery, Outgoing]]] = {}
    for delivery, message in ready:
        by_channel.setdefault(delivery.channel, []).append((delivery, message))
    for channel, pairs in by_channel.items():
        provider = get_provider(channel)
        throttle = Throttle(provider.name, getattr(provider, "rate", 0))
        try:
            provider.open()
        except ProviderError as error:
            logger.warning("Outbox: cannot reach the %s provider: %s", channel, error)
            release([d for d, _ in pairs], not_before=timezone.now() + PROVIDER_DOWN_PAUSE)
            continue
        try:
            sent += _send_pairs(lease, provider, throttle, pairs)
        finally:
            provider.close()
    return sent


def _send_pairs(
    lease: str, provider: Provider, throttle: Throttle, pairs: list[tuple[Delivery, Outgoing]]
) -> int:
    """Send chunk after chunk. One commit between two chunks records the outcomes
    of the one and marks the next SENDING: half the commits, same guarantees."""
    size = settings.SAHA_OUTBOX_CHUNK
    sent = 0
    previous: Outcome | None = None
    for start in range(0, len(pairs), size):
        chunk = pairs[start : start + size]
        with transaction.atomic():
            if previous is not None:
                _record(previous, timezone.now())
            ours = {d.pk for d in _mark_sending(lease, [d for d, _ in chunk])}
        if previous is not None:
            for delivery in previous.failed:
                record_permanent_failure(delivery)
        outcome = _send_chunk(provider, throttle, [(d, m) for d, m in chunk if d.pk in ours])
        sent += len(outcome.sent)
        previous = outcome
        if outcome.untouched:
            # The provider is down: give the rest of the batch back too.
            release(
                [d for d, _ in pairs[start + size :]],
                not_before=timezone.now() + PROVIDER_DOWN_PAUSE,
            )
            break
    _settle(previous, last=True)
    return sent


def drain(*, budget_seconds: float = 50.0) -> int:
    """Send due deliveries until none are left or the time budget is spent."""
    from saha.messaging.reconcile import reconcile

    deadline = time.monotonic() + budget_seconds
    reap()
    reconcile()
    composer = Composer()
    sent = 0
    while time.monotonic() < deadline:
        lease, batch = claim(settings.SAHA_OUTBOX_BATCH)
        if not batch:
            break
        sent += send_claimed(lease, batch, composer)
        composer.after_batch(batch)
    return sent
