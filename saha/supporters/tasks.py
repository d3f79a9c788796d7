"""Background work of the supporters app: imports and retention."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from saha.core.jobs import periodic
from saha.supporters import importing
from saha.supporters.retention import apply_all_retention


@task()
def run_import_task(batch_id: int) -> str:
    """Import a CSV batch; a rerun after a crash resumes after the last committed chunk."""
    batch = importing.run_import(batch_id)
    return batch.status if batch else "gone"


@periodic(every=dt.timedelta(hours=24))
@task()
def apply_retention_rules() -> dict[str, int]:
    """Every organization's retention rules, once a day; running it twice removes nothing more."""
    reports = apply_all_retention()
    return {
        "organizations": len(reports),
        "people_forgotten": sum(r.people_forgotten for r in reports),
        "phones_dropped": sum(r.phones_dropped for r in reports),
    }


@periodic(every=dt.timedelta(hours=1))
@task()
def discard_stale_imports() -> dict[str, int]:
    """What imports leave behind holds personal data: files uploaded and never started go
    after a day, problem reports 30 days after their import (the counts stay)."""
    return {
        "drafts": importing.discard_stale_drafts(),
        "problems": importing.discard_old_problems(),
    }
