"""The worker's heartbeat, reaper and scheduler, in-process and with real processes."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from saha.core.models import WorkerHeartbeat
from saha.core.worker import ABANDONED, beat, reap_orphaned_tasks
from saha.testing.processes import query, shared_database_url, wait_for  # noqa: F401  (fixture)


def running_task(worker_ids: list[str], started_ago: int) -> DBTaskResult:
    return DBTaskResult.objects.create(
        args_kwargs={"args": ["/dev/null"], "kwargs": {}},
        task_path="saha.core.tests.worker_tasks.stall_once",
        backend_name="default",
        run_after=dt.datetime(9999, 1, 1, tzinfo=dt.UTC),
        status=TaskResultStatus.RUNNING,
        started_at=timezone.now() - dt.timedelta(seconds=started_ago),
        worker_ids=worker_ids,
    )


@pytest.mark.django_db
class TestReaper:
    def test_task_of_a_silent_worker_returns_to_the_queue(self) -> None:
        # given a worker that last beat long ago, holding a task
        beat("gone")
        WorkerHeartbeat.objects.filter(worker_id="gone").update(
            last_seen=timezone.now() - dt.timedelta(hours=1)
        )
        task = running_task(["gone"], started_ago=3600)
        # when any worker reaps
        assert reap_orphaned_tasks() == 1
        # then the task is ready again
        task.refresh_from_db()
        assert task.status == TaskResultStatus.READY
        assert task.started_at is None

    def test_task_of_a_live_worker_is_left_alone(self) -> None:
        beat("alive")
        task = running_task(["alive"], started_ago=3600)
        assert reap_orphaned_tasks() == 0
        task.refresh_from_db()
        assert task.status == TaskResultStatus.RUNNING

    def test_a_worker_that_never_beat_gets_a_grace_period(self) -> None:
        recent = running_task(["plain-db-worker"], started_ago=1)
        old = running_task(["plain-db-worker"], started_ago=3600)
        assert reap_orphaned_tasks() == 1
        recent.refresh_from_db()
        old.refresh_from_db()
        assert (recent.status, old.status) == (TaskResultStatus.RUNNING, TaskResultStatus.READY)

    def test_a_task_that_kills_every_worker_is_given_up(self) -> None:
        attempts = ["w"] * settings.SAHA_TASK_MAX_ATTEMPTS
        task = running_task(attempts, started_ago=3600)
        reap_orphaned_tasks()
        task.refresh_from_db()
        assert task.status == TaskResultStatus.FAILED
        assert task.exception_class_path == ABANDONED

    def test_two_reapers_reclaim_once(self) -> None:
        task = running_task(["gone"], started_ago=3600)
        assert reap_orphaned_tasks() + reap_orphaned_tasks() == 1
        task.refresh_from_db()
        assert task.status == TaskResultStatus.READY


# --- With real processes ------------------------------------------------------


def task_status(url: str, task_id: str) -> str | None:
    key = task_id.replace("-", "") if url.startswith("sqlite") else task_id
    rows = query(url, "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = %s", (key,))
    return rows[0][0] if rows else None


@pytest.mark.slow
def test_a_task_left_running_by_a_killed_worker_is_run_again(
    database_url: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "saha.config.settings",
        "DATABASE_URL": database_url,
        "SAHA_VAR_DIR": str(tmp_path / "var"),
        "SAHA_WORKER_HEARTBEAT_SECONDS": "1",
        "SAHA_WORKER_DEAD_AFTER_SECONDS": "3",
    }
    saha = [sys.executable, "-m", "saha.cli"]
    subprocess.run([*saha, "manage", "migrate", "-v0"], env=env, check=True)
    marker = tmp_path / "runs"
    enqueue = (
        "from saha.core.tests.worker_tasks import stall_once;"
        f"print(stall_once.enqueue({str(marker)!r}).id)"
    )
    task_id = (
        subprocess.run(
            [*saha, "manage", "shell", "-c", enqueue],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    # given a worker that picked the task up and stalls in it
    first = subprocess.Popen([*saha, "worker", "--interval", "0.2"], env=env)
    try:
        wait_for(lambda: marker.exists(), 30, "the first worker to start the task")
        assert task_status(database_url, task_id) == "RUNNING"
        # when it is killed without warning
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    assert task_status(database_url, task_id) == "RUNNING"  # django-tasks-db alone stops here

    # then a new worker reaps it once the dead one is silent, and runs it to the end
    second = subprocess.Popen([*saha, "worker", "--interval", "0.2"], env=env)
    try:
        wait_for(
            lambda: task_status(database_url, task_id) == "SUCCESSFUL",
            60,
            "the task to finish on the second worker",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=10)
        except subprocess.TimeoutExpired:
            second.kill()
    assert marker.read_text() == "2"
