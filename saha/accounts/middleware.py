"""Where a member is signed in, kept up to date without a write on every request.

allauth's UserSessionsMiddleware updates the member's session row (its last
activity, address and browser) on every signed-in request: one transaction and
an UPDATE each time, about a quarter of a gate scan's cost in the check-in
benchmark (docs/performance.md, B7). The sessions page only needs to know
roughly when a session was last used, and at once when it moves to another
address or browser. So this records the activity at most once every
SAHA_SESSION_ACTIVITY_SECONDS per session (a minute by default), and at once
when the address or the browser changes; the cache remembers what was last
recorded. Should the cache fail, the activity is written on every request again:
a signed-in page never fails for it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from allauth.account.adapter import get_adapter
from allauth.usersessions import app_settings
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)


def _fingerprint(request: HttpRequest) -> str:
    client = f"{get_adapter().get_client_ip(request)}\n{request.META.get('HTTP_USER_AGENT', '')}"
    return hashlib.sha256(client.encode("utf-8", "surrogatepass")).hexdigest()[:32]


class SessionActivityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            app_settings.TRACK_ACTIVITY
            and hasattr(request, "session")
            and request.session.session_key
            and hasattr(request, "user")
            and request.user.is_authenticated
        ):
            self.record(request)
        return self.get_response(request)

    @staticmethod
    def record(request: HttpRequest) -> None:
        key = f"usersession-seen:{request.session.session_key}"
        fingerprint = _fingerprint(request)
        if _cache(cache.get, key) == fingerprint:
            return
        UserSession.objects.create_from_request(request)
        _cache(cache.set, key, fingerprint, settings.SAHA_SESSION_ACTIVITY_SECONDS)


def _cache(call: Callable[..., Any], *args: Any) -> Any:
    """The cache's answer, or None when it is down: then the activity is written on
    every request, as allauth would, and the page never fails for it."""
    try:
        return call(*args)
    except Exception:
        log.warning("The cache is unavailable: session activity written on every request")
        return None
