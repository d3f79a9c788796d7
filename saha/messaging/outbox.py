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
A live worker renews its lease while it works, writes outcomes only for rows
still under its lease (see outcomes.py), and gives back what it did not hand
over, even when it fails halfway.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.crypto import get_random_string

from saha.messaging import outcomes
from saha.messaging.compose import Composer
from saha.messaging.models import Delivery, DeliveryStatus
from saha.messaging.outcomes import Outcome, lease_until
from saha.messaging.providers import OutcomeUnknown, get_provider
from saha.messaging.providers.base import Outgoing, Provider, ProviderError
from saha.messaging.throttle import Throttle

logger = logging.getLogger("saha.messaging")

# This many temporary failures in a row: the provider is down, stop draining.
PROVIDER_DOWN_AFTER = 3
PROVIDER_DOWN_PAUSE = 60  # seconds

# Two clocks, each used consistently: leases live on the database's clock (the
# one every worker host shares, written and compared there); `not_before` on
# the application's, which is what schedules and back-offs are computed with.

DELIVERY_FIELDS = [
    f.name for f in Delivery._meta.concrete_fields if f.name not in ("created_at", "sent_at")
]
PERSON_FIELDS = ["given_name", "family_name", "locality", "language", "organization"]


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
            status=DeliveryStatus.CLAIMED, lease=lease, lease_expires=lease_until()
        )
    claimed = list(
        Delivery.objects.filter(lease=lease, status=DeliveryStatus.CLAIMED)
        .select_related("person")
        # What rendering needs: a person's custom fields and history stay unread.
        .only(*DELIVERY_FIELDS, *(f"person__{name}" for name in PERSON_FIELDS))
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


class Sender:
    """Hands one worker's chunk to a provider, keeping its lease alive."""

    def __init__(self, lease: str, provider: Provider) -> None:
        self.lease = lease
        self.provider = provider
        self.throttle = Throttle(provider.name, getattr(provider, "rate", 0))
        self.renewed = time.monotonic()
        self.temporary_in_a_row = 0

    @property
    def provider_down(self) -> bool:
        return self.temporary_in_a_row >= PROVIDER_DOWN_AFTER

    def chunk_size(self) -> int:
        """SAHA_OUTBOX_CHUNK, smaller when a rate limit makes a chunk slow."""
        size = settings.SAHA_OUTBOX_CHUNK
        rate = getattr(self.provider, "rate", 0)
        if rate > 0:
            size = min(size, max(1, rate * settings.SAHA_OUTBOX_LEASE_SECONDS // 4))
        return size

    def _keep_lease(self) -> None:
        if time.monotonic() - self.renewed > settings.SAHA_OUTBOX_LEASE_SECONDS / 3:
            outcomes.renew(self.lease)
            self.renewed = time.monotonic()

    def send(self, chunk: Sequence[tuple[Delivery, Outgoing]], outcome: Outcome) -> None:
        """Send a chunk into `outcome`; what is left in `outcome.pending` never went."""
        messages = {delivery.pk: message for delivery, message in chunk}
        outcome.pending = [delivery for delivery, _ in chunk]
        while outcome.pending and not self.provider_down:
            self._keep_lease()
            self.throttle.wait()
            delivery = outcome.pending.pop(0)
            self._send_one(delivery, messages[delivery.pk], outcome)

    def _send_one(self, delivery: Delivery, message: Outgoing, outcome: Outcome) -> None:
        delivery.attempts += 1
        try:
            delivery.provider_id = self.provider.send(message)[:200]
        except OutcomeUnknown as error:
            # Handed over, no answer: perhaps accepted. Reconcile, never resend blindly.
            delivery.error = str(error)[:500]
            outcome.unknown.append(delivery)
            self.temporary_in_a_row += 1
            return
        except ProviderError as error:
            delivery.error = str(error)[:500]
            if error.permanent:
                delivery.refused = True
                outcome.failed.append(delivery)
            else:
                self.temporary_in_a_row += 1
                outcome.retry.append(delivery)
            return
        except Exception as error:  # a provider's bug: temporary; keep the batch going
            logger.exception("Outbox: provider %s failed on %s", self.provider.name, delivery.pk)
            delivery.error = f"{type(error).__name__}: {error}"[:500]
            self.temporary_in_a_row += 1
            outcome.retry.append(delivery)
            return
        self.temporary_in_a_row = 0
        delivery.provider = self.provider.name
        outcome.sent.append(delivery)


def _commit(lease: str, previous: Outcome | None, following: Sequence[Delivery]) -> set[int]:
    """One commit between two chunks: the outcomes of the one sent, the SENDING mark
    of the next one. Returns the ids of the next chunk that are still ours."""
    with transaction.atomic():
        if not following:
            outcomes.relax_durability()  # nothing is handed over after this commit
        if previous is not None:
            outcomes.record(lease, previous, timezone.now())
        ours = outcomes.mark_sending(lease, following) if following else set()
    if previous is not None:
        try:
            outcomes.after_commit(previous)
        except Exception:  # bookkeeping of bounces must not strand the chunk just marked
            logger.exception("Outbox: could not count refusals toward bouncing")
    return ours


def send_claimed(lease: str, deliveries: list[Delivery], composer: Composer) -> tuple[int, bool]:
    """Send a claimed batch. Returns (accepted by a provider, a provider is down)."""
    sent, down = 0, False
    try:
        by_channel: dict[str, list[tuple[Delivery, Outgoing]]] = {}
        for delivery, message in composer.prepare(lease, deliveries):
            by_channel.setdefault(delivery.channel, []).append((delivery, message))
        for channel, pairs in by_channel.items():
            provider = get_provider(channel)
            try:
                provider.open()
            except ProviderError as error:
                logger.warning("Outbox: cannot reach the %s provider: %s", channel, error)
                down = True
                break
            try:
                accepted, down = _send_pairs(Sender(lease, provider), pairs)
            finally:
                provider.close()
            sent += accepted
            if down:
                break
    finally:
        # Whatever was not reached (a provider down, an error): back to the queue.
        pause = dt.timedelta(seconds=PROVIDER_DOWN_PAUSE)
        outcomes.release_claimed(lease, not_before=timezone.now() + pause if down else None)
    return sent, down


def _send_pairs(sender: Sender, pairs: list[tuple[Delivery, Outgoing]]) -> tuple[int, bool]:
    size = sender.chunk_size()
    chunks = [pairs[start : start + size] for start in range(0, len(pairs), size)]
    previous: Outcome | None = None
    sent = 0
    try:
        for chunk in chunks:
            ours = _commit(sender.lease, previous, [d for d, _ in chunk])
            previous = Outcome()
            sender.send([(d, m) for d, m in chunk if d.pk in ours], previous)
            sent += len(previous.sent)
            if sender.provider_down:
                previous.retry_pending_at = timezone.now() + dt.timedelta(
                    seconds=PROVIDER_DOWN_PAUSE
                )
                break
    finally:
        # Even after an error: record what went, give back what did not.
        _commit(sender.lease, previous, [])
    return sent, sender.provider_down


@dataclass(frozen=True)
class Drained:
    sent: int
    provider_down: bool


def drain(*, budget_seconds: float = 50.0) -> Drained:
    """Send due deliveries until none are left, a provider is down, or time is up."""
    from saha.messaging.reconcile import reconcile

    deadline = time.monotonic() + budget_seconds
    reap()
    reconcile()
    composer = Composer()
    sent, down = 0, False
    while time.monotonic() < deadline:
        lease, batch = claim(settings.SAHA_OUTBOX_BATCH)
        if not batch:
            break
        accepted, down = send_claimed(lease, batch, composer)
        sent += accepted
        composer.after_batch(batch)
        if down:
            # Give the rest of the queue a minute rather than burn its attempts.
            logger.warning("Outbox: a provider is down; trying again in %d s", PROVIDER_DOWN_PAUSE)
            break
    return Drained(sent, down)
