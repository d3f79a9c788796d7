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
from saha.core.models import PendingEmail, WorkerHeartbeat

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
def send_email(pending_id: int) -> int:
    """Send one account email, then forget it; a temporary failure is retried with back-off.

    Run twice after a crash between sending and deleting, the message may go
    out twice; run after it was sent, it finds nothing and does nothing.
    """
    from django.core.mail import EmailMultiAlternatives

    pending = PendingEmail.objects.filter(pk=pending_id).first()
    if pending is None:
        return 0
    message = EmailMultiAlternatives(
        pending.subject, pending.body, pending.from_email, pending.to, headers=pending.headers
    )
    if pending.html:
        message.attach_alternative(pending.html, "text/html")
    try:
        sent = message.send()
    except (smtplib.SMTPException, OSError) as error:
        if is_permanent(error) or pending.attempts >= len(EMAIL_RETRY_DELAYS):
            pending.delete()
            raise
        delay = EMAIL_RETRY_DELAYS[pending.attempts]
        PendingEmail.objects.filter(pk=pending.pk).update(attempts=pending.attempts + 1)
        logger.warning("Email to %s failed (%s); trying again in %d s", pending.to, error, delay)
        send_email.using(run_after=timezone.now() + dt.timedelta(seconds=delay)).enqueue(pending.pk)
        return 0
    pending.delete()
    return sent
