"""Housekeeping the worker runs on its own schedule."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from saha.core.jobs import periodic
from saha.core.models import WorkerHeartbeat

logger = logging.getLogger("saha.mail")


@periodic(every=dt.timedelta(hours=1))
@task()
def prune_finished_tasks() -> int:
    """Forget finished task results and long-dead workers after SAHA_TASK_RESULT_DAYS."""
    cutoff = timezone.now() - dt.timedelta(days=settings.SAHA_TASK_RESULT_DAYS)
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    WorkerHeartbeat.objects.filter(last_seen__lt=cutoff).delete()
    return deleted


# After a temporary failure (server unreachable, 4xx), try again after these
# many seconds; then give up and leave the failure in the task's record.
EMAIL_RETRY_DELAYS = (60, 300, 900, 3600, 4 * 3600, 12 * 3600)


def is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return True
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


@task()
def send_email(
    *,
    subject: str,
    body: str,
    html: str | None,
    from_email: str,
    to: list[str],
    headers: dict[str, str],
    attempt: int = 0,
) -> int:
    """Send one account email; a temporary failure is retried later, with back-off."""
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject, body, from_email, to, headers=headers)
    if html:
        message.attach_alternative(html, "text/html")
    try:
        return message.send()
    except (smtplib.SMTPException, OSError) as error:
        if is_permanent(error) or attempt >= len(EMAIL_RETRY_DELAYS):
            raise
        delay = EMAIL_RETRY_DELAYS[attempt]
        logger.warning("Email to %s failed (%s); trying again in %d s", to, error, delay)
        send_email.using(run_after=timezone.now() + dt.timedelta(seconds=delay)).enqueue(
            subject=subject,
            body=body,
            html=html,
            from_email=from_email,
            to=to,
            headers=headers,
            attempt=attempt + 1,
        )
        return 0
