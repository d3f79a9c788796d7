"""Saha's worker: django-tasks-db's worker plus a heartbeat, a reaper and a scheduler.

django-tasks-db marks a task RUNNING when a worker claims it and keeps no
lease, so a worker killed mid-task would leave the task RUNNING for ever.
Here each worker writes a heartbeat row every SAHA_WORKER_HEARTBEAT_SECONDS
from a thread of its own; any worker's reaper returns to the queue a RUNNING
task whose worker has been silent for SAHA_WORKER_DEAD_AFTER_SECONDS. A task
reclaimed SAHA_TASK_MAX_ATTEMPTS times is marked failed rather than allowed to
kill workers in a loop. Tasks must therefore be safe to run twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, Value
from django.db.models.functions import Now
from django.utils.crypto import get_random_string
from django.utils.module_loading import autodiscover_modules
from django_tasks.base import TaskResultStatus
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from saha.core.jobs import enqueue_due_periodic
from saha.core.models import WorkerHeartbeat

logger = logging.getLogger("saha.worker")

ABANDONED = "saha.core.worker.TaskAbandoned"


def beat(worker_id: str) -> None:
    # Now() is the database server's clock, the one every worker host shares:
    # a host whose clock runs fast or slow cannot make a live worker look dead.
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(last_seen=Now())
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={
                "hostname": socket.gethostname()[:255],
                "pid": os.getpid(),
                "last_seen": Now(),
            },
        )


def _silent_since() -> ExpressionWrapper:
    """The moment, on the database's clock, before which a silent worker is dead."""
    grace = dt.timedelta(seconds=settings.SAHA_WORKER_DEAD_AFTER_SECONDS)
    return ExpressionWrapper(
        Now() - Value(grace, output_field=DurationField()), output_field=DateTimeField()
    )


def reap_orphaned_tasks() -> int:
    """Return to the queue the RUNNING tasks whose worker stopped beating."""
    alive = set(
        WorkerHeartbeat.objects.filter(last_seen__gte=_silent_since()).values_list(
            "worker_id", flat=True
        )
    )
    # A worker that never beat (a plain db_worker) gets the same grace period
    # from the moment it claimed the task.
    running = (
        DBTaskResult.objects.running()
        .filter(started_at__lt=_silent_since())
        .only("id", "started_at", "worker_ids")
    )
    reclaimed = 0
    for result in running:
        owner = result.worker_ids[-1] if result.worker_ids else None
        if owner in alive:
            continue
        # The conditional UPDATE is the lock: started_at changes on every claim,
        # so if another reaper or a live worker got there first, nothing happens.
        same_claim = DBTaskResult.objects.filter(
            pk=result.pk, status=TaskResultStatus.RUNNING, started_at=result.started_at
        )
        if len(result.worker_ids) >= settings.SAHA_TASK_MAX_ATTEMPTS:
            changed = same_claim.update(
                status=TaskResultStatus.FAILED,
                finished_at=Now(),
                exception_class_path=ABANDONED,
                traceback=f"Abandoned after {len(result.worker_ids)} workers died running it.",
            )
            if changed:
                logger.error("Task %s abandoned after %d tries", result.pk, len(result.worker_ids))
        else:
            changed = same_claim.update(status=TaskResultStatus.READY, started_at=None)
            if changed:
                logger.warning("Task %s returned to the queue: worker %s is gone", result.pk, owner)
        reclaimed += changed
    return reclaimed


class SahaWorker(Worker):
    """The django-tasks-db loop; a second thread beats, reaps and schedules.

    The housekeeping thread keeps beating while the main thread runs a long
    task, so only a dead process (or a hung host) is ever presumed dead.
    """

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self._stop = threading.Event()

    def _housekeeping_loop(self) -> None:
        while not self._stop.is_set():
            try:
                beat(self.worker_id)
                with transaction.atomic():
                    reap_orphaned_tasks()
                enqueue_due_periodic()
            except Exception:
                # The database may be briefly locked or unreachable; retry next tick.
                logger.exception("Worker housekeeping failed; retrying")
            finally:
                close_old_connections()
            self._stop.wait(settings.SAHA_WORKER_HEARTBEAT_SECONDS)
        connection.close()

    def run(self) -> None:
        autodiscover_modules("tasks")
        beat(self.worker_id)
        thread = threading.Thread(target=self._housekeeping_loop, name="housekeeping", daemon=True)
        thread.start()
        try:
            super().run()
        finally:
            self._stop.set()
            thread.join(timeout=5)
            WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()


def run_worker(*, interval: float = 1.0, batch: bool = False, max_tasks: int | None = None) -> None:
    worker = SahaWorker(
        queue_names=["*"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=not batch,
        max_tasks=max_tasks,
        worker_id=f"{socket.gethostname()[:20]}-{os.getpid()}-{get_random_string(8)}",
        excluded_queue_names=[],
    )
    worker.configure_signals()
    logger.info("Worker %s started", worker.worker_id)
    worker.run()
