"""What organizers do to a petition besides creating it and opening or closing it (those are
`services.create_petition` and `services.set_status`): change it, and write to its signers.

A change locks the row and writes only the fields it was given: the status
moves under the open and close buttons at the same moment, and an edit must
not put back what it read before them.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import DomainError
from saha.organizations.models import Organization
from saha.petitions import services
from saha.petitions.models import Petition
from saha.supporters import subject
from saha.supporters.models import Segment

EDITABLE = (
    "titles",
    "texts",
    "targets",
    "goal",
    "deadline",
    "count_unverified",
    "show_signers",
    "next_petition",
    "next_event",
)


def _check(organization: Organization, petition: Petition | None, fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    if "titles" in fields and not any(fields["titles"].values()):
        raise DomainError("title_required", _("Give the petition a title."))
    # The next action is one of the organization's own, whatever a form let through.
    for name in ("next_petition", "next_event"):
        target = fields.get(name)
        if target is not None and target.organization_id != organization.pk:
            raise DomainError("not_found", _("No such next action."), status=404)
    following = fields.get("next_petition")
    if petition is not None and following is not None and following.pk == petition.pk:
        raise DomainError("next_is_itself", _("A petition cannot lead to itself."))


def create(*, actor: Any, organization: Organization, slug: str, **fields: Any) -> Petition:
    """A new draft petition (through `services.create_petition`, which makes its counter)."""
    _check(organization, None, fields)
    return services.create_petition(actor=actor, organization=organization, slug=slug, **fields)


def update_petition(*, actor: Any, petition: Petition, **fields: Any) -> Petition:
    """Change a petition's texts and settings; audited with the names of what changed."""
    _check(petition.organization, petition, fields)
    with transaction.atomic():
        current = Petition.objects.select_for_update().get(pk=petition.pk)
        changed = [
            name
            for name, value in fields.items()
            if _stored(value) != _stored(getattr(current, _column(name)))
        ]
        if not changed:
            return petition
        for name, value in fields.items():
            setattr(petition, name, value)
        petition.status = current.status
        petition.modified_at = timezone.now()
        petition.save(update_fields=[*fields, "modified_at"])
        audit.log(actor, "petitions.petition.updated", petition, {"fields": sorted(changed)})
    return petition


def _column(name: str) -> str:
    return f"{name}_id" if name in ("next_petition", "next_event") else name


def _stored(value: Any) -> Any:
    return getattr(value, "pk", value)


def signers_segment(*, actor: Any, petition: Petition) -> Segment:
    """The segment of those who signed and confirmed: found, or saved once."""
    organization = petition.organization
    definition = {"signed_confirmed": [petition.pk]}
    segment = Segment.objects.for_org(organization).filter(definition=definition).first()
    if segment is not None:
        return segment
    name = (_("Signed %(title)s (confirmed)") % {"title": petition.title})[:120]
    if Segment.objects.for_org(organization).filter(name=name).exists():
        name = f"{name[:110]} #{petition.pk}"
    return subject.save_segment(
        actor=actor, organization=organization, name=name, definition=definition
    )
