"""The rows the public helpers are open for, found in one query and kept a few seconds.

A viral petition's signature helper is called hundreds of times a second, each
call by a stranger with nothing but the petition's id. Reading the petition and
then whether its organization allows public helpers took two of the four
database round trips of such a call (docs/performance.md, B1). So both are read
in one query, and the answer (the open petition, or "not open to strangers") is
kept in the cache for PUBLIC_ROW_SECONDS. Changing the petition or the
organization's API settings (their audit rows, or a save) forgets it as the
change commits: at once in this process, and in all of them when the cache is
Redis; with each process's own in-memory cache, the others see the change
within those seconds. A deadline needs no wait: callers still ask `is_open` of
the row they get.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.signals import post_delete, post_save
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
    return f"api:public-petition:v1:{value.hex}"  # v1: what is stored (a Petition, or False)


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


def _forget(petitions: Any) -> None:
    """Forget these petitions' answers once the change commits (forgotten before, a
    call between the two could remember the old row again)."""
    keys = [_petition_key(value) for value in petitions.values_list("uuid", flat=True)]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys))


@receiver(post_save, sender=Petition, dispatch_uid="api.public_rows.petition")
def forget_petition(sender: Any, instance: Petition, **kwargs: Any) -> None:
    key = _petition_key(instance.uuid)
    transaction.on_commit(lambda: cache.delete(key))


@receiver(post_save, sender=ApiSettings, dispatch_uid="api.public_rows.settings")
@receiver(post_delete, sender=ApiSettings, dispatch_uid="api.public_rows.settings_deleted")
def forget_organization(sender: Any, instance: ApiSettings, **kwargs: Any) -> None:
    _forget(Petition.objects.filter(organization=instance.organization_id))


@receiver(post_save, sender=AuditEntry, dispatch_uid="api.public_rows.audit")
def forget_on_audit(sender: Any, instance: AuditEntry, created: bool, **kwargs: Any) -> None:
    """Opening and closing a petition, and switching the helpers, update their rows
    without saving them: their audit rows say so."""
    if not created:
        return
    if instance.action.startswith("petitions.petition.") and instance.target_id:
        _forget(Petition.objects.filter(pk=instance.target_id))
    elif instance.action.startswith("api.settings.") and instance.organization_id:
        _forget(Petition.objects.filter(organization=instance.organization_id))
