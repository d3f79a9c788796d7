"""Turn claimed deliveries into provider messages, or set them aside.

The `Composer` lives for one drain of the outbox: it compiles each broadcast
once per language and keeps it, loads each organization's sender settings
once, and checks in one query per batch that every bulk recipient still
wants the message (consent can be withdrawn while a broadcast is going out).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable
from email.utils import parseaddr
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.template import Context
from django.template.loader import get_template
from django.utils import timezone, translation

from saha.messaging import rendering, tokens
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
from saha.messaging.providers.base import Outgoing
from saha.messaging.quiet import next_allowed
from saha.organizations.models import Organization
from saha.supporters.models import Channel, ConsentState, ConsentStatus, ContactStatus

logger = logging.getLogger("saha.messaging")

PAUSED_UNTIL = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
_INSTALL = hashlib.sha256(settings.SAHA_BASE_URL.encode()).hexdigest()[:8]


def reference(delivery_id: int) -> str:
    """Stable per delivery: the email's Message-ID, the SMS gateway's reference."""
    return f"saha.{delivery_id}.{_INSTALL}"


def merge_values(delivery: Delivery, organization: Organization, token: str) -> dict[str, str]:
    person = delivery.person
    values = {
        "organization": organization.name,
        "unsubscribe_url": tokens.unsubscribe_url(delivery.pk, token),
        "preferences_url": tokens.preferences_url(delivery.pk, token),
    }
    if person is not None:
        values.update(
            given_name=person.given_name,
            family_name=person.family_name,
            full_name=f"{person.given_name} {person.family_name}".strip(),
            locality=person.locality,
        )
    return values


def list_unsubscribe_headers(delivery_id: int, token: str = "") -> dict[str, str]:
    """RFC 2369 and RFC 8058: how mail clients offer their own unsubscribe button."""
    token = token or tokens.delivery_token(delivery_id)
    links = [f"<{tokens.unsubscribe_url(delivery_id, token)}>"]
    mailto = getattr(settings, "SAHA_UNSUBSCRIBE_MAILTO", "")
    if mailto:
        links.append(f"<mailto:{mailto}?subject={quote('unsubscribe ' + token)}>")
    return {
        "List-Unsubscribe": ", ".join(links),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _render(name: str, context: Context) -> str:
    """A template rendered without HTML escaping: these are text and Markdown, and
    Markdown's own rendering escapes what reaches the HTML part."""
    template: Any = get_template(name)
    return str(template.template.render(context))


