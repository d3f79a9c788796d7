"""Account and staff email, sent by the worker, never inside a request.

Supporter messaging goes through the outbox of the messaging app; this is for
the handful of messages to organizers themselves (sign-up confirmation,
password reset, invitations to join an organization).
"""

from __future__ import annotations

from django.core.mail import EmailMessage, EmailMultiAlternatives


def queue_email(message: EmailMessage) -> None:
    """Keep the message until the worker has sent it; only its id goes on the queue."""
    from saha.core.jobs import enqueue_on_commit
    from saha.core.models import PendingEmail
    from saha.core.tasks import send_email

    html = ""
    if isinstance(message, EmailMultiAlternatives):
        html = next(
            (content for content, mimetype in message.alternatives if mimetype == "text/html"),
            "",
        )
    pending = PendingEmail.objects.create(
        subject=message.subject,
        body=message.body,
        html=html,
        from_email=message.from_email,
        to=list(message.to),
        headers={k: str(v) for k, v in (message.extra_headers or {}).items()},
    )
    enqueue_on_commit(send_email, pending.pk)
