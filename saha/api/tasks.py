"""Background work of the API: sending webhook deliveries."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from saha.api import webhooks
from saha.core.jobs import periodic


@task()
def deliver_webhook(delivery_id: int) -> str | None:
    """One attempt at one delivery, if it is still due (safe to run twice)."""
    return webhooks.attempt(delivery_id)


@periodic(every=dt.timedelta(minutes=1))
@task()
def send_due_webhooks() -> int:
    """Retries whose time has come, and attempts lost with their worker."""
    return webhooks.send_due()
