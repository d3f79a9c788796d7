"""Background work of messaging: drain the outbox, prepare broadcasts, tend both.

Draining is spread over ordinary tasks: each drain runs for at most
DRAIN_SECONDS and queues a successor if work is left, so a long broadcast
never holds a worker so long that other tasks starve, and any number of
workers can drain side by side (they claim disjoint batches).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from saha.core.jobs import periodic
from saha.messaging import broadcasts, outbox, reconcile
from saha.messaging.models import Broadcast, BroadcastStatus, Delivery, DeliveryStatus

DRAIN_SECONDS = 50.0
LEASED = (DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)


def _due() -> bool:
    return Delivery.objects.filter(
        status=DeliveryStatus.QUEUED, not_before__lte=timezone.now()
    ).exists()


@task(priority=10)
def deliver_outbox() -> int:
    """Send what is due; hand over to a fresh task when the time budget is spent."""
    sent = outbox.drain(budget_seconds=DRAIN_SECONDS)
    if _due():
        wake_outbox(workers=1)
    elif Delivery.objects.filter(status__in=LEASED).exists():
        # Someone holds deliveries: a live worker, or a dead one whose lease
        # will run out. Look again then, rather than at the next minute's tick.
        wake_outbox(workers=1, after=dt.timedelta(seconds=settings.SAHA_OUTBOX_LEASE_SECONDS))
    return sent


def wake_outbox(workers: int = 1, after: dt.timedelta | None = None) -> int:
    """Make sure `workers` drains are waiting; returns how many were queued now."""
    waiting = DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, task_path=deliver_outbox.module_path
    ).count()
    task = deliver_outbox
    if after is not None:
        if not deliver_outbox.get_backend().supports_defer:
            return 0  # the immediate backend (development, tests): nothing to wait for
        task = deliver_outbox.using(run_after=timezone.now() + after)
    for _ in range(max(0, workers - waiting)):
        task.enqueue()
    return max(0, workers - waiting)


@task(priority=10)
def prepare_broadcast_task(broadcast_id: int) -> int:
    return broadcasts.prepare(broadcast_id)


@task()
def send_test_task(broadcast_id: int, language: str, address: str) -> str:
    from saha.messaging.testsend import send_test

    return send_test(broadcast_id, language, address)


@periodic(every=dt.timedelta(minutes=1))
@task()
def tend_outbox() -> dict[str, int]:
    """Once a minute: reclaim dead workers' leases, settle unknown outcomes, start
    scheduled broadcasts, close finished ones, and wake a drain if anything is due."""
    requeued, unknown = outbox.reap()
    settled = reconcile.reconcile()
    started = broadcasts.start_due()
    for broadcast in Broadcast.objects.filter(status=BroadcastStatus.SENDING):
        broadcasts.finish_if_done(broadcast)
    woken = wake_outbox(workers=settings.SAHA_OUTBOX_WORKERS) if _due() else 0
    return {
        "requeued": requeued,
        "unknown": unknown,
        "settled": settled,
        "started": started,
        "woken": woken,
    }
