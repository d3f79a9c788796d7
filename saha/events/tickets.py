"""Tickets: a signed token for the QR code, and a short code for typing at the gate.

The token names the RSVP and nothing else (no name, no email): a photo of
someone's ticket tells a stranger nothing about them. It is the RSVP's id and a
truncated HMAC, like the messaging links, under its own salt.
"""

from __future__ import annotations

import secrets

from saha.core import signed_ids

_SALT = b"saha.events.ticket"
# No 0/O, 1/I/L: read aloud at a gate, in the dark, from a cracked screen.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(typed: str) -> str:
    """What staff type, as stored: case, spaces and dashes forgiven."""
    return "".join(ch for ch in typed.upper() if ch.isascii() and ch.isalnum())[:32]


def ticket_token(rsvp_id: int) -> str:
    return signed_ids.make(_SALT, rsvp_id)


def read_ticket(token: str) -> int | None:
    """The RSVP id a ticket names, or None when it is not one of ours."""
    return signed_ids.read(_SALT, token)
