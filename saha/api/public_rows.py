"""The rows the public helpers are open for, found in one query and kept a few seconds.

A viral petition's signature helper is called hundreds of times a second, each
call by a stranger with nothing but the petition's id. Reading the petition and
then whether its organization allows public helpers took two of the four
database round trips of such a call (docs/performance.md, B1). So both are read
in one query, and the answer (the open petition, or "not open to strangers") is
kept in the cache for PUBLIC_ROW_SECONDS. Changing the petition (its audit
row) or the organization's API settings forgets it in this process at once; other processes
see the change within those seconds. A deadline (`closes_at`) needs no wait:
callers still ask `is_open` of the row they get.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_save
from django.dispatch import receiver

from saha.api.models import ApiSettings
from saha.core.models import AuditEntry
from saha.petitions.models import Petition, PetitionStatus

PUBLIC_ROW_SECONDS = 5


def helpers_on() -> Exists:
    """In a query of rows with an organization: whether it allows the public helpers."""
    return Exists(
        ApiSettings.objects.filter(organization=OuterRef("organization"), public_helpers=True)
    )


def _petition_key(value: uuid.UUID) -> str:
    return f"api:public-petition:{value.hex}"


def open_petition(value: uuid.UUID) -> Petition | None:
    """The open petition with this uuid whose organization allows public helpers."""
    key = _petition_key(value)
    petition = cache.get(key)
    if petition is None:
        petition = (
            Petition.objects.select_related("organization")
            .filter(helpers_on(), uuid=value, status=PetitionStatus.OPEN)
            .first()
        ) or False  # "not open to strangers" is remembered too: it costs no query either
        cache.set(key, petition, PUBLIC_ROW_SECONDS)
    return petition or None


@receiver(post_save, sender=Petition, dispatch_uid="api.public_rows.petition")
def forget_petition(sender: Any, instance: Petition, **kwargs: Any) -> None:
    cache.delete(_petition_key(instance.uuid))


@receiver(post_save, sender=AuditEntry, dispatch_uid="api.public_rows.audit")
def forget_changed_petition(
    sender: Any, instance: AuditEntry, created: bool, **kwargs: Any
) -> None:
    """Opening and closing update the row without saving it: their audit row says so."""
    if created and instance.action.startswith("petitions.petition.") and instance.target_id:
        uuids = Petition.objects.filter(pk=instance.target_id).values_list("uuid", flat=True)
        cache.delete_many([_petition_key(value) for value in uuids])


@receiver(post_save, sender=ApiSettings, dispatch_uid="api.public_rows.settings")
def forget_organization(sender: Any, instance: ApiSettings, **kwargs: Any) -> None:
    uuids = Petition.objects.filter(organization=instance.organization_id).values_list(
        "uuid", flat=True
    )
    cache.delete_many([_petition_key(value) for value in uuids])
