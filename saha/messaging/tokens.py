"""Short signed tokens naming one delivery, for unsubscribe and preference links.

A token is the delivery's id and a truncated HMAC of it: short enough for an
SMS, unguessable, and valid for as long as the delivery row exists (an
unsubscribe link in a years-old email must still work). Keys rotated into
SECRET_KEY_FALLBACKS keep old links working.
"""

from __future__ import annotations

from django.conf import settings

from saha.core import signed_ids

_SALT = b"saha.messaging.delivery-link"


def delivery_token(delivery_id: int) -> str:
    return signed_ids.make(_SALT, delivery_id)


def read_token(token: str) -> int | None:
    """The delivery id a token names, or None when it is not one of ours."""
    return signed_ids.read(_SALT, token)


def unsubscribe_url(delivery_id: int, token: str = "") -> str:
    return f"{settings.SAHA_BASE_URL}/u/{token or delivery_token(delivery_id)}/"


def preferences_url(delivery_id: int, token: str = "") -> str:
    return f"{settings.SAHA_BASE_URL}/u/{token or delivery_token(delivery_id)}/preferences/"
