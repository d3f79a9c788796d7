"""Account email goes out from the worker and survives a mail server that is down."""

from __future__ import annotations

import socket

import pytest
from django.core import mail
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from saha.core.tasks import EMAIL_RETRY_DELAYS, send_email

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
MESSAGE = {
    "subject": "Hello",
    "body": "Text",
    "html": "<p>Text</p>",
    "from_email": "saha@example.org",
    "to": ["a@example.org"],
    "headers": {},
}


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def unreachable_smtp():  # type: ignore[no-untyped-def]
    return override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=closed_port(),
        EMAIL_TIMEOUT=2,
        TASKS=DB_TASKS,
    )


def test_a_message_is_sent_with_its_html_part() -> None:
    assert send_email.call(**MESSAGE) == 1
    assert mail.outbox[0].alternatives[0].content == "<p>Text</p>"


@pytest.mark.django_db
def test_an_unreachable_server_is_tried_again_later() -> None:
    with unreachable_smtp():
        assert send_email.call(**MESSAGE) == 0
    retry = DBTaskResult.objects.get()
    assert retry.args_kwargs["kwargs"]["attempt"] == 1
    assert retry.status == "READY"
    assert retry.run_after > retry.enqueued_at


@pytest.mark.django_db
def test_after_the_last_retry_the_failure_is_kept() -> None:
    with unreachable_smtp(), pytest.raises(OSError):
        send_email.call(**MESSAGE, attempt=len(EMAIL_RETRY_DELAYS))
    assert DBTaskResult.objects.count() == 0
