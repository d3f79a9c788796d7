"""Writes of an organization's messaging settings: sender, approval, quiet hours, webhook key.

Each change leaves an audit row naming what changed. The webhook key is a
secret in the webhook URLs: its value is never written to the audit log.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction

from saha.core import audit
from saha.messaging.models import MessagingSettings
from saha.messaging.services import messaging_settings
from saha.organizations.models import Organization

EDITABLE_FIELDS = (
    "from_name",
    "from_email",
    "reply_to",
    "sms_sender",
    "broadcast_requires_approval",
    "quiet_start",
    "quiet_end",
)


def update_messaging_settings(
    *, actor: Any, organization: Organization, **fields: Any
) -> MessagingSettings:
    """Change what was given; nothing is written (or audited) when nothing changed."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        row = MessagingSettings.objects.select_for_update().get(
            pk=messaging_settings(organization).pk
        )
        changed = {name: value for name, value in fields.items() if getattr(row, name) != value}
        if not changed:
            return row
        for name, value in changed.items():
            setattr(row, name, value)
        row.full_clean(exclude=["organization", "webhook_key"])
        row.save(update_fields=list(changed))
        audit.log(
            actor,
            "messaging.settings.changed",
            row,
            {"changed": {name: _plain(value) for name, value in sorted(changed.items())}},
            organization=organization,
        )
    return row


def _plain(value: Any) -> Any:
    """A value as JSON keeps it: times as "21:00", the rest unchanged."""
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="minutes")
    return value


def regenerate_webhook_key(*, actor: Any, organization: Organization) -> MessagingSettings:
    """A new secret for the webhook URLs; the old URLs stop working at once."""
    with transaction.atomic():
        row = MessagingSettings.objects.select_for_update().get(
            pk=messaging_settings(organization).pk
        )
        row.webhook_key = secrets.token_urlsafe(24)
        row.save(update_fields=["webhook_key"])
        audit.log(actor, "messaging.webhook_key.regenerated", row, organization=organization)
    return row
