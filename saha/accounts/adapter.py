from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.http import HttpRequest

from saha.core.mail import queue_email
from saha.core.request import client_ip

INVITATION_SESSION_KEY = "saha_invitation_token"


def session_invitation(request: HttpRequest | None) -> Any:
    """The pending invitation whose link this browser opened, if any."""
    from saha.organizations.services import invitation_for_token

    token = request.session.get(INVITATION_SESSION_KEY) if request is not None else None
    return invitation_for_token(token) if token else None


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # A self-hosted instance is closed by default: people join through an
        # invitation to an organization, unless the operator opens sign-up.
        return settings.SAHA_OPEN_SIGNUP or session_invitation(request) is not None

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        from allauth.core import context as allauth_context
        from django.contrib.sites.shortcuts import get_current_site

        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        queue_email(self.render_mail(template_prefix, email, ctx))

    def get_client_ip(self, request: HttpRequest) -> str:
        # One answer for rate limits, the sessions page and the audit log.
        return client_ip(request) or "0.0.0.0"  # noqa: S104

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        if request.session.get(INVITATION_SESSION_KEY):
            from django.urls import reverse

            return reverse("organizations:invitation_accept")
        return super().get_login_redirect_url(request)

    def clean_email(self, email: str) -> str:
        """With sign-up closed, an invitation opens it for the invited address only."""
        email = super().clean_email(email)
        if settings.SAHA_OPEN_SIGNUP:
            return email
        from allauth.core import context as allauth_context
        from django import forms
        from django.utils.translation import gettext as _

        invitation = session_invitation(allauth_context.request)
        if invitation is not None and invitation.email.lower() != email.lower():
            raise forms.ValidationError(
                _("Use the address the invitation was sent to: %(email)s.")
                % {"email": invitation.email}
            )
        return email


def _fernet() -> Any:
    """Keys derived from SECRET_KEY and its fallbacks, so rotating the key keeps MFA working."""
    import base64
    import hashlib

    from cryptography.fernet import Fernet, MultiFernet

    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(base64.urlsafe_b64encode(hashlib.sha256(f"saha.mfa:{key}".encode()).digest()))
            for key in keys
        ]
    )


# Every Fernet token starts with its version byte 0x80, "gAAAAA" in base64.
FERNET_PREFIX = "gAAAAA"


class MFAAdapter(DefaultMFAAdapter):
    """TOTP secrets and recovery-code seeds are stored encrypted, not in the clear."""

    def encrypt(self, text: str) -> str:
        return str(_fernet().encrypt(text.encode()).decode())

    def decrypt(self, encrypted_text: str) -> str:
        if not encrypted_text.startswith(FERNET_PREFIX):
            # Stored in the clear before encryption was introduced; it is
            # encrypted the next time allauth writes it.
            return encrypted_text
        return str(_fernet().decrypt(encrypted_text.encode()).decode())
