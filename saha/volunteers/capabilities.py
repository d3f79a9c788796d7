"""The capabilities an organization asks for, seeded with sensible defaults.

Defaults are seeded once per organization, the first time its capabilities are
listed (`ensure_capabilities`), not when the organization is created: an
organization that never uses volunteers carries no rows for them. Seeding is
idempotent and race-safe: the rows are inserted with ON CONFLICT DO NOTHING on
(organization, key), and only while none of the default keys exists, so a
default an organizer removed does not come back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError
from saha.organizations.models import Organization
from saha.volunteers.models import Capability, CapabilityKind, Unit

KEY_ATTEMPTS = 4


@dataclass(frozen=True)
class Default:
    key: str
    names: dict[str, str]
    kind: str = CapabilityKind.SKILL
    unit: str = Unit.PEOPLE


DEFAULTS = (
    Default("first-aid", {"ar": "إسعافات أولية", "en": "First aid", "fr": "Premiers secours"}),
    Default(
        "stewarding",
        {"ar": "تنظيم وحفظ النظام", "en": "Stewarding", "fr": "Service d'ordre"},
    ),
    Default(
        "translation",
        {
            "ar": "ترجمة (عربي، إنكليزي، فرنسي)",
            "en": "Translation (Arabic, English, French)",
            "fr": "Traduction (arabe, anglais, français)",
        },
    ),
    Default(
        "legal-observer",
        {"ar": "مراقبة قانونية", "en": "Legal observer", "fr": "Observation juridique"},
    ),
    Default(
        "driver",
        {"ar": "سائق مع مركبة", "en": "Driver with a vehicle", "fr": "Chauffeur avec véhicule"},
        CapabilityKind.RESOURCE,
        Unit.SEATS,
    ),
    Default(
        "photo-media",
        {"ar": "تصوير وإعلام", "en": "Photography and media", "fr": "Photo et médias"},
    ),
    Default(
        "sound-system",
        {"ar": "نظام صوت", "en": "Sound system", "fr": "Sonorisation"},
        CapabilityKind.RESOURCE,
        Unit.UNITS,
    ),
    Default(
        "venue",
        {"ar": "مكان أو قاعة", "en": "Venue space", "fr": "Salle ou lieu"},
        CapabilityKind.RESOURCE,
        Unit.SQUARE_METRES,
    ),
    Default("design", {"ar": "تصميم", "en": "Design", "fr": "Graphisme"}),
    Default("cooking", {"ar": "طبخ", "en": "Cooking", "fr": "Cuisine"}),
    Default(
        "sign-language",
        {"ar": "لغة الإشارة", "en": "Sign language", "fr": "Langue des signes"},
    ),
)
DEFAULT_KEYS = tuple(default.key for default in DEFAULTS)


def ensure_capabilities(organization: Organization) -> list[Capability]:
    """The organization's capabilities (active or not), the defaults seeded the first time."""
    own = Capability.objects.for_org(organization)
    if not own.filter(key__in=DEFAULT_KEYS).exists():
        with transaction.atomic():
            made = Capability.objects.bulk_create(
                [
                    Capability(
                        organization=organization,
                        key=default.key,
                        names=dict(default.names),
                        kind=default.kind,
                        unit=default.unit,
                        position=position,
                    )
                    for position, default in enumerate(DEFAULTS)
                ],
                ignore_conflicts=True,  # a concurrent first listing seeded them too
            )
            if made:
                audit.log(
                    "system",
                    "volunteers.capabilities.seeded",
                    organization,
                    {"keys": list(DEFAULT_KEYS)},
                )
    return list(own.select_related("organization").order_by("position", "pk"))


def active_capabilities(organization: Organization) -> list[Capability]:
    """What the offer form asks about, in the organization's order."""
    return [capability for capability in ensure_capabilities(organization) if capability.active]


def _names(names: dict[str, str]) -> dict[str, str]:
    cleaned = {language: " ".join(text.split())[:100] for language, text in names.items() if text}
    cleaned = {language: text for language, text in cleaned.items() if text}
    if not cleaned:
        raise DomainError("name_needed", _("Give the capability a name in at least one language."))
    return cleaned


def _free_key(organization: Organization, names: dict[str, str]) -> str:
    ordered = [names.get("en", ""), names.get("fr", ""), *names.values()]
    base = next((slugify(name) for name in ordered if slugify(name)), "")[:40].strip("-")
    base = base or "capability"
    taken = set(
        Capability.objects.for_org(organization)
        .filter(key__startswith=base)
        .values_list("key", flat=True)
    )
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def add_capability(
    *, actor: Any, organization: Organization, names: dict[str, str], kind: str, unit: str = ""
) -> Capability:
    """A capability of the organization's own, after the defaults. A skill counts people;
    a resource counts a unit (seats, square metres, units)."""
    names = _names(names)
    if kind not in CapabilityKind.values:
        raise DomainError("kind", _("Choose a skill or a resource."))
    if kind == CapabilityKind.SKILL:
        unit = Unit.PEOPLE
    elif unit not in Unit.values or unit == Unit.PEOPLE:
        unit = Unit.UNITS
    ensure_capabilities(organization)
    own = Capability.objects.for_org(organization)
    for _attempt in range(KEY_ATTEMPTS):
        try:
            with transaction.atomic():
                last = own.aggregate(last=Max("position"))["last"]
                capability = Capability.objects.create(
                    organization=organization,
                    key=_free_key(organization, names),
                    names=names,
                    kind=kind,
                    unit=unit,
                    position=(last or 0) + 1,
                )
                audit.log(actor, "volunteers.capability.added", capability, {"kind": kind})
                return capability
        except IntegrityError:  # the same key, added at this moment by someone else
            continue
    raise Conflict("key_busy", _("Please try again in a moment."))


def update_capability(
    *, actor: Any, capability: Capability, names: dict[str, str], active: bool
) -> Capability:
    """Rename it, or stop asking for it on the form (`active`). Its kind and unit stay:
    offers and needs count in them."""
    capability.names = _names(names)
    capability.active = active
    with transaction.atomic():
        capability.save(update_fields=["names", "active"])
        audit.log(actor, "volunteers.capability.changed", capability, {"active": active})
    return capability
