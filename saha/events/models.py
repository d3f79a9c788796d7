"""Events: a time and a place, the people who said they would come, and who came.

Capacity holds under any number of simultaneous RSVPs because the number of
confirmed places lives on the event row and only moves through a conditional
UPDATE (`confirmed < capacity`): the database lets one writer at a time past
that check, for the instant of one statement, at the very end of an RSVP's
transaction. See `services.py`.
"""

from __future__ import annotations

from uuid import uuid4

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned
from saha.organizations.models import translated


class EventKind(models.TextChoices):
    RALLY = "rally", _("Rally")
    MARCH = "march", _("March")
    MEETING = "meeting", _("Meeting")
    VIGIL = "vigil", _("Vigil")
    TRAINING = "training", _("Training")
    OTHER = "other", _("Other")


class EventStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    CANCELLED = "cancelled", _("Cancelled")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: listed on the organization's page")
    UNLISTED = "unlisted", _("Unlisted: only people with the link")


def default_reminders() -> list[int]:
    return [24 * 60, 2 * 60]  # minutes before the start


class Event(OrganizationOwned):
    # The id other systems see (the API's saha:<uuid>), never the row id.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    slug = models.SlugField(_("short name in the address"), max_length=80, allow_unicode=False)
    titles = models.JSONField(_("title"), default=dict)
    descriptions = models.JSONField(_("description"), default=dict, blank=True)
    kind = models.CharField(_("type"), max_length=20, choices=EventKind.choices)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(_("time zone"), max_length=64)
    venue_name = models.CharField(_("venue"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    # Shown only to confirmed attendees (their ticket and reminders).
    private_location = models.TextField(_("private location details"), blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    waiting_list = models.BooleanField(_("waiting list when full"), default=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EventStatus.choices, default=EventStatus.DRAFT
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    reminders = models.JSONField(_("reminders (minutes before)"), default=default_reminders)
    # The reminders already sent (minutes before), claimed by a conditional UPDATE.
    reminders_sent = models.JSONField(default=list, blank=True)
    # Confirmed places taken: moved only by conditional UPDATEs (services.py).
    confirmed = models.PositiveIntegerField(default=0)
    # Bumped at each change of time or place, for calendars (SEQUENCE).
    revision = models.PositiveIntegerField(default=0)
    # Other organizations calling the event with this one: each sees an
    # attendee only if that attendee ticked the box for it (Rsvp.shared_with).
    co_hosts = models.ManyToManyField(
        "organizations.Organization",
        through="CoHost",
        through_fields=("event", "co_host"),
        related_name="co_hosted_events",
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="event_slug_unique"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="event_ends_after"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "starts_at"], name="event_upcoming")
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def title(self) -> str:
        return translated(self.titles, self.organization.default_language)

    @property
    def description(self) -> str:
        return translated(self.descriptions, self.organization.default_language)

    @property
    def is_full(self) -> bool:
        return self.capacity is not None and self.confirmed >= self.capacity


class CoHost(OrganizationOwned):
    """Another organization named as co-host of this organization's (the host's) event."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="co_host_links")
    co_host = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    # Until the co-host's own members accept, it is named nowhere and sees nothing.
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "co_host"], name="co_host_once")]

    def __str__(self) -> str:
        return f"co-host #{self.pk}"


class RsvpStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Coming")
    WAITING = "waiting", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class Rsvp(OrganizationOwned):
    """One person's answer to one event: one row however often they answer."""

    # The id other systems see (the API's saha:<uuid>), never the row id.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    # Kept without the person after an erasure, so the counts hold.
    person = models.ForeignKey(
        "supporters.Person", on_delete=models.SET_NULL, null=True, related_name="rsvps"
    )
    status = models.CharField(max_length=10, choices=RsvpStatus.choices)
    language = models.CharField(max_length=8, blank=True)
    # What the gate types when the camera fails: short, unambiguous, unique per event.
    code = models.CharField(max_length=12)
    # Co-hosting organizations this person agreed to be seen by (one box each).
    shared_with = models.ManyToManyField(
        "organizations.Organization",
        through="RsvpShare",
        through_fields=("rsvp", "co_host"),
        related_name="+",
        blank=True,
    )
    source = models.CharField(max_length=20, default="form")
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "person"], name="rsvp_once_per_person"),
            models.UniqueConstraint(fields=["event", "code"], name="rsvp_code_unique"),
        ]
        indexes = [models.Index(fields=["event", "status", "id"], name="rsvp_by_status")]

    def __str__(self) -> str:
        return f"rsvp #{self.pk} ({self.status})"


class RsvpShare(OrganizationOwned):
    """An attendee's yes to one co-host seeing them, with the exact words of the box ticked.
    Owned by the host, whose supporter the attendee is."""

    rsvp = models.ForeignKey(Rsvp, on_delete=models.CASCADE, related_name="shares")
    co_host = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    wording = models.TextField()
    shared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rsvp", "co_host"], name="rsvp_share_once")]

    def __str__(self) -> str:
        return f"share #{self.pk}"


class CheckIn(OrganizationOwned):
    """Someone came through the gate: one per RSVP, whatever is scanned twice."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="check_ins")
    rsvp = models.OneToOneField(Rsvp, on_delete=models.CASCADE, related_name="check_in")
    # The scanning phone's own id for this request: a retried request is the same one.
    nonce = models.CharField(max_length=64)
    method = models.CharField(max_length=10)  # scan, code, search, walk-in
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    checked_in_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "nonce"], name="check_in_nonce_unique")
        ]

    def __str__(self) -> str:
        return f"check-in #{self.pk}"


class CheckInCount(models.Model):
    """One shard of an event's headcount at the gate: the count is the sum of its shards.

    Each check-in adds one to a random shard in its own transaction, so forty gates
    rarely wait on one row and the banner reads a few rows instead of counting every
    check-in at every scan. Rows appear on an event's first check-ins (`headcount.py`);
    check-ins are only ever deleted with their event, which takes these rows too.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    shard = models.PositiveSmallIntegerField()
    checked_in = models.IntegerField(default=0)
    walk_ins = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "shard"], name="check_in_count_shard")
        ]

    def __str__(self) -> str:
        return f"headcount shard {self.shard} of event #{self.event_id}"
