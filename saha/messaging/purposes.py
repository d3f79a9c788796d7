"""The purposes a person can agree to hear about, as the preference page lists them.

Consent is recorded per channel and purpose (`ConsentRecord.purpose`); a
broadcast names the purpose it serves. Apps that add a kind of message (event
reminders, a petition's updates) register its purpose here, once, at import
time, so that the preference page offers it and labels it in the person's
language.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from saha.supporters.models import DEFAULT_PURPOSE


@dataclass(frozen=True)
class Purpose:
    key: str
    label: str | Promise  # lazy: translated when shown


_PURPOSES: dict[str, Purpose] = {}


def register_purpose(key: str, label: str | Promise) -> Purpose:
    """Add a purpose (or relabel one already registered); keeps the order of first registration."""
    if not key or len(key) > 50:
        raise ValueError("A purpose's key is 1 to 50 characters (ConsentRecord.purpose).")
    purpose = Purpose(key=key, label=label)
    _PURPOSES[key] = purpose
    return purpose


def purposes() -> list[Purpose]:
    return list(_PURPOSES.values())


def purpose_label(key: str) -> str:
    """The purpose's label in the active language; an unregistered one shows its key."""
    purpose = _PURPOSES.get(key)
    return str(purpose.label) if purpose else key


register_purpose(DEFAULT_PURPOSE, _("News and calls to action"))
