"""Background work of volunteers: reminders before shifts."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django_tasks import task

from saha.core.jobs import periodic
from saha.volunteers import reminders


@task()
def remind_volunteers(kind: str, pk: int, minutes: int, starts: str) -> int:
    """Tell everyone with a place on one shift (or need) that it starts soon."""
    return reminders.remind(reminders.Due(kind, pk, minutes, starts))


@periodic(every=dt.timedelta(minutes=5))
@task()
def send_due_reminders() -> int:
    """Claim what is due and queue its sending, in one transaction: a crash in between
    loses neither the claim nor the reminder."""
    with transaction.atomic():
        due = reminders.claim_due_reminders()
        for item in due:
            remind_volunteers.enqueue(item.kind, item.pk, item.minutes, item.starts)
    return len(due)