class Composer:
    def __init__(self) -> None:
        self._compiled: dict[tuple[int, str], rendering.Compiled] = {}
        self._broadcasts: dict[int, Broadcast | None] = {}
        self._senders: dict[int, tuple[Organization, MessagingSettings]] = {}
        self._from: dict[int, dict[str, str]] = {}

    # --- what each message is ------------------------------------------------

    def _broadcast(self, message_id: int) -> Broadcast | None:
        if message_id not in self._broadcasts:
            self._broadcasts[message_id] = (
                Broadcast.objects.filter(message_id=message_id).prefetch_related("versions").first()
            )
        return self._broadcasts[message_id]

    def sender(self, organization_id: int) -> tuple[Organization, MessagingSettings]:
        if organization_id not in self._senders:
            from saha.messaging.services import messaging_settings

            organization = Organization.objects.get(pk=organization_id)
            self._senders[organization_id] = (organization, messaging_settings(organization))
        return self._senders[organization_id]

    def compiled(self, broadcast: Broadcast, language: str) -> rendering.Compiled:
        key = (broadcast.message_id, language)
        if key not in self._compiled:
            versions = {v.language: v for v in broadcast.versions.all()}
            version = versions.get(language) or versions[broadcast.fallback_language]
            organization, _settings = self.sender(broadcast.organization_id)
            if broadcast.channel == Channel.EMAIL:
                self._compiled[key] = rendering.compile_email(
                    language=version.language,
                    subject=version.subject,
                    body=version.body,
                    organization_name=organization.name,
                )
            else:
                self._compiled[key] = rendering.compile_sms(
                    language=version.language, body=version.body
                )
        return self._compiled[key]

    def _transactional(self, delivery: Delivery, message: Message) -> tuple[str, str, str]:
        organization, _settings = self.sender(delivery.organization_id)
        context = Context(
            {**message.context, "person": delivery.person, "organization": organization},
            autoescape=False,
        )
        language = delivery.language or organization.default_language
        with translation.override(language):
            if delivery.channel == Channel.SMS:
                text = _render(f"{message.template}.sms.txt", context)
                return "", text.strip(), ""
            subject = _render(f"{message.template}.subject.txt", context)
            body = _render(f"{message.template}.md", context)
        compiled = rendering.compile_email(
            language=language,
            subject=" ".join(subject.split()),
            body=body,
            organization_name=organization.name,
            footer=False,
        )
        return compiled.fill({})

    # --- one batch -----------------------------------------------------------

    def prepare(self, lease: str, deliveries: list[Delivery]) -> list[tuple[Delivery, Outgoing]]:
        """Render what can go now; skip, defer or cancel the rest (and say so in the row)."""
        messages = Message.objects.in_bulk({d.message_id for d in deliveries})
        setaside = SetAside(lease)
        unwanted = self._unwanted(deliveries, messages)
        ready = []
        now = timezone.now()
        for delivery in deliveries:
            message = messages[delivery.message_id]
            broadcast = (
                self._broadcast(message.pk) if message.kind == MessageKind.BROADCAST else None
            )
            if broadcast is not None and broadcast.status in (
                BroadcastStatus.PAUSED,
                BroadcastStatus.CANCELLED,
            ):
                # Re-read: the organizer may have paused or cancelled since.
                setaside.halt(delivery, broadcast.status)
                continue
            if delivery.person_id is None or not delivery.address:
                setaside.skip(delivery, "The person was erased or has no address.")
                continue
            if delivery.pk in unwanted:
                setaside.skip(delivery, unwanted[delivery.pk])
                continue
            later = self._quiet_until(delivery, now)
            if later is not None:
                setaside.defer(delivery, later)
                continue
            try:
                ready.append((delivery, self.outgoing(delivery, message, broadcast)))
            except Exception as error:  # a broken template must not stop the batch
                logger.exception("Outbox: cannot render delivery %s", delivery.pk)
                setaside.fail(delivery, f"Could not be written: {error}")
        setaside.save()
        return ready

    def outgoing(
        self, delivery: Delivery, message: Message, broadcast: Broadcast | None
    ) -> Outgoing:
        organization, _sender = self.sender(delivery.organization_id)
        headers: dict[str, str] = {}
        if broadcast is not None:
            compiled = self.compiled(broadcast, delivery.language)
            token = tokens.delivery_token(delivery.pk)
            subject, text, html = compiled.fill(merge_values(delivery, organization, token))
            language = compiled.language
            if delivery.channel == Channel.EMAIL:
                headers = list_unsubscribe_headers(delivery.pk, token)
        else:
            subject, text, html = self._transactional(delivery, message)
            language = delivery.language
        return Outgoing(
            to=delivery.address,
            body=text,
            reference=reference(delivery.pk),
            subject=subject,
            html=html,
            headers=headers,
            language=language,
            **self.from_fields(delivery.organization_id),
        )

    def from_fields(self, organization_id: int) -> dict[str, str]:
        if organization_id not in self._from:
            self._from[organization_id] = self._from_fields(organization_id)
        return self._from[organization_id]

    def _from_fields(self, organization_id: int) -> dict[str, str]:
        organization, sender = self.sender(organization_id)
        return {
            # DEFAULT_FROM_EMAIL may be "Name <address>": the provider wants the address.
            "from_email": sender.from_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1],
            "from_name": sender.from_name or organization.name,
            "reply_to": sender.reply_to,
            "sender": sender.sms_sender,
        }

    def _unwanted(
        self, deliveries: Iterable[Delivery], messages: dict[int, Message]
    ) -> dict[int, str]:
        """Bulk deliveries whose person withdrew consent or whose address went bad."""
        groups: dict[tuple[int, str, str], list[Delivery]] = {}
        for delivery in deliveries:
            broadcast = self._broadcast(delivery.message_id)
            if messages[delivery.message_id].kind == MessageKind.BROADCAST and broadcast:
                key = (delivery.organization_id, delivery.channel, broadcast.purpose)
                groups.setdefault(key, []).append(delivery)
        unwanted: dict[int, str] = {}
        for (organization_id, channel, purpose), group in groups.items():
            consenting = set(
                ConsentState.objects.filter(
                    person_id__in=[d.person_id for d in group if d.person_id],
                    channel=channel,
                    purpose=purpose,
                    status=ConsentStatus.GRANTED,
                ).values_list("person_id", flat=True)
            )
            bad = bad_addresses(organization_id, channel, [d.address for d in group])
            for delivery in group:
                if delivery.person_id not in consenting:
                    unwanted[delivery.pk] = "Consent was withdrawn before sending."
                elif delivery.address in bad:
                    unwanted[delivery.pk] = "The address bounces or its owner complained."
        return unwanted

    def _quiet_until(self, delivery: Delivery, now: dt.datetime) -> dt.datetime | None:
        if delivery.channel != Channel.SMS or delivery.priority == Priority.URGENT:
            return None
        organization, sender = self.sender(delivery.organization_id)
        allowed = next_allowed(now, organization.time_zone, sender.quiet_start, sender.quiet_end)
        return allowed if allowed > now else None

    def after_batch(self, deliveries: Iterable[Delivery]) -> None:
        """Mark the broadcasts this batch belonged to as sent once nothing is left open."""
        from saha.messaging.broadcasts import finish_if_done

        for message_id in {d.message_id for d in deliveries}:
            broadcast = self._broadcast(message_id)
            if broadcast is not None:
                finish_if_done(broadcast)
        # Statuses change (pause, cancel): read them afresh for the next batch.
        self._broadcasts.clear()


