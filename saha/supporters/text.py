"""Normalizing what people type: names for search, email addresses, phone numbers.

These run once per imported row, so they are written to be cheap: the import
of a million rows spends most of its time here.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from django.conf import settings

# The Unicode direction marks and byte-order mark that spreadsheets leave
# around Arabic text, and the control characters (NUL among them, which
# PostgreSQL refuses in text) that broken files carry; tab and newline are
# spaces, collapsed below.
_CONTROLS = [*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F]
_MARKS = [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFEFF, *_CONTROLS]
_STRIP_MARKS_ONLY = dict.fromkeys(_MARKS)
# For search keys, also Arabic short vowels and marks (tashkeel) and the tatweel.
_STRIP = dict.fromkeys([*_MARKS, *range(0x064B, 0x0660), 0x0670, 0x0640])
# Letters that people write interchangeably: alef forms, alef maqsura, taa marbuta.
_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
_SPACES = re.compile(r"\s+")


def clean_text(value: str) -> str:
    """Trim, drop direction marks and collapse runs of spaces."""
    return _SPACES.sub(" ", value.translate(_STRIP_MARKS_ONLY)).strip()


def normalize_name(value: str) -> str:
    """A search key: "Élodie  Haddad" and "elodie haddad" match, so do "أحمد" and "احمد"."""
    value = unicodedata.normalize("NFKD", value.translate(_STRIP))
    value = "".join(ch for ch in value if not unicodedata.combining(ch))
    return _SPACES.sub(" ", value.translate(_FOLD).casefold()).strip()


# Deliberately simpler than RFC 5322: one @, a dot in the domain, no spaces.
# What mail servers accept in practice, and what a typo usually breaks.
_EMAIL = re.compile(
    r"^[^@\s<>(),;:\"\[\]\x00-\x1f\x7f]+@[^@\s<>(),;:\"\[\]\x00-\x1f\x7f]+"
    r"\.[^@\s<>(),;:\"\[\].\x00-\x1f\x7f]{2,}$"
)


def normalize_email(value: str) -> str | None:
    """The address in lower case, or None when it is not an address."""
    value = value.strip().strip("<>").strip()
    if not value or len(value) > 254 or not _EMAIL.match(value):
        return None
    local, _, domain = value.rpartition("@")
    if ".." in domain or domain.startswith((".", "-")):
        return None
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    # lower(), not casefold(): casefold turns "straße@" into "strasse@", which
    # may be someone else's mailbox.
    address = f"{local}@{domain}".lower()
    # Lowering and IDNA can lengthen an address past what the column holds.
    return address if len(address) <= 254 else None


_NOT_DIGITS = re.compile(r"\D")
_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def phone_digits(value: str) -> str:
    return _NOT_DIGITS.sub("", value.translate(_ARABIC_DIGITS))


@dataclass(frozen=True)
class Phone:
    number: str  # E.164
    sms_capable: bool


_MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalize_phone(value: str, region: str | None = None) -> Phone | None:
    """E.164 with whether it takes SMS, or None when it is not a valid number."""
    value = value.strip().translate(_ARABIC_DIGITS)
    if not value:
        return None
    if value.startswith("00"):
        value = "+" + value[2:]
    return _parse_phone(value, region or settings.SAHA_PHONE_REGION)


@lru_cache(maxsize=4096)
def _parse_phone(value: str, region: str) -> Phone | None:
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    # number_type() is UNKNOWN exactly when is_valid_number() is False; asking
    # once halves the cost of a phone, which dominates an import's parsing.
    kind = phonenumbers.number_type(parsed)
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:
        return None
    return Phone(
        number=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        sms_capable=kind in _MOBILE,
    )
