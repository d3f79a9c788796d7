"""Account and staff email, sent by the worker, never inside a request.

Supporter messaging goes through the outbox of the messaging app; this is for
the handful of messages to organizers themselves (sign-up confirmation,
password reset, invitations to join an organization).
"""

from __future__ import annotations

from django.core.mail import EmailMessage, EmailMultiAlternatives


def queue_email(message: EmailMessage) -> None:
    from saha.core.jobs import enqueue_on_commit
    from saha.core.tasks import send_email

    html = None
    if isinstance(message, EmailMultiAlternatives):
        html = next(
            (content for content, mimetype in message.alternatives if mimetype == "text/html"),
            None,
        )
    enqueue_on_commit(
        send_email,
        subject=message.subject,
        body=message.body,
        html=html,
        from_email=message.from_email,
        to=list(message.to),
        headers={k: str(v) for k, v in (message.extra_headers or {}).items()},
    )
