"""Short signed tokens for a row id: the id in base 36 and a truncated HMAC.

Short enough for an SMS or a QR code, unguessable, valid as long as the row
exists, and still valid after the key is rotated into SECRET_KEY_FALLBACKS.
Each use has its own salt, so a token made for one purpose opens nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, int_to_base36

_MAC_BYTES = 12


def _mac(salt: bytes, key: str, payload: str) -> str:
    digest = hmac.new(
        hashlib.sha256(salt + force_bytes(key)).digest(), payload.encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).decode().rstrip("=")


def make(salt: bytes, row_id: int) -> str:
    payload = int_to_base36(row_id)
    return f"{payload}-{_mac(salt, settings.SECRET_KEY, payload)}"


def read(salt: bytes, token: str) -> int | None:
    """The id a token names, or None when it is not one of ours for this salt."""
    if not token.isascii() or len(token) > 64:
        return None  # compare_digest refuses non-ASCII text
    payload, _, mac = token.partition("-")
    if not payload or not mac or len(payload) > 13:
        return None
    for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        if hmac.compare_digest(mac, _mac(salt, key, payload)):
            try:
                return base36_to_int(payload)
            except ValueError:
                return None
    return None
