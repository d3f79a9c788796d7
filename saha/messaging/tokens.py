"""Short signed tokens naming one delivery, for unsubscribe and preference links.

A token is the delivery's id and a truncated HMAC of it: short enough for an
SMS, unguessable, and valid for as long as the delivery row exists (an
unsubscribe link in a years-old email must still work). Keys rotated into
SECRET_KEY_FALLBACKS keep old links working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, int_to_base36

_SALT = b"saha.messaging.delivery-link"
_MAC_BYTES = 12


def _mac(key: str, payload: str) -> str:
    digest = hmac.new(
        hashlib.sha256(_SALT + force_bytes(key)).digest(), payload.encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).decode().rstrip("=")


def delivery_token(delivery_id: int) -> str:
    payload = int_to_base36(delivery_id)
    return f"{payload}-{_mac(settings.SECRET_KEY, payload)}"


def read_token(token: str) -> int | None:
    """The delivery id a token names, or None when it is not one of ours."""
    if not token.isascii():
        return None  # compare_digest refuses non-ASCII text
    payload, _, mac = token.partition("-")
    if not payload or not mac or len(payload) > 13:
        return None
    for key in [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]:
        if hmac.compare_digest(mac, _mac(key, payload)):
            try:
                return base36_to_int(payload)
            except ValueError:
                return None
    return None


def unsubscribe_url(delivery_id: int, token: str = "") -> str:
    return f"{settings.SAHA_BASE_URL}/u/{token or delivery_token(delivery_id)}/"


def preferences_url(delivery_id: int, token: str = "") -> str:
    return f"{settings.SAHA_BASE_URL}/u/{token or delivery_token(delivery_id)}/preferences/"
