"""Account email goes out from the worker, survives a mail server that is down,
and is forgotten once sent (it carries sign-in links and reset keys)."""

from __future__ import annotations

import socket

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from saha.core.mail import queue_email
from saha.core.models import PendingEmail
from saha.core.tasks import EMAIL_RETRY_DELAYS, send_email
from saha.testing.factories import DATABASE_TASKS

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unreachable_smtp():  # type: ignore[no-untyped-def]
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=closed_port(),
        EMAIL_TIMEOUT=2,
        TASKS=DATABASE_TASKS,
    )


def pending(**overrides: object) -> PendingEmail:
    fields = {
        "subject": "Reset",
        "body": "https://saha.example.org/reset/SECRET",
        "html": "<p>link</p>",
        "from_email": "saha@example.org",
        "to": ["a@example.org"],
    }
    return PendingEmail.objects.create(**{**fields, **overrides})


def test_queued_mail_puts_only_an_id_on_the_queue(django_capture_on_commit_callbacks) -> None:
    message = EmailMultiAlternatives(
        "Reset", "https://saha.example.org/reset/SECRET", "saha@example.org", ["a@example.org"]
    )
    with override_settings(TASKS=DATABASE_TASKS), django_capture_on_commit_callbacks(execute=True):
        queue_email(message)
    task = DBTaskResult.objects.get()
    assert "SECRET" not in str(task.args_kwargs)
    assert task.args_kwargs["args"] == [PendingEmail.objects.get().pk]


def test_a_sent_message_is_forgotten() -> None:
    message = pending()
    assert send_email.call(message.pk) == 1
    assert mail.outbox[0].alternatives[0].content == "<p>link</p>"
    assert not PendingEmail.objects.exists()
    # run again (after a crash, say): nothing to do
    assert send_email.call(message.pk) == 0
    assert len(mail.outbox) == 1


def test_an_unreachable_server_is_tried_again_later() -> None:
    message = pending()
    with unreachable_smtp():
        assert send_email.call(message.pk) == 0
    retry = DBTaskResult.objects.get()
    assert retry.args_kwargs["args"] == [message.pk]
    assert retry.run_after > retry.enqueued_at
    assert PendingEmail.objects.get().attempts == 1


def test_after_the_last_retry_the_failure_is_kept_and_the_message_dropped() -> None:
    message = pending(attempts=len(EMAIL_RETRY_DELAYS))
    with unreachable_smtp(), pytest.raises(OSError):
        send_email.call(message.pk)
    assert DBTaskResult.objects.count() == 0
    assert not PendingEmail.objects.exists()
