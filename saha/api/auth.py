"""Who is calling: an `OSDI-API-Token` header (any case) or `osdi-api-token` query
parameter, a scope per resource, and a rate limit per token.

An unknown or revoked token is 401; a token without the scope is 403. Every
call of a token is counted in the shared cache and, past the limit, answered
429 with Retry-After.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from saha.api import scopes
from saha.api.models import ApiToken
from saha.api.tokens import actor_of, find_token
from saha.core import audit, ratelimit

HEADER = "OSDI-API-Token"
QUERY_PARAMETER = "osdi-api-token"


class TokenUser:
    """What DRF holds as `request.user` for a token: authenticated, nobody's account."""

    is_authenticated = True
    is_anonymous = False
    pk = None

    def __init__(self, token: ApiToken) -> None:
        self.token = token

    def __str__(self) -> str:
        return f"api:{self.token.name}"


class Throttled(exceptions.Throttled):
    default_code = "rate_limited"


def secret_of(request: Any) -> str:
    header = request.META.get("HTTP_OSDI_API_TOKEN", "")
    return (header or request.GET.get(QUERY_PARAMETER, "")).strip()


def logged_path(request: Any) -> str:
    """The path as the audit log keeps it: capped, without NUL (PostgreSQL refuses it in JSON)."""
    return str(request.path).replace("\x00", "")[:300]


class TokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Any) -> tuple[TokenUser, ApiToken] | None:
        secret = secret_of(request)
        if not secret:
            return None
        token = find_token(secret)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("This API token is not valid or was revoked."), code="invalid_token"
            )
        over = ratelimit.hit(
            "api",
            "token",
            str(token.pk),
            limit=settings.SAHA_API_RATE_PER_MINUTE,
            window=60,
        )
        if over is not None:
            audit.log(
                actor_of(token),
                "api.call",
                None,
                {"method": request.method, "path": logged_path(request), "status": 429},
                organization=token.organization,
            )
            raise Throttled(
                wait=over.retry_after,
                detail=_("Too many calls with this token. Try again in a moment."),
            )
        return TokenUser(token), token

    def authenticate_header(self, request: Any) -> str:
        # Makes DRF answer 401 (not 403) when no token was sent.
        return HEADER


class HasScope(BasePermission):
    """The view's `resource` must be in the token's scopes (write for unsafe methods).

    A view without a `resource` (the entry point) needs only a valid token.
    """

    def has_permission(self, request: Any, view: Any) -> bool:
        token = request.auth
        if not isinstance(token, ApiToken):
            if getattr(view, "public_helper", False) and request.method == "POST":
                return True  # the view itself checks that the organization allows it
            raise exceptions.NotAuthenticated(
                _("Send your API token in the OSDI-API-Token header."), code="no_token"
            )
        resource = getattr(view, "resource", None)
        if resource is None:
            return True
        if scopes.allows(token.scopes, resource, write=request.method not in SAFE_METHODS):
            return True
        raise exceptions.PermissionDenied(
            _("This token may not do this with %(resource)s.") % {"resource": resource},
            code="missing_scope",
        )
