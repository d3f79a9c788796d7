"""Housekeeping the worker runs on its own schedule."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from saha.core.jobs import periodic
from saha.core.models import WorkerHeartbeat


@periodic(every=dt.timedelta(hours=1))
@task()
def prune_finished_tasks() -> int:
    """Forget finished task results and long-dead workers after SAHA_TASK_RESULT_DAYS."""
    cutoff = timezone.now() - dt.timedelta(days=settings.SAHA_TASK_RESULT_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    WorkerHeartbeat.objects.filter(last_seen__lt=cutoff).delete()
    return deleted


@task()
def send_email(
    *,
    subject: str,
    body: str,
    html: str | None,
    from_email: str,
    to: list[str],
    headers: dict[str, str],
) -> int:
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject, body, from_email, to, headers=headers)
    if html:
        message.attach_alternative(html, "text/html")
    return message.send()
