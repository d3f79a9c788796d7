from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from saha.core.mail import queue_email
from saha.organizations.models import Invitation, invitation_token


@task()
def send_invitation(invitation_id: int) -> bool:
    """Write an invitation and queue it. Safe to run twice: a second copy of a link is harmless."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return False
    organization = invitation.organization
    link = reverse("organizations:invitation", args=[invitation_token(invitation.salt)])
    with translation.override(invitation.language or organization.default_language):
        context = {
            "invitation": invitation,
            "organization": organization,
            "url": settings.SAHA_BASE_URL + link,
        }
        subject = render_to_string("organizations/email/invitation_subject.txt", context)
        body = render_to_string("organizations/email/invitation_message.txt", context)
    # Through the retrying sender: an SMTP server that is down delays an
    # invitation, it does not lose it.
    queue_email(EmailMultiAlternatives(" ".join(subject.split()), body, to=[invitation.email]))
    return True
