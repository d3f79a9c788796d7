"""Background work on top of Django's Tasks API.

`enqueue_on_commit` queues a task only once the surrounding transaction has
committed, so a worker never looks for rows that are not there yet (or that a
rollback removed). `periodic` registers a task for the worker's scheduler.

Every task must be safe to run twice: a worker killed mid-task has its task
returned to the queue by the reaper (see `saha.core.worker`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django_tasks.base import Task


def enqueue_on_commit(task: Task, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs), using=using)


@dataclass(frozen=True)
class Periodic:
    task: Task
    every: dt.timedelta

    @property
    def name(self) -> str:
        return self.task.module_path


_REGISTRY: dict[str, Periodic] = {}


def periodic(*, every: dt.timedelta):  # type: ignore[no-untyped-def]
    """Decorate a task (after @task) to run it every `every` from the worker."""

    def register(task: Task) -> Task:
        entry = Periodic(task=task, every=every)
        _REGISTRY[entry.name] = entry
        return task

    return register


def registered_periodic() -> list[Periodic]:
    return list(_REGISTRY.values())


def enqueue_due_periodic(now: dt.datetime | None = None) -> list[str]:
    """Enqueue every periodic task that is due; safe with any number of workers.

    Each due job's row is advanced with a conditional UPDATE; only the worker
    whose UPDATE changed the row enqueues, so a period runs once however many
    workers tick at the same moment.
    """
    from saha.core.models import ScheduledJob

    now = now or timezone.now()
    enqueued = []
    for job in registered_periodic():
        row, _created = ScheduledJob.objects.get_or_create(
            name=job.name, defaults={"next_run": now}
        )
        # The claim and the enqueue commit together (the queue is in the same
        # database): a crash between them loses neither the period nor the run.
        with transaction.atomic():
            claimed = (
                ScheduledJob.objects.filter(name=job.name, next_run=row.next_run)
                .filter(next_run__lte=now)
                .update(next_run=now + job.every, last_enqueued=now)
            )
            if claimed:
                job.task.enqueue()
                enqueued.append(job.name)
    return enqueued
