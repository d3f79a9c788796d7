"""Export of people to CSV: requested, approved by a second admin when the organization asks
for it, downloaded once, audited with its row count.

Cells that a spreadsheet would run as a formula (starting with = + - @, a tab
or a carriage return) are prefixed with an apostrophe, so an export opened
in Excel or LibreOffice cannot execute what a supporter typed into a form.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError, PermissionDeniedError
from saha.supporters import segments
from saha.supporters.models import (
    Channel,
    ConsentState,
    CustomField,
    ExportRequest,
    ExportStatus,
    Person,
    PrivacySettings,
    Segment,
)

if TYPE_CHECKING:
    from saha.organizations.models import Membership, Organization

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000
COLUMNS = [
    "id",
    "given_name",
    "family_name",
    "email",
    "other_emails",
    "phone",
    "other_phones",
    "language",
    "country",
    "region",
    "locality",
    "postal_code",
    "tags",
    "email_consent",
    "sms_consent",
    "source",
    "created_at",
]


def neutralize(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value


def people_for(organization: Organization, segment: Segment | None) -> QuerySet[Person]:
    return segments.matching(organization, segment.definition if segment else {})


def csv_rows(organization: Organization, people: QuerySet[Person]) -> Iterator[list[str]]:
    """The header, then one row per person; a constant number of queries per chunk."""
    custom = list(CustomField.objects.for_org(organization))
    yield COLUMNS + [f"custom:{field.key}" for field in custom]
    people = people.prefetch_related(
        "emails",
        "phones",
        "taggings__tag",
        Prefetch("consents", queryset=ConsentState.objects.filter(purpose="updates")),
    )
    for person in people.iterator(chunk_size=CHUNK):
        emails = sorted(person.emails.all(), key=lambda e: (not e.is_primary, e.pk))
        phones = sorted(person.phones.all(), key=lambda p: (not p.is_primary, p.pk))
        consent = {state.channel: state.status for state in person.consents.all()}
        row = [
            str(person.pk),
            person.given_name,
            person.family_name,
            emails[0].address if emails else "",
            " ".join(e.address for e in emails[1:]),
            phones[0].number if phones else "",
            " ".join(p.number for p in phones[1:]),
            person.language,
            person.country,
            person.region,
            person.locality,
            person.postal_code,
            ", ".join(sorted(t.tag.name for t in person.taggings.all())),
            consent.get(Channel.EMAIL, ""),
            consent.get(Channel.SMS, ""),
            person.source,
            person.created_at.isoformat(timespec="seconds"),
        ]
        row += [str(person.custom_fields.get(field.key, "")) for field in custom]
        yield [neutralize(cell) for cell in row]


class _Echo:
    def write(self, value: str) -> str:
        return value


def encode(rows: Iterator[list[str]], bom: bool = True) -> Iterator[bytes]:
    """CSV lines as UTF-8; with a BOM so that Excel shows Arabic names right."""
    writer = csv.writer(_Echo())
    if bom:
        yield "\ufeff".encode()
    for row in rows:
        yield writer.writerow(row).encode()


def needs_approval(organization: Organization) -> bool:
    return PrivacySettings.objects.filter(
        organization=organization, export_requires_approval=True
    ).exists()


def request_export(
    *,
    actor: Any,
    organization: Organization,
    segment: Segment | None,
    audience: tuple[str, dict[str, Any]] | None = None,
) -> ExportRequest:
    """Ask for an export of a segment as it is now, of an unsaved `audience` (its name and
    definition: an event's attendees), or of everybody.

    The definition is copied: what an admin approves (and its count) is what
    is downloaded, even if someone edits the segment in between.
    """
    status = ExportStatus.PENDING if needs_approval(organization) else ExportStatus.APPROVED
    if audience is not None:
        name, definition = audience[0][:120], dict(audience[1])
    else:
        name, definition = (segment.name, dict(segment.definition)) if segment else ("", {})
    with transaction.atomic():
        export = ExportRequest.objects.create(
            organization=organization,
            segment=segment,
            segment_name=name,
            definition=definition,
            requested_count=segments.evaluate(organization, definition).count,
            requested_by=actor,
            status=status,
        )
        audit.log(
            actor,
            "supporters.export.requested",
            export,
            {
                "segment": export.segment_name,
                "count": export.requested_count,
                "needs_approval": status == ExportStatus.PENDING,
            },
        )
    return export


def decide_export(
    *, actor: Any, approver: Membership, export: ExportRequest, approve: bool
) -> None:
    """A second admin approves or refuses; nobody approves their own export."""
    from saha.organizations.roles import Role

    if approver.role not in (Role.OWNER, Role.ADMIN):
        raise PermissionDeniedError(
            "not_admin", _("Only an owner or an admin can approve an export.")
        )
    if export.requested_by_id == actor.pk:
        raise PermissionDeniedError(
            "own_export", _("Another admin must approve an export you asked for.")
        )
    status = ExportStatus.APPROVED if approve else ExportStatus.REJECTED
    with transaction.atomic():
        changed = ExportRequest.objects.filter(pk=export.pk, status=ExportStatus.PENDING).update(
            status=status, decided_by=actor, decided_at=timezone.now()
        )
        if not changed:
            raise Conflict("export_decided", _("This export was already decided."))
        audit.log(actor, f"supporters.export.{'approved' if approve else 'refused'}", export)


def start_download(*, actor: Any, export: ExportRequest) -> Iterator[bytes]:
    """The CSV of an approved export, once, for the member who asked for it."""
    if export.requested_by_id != actor.pk:
        raise PermissionDeniedError("not_yours", _("Only the member who asked can download it."))
    with transaction.atomic():
        claimed = ExportRequest.objects.filter(pk=export.pk, status=ExportStatus.APPROVED).update(
            status=ExportStatus.DONE, downloaded_at=timezone.now()
        )
    if not claimed:
        raise DomainError(
            "export_unavailable",
            _("This export is not available: not approved yet, refused, or downloaded."),
            status=409,
        )
    people = segments.matching(export.organization, export.definition)
    return _audited(actor, export, encode(csv_rows(export.organization, people)))


def _audited(actor: Any, export: ExportRequest, lines: Iterator[bytes]) -> Iterator[bytes]:
    """Count the rows as they leave, and audit the count even if the download breaks off."""
    count = -2  # the BOM and the header are not people
    try:
        for line in lines:
            count += 1
            yield line
    finally:
        count = max(count, 0)
        ExportRequest.objects.filter(pk=export.pk).update(row_count=count)
        audit.log(
            actor,
            "supporters.export.downloaded",
            export,
            {"rows": count, "segment": export.segment_name},
        )


def export_for_command_line(
    *, organization: Organization, segment: Segment | None, label: str
) -> Iterator[list[str]]:
    """`saha people export`: whoever runs it holds the server; still audited."""
    count = 0
    try:
        for index, row in enumerate(csv_rows(organization, people_for(organization, segment))):
            count = index
            yield row
    finally:
        audit.log(
            label,
            "supporters.export.downloaded",
            organization=organization,
            data={"rows": count, "segment": segment.name if segment else "", "via": "cli"},
        )
