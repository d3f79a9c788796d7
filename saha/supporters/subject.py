"""Data-subject rights, and the organization's privacy choices and saved audiences.

`person_data(person)` gathers everything the organization holds about one
person, for the download a person may ask for (JSON, or CSV rows). Later apps
add what they hold (signatures, RSVPs, offers) through `register_section`.
Every download is audited, like any other read of personal data in bulk.

The writes of the privacy settings page and of the segment pages live here
too, each with its audit row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError
from saha.supporters import timeline
from saha.supporters.exporting import encode, neutralize
from saha.supporters.models import (
    ConsentRecord,
    CustomField,
    Person,
    PrivacySettings,
    Segment,
)

if TYPE_CHECKING:
    from saha.organizations.models import Organization

EXPORT_FORMATS = ("json", "csv")
PROFILE_EXPORT = (
    "given_name",
    "family_name",
    "language",
    "country",
    "region",
    "locality",
    "postal_code",
    "latitude",
    "longitude",
    "source",
    "source_ref",
    "referrer",
    "created_at",
    "modified_at",
    "last_activity_at",
)
CSV_HEADER = ["section", "item", "field", "value"]

# --- Everything about one person -----------------------------------------------

Section = Callable[[Person], Any]
_SECTIONS: dict[str, Section] = {}


def register_section(name: str) -> Callable[[Section], Section]:
    """Add what an app holds about a person to their download, under `name`."""

    def decorate(provider: Section) -> Section:
        _SECTIONS[name] = provider
        return provider

    return decorate


@register_section("profile")
def _profile(person: Person) -> dict[str, Any]:
    return {"id": person.pk, **{name: getattr(person, name) for name in PROFILE_EXPORT}}


@register_section("custom_fields")
def _custom_fields(person: Person) -> dict[str, Any]:
    labels = {
        f.key: f.label() for f in CustomField.objects.filter(organization_id=person.organization_id)
    }
    return {labels.get(key, key): value for key, value in person.custom_fields.items()}


@register_section("emails")
def _emails(person: Person) -> list[Any]:
    return list(
        person.emails.order_by("id").values("address", "status", "is_primary", "created_at")
    )


@register_section("phones")
def _phones(person: Person) -> list[Any]:
    return list(
        person.phones.order_by("id").values(
            "number", "sms_capable", "status", "is_primary", "collected_for_date", "created_at"
        )
    )


@register_section("tags")
def _tags(person: Person) -> list[str]:
    return list(person.taggings.order_by("tag__name").values_list("tag__name", flat=True))


@register_section("consent")
def _consent(person: Person) -> list[Any]:
    """The whole ledger, oldest first: each change with its source and the words shown."""
    return list(
        ConsentRecord.objects.filter(person=person)
        .order_by("created_at", "id")
        .values(
            "channel", "purpose", "status", "source", "source_ref", "wording", "language",
            "created_at",
        )
    )  # fmt: skip


@register_section("timeline")
def _timeline(person: Person) -> list[dict[str, Any]]:
    return [
        {"when": m.when, "kind": m.kind, "what": str(m.text), "detail": str(m.detail)}
        for m in timeline.timeline(person)
    ]


def person_data(person: Person) -> dict[str, Any]:
    """Everything held about `person`, section by section, as JSON-ready values."""
    return {
        "organization": str(person.organization),
        "generated_at": timezone.now(),
        **{name: provider(person) for name, provider in _SECTIONS.items()},
    }


def export_person(*, actor: Any, person: Person, format: str) -> tuple[str, str]:
    """The person's data as (content type, text), audited as one export."""
    if format not in EXPORT_FORMATS:
        raise DomainError("export_format", _("Choose JSON or CSV."), status=400)
    data = person_data(person)
    if format == "json":
        content = ("application/json", json.dumps(data, cls=DjangoJSONEncoder, indent=2))
    else:
        content = ("text/csv; charset=utf-8", csv_text(data))
    audit.log(actor, "supporters.person.exported", person, {"format": format})
    return content


def csv_rows(data: dict[str, Any]) -> Iterator[list[str]]:
    """One row per value: (section, item number, field, value); nested fields dotted."""
    for section, value in data.items():
        if isinstance(value, list):
            for number, item in enumerate(value, start=1):
                for field, leaf in _flatten(item):
                    yield [section, str(number), field, leaf]
        else:
            for field, leaf in _flatten(value):
                yield [section, "", field, leaf]


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(value, list):
        for number, inner in enumerate(value, start=1):
            yield from _flatten(inner, f"{prefix}.{number}" if prefix else str(number))
    else:
        yield prefix, _cell(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    text = str(text)
    # A bare signed number, such as +9613123456, is a value, not a formula.
    if text[:1] in ("+", "-") and text[1:].replace(".", "", 1).isdigit():
        return text
    return neutralize(text)


def csv_text(data: dict[str, Any]) -> str:
    return b"".join(encode(iter([CSV_HEADER, *csv_rows(data)]))).decode()


# --- Privacy settings ----------------------------------------------------------

PRIVACY_FIELDS = (
    "email_double_opt_in",
    "export_requires_approval",
    "forget_inactive_after_months",
    "drop_event_phones_after_days",
)


def privacy_settings(organization: Organization) -> PrivacySettings:
    """The organization's settings, or the defaults (unsaved) before the first save."""
    found = PrivacySettings.objects.filter(organization=organization).first()
    return found or PrivacySettings(organization=organization)


def update_privacy_settings(
    *, actor: Any, organization: Organization, values: dict[str, Any]
) -> list[str]:
    """Save the organization's privacy choices; returns the names of those that changed."""
    unknown = set(values) - set(PRIVACY_FIELDS)
    if unknown:
        raise DomainError("privacy_field", f"Not a privacy setting: {sorted(unknown)}")
    with transaction.atomic():
        row, _created = PrivacySettings.objects.select_for_update().get_or_create(
            organization=organization
        )
        changed = [name for name, value in values.items() if getattr(row, name) != value]
        if not changed:
            return []
        for name in changed:
            setattr(row, name, values[name])
        row.save(update_fields=changed)
        audit.log(
            actor,
            "supporters.privacy.updated",
            row,
            {"changed": {name: values[name] for name in changed}},
        )
    return changed


# --- Segments ------------------------------------------------------------------


def save_segment(
    *,
    actor: Any,
    organization: Organization,
    name: str,
    definition: dict[str, Any],
    segment: Segment | None = None,
) -> Segment:
    """Create a segment, or change an existing one's name and definition."""
    if segment is not None and segment.organization_id != organization.pk:
        raise DomainError("not_found", _("No such segment."), status=404)
    try:
        with transaction.atomic():
            if segment is None:
                segment = Segment.objects.create(
                    organization=organization,
                    name=name,
                    definition=definition,
                    created_by=actor if getattr(actor, "is_authenticated", False) else None,
                )
                action = "supporters.segment.created"
            else:
                segment.name, segment.definition = name, definition
                segment.modified_at = timezone.now()
                segment.save(update_fields=["name", "definition", "modified_at"])
                action = "supporters.segment.updated"
            audit.log(actor, action, segment, {"definition": definition})
    except IntegrityError:
        raise Conflict("segment_name_taken", _("Another segment has this name.")) from None
    return segment


def delete_segment(*, actor: Any, segment: Segment) -> None:
    with transaction.atomic():
        audit.log(actor, "supporters.segment.deleted", segment, {"name": segment.name})
        segment.delete()
