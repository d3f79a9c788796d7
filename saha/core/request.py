"""Who is asking: the client's address, also behind a reverse proxy."""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _clean(candidate: str | None) -> str | None:
    if not candidate:
        return None
    candidate = candidate.strip()
    if candidate.startswith("[") and "]" in candidate:  # [v6]:port
        candidate = candidate[1 : candidate.index("]")]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def client_ip(request: Any) -> str | None:
    """The client's address.

    Behind SAHA_PROXY_COUNT trusted proxies, each appends the address it saw to
    X-Forwarded-For, so the client is that many entries from the end; anything
    further left was written by the client and proves nothing. A request that
    reached us without passing the proxies falls back to the peer address.
    """
    if request is None:
        return None
    peer = _clean(request.META.get("REMOTE_ADDR"))
    count = settings.SAHA_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if count and forwarded:
        hops = [hop for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            return _clean(hops[-count]) or peer
    return peer
