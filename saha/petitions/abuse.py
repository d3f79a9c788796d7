"""Keeping the sign form open to people while a bot floods it.

Everything here lives in the Django cache (local memory, or Redis when several
web processes share it), so a check costs a cache round trip and no query:

- Rate limits, fixed windows: per client address and per email address. The
  keys hold a keyed hash, never the address itself (the cache is not where
  supporters' addresses should be kept).
- Flood detection, per petition: sign attempts are counted per 10-second
  window; past a threshold the challenge switches on for that petition for a
  few minutes.
- A proof of work, self-hosted (no third-party CAPTCHA sees the signers): the
  page carries a challenge (random seed, difficulty, expiry, HMAC-signed),
  static/petitions/pow.js finds a nonce so that SHA-256(seed ":" nonce) starts
  with `difficulty` zero bits and marks the form as solved by script. The
  server checks it with one hash; a seed is good for one signature.

Without JavaScript nobody can solve the challenge, and nobody is turned away
for that: a signature made while the challenge is on without a solution is
still taken, under a stricter per-address limit. A bot from one address is
then stopped by that limit (429); a bot spread over many addresses can only
make unconfirmed signatures for addresses whose mail it cannot read, and
those do not count publicly unless the organizer chose so. A signer with a
script who sends the marker must send a good solution (the page asks them to
press the button again, with a fresh challenge).

Settings (all optional, read on each use): see `_setting` callers below and
the defaults in DEFAULTS.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac

from saha.core import ratelimit
from saha.core.ratelimit import Throttled, address_of, normalize_email

DEFAULTS: dict[str, Any] = {
    # Sign attempts from one client address: this many per window (seconds).
    "SAHA_PETITION_IP_LIMIT": 10,
    "SAHA_PETITION_IP_WINDOW": 60,
    # Sign attempts with one email address (lower case, "+tag" dropped).
    "SAHA_PETITION_EMAIL_LIMIT": 3,
    "SAHA_PETITION_EMAIL_WINDOW": 3600,
    # While the challenge is on, signatures without a solution (no JavaScript)
    # from one address: this many per window.
    "SAHA_PETITION_NOSCRIPT_LIMIT": 3,
    "SAHA_PETITION_NOSCRIPT_WINDOW": 600,
    # Attempts on one petition per 10 s above which the challenge switches on.
    "SAHA_PETITION_FLOOD_THRESHOLD": 100,
    # How long the challenge stays on after the last flooded window.
    "SAHA_PETITION_CHALLENGE_SECONDS": 300,
    # "auto" (on under a flood), "always", or "never".
    "SAHA_PETITION_CHALLENGE": "auto",
    # Leading zero bits of the proof of work (16: about 65,000 hashes, half a second
    # in Chromium's Web Crypto on a laptop, started as the page loads), and how long
    # a challenge is good for.
    "SAHA_PETITION_POW_DIFFICULTY": 16,
    "SAHA_PETITION_POW_SECONDS": 1800,
}

FLOOD_WINDOW = 10  # seconds
_PREFIX = "saha:petitions:"
_SALT = "saha.petitions.abuse"
_MAX_TOKEN = 200
_MAX_NONCE = 32


def _setting(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


# --- Rate limits ------------------------------------------------------------------


def _limit(scope: str, ident: str, prefix: str) -> Throttled | None:
    limit = int(_setting(f"SAHA_PETITION_{prefix}_LIMIT"))
    window = int(_setting(f"SAHA_PETITION_{prefix}_WINDOW"))
    return ratelimit.hit("petitions", scope, ident, limit=limit, window=window)


def check_address(request: Any) -> Throttled | None:
    """Every sign attempt from this client address counts."""
    return _limit("ip", address_of(request), "IP")


def check_noscript(request: Any) -> Throttled | None:
    """The stricter limit on signatures made without a solution while the challenge is on."""
    return _limit("noscript", address_of(request), "NOSCRIPT")


def check_email(email: str) -> Throttled | None:
    return _limit("email", normalize_email(email), "EMAIL")


# --- Flood detection --------------------------------------------------------------


def _challenge_key(petition_id: int) -> str:
    return f"{_PREFIX}challenge:{petition_id}"


def note_attempt(petition_id: int) -> None:
    """One sign attempt; too many in one window switch the challenge on."""
    if _setting("SAHA_PETITION_CHALLENGE") != "auto":
        return
    threshold = int(_setting("SAHA_PETITION_FLOOD_THRESHOLD"))
    flooded = ratelimit.hit(
        "petitions", "flood", str(petition_id), limit=threshold, window=FLOOD_WINDOW
    )
    if flooded is not None:
        switch_on(petition_id)


def switch_on(petition_id: int) -> None:
    seconds = int(_setting("SAHA_PETITION_CHALLENGE_SECONDS"))
    cache.set(_challenge_key(petition_id), 1, timeout=seconds)


def challenge_on(petition_id: int) -> bool:
    mode = _setting("SAHA_PETITION_CHALLENGE")
    if mode == "always":
        return True
    if mode == "never":
        return False
    return bool(cache.get(_challenge_key(petition_id)))


# --- Proof of work ----------------------------------------------------------------


@dataclass(frozen=True)
class Challenge:
    seed: str
    difficulty: int
    expires: int
    token: str  # what the form sends back: seed, difficulty, expiry and their signature


def _mac(petition_id: int, seed: str, difficulty: int, expires: int) -> str:
    message = f"{petition_id}:{seed}:{difficulty}:{expires}"
    return salted_hmac(_SALT + "pow", message, algorithm="sha256").hexdigest()[:32]


def issue(petition_id: int) -> Challenge:
    seed = secrets.token_hex(12)
    difficulty = int(_setting("SAHA_PETITION_POW_DIFFICULTY"))
    expires = int(time.time()) + int(_setting("SAHA_PETITION_POW_SECONDS"))
    mac = _mac(petition_id, seed, difficulty, expires)
    return Challenge(seed, difficulty, expires, f"{seed}.{difficulty}.{expires}.{mac}")


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte:
            return bits + 8 - byte.bit_length()
        bits += 8
    return bits


def solve(seed: str, difficulty: int) -> str:
    """Find a nonce the way pow.js does (for tests and tools; slow in Python by design)."""
    nonce = 0
    while True:
        digest = hashlib.sha256(f"{seed}:{nonce}".encode()).digest()
        if leading_zero_bits(digest) >= difficulty:
            return str(nonce)
        nonce += 1


def _parse(token: str) -> tuple[str, int, int, str] | None:
    if not token.isascii() or len(token) > _MAX_TOKEN:
        return None
    parts = token.split(".")
    if len(parts) != 4 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return parts[0], int(parts[1]), int(parts[2]), parts[3]


def verify(petition_id: int, token: str, nonce: str) -> str:
    """ "" when the solution is good (and now used up), else why it is not."""
    parsed = _parse(token)
    if parsed is None or not nonce.isascii() or not 0 < len(nonce) <= _MAX_NONCE:
        return "malformed"
    seed, difficulty, expires, mac = parsed
    if not hmac.compare_digest(mac, _mac(petition_id, seed, difficulty, expires)):
        return "forged"
    now = time.time()
    if expires <= now:
        return "expired"
    digest = hashlib.sha256(f"{seed}:{nonce}".encode()).digest()
    if leading_zero_bits(digest) < difficulty:
        return "unsolved"
    # Single use: the first signature with this seed takes it.
    if not cache.add(f"{_PREFIX}pow:{seed}", 1, timeout=int(expires - now) + 1):
        return "replayed"
    return ""
