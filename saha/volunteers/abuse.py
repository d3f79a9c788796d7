"""Rate limits on the public volunteer forms (the offer form, a need's sign-up form): per
client address, and per email address.

Fixed windows counted in the Django cache (local memory, or Redis when web
processes share it): a check costs a cache round trip and no query. Keys hold a
keyed hash, never the address itself. A client is counted as the petitions'
sign form counts it (`saha.core.ratelimit.address_of`: an IPv6 client by its
/64). The honeypot is a field of the page, read by the view.

Settings (optional, read on each use): SAHA_VOLUNTEER_IP_LIMIT per
SAHA_VOLUNTEER_IP_WINDOW seconds, SAHA_VOLUNTEER_EMAIL_LIMIT per
SAHA_VOLUNTEER_EMAIL_WINDOW seconds.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from saha.core import ratelimit
from saha.core.ratelimit import Throttled, address_of, normalize_email

DEFAULTS: dict[str, int] = {
    "SAHA_VOLUNTEER_IP_LIMIT": 10,
    "SAHA_VOLUNTEER_IP_WINDOW": 60,
    "SAHA_VOLUNTEER_EMAIL_LIMIT": 5,
    "SAHA_VOLUNTEER_EMAIL_WINDOW": 3600,
}
__all__ = ["Throttled", "check_address", "check_email"]


def _hit(scope: str, ident: str, prefix: str) -> Throttled | None:
    def setting(name: str) -> int:
        return int(getattr(settings, name, DEFAULTS[name]))

    return ratelimit.hit(
        "volunteers",
        scope,
        ident,
        limit=setting(f"SAHA_VOLUNTEER_{prefix}_LIMIT"),
        window=setting(f"SAHA_VOLUNTEER_{prefix}_WINDOW"),
    )


def check_address(request: Any) -> Throttled | None:
    """Every attempt from this client address counts."""
    return _hit("ip", address_of(request), "IP")


def check_email(email: str) -> Throttled | None:
    """Attempts with one address ("+tag" folded): nobody floods a mailbox from many IPs."""
    return _hit("email", normalize_email(email), "EMAIL") if email else None
