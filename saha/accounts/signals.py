"""Account events in the audit log: sign-ins, failures, MFA and password changes."""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from saha.core import audit
from saha.core.request import client_ip
from saha.organizations.models import Membership


@receiver(account_signals.user_logged_in)
def on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.log(user, "accounts.signed_in", user, ip_address=client_ip(request))


@receiver(user_login_failed)
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any
) -> None:
    # Never the password: only which address was tried.
    tried = str(credentials.get("email") or credentials.get("username") or "")[:200]
    audit.log(None, "accounts.sign_in_failed", data={"email": tried}, ip_address=client_ip(request))


@receiver(account_signals.password_changed)
@receiver(account_signals.password_reset)
def on_password(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.log(user, "accounts.password_changed", user, ip_address=client_ip(request))


def _audit_authenticator(action: str) -> Any:
    def handler(sender: Any, request: Any, user: Any, authenticator: Any, **kw: Any) -> None:
        # One entry for the account, and one in each of the member's
        # organizations: an owner who requires MFA sees a member turn it off.
        data = {"type": authenticator.type}
        ip = client_ip(request)
        audit.log(user, action, user, data, ip_address=ip)
        for membership in Membership.objects.filter(user=user).select_related("organization"):
            audit.log(user, action, membership, data, ip_address=ip)

    return handler


# weak=False: the handlers are closures that nothing else holds.
mfa_signals.authenticator_added.connect(_audit_authenticator("accounts.mfa_added"), weak=False)
mfa_signals.authenticator_removed.connect(_audit_authenticator("accounts.mfa_removed"), weak=False)
mfa_signals.authenticator_reset.connect(_audit_authenticator("accounts.mfa_reset"), weak=False)
