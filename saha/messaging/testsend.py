"""A test send: the broadcast as a recipient will see it, to the organizer only.

It does not go through the outbox (there is no person and nothing to count);
the worker renders it with sample merge values and hands it straight to the
same provider the broadcast will use.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import DomainError
from saha.core.jobs import enqueue_on_commit
from saha.messaging.compose import Composer, list_unsubscribe_headers
from saha.messaging.models import Broadcast, BroadcastStatus
from saha.messaging.providers import get_provider
from saha.messaging.providers.base import Outgoing, ProviderError
from saha.supporters.models import Channel
from saha.supporters.text import normalize_phone


def request_test_send(*, actor: Any, broadcast: Broadcast, language: str, address: str) -> str:
    """Check the address and queue the test; returns the address as it will be used."""
    address = address.strip()
    if broadcast.channel == Channel.EMAIL:
        try:
            validate_email(address)
        except ValidationError:
            raise DomainError("bad_address", _("Enter a valid email address.")) from None
    else:
        phone = normalize_phone(address)
        if phone is None or not phone.sms_capable:
            raise DomainError("bad_address", _("Enter a mobile phone number.")) from None
        address = phone.number
    if broadcast.status == BroadcastStatus.CANCELLED:
        raise DomainError("cancelled", _("This broadcast was cancelled."), status=409)
    if not broadcast.versions.filter(language=language).exists():
        raise DomainError("no_version", _("Write this version before testing it."))
    from saha.messaging.tasks import send_test_task

    audit.log(
        actor,
        "messaging.broadcast.test_sent",
        broadcast,
        {"language": language, "to": _masked(address)},
    )
    enqueue_on_commit(send_test_task, broadcast.pk, language, address)
    return address


def send_test(broadcast_id: int, language: str, address: str) -> str:
    broadcast = Broadcast.objects.select_related("organization").get(pk=broadcast_id)
    composer = Composer()
    compiled = composer.compiled(broadcast, language)
    organization, _sender = composer.sender(broadcast.organization_id)
    sample = {
        "given_name": _("Test"),
        "full_name": _("Test"),
        "organization": organization.name,
        "unsubscribe_url": "#",
        "preferences_url": "#",
    }
    subject, text, html = compiled.fill(sample)
    provider = get_provider(broadcast.channel)
    message = Outgoing(
        to=address,
        body=text,
        # Unique: mail systems drop a second message with a Message-ID they have seen.
        reference=f"saha.test.{broadcast.pk}.{language}.{get_random_string(8).lower()}",
        subject=f"[{_('Test')}] {subject}" if subject else "",
        html=html,
        headers=list_unsubscribe_headers(0) if broadcast.channel == Channel.EMAIL else {},
        language=language,
        **composer.from_fields(broadcast.organization_id),
    )
    try:
        provider.open()
        return provider.send(message)
    except ProviderError as error:
        return f"failed: {error}"
    finally:
        provider.close()


def _masked(address: str) -> str:
    """Enough to recognise in the audit log, not enough to copy."""
    if "@" in address:
        local, _at, domain = address.partition("@")
        return f"{local[:1]}•••@{domain}"
    return f"{address[:4]}•••{address[-2:]}"
