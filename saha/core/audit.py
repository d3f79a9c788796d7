"""The audit log: `audit.log(actor, action, target, data)`, called inside services.

Actions are dotted, app first: "organizations.member.invited". The actor is a
user or, for work nobody clicked (the worker, the command line), a short label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from saha.core.models import AuditEntry

if TYPE_CHECKING:
    from saha.organizations.models import Organization

Actor = Any  # a User, a string label such as "system:worker", or None


def _actor_fields(actor: Actor) -> dict[str, Any]:
    if actor is None:
        return {"actor": None, "actor_label": "system"}
    if isinstance(actor, str):
        return {"actor": None, "actor_label": actor[:200]}
    if getattr(actor, "is_authenticated", False):
        return {"actor": actor, "actor_label": str(actor)[:200]}
    return {"actor": None, "actor_label": "anonymous"}


def log(
    actor: Actor,
    action: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    *,
    organization: Organization | None = None,
    ip_address: str | None = None,
) -> AuditEntry:
    if organization is None and target is not None:
        organization = _organization_of(target)
    fields: dict[str, Any] = {
        "organization": organization,
        "action": action,
        "data": data or {},
        "ip_address": ip_address,
        **_actor_fields(actor),
    }
    if target is not None:
        fields["target_type"] = target._meta.label_lower
        fields["target_id"] = str(target.pk)
        fields["target_label"] = str(target)[:200]
    return AuditEntry.objects.create(**fields)


def _organization_of(target: models.Model) -> Organization | None:
    from saha.organizations.models import Organization

    if isinstance(target, Organization):
        return target
    return getattr(target, "organization", None)
