"""Background work of petitions: taking accepted signatures in."""

from __future__ import annotations

import datetime as dt
import time

from django.core.cache import cache
from django_tasks import task

from saha.core.jobs import periodic
from saha.petitions import intake

BUDGET_SECONDS = 50


@periodic(every=dt.timedelta(minutes=1))
@task(priority=10)
def take_in_signatures() -> int:
    """Take in what is pending, for at most 50 s; the next wake (or minute) does the rest."""
    taken = 0
    deadline = time.monotonic() + BUDGET_SECONDS
    while time.monotonic() < deadline:
        batch = intake.take_in(limit=200)
        taken += batch
        if batch == 0:
            break
    # Rows that arrived while this ran find the flag gone and wake a new run.
    cache.delete(intake.AWAKE_KEY)
    return taken
