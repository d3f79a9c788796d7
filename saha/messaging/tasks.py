"""Background work of messaging: drain the outbox, prepare broadcasts, tend both.

Draining is spread over ordinary tasks: each drain runs for at most
DRAIN_SECONDS and queues a successor if work is left. The first drain of a
send is urgent (priority 10: a confirmation email should not wait behind an
import); successors queue at the normal priority, so a long broadcast takes
turns with every other task instead of starving them. Any number of workers
can drain side by side: they claim disjoint batches.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from saha.core.jobs import periodic
from saha.messaging import broadcasts, outbox, reconcile
from saha.messaging.models import Delivery, DeliveryStatus

DRAIN_SECONDS = 50.0
URGENT = 10
LEASED = (DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)


def _due() -> bool:
    return Delivery.objects.filter(
        status=DeliveryStatus.QUEUED, not_before__lte=timezone.now()
    ).exists()


@task(priority=URGENT)
def deliver_outbox() -> int:
    """Send what is due; hand over to a fresh task when the time budget is spent."""
    drained = outbox.drain(budget_seconds=DRAIN_SECONDS)
    if drained.provider_down:
        wake_outbox(priority=0, after=dt.timedelta(seconds=outbox.PROVIDER_DOWN_PAUSE))
    elif _due():
        wake_outbox(priority=0)
    elif Delivery.objects.filter(status__in=LEASED).exists():
        # Someone holds deliveries: a live worker, or a dead one whose lease
        # will run out. Look again then, rather than at the next minute's tick.
        wake_outbox(priority=0, after=dt.timedelta(seconds=settings.SAHA_OUTBOX_LEASE_SECONDS))
    return drained.sent


def wake_outbox(
    workers: int = 1, *, priority: int = URGENT, after: dt.timedelta | None = None
) -> int:
    """Make sure `workers` drains are ready to run; returns how many were queued now.

    A drain deferred to later does not count as ready: a confirmation email
    queued meanwhile gets a drain of its own now.
    """
    if after is None:
        waiting = DBTaskResult.objects.ready().filter(task_path=deliver_outbox.module_path).count()
    else:
        waiting = DBTaskResult.objects.filter(
            task_path=deliver_outbox.module_path, status="READY"
        ).count()
    runner = deliver_outbox.using(priority=priority)
    if after is not None:
        if not deliver_outbox.get_backend().supports_defer:
            return 0  # the immediate backend (development, tests): nothing to wait for
        runner = runner.using(run_after=timezone.now() + after)
    missing = max(0, workers - waiting)
    for _ in range(missing):
        runner.enqueue()
    return missing


@task(priority=URGENT)
def prepare_broadcast_task(broadcast_id: int) -> int:
    return broadcasts.prepare(broadcast_id)


@task()
def send_test_task(broadcast_id: int, language: str, address: str) -> str:
    from saha.messaging.testsend import send_test

    return send_test(broadcast_id, language, address)


@periodic(every=dt.timedelta(minutes=1))
@task(priority=URGENT)
def tend_outbox() -> dict[str, int]:
    """Once a minute: reclaim dead workers' leases, settle unknown outcomes, start
    scheduled broadcasts, retry stalled preparations, close finished broadcasts,
    and wake a drain if anything is due."""
    requeued, unknown = outbox.reap()
    settled = reconcile.reconcile()
    started = broadcasts.start_due()
    for broadcast_id in broadcasts.stalled_preparations():
        prepare_broadcast_task.enqueue(broadcast_id)
    repaired = broadcasts.repair_halted()
    broadcasts.finish_all()
    woken = wake_outbox(workers=settings.SAHA_OUTBOX_WORKERS) if _due() else 0
    return {
        "requeued": requeued,
        "unknown": unknown,
        "settled": settled,
        "started": started,
        "repaired": repaired,
        "woken": woken,
    }
