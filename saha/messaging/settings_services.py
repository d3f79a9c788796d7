"""Writes of an organization's messaging settings: sender, approval, quiet hours, webhook key.

Each change leaves an audit row naming what changed. The webhook key is a
secret in the webhook URLs: its value is never written to the audit log.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from saha.core import audit
from saha.messaging.models import MessagingSettings
from saha.messaging.services import messaging_settings
from saha.organizations.models import Organization
from saha.supporters.text import normalize_phone

EDITABLE_FIELDS = (
    "from_name",
    "from_email",
    "reply_to",
    "sms_sender",
    "broadcast_requires_approval",
    "quiet_start",
    "quiet_end",
)
# Fields that end up in a message's headers (From, Reply-To, the SMS sender).
HEADER_FIELDS = ("from_name", "from_email", "reply_to", "sms_sender")
# A line break would start a header of the sender's choosing; other controls
# and the bidi overrides disguise a sender in a reader's mail program.
FORBIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)
# An alphanumeric sender ID: at most 11 ASCII letters, digits or spaces, one letter at least.
SENDER_ID = re.compile(r"(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}")


def check_header_text(value: str) -> str:
    """The value, or a ValidationError when a character could break or disguise a header."""
    if FORBIDDEN.search(value):
        raise ValidationError(
            _("Remove the line breaks and invisible control characters."), code="control_character"
        )
    return value


def normalize_sms_sender(value: str) -> str:
    """A sender ID as typed, or a phone number in E.164; empty stays empty."""
    value = check_header_text(value.strip())
    if not value or SENDER_ID.fullmatch(value):
        return value
    if any(c.isalpha() for c in value):
        raise ValidationError(
            _(
                "A sender name has 1 to 11 Latin letters, digits or spaces, "
                "with at least one letter."
            ),
            code="bad_sender_id",
        )
    phone = normalize_phone(value)
    if phone is None:
        raise ValidationError(
            _("Enter a phone number with its country code, such as +961 3 123 456."),
            code="bad_sender_number",
        )
    return phone.number


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    """What would go into a header, refused if unsafe; the SMS sender as it is stored."""
    for name in HEADER_FIELDS:
        if name in fields:
            check_header_text(fields[name])
    if "sms_sender" in fields:
        fields["sms_sender"] = normalize_sms_sender(fields["sms_sender"])
    return fields


def update_messaging_settings(
    *, actor: Any, organization: Organization, **fields: Any
) -> MessagingSettings:
    """Change what was given; nothing is written (or audited) when nothing changed.

    A sender field with a line break or a control character raises ValidationError.
    """
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    fields = _checked(fields)
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
