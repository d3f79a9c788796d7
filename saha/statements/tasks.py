"""Background work of statements: publishing those scheduled, when their time comes."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from saha.core.jobs import periodic
from saha.statements import services


@periodic(every=dt.timedelta(minutes=1))
@task(priority=10)
def publish_due_statements() -> int:
    """Safe to run twice, and beside a manual publication: each is a conditional UPDATE."""
    return services.publish_due()
