"""Settle deliveries whose outcome is unknown because a worker died mid-send.

A provider that can be asked (`find(reference)`) settles each one for
certain: found means sent, not found means it never arrived and is queued
again. SMTP cannot be asked; then SAHA_UNKNOWN_OUTCOME decides: "resend"
(the default) queues it again with the same Message-ID, which mail systems
use to drop the copy, and keeps `outcome_was_unknown` set so the possible
duplicate shows on the broadcast's page; "fail" marks it failed and sends
nothing more.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.utils import timezone

from saha.messaging.compose import reference
from saha.messaging.models import Delivery, DeliveryStatus
from saha.messaging.outcomes import RETRY_DELAYS
from saha.messaging.providers import get_provider
from saha.messaging.providers.base import ProviderError

logger = logging.getLogger("saha.messaging")

RESENT = "Outcome unknown after a worker stopped; sent again with the same reference."
GIVEN_UP = "Outcome unknown after a worker stopped; not sent again (SAHA_UNKNOWN_OUTCOME=fail)."
FOUND = "Outcome unknown after a worker stopped; the provider confirmed it was sent."
GAVE_UP_AFTER = "Outcome unknown %d times; not sent again."
NOT_FOUND = "Outcome unknown after a worker stopped; the provider never got it, sent again."


def reconcile(limit: int = 500) -> int:
    """Settle up to `limit` UNKNOWN deliveries; returns how many were settled."""
    unknown = list(Delivery.objects.filter(status=DeliveryStatus.UNKNOWN).order_by("id")[:limit])
    by_channel: dict[str, list[Delivery]] = {}
    for delivery in unknown:
        by_channel.setdefault(delivery.channel, []).append(delivery)
    for channel, deliveries in by_channel.items():
        provider = get_provider(channel)
        if getattr(provider, "find", None) is not None:
            deliveries = _ask(provider, deliveries)
        if not deliveries:
            continue
        if settings.SAHA_UNKNOWN_OUTCOME == "fail":
            _set(deliveries, DeliveryStatus.FAILED, GIVEN_UP)
        else:
            _set(deliveries, DeliveryStatus.QUEUED, RESENT)
    if unknown:
        logger.warning("Outbox: reconciled %d deliveries with an unknown outcome", len(unknown))
    return len(unknown)


def _ask(provider: Any, deliveries: list[Delivery]) -> list[Delivery]:
    """Ask the provider about each; returns those it could not answer for.

    A provider that cannot be reached is not asked again this round: the rest
    are settled by SAHA_UNKNOWN_OUTCOME rather than left unknown for ever.
    """
    found, missing = [], []
    try:
        provider.open()
        for index, delivery in enumerate(deliveries):
            try:
                provider_id = provider.find(reference(delivery.pk))
            except ProviderError as error:
                logger.warning("Outbox: cannot ask the provider about %s: %s", delivery.pk, error)
                return deliveries[index:]
            if provider_id:
                delivery.provider_id = provider_id[:200]
                found.append(delivery)
            else:
                missing.append(delivery)
    except ProviderError as error:
        logger.warning("Outbox: cannot reach the provider to reconcile: %s", error)
        return [d for d in deliveries if d not in found and d not in missing]
    finally:
        provider.close()
        _set(found, DeliveryStatus.SENT, FOUND)
        _set(missing, DeliveryStatus.QUEUED, NOT_FOUND)
    return []


def _set(deliveries: list[Delivery], status: str, note: str) -> None:
    now = timezone.now()
    for delivery in deliveries:
        delivery.status = status
        delivery.error = note
        if status == DeliveryStatus.SENT:
            delivery.sent_at = now
        elif status == DeliveryStatus.QUEUED:
            _resend(delivery, now)
    # Only rows still UNKNOWN: two reconcilers at once settle each row once.
    for delivery in deliveries:
        Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.UNKNOWN).update(
            status=delivery.status,
            error=delivery.error,
            provider_id=delivery.provider_id,
            sent_at=delivery.sent_at,
            not_before=delivery.not_before,
        )


def _resend(delivery: Delivery, now: dt.datetime) -> None:
    """Once at once (a worker died: no fault of the provider's); after that with
    the back-off of any retry, and never beyond SAHA_SEND_ATTEMPTS handovers."""
    if delivery.attempts >= settings.SAHA_SEND_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
        delivery.error = GAVE_UP_AFTER % delivery.attempts
        return
    delay = 0 if delivery.attempts <= 1 else RETRY_DELAYS[min(delivery.attempts, 6) - 2]
    delivery.not_before = now + dt.timedelta(seconds=delay)
