"""Rate limits on the public volunteer forms (the offer form, a need's sign-up form): per
client address, and per email address.

Fixed windows counted in the Django cache (local memory, or Redis when web
processes share it): a check costs a cache round trip and no query. Keys hold a
keyed hash, never the address itself. A client is counted as the petitions'
sign form counts it (`saha.petitions.abuse.address_of`: an IPv6 client by its
/64). The honeypot is a field of the page, read by the view.

Settings (optional, read on each use): SAHA_VOLUNTEER_IP_LIMIT per
SAHA_VOLUNTEER_IP_WINDOW seconds, SAHA_VOLUNTEER_EMAIL_LIMIT per
SAHA_VOLUNTEER_EMAIL_WINDOW seconds.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

from saha.petitions.abuse import address_of, normalize_email

DEFAULTS: dict[str, int] = {
    "SAHA_VOLUNTEER_IP_LIMIT": 10,
    "SAHA_VOLUNTEER_IP_WINDOW": 60,
    "SAHA_VOLUNTEER_EMAIL_LIMIT": 5,
    "SAHA_VOLUNTEER_EMAIL_WINDOW": 3600,
}
_PREFIX = "saha:volunteers:"
_SALT = "saha.volunteers.abuse"


@dataclass(frozen=True)
class Throttled:
    """Over a limit: come back in `retry_after` seconds."""

    scope: str
    retry_after: int


def _setting(name: str) -> int:
    return int(getattr(settings, name, DEFAULTS[name]))


def _hit(scope: str, ident: str, prefix: str) -> Throttled | None:
    limit = _setting(f"SAHA_VOLUNTEER_{prefix}_LIMIT")
    window = _setting(f"SAHA_VOLUNTEER_{prefix}_WINDOW")
    digest = salted_hmac(_SALT + scope, ident, algorithm="sha256").hexdigest()[:24]
    now = time.time()
    index = int(now // window)
    key = f"{_PREFIX}{scope}:{digest}:{index}"
    cache.add(key, 0, timeout=window + 1)
    try:
        hits = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        hits = 1
    if hits <= limit:
        return None
    return Throttled(scope, max(1, math.ceil((index + 1) * window - now)))


def check_address(request: Any) -> Throttled | None:
    """Every attempt from this client address counts."""
    return _hit("ip", address_of(request), "IP")


def check_email(email: str) -> Throttled | None:
    """Attempts with one address ("+tag" folded): nobody floods a mailbox from many IPs."""
    return _hit("email", normalize_email(email), "EMAIL") if email else None
