"""Tickets: a signed token for the QR code, and a short code for typing at the gate.

The token names the RSVP and nothing else (no name, no email): a photo of
someone's ticket tells a stranger nothing about them. It is the RSVP's id and a
truncated HMAC, like the messaging links, under its own salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, int_to_base36

_SALT = b"saha.events.ticket"
_MAC_BYTES = 12
# No 0/O, 1/I/L: read aloud at a gate, in the dark, from a cracked screen.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed: str) -> str:
    """What staff type, as stored: case, spaces and dashes forgiven."""
    return "".join(ch for ch in typed.upper() if ch.isascii() and ch.isalnum())[:32]


def _mac(key: str, payload: str) -> str:
    digest = hmac.new(
        hashlib.sha256(_SALT + force_bytes(key)).digest(), payload.encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest[:_MAC_BYTES]).decode().rstrip("=")


def ticket_token(rsvp_id: int) -> str:
    payload = int_to_base36(rsvp_id)
    return f"{payload}-{_mac(settings.SECRET_KEY, payload)}"


def read_ticket(token: str) -> int | None:
    """The RSVP id a ticket names, or None when it is not one of ours."""
    if not token.isascii() or len(token) > 64:
        return None
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