def bad_addresses(organization_id: int, channel: str, addresses: list[str]) -> set[str]:
    from saha.messaging.contacts import contact_model

    model = contact_model(channel)
    field = "address" if channel == Channel.EMAIL else "number"
    return set(
        model.objects.filter(organization_id=organization_id, **{f"{field}__in": addresses})
        .exclude(status=ContactStatus.SUBSCRIBED)
        .values_list(field, flat=True)
    )


class SetAside:
    """Deliveries that will not go in this batch, written in a few statements."""

    def __init__(self, lease: str) -> None:
        self.lease = lease
        self.rows: list[Delivery] = []

    def _put(self, delivery: Delivery, status: str, error: str = "", **fields: Any) -> None:
        delivery.status = status
        delivery.error = error[:500]
        delivery.lease, delivery.lease_expires = "", None
        for name, value in fields.items():
            setattr(delivery, name, value)
        self.rows.append(delivery)

    def skip(self, delivery: Delivery, reason: str) -> None:
        self._put(delivery, DeliveryStatus.SKIPPED, reason)

    def fail(self, delivery: Delivery, reason: str) -> None:
        self._put(delivery, DeliveryStatus.FAILED, reason)

    def defer(self, delivery: Delivery, until: dt.datetime) -> None:
        self._put(delivery, DeliveryStatus.QUEUED, "Held for quiet hours.", not_before=until)

    def halt(self, delivery: Delivery, broadcast_status: str) -> None:
        if broadcast_status == BroadcastStatus.CANCELLED:
            self._put(delivery, DeliveryStatus.CANCELLED)
        else:
            self._put(delivery, DeliveryStatus.QUEUED, not_before=PAUSED_UNTIL)

    def save(self) -> None:
        """Write them, but only those still claimed under this worker's lease: a
        worker that stalled past its lease must not touch what another now holds."""
        if not self.rows:
            return
        with transaction.atomic():
            ours = set(
                Delivery.objects.select_for_update()
                .filter(
                    pk__in=[d.pk for d in self.rows],
                    lease=self.lease,
                    status=DeliveryStatus.CLAIMED,
                )
                .values_list("pk", flat=True)
            )
            Delivery.objects.bulk_update(
                [d for d in self.rows if d.pk in ours],
                ["status", "error", "lease", "lease_expires", "not_before"],
            )
