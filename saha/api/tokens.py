"""Creating, finding and revoking API tokens (services: every change is audited)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.api import scopes as scope_names
from saha.api.models import ApiToken
from saha.core import audit
from saha.core.errors import DomainError
from saha.organizations.models import Organization

# "saha_" and 7 characters of the secret: enough to tell tokens apart on a page.
PREFIX_LENGTH = 12
# last_used_at is written at most this often per token, not on every call.
TOUCH_EVERY_SECONDS = 60


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    *, actor: Any, organization: Organization, name: str, scopes: list[str] | None = None
) -> NewToken:
    name = name.strip()
    if not name:
        raise DomainError("token_name_missing", _("Give the token a name."))
    chosen = list(dict.fromkeys(scopes)) if scopes else list(scope_names.DEFAULT_SCOPES)
    unknown = [scope for scope in chosen if not scope_names.is_valid(scope)]
    if unknown:
        raise DomainError(
            "unknown_scope",
            _("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)},
        )
    secret = f"saha_{secrets.token_urlsafe(32)}"
    with transaction.atomic():
        token = ApiToken.objects.create(
            organization=organization,
            name=name[:100],
            prefix=secret[:PREFIX_LENGTH],
            digest=digest_of(secret),
            scopes=chosen,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.log(actor, "api.token.created", token, {"scopes": chosen})
    return NewToken(token=token, secret=secret)


def revoke_token(*, actor: Any, token: ApiToken) -> bool:
    revoked = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    if revoked:
        audit.log(actor, "api.token.revoked", token)
    return bool(revoked)


def find_token(secret: str) -> ApiToken | None:
    """The active token with this secret, or None (a revoked one opens nothing)."""
    if not secret or len(secret) > 200:
        return None
    token = (
        ApiToken.objects.select_related("organization")
        .filter(digest=digest_of(secret), revoked_at__isnull=True)
        .first()
    )
    if token is not None:
        _touch(token)
    return token


def _touch(token: ApiToken) -> None:
    now = timezone.now()
    if token.last_used_at and (now - token.last_used_at).total_seconds() < TOUCH_EVERY_SECONDS:
        return
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now


def actor_of(token: ApiToken) -> str:
    """How the audit log names what a token did."""
    return f"api:{token.name} ({token.prefix}…)"
