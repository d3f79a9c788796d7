from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from saha.core import jobs
from saha.core.jobs import enqueue_due_periodic, enqueue_on_commit, periodic
from saha.core.models import ScheduledJob
from saha.testing.factories import DATABASE_TASKS


@task()
def noop() -> None:
    return None


@pytest.fixture
def db_backend():  # type: ignore[no-untyped-def]
    """The real database queue instead of the tests' immediate backend."""
    with override_settings(TASKS=DATABASE_TASKS):
        yield


@pytest.mark.django_db(transaction=True)
def test_enqueue_on_commit_waits_for_the_commit(db_backend) -> None:  # type: ignore[no-untyped-def]
    with transaction.atomic():
        enqueue_on_commit(noop)
        assert DBTaskResult.objects.count() == 0
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_nothing_is_enqueued_when_the_transaction_rolls_back(db_backend) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(noop)
        raise RuntimeError("the write failed")
    assert DBTaskResult.objects.count() == 0


@pytest.fixture
def only_noop_scheduled(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(jobs, "_REGISTRY", {})
    periodic(every=dt.timedelta(minutes=10))(noop)
    return jobs.registered_periodic()[0]


@pytest.mark.django_db
def test_a_periodic_task_runs_once_per_period(db_backend, only_noop_scheduled) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    # two workers tick at the same moment: one enqueues
    assert enqueue_due_periodic(now) == [only_noop_scheduled.name]
    assert enqueue_due_periodic(now) == []
    # nothing until the period has passed
    assert enqueue_due_periodic(now + dt.timedelta(minutes=9)) == []
    assert enqueue_due_periodic(now + dt.timedelta(minutes=10)) == [only_noop_scheduled.name]
    assert DBTaskResult.objects.filter(task_path=noop.module_path).count() == 2
    job = ScheduledJob.objects.get(name=only_noop_scheduled.name)
    assert job.next_run == now + dt.timedelta(minutes=20)


def test_housekeeping_is_registered() -> None:
    from saha.core import tasks

    names = {job.name for job in jobs.registered_periodic()}
    assert tasks.prune_finished_tasks.module_path in names
