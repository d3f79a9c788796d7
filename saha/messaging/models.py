"""Messaging: the outbox of deliveries, and the broadcasts that fill it.

Every message Saha sends to a supporter, one RSVP confirmation or a call to
100,000 people, is a `Delivery` row, unique per (message, person, channel).
Workers claim deliveries with a lease, mark a small group SENDING just before
handing it to the provider, and record the provider's id after. A worker that
dies leaves either CLAIMED rows (never handed over: safely queued again) or
SENDING rows (perhaps accepted: marked UNKNOWN and reconciled, never resent
blindly). See `outbox.py` and docs/messaging.md.
"""

from __future__ import annotations

import datetime as dt
from uuid import uuid4

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned
from saha.supporters.models import DEFAULT_PURPOSE, Channel


class MessagingSettings(OrganizationOwned):
    """How an organization's messages go out: sender, approval, quiet hours."""

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="messaging"
    )
    from_name = models.CharField(_("sender name"), max_length=100, blank=True)
    from_email = models.EmailField(_("sender address"), blank=True)
    reply_to = models.EmailField(_("reply-to address"), blank=True)
    sms_sender = models.CharField(_("SMS sender ID or number"), max_length=20, blank=True)
    broadcast_requires_approval = models.BooleanField(
        _("a broadcast needs a second admin's approval before it goes out"), default=False
    )
    # SMS are held, not sent, between these hours in the organization's time
    # zone (unless urgent); equal values switch quiet hours off.
    quiet_start = models.TimeField(_("no SMS from"), default=dt.time(21, 0))
    quiet_end = models.TimeField(_("no SMS until"), default=dt.time(9, 0))
    # A webhook secret for inbound SMS and bounce reports, in the URL.
    webhook_key = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return f"messaging of {self.organization_id}"


class MessageKind(models.TextChoices):
    BROADCAST = "broadcast", _("Broadcast")
    TRANSACTIONAL = "transactional", _("Transactional")


class Priority(models.IntegerChoices):
    URGENT = 0, _("Urgent")  # day-of alerts: ignores quiet hours
    TRANSACTIONAL = 10, _("Transactional")
    BULK = 20, _("Bulk")


class Message(OrganizationOwned):
    """What is sent: a broadcast, or one transactional template with its context."""

    kind = models.CharField(max_length=20, choices=MessageKind.choices)
    template = models.CharField(max_length=100, blank=True)  # transactional only
    context = models.JSONField(default=dict, blank=True)
    # Makes send_transactional idempotent: the same key sends once.
    key = models.CharField(max_length=200, null=True, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="message_key_unique")
        ]

    def __str__(self) -> str:
        return f"message #{self.pk} ({self.kind})"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    CLAIMED = "claimed", _("Being prepared")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    UNKNOWN = "unknown", _("Outcome unknown")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (DeliveryStatus.QUEUED, DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)


class Delivery(OrganizationOwned):
    """One message to one person on one channel: the unit of exactly-once."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    # Kept (without the person) after an erasure, so a broadcast's counts hold.
    person = models.ForeignKey(
        "supporters.Person", on_delete=models.SET_NULL, null=True, related_name="deliveries"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    address = models.CharField(max_length=254, blank=True)
    language = models.CharField(max_length=8, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED
    )
    not_before = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease = models.CharField(max_length=32, blank=True)
    lease_expires = models.DateTimeField(null=True, blank=True)
    provider = models.CharField(max_length=30, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    # Set when a worker died after handing this delivery to the provider and
    # before recording the outcome; how it was settled is in `error`.
    outcome_was_unknown = models.BooleanField(default=False)
    # The provider refused this address for good (a 5xx, an invalid number);
    # what counts toward marking the address bouncing. Not set when temporary
    # errors ran out of attempts: that says more about us than about them.
    refused = models.BooleanField(default=False)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["message", "person", "channel"], name="delivery_once_per_person"
            )
        ]
        indexes = [
            # What a worker claims next: open deliveries by priority and time.
            models.Index(fields=["status", "priority", "not_before", "id"], name="delivery_claim"),
            models.Index(fields=["message", "status"], name="delivery_progress"),
            models.Index(fields=["person", "created_at"], name="delivery_person"),
            models.Index(fields=["provider_id"], name="delivery_provider_id"),
            models.Index(fields=["organization", "address"], name="delivery_address"),
        ]

    def __str__(self) -> str:
        return f"delivery #{self.pk} ({self.channel}, {self.status})"


class BroadcastStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    AWAITING_APPROVAL = "awaiting", _("Waiting for approval")
    SCHEDULED = "scheduled", _("Scheduled")
    PREPARING = "preparing", _("Preparing the recipients")
    SENDING = "sending", _("Sending")
    PAUSED = "paused", _("Paused")
    SENT = "sent", _("Sent")
    CANCELLED = "cancelled", _("Cancelled")


class Broadcast(OrganizationOwned):
    """One email or SMS to an audience, written once per language."""

    # The id other systems see (the API's saha:<uuid>), never the row id.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="broadcast")
    name = models.CharField(_("internal name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=50, default=DEFAULT_PURPOSE)
    segment = models.ForeignKey(
        "supporters.Segment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("audience"),
    )
    # The audience's criteria, copied when the broadcast is sent: editing the
    # segment afterwards does not change who this broadcast went to.
    definition = models.JSONField(default=dict, blank=True)
    fallback_language = models.CharField(_("fallback language"), max_length=8)
    urgent = models.BooleanField(_("urgent (ignores SMS quiet hours)"), default=False)
    status = models.CharField(
        max_length=10, choices=BroadcastStatus.choices, default=BroadcastStatus.DRAFT
    )
    scheduled_for = models.DateTimeField(_("send at"), null=True, blank=True)
    recipients = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "-created_at"], name="broadcast_recent")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status == BroadcastStatus.DRAFT


class BroadcastVersion(models.Model):
    """The broadcast in one language: a subject (email only) and a Markdown body."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("message"))

    class Meta:
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(
                fields=["broadcast", "language"], name="one_version_per_language"
            )
        ]

    def __str__(self) -> str:
        return f"{self.broadcast_id} in {self.language}"
