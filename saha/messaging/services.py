"""What other apps call: an organization's messaging settings, and send_transactional."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from saha.messaging.models import (
    Delivery,
    DeliveryStatus,
    Message,
    MessageKind,
    MessagingSettings,
    Priority,
)
from saha.organizations.models import Organization
from saha.supporters.models import Channel, ContactStatus, Person, PersonEmail, PersonPhone


def messaging_settings(organization: Organization) -> MessagingSettings:
    found = MessagingSettings.objects.filter(organization=organization).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return MessagingSettings.objects.create(
                organization=organization, webhook_key=secrets.token_urlsafe(24)
            )
    except IntegrityError:  # created by a concurrent request
        return MessagingSettings.objects.get(organization=organization)


def usable_emails() -> QuerySet[PersonEmail]:
    """Addresses that may be written to, the primary one first."""
    return PersonEmail.objects.filter(status=ContactStatus.SUBSCRIBED).order_by("-is_primary", "id")


def usable_phones() -> QuerySet[PersonPhone]:
    return PersonPhone.objects.filter(status=ContactStatus.SUBSCRIBED, sms_capable=True).order_by(
        "-is_primary", "id"
    )


def address_of(person: Person, channel: str) -> str:
    """The primary working address of a person on a channel, or ""."""
    if channel == Channel.EMAIL:
        email = usable_emails().filter(person=person).first()
        return email.address if email else ""
    phone = usable_phones().filter(person=person).first()
    return phone.number if phone else ""


def preferred_channel(person: Person) -> str:
    """Email when the person has a working address, else SMS (the tickets, the notices)."""
    return Channel.EMAIL if address_of(person, Channel.EMAIL) else Channel.SMS


def send_transactional(
    person: Person,
    template: str,
    context: dict[str, Any],
    channel: str = Channel.EMAIL,
    *,
    key: str | None = None,
    urgent: bool = False,
) -> Delivery:
    """Queue one message to one person: a confirmation, a reminder, a link.

    `template` names Django templates: ``<template>.subject.txt`` and
    ``<template>.md`` for email, ``<template>.sms.txt`` for SMS, rendered by
    the worker in the person's language with `context` (JSON values only),
    `person` and `organization`. With a `key`, calling again with the same key
    (a retried request, a task run twice) returns the same delivery and sends
    nothing more. Transactional messages go before any broadcast; `urgent`
    ones (day-of alerts) also ignore SMS quiet hours.
    """
    from saha.messaging.tasks import wake_outbox

    address = address_of(person, channel)
    with transaction.atomic():
        message = _message(person.organization_id, template, context, key, urgent)
        delivery, created = Delivery.objects.get_or_create(
            message=message,
            person=person,
            channel=channel,
            defaults={
                "organization_id": person.organization_id,
                "address": address,
                "language": person.language,
                "priority": message.priority,
                "status": DeliveryStatus.QUEUED if address else DeliveryStatus.SKIPPED,
                "error": "" if address else "No working address on this channel.",
            },
        )
        if created and address:
            transaction.on_commit(wake_outbox)
    return delivery


def _message(
    organization_id: int, template: str, context: dict[str, Any], key: str | None, urgent: bool
) -> Message:
    fields = {
        "kind": MessageKind.TRANSACTIONAL,
        "template": template,
        "context": context,
        "priority": Priority.URGENT if urgent else Priority.TRANSACTIONAL,
    }
    if key is None:
        return Message.objects.create(organization_id=organization_id, **fields)
    try:
        with transaction.atomic():
            message, _created = Message.objects.get_or_create(
                organization_id=organization_id, key=key[:200], defaults=fields
            )
            return message
    except IntegrityError:  # the same key, at the same moment, from another request
        return Message.objects.get(organization_id=organization_id, key=key[:200])
