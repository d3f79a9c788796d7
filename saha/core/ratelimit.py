"""Rate limits for public forms: a count per fixed window in the shared cache.

Every process shares the cache (Redis when `REDIS_URL` is set), so a check is
one cache round trip and no query. Keys hold a keyed hash of who is counted,
never the address itself. A client is counted by `address_of`: an IPv6 client
by its /64, one subscriber's whole network.
"""

from __future__ import annotations

import ipaddress
import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils.crypto import salted_hmac

from saha.core.request import client_ip


@dataclass(frozen=True)
class Throttled:
    """Over a limit: come back in `retry_after` seconds."""

    scope: str
    retry_after: int


def hit(namespace: str, scope: str, ident: str, *, limit: int, window: int) -> Throttled | None:
    """Count one attempt of `ident` (an address, an email) in the current window of
    `window` seconds; Throttled once more than `limit` were counted there."""
    digest = salted_hmac(f"saha.{namespace}.abuse{scope}", ident, algorithm="sha256")
    now = time.time()
    index = int(now // window)
    key = f"saha:{namespace}:{scope}:{digest.hexdigest()[:24]}:{index}"
    cache.add(key, 0, timeout=window + 1)
    try:
        hits = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=window + 1)
        hits = 1
    if hits <= limit:
        return None
    return Throttled(scope, max(1, math.ceil((index + 1) * window - now)))


def address_of(request: Any) -> str:
    """The client, for counting: an IPv6 address by its /64 (one subscriber's whole
    network: a bot there has as many addresses as it likes)."""
    address = client_ip(request) or "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def normalize_email(email: str) -> str:
    """One mailbox whatever "+tag" is added: a bot cannot flood it from many addresses."""
    local, _at, domain = email.strip().casefold().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else domain
