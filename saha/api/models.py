"""API tokens, the organization's API settings, webhook endpoints and deliveries.

A token is shown once and stored as its SHA-256 digest (a token is 32 random
bytes, so a slow hash would add nothing). Its first characters are kept apart
as a prefix, so the organizer pages can name it without holding it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned


class ApiToken(OrganizationOwned):
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12)
    digest = models.CharField(max_length=64, unique=True)
    # "people:read", "people:write", ...: see saha.api.scopes.
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiSettings(OrganizationOwned):
    """What the organization lets the API do without a token."""

    # The person, attendance and signature helpers accept unauthenticated POSTs
    # (Action Network's "public helpers"), answering 200 {} whatever happens.
    public_helpers = models.BooleanField(
        _("accept sign-ups from other websites without a token"), default=False
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization"], name="api_settings_once")]

    def __str__(self) -> str:
        return f"API settings of {self.organization_id}"


class WebhookEndpoint(OrganizationOwned):
    url = models.URLField(_("address"), max_length=500)
    # Signs each delivery (HMAC-SHA256); shown once, kept to sign.
    secret = models.CharField(max_length=64)
    # saha.api.webhooks.EVENT_TYPES
    event_types = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.url


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed, will retry")
    GAVE_UP = "gave_up", _("Gave up")
    # At its first attempt, the thing the event was about was gone or no longer
    # qualified (an RSVP undone in the same transaction): nothing to tell.
    SKIPPED = "skipped", _("Not sent: nothing left to tell")


class WebhookDelivery(OrganizationOwned):
    """One event for one endpoint; the same `event_id` on every attempt and replay.

    Written in the transaction of the change it tells (an outbox: committed or rolled
    back with it); `payload` stays empty (NULL) until the first attempt renders the
    thing `object_id` names as it then stands, and is kept from then on.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=40)
    # The primary key of the row the event is about (saha.api.receivers renders it).
    object_id = models.CharField(max_length=40, blank=True)
    payload = models.JSONField(null=True, blank=True, default=None)
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_delivery_once")
        ]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="webhook_due"),
            # The first attempt keeps one payload for every endpoint told of the event.
            models.Index(fields=["event_id"], name="webhook_event"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.state})"
