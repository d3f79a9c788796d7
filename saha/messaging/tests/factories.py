"""Recipients and the deliveries they received, for the tests of unsubscribing and inbound reports.

Rows are written directly (a sent delivery, its message and broadcast): these
tests are about what comes back, not about how the outbox sends.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.utils import timezone

from saha.messaging.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Message,
    MessageKind,
    MessagingSettings,
    Priority,
)
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentSource,
    ConsentStatus,
    Person,
    PersonEmail,
    PersonPhone,
)
from saha.supporters.tests.people_factories import PersonFactory, consent


def recipient(
    organization: Any,
    *,
    email: str | None = "sami@example.org",
    phone: str | None = None,
    language: str = "en",
    purposes: tuple[str, ...] = (DEFAULT_PURPOSE,),
) -> Person:
    """A person who agreed, on a web form, to hear from us on each channel they have."""
    person = PersonFactory(organization=organization, email=email, phone=phone, language=language)
    channels = [c for c, have in ((Channel.EMAIL, email), (Channel.SMS, phone)) if have]
    for channel in channels:
        for purpose in purposes:
            consent(
                person,
                channel,
                source=ConsentSource.FORM,
                purpose=purpose,
                wording="Keep me informed.",
            )
    return person


def make_delivery(
    person: Person,
    *,
    channel: str = Channel.EMAIL,
    kind: str = MessageKind.BROADCAST,
    purpose: str = DEFAULT_PURPOSE,
    language: str | None = None,
    provider_id: str = "",
) -> Delivery:
    """A sent delivery to `person`: of a broadcast (with its purpose) or a transactional message."""
    organization = person.organization
    bulk = kind == MessageKind.BROADCAST
    message = Message.objects.create(
        organization=organization,
        kind=kind,
        priority=Priority.BULK if bulk else Priority.TRANSACTIONAL,
        template="" if bulk else "messaging/transactional/test",
    )
    if bulk:
        Broadcast.objects.create(
            organization=organization,
            message=message,
            name="Call to the rally",
            channel=channel,
            purpose=purpose,
            fallback_language="en",
            status=BroadcastStatus.SENT,
        )
    return Delivery.objects.create(
        organization=organization,
        message=message,
        person=person,
        channel=channel,
        address=address_of(person, channel),
        language=person.language if language is None else language,
        priority=message.priority,
        status=DeliveryStatus.SENT,
        provider="test",
        provider_id=provider_id,
        sent_at=timezone.now(),
    )


def address_of(person: Person, channel: str) -> str:
    if channel == Channel.EMAIL:
        email = PersonEmail.objects.filter(person=person).first()
        return email.address if email else ""
    phone = PersonPhone.objects.filter(person=person).first()
    return phone.number if phone else ""


def webhook_key(organization: Any) -> str:
    """Give the organization a webhook key (as `messaging_settings` does) and return it."""
    key = secrets.token_urlsafe(24)
    MessagingSettings.objects.update_or_create(
        organization=organization, defaults={"webhook_key": key}
    )
    return key


def status_of(person: Person, channel: str = Channel.EMAIL, purpose: str = DEFAULT_PURPOSE) -> str:
    state = person.consents.filter(channel=channel, purpose=purpose).first()
    return state.status if state else ""


GRANTED, WITHDRAWN, PENDING = ConsentStatus.GRANTED, ConsentStatus.WITHDRAWN, ConsentStatus.PENDING
