from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django_tasks import task

from saha.core.mail import queue_email
from saha.organizations.models import Invitation


@task()
def send_invitation(invitation_id: int, token: str) -> bool:
    """Write an invitation and queue it. Safe to run twice: a second copy of a link is harmless."""
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or not invitation.is_pending:
        return False
    organization = invitation.organization
    language = (invitation.invited_by.language if invitation.invited_by else "") or (
        organization.default_language
    )
    with translation.override(language):
        context = {
            "invitation": invitation,
            "organization": organization,
            "url": settings.SAHA_BASE_URL
            + reverse("organizations:invitation", kwargs={"token": token}),
        }
        subject = render_to_string("organizations/email/invitation_subject.txt", context)
        body = render_to_string("organizations/email/invitation_message.txt", context)
    # Through the retrying sender: an SMTP server that is down delays an
    # invitation, it does not lose it.
    queue_email(EmailMultiAlternatives(" ".join(subject.split()), body, to=[invitation.email]))
    return True
