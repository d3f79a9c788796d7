"""The organization's own fields on people ("member since", "union branch"): every write.

A field's values live in `Person.custom_fields` under its key. Deleting a
field removes its values from every person in one statement, so nothing an
organization stopped collecting lingers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError
from saha.supporters.models import CustomField, FieldKind, Person

if TYPE_CHECKING:
    from saha.organizations.models import Organization

MAX_FIELDS = 50
MAX_CHOICES = 100


def _key_for(organization: Organization, labels: dict[str, str]) -> str:
    base = next((slugify(v) for v in (labels.get("en"), labels.get("fr")) if v and slugify(v)), "")
    base = (base or "field").replace("-", "_")[:40]
    taken = set(CustomField.objects.for_org(organization).values_list("key", flat=True))
    people = Person.objects.for_org(organization)
    key, n = base, 2
    # Not a key some people still hold a value under (a field deleted while an
    # import was writing it): a new field must start empty.
    while key in taken or people.filter(custom_fields__has_key=key).exists():
        key, n = f"{base}_{n}", n + 1
    return key


def create_field(
    *,
    actor: Any,
    organization: Organization,
    labels: dict[str, str],
    kind: str,
    choices: list[str],
) -> CustomField:
    labels = {lang: text.strip()[:100] for lang, text in labels.items() if text and text.strip()}
    if not labels:
        raise DomainError("label_required", _("Give the field a name in at least one language."))
    if kind not in FieldKind.values:
        raise DomainError("unknown_kind", _("Unknown kind of field."))
    choices = list(dict.fromkeys(c.strip()[:100] for c in choices if c.strip()))[:MAX_CHOICES]
    if kind == FieldKind.CHOICE and not choices:
        raise DomainError("choices_required", _("A choice field needs its choices."))
    with transaction.atomic():
        count = CustomField.objects.for_org(organization).count()
        if count >= MAX_FIELDS:
            raise Conflict("too_many_fields", _("An organization has at most 50 fields."))
        try:
            with transaction.atomic():
                field = CustomField.objects.create(
                    organization=organization,
                    key=_key_for(organization, labels),
                    labels=labels,
                    kind=kind,
                    choices=choices if kind == FieldKind.CHOICE else [],
                    position=count,
                )
        except IntegrityError:
            raise Conflict(
                "field_key_taken", _("Another field was added at the same time: try again.")
            ) from None
        audit.log(actor, "supporters.field.created", field, {"key": field.key, "kind": kind})
    return field


def delete_field(*, actor: Any, field: CustomField) -> int:
    """Remove the field and its values from every person; returns how many people had one."""
    with transaction.atomic():
        table = Person._meta.db_table
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    f'UPDATE "{table}" SET "custom_fields" = "custom_fields" - %s'  # noqa: S608
                    ' WHERE "organization_id" = %s AND "custom_fields" ? %s',
                    [field.key, field.organization_id, field.key],
                )
            else:
                path = f'$."{field.key}"'
                cursor.execute(
                    f'UPDATE "{table}" SET "custom_fields" = json_remove("custom_fields", %s)'  # noqa: S608
                    ' WHERE "organization_id" = %s AND json_type("custom_fields", %s) IS NOT NULL',
                    [path, field.organization_id, path],
                )
            cleared = cursor.rowcount
        audit.log(actor, "supporters.field.deleted", field, {"key": field.key, "cleared": cleared})
        field.delete()
    return cleared
