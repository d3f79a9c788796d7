"""Volunteers: what supporters can give (skills and resources), what organizers need,
and who was matched to what.

- A `Capability` is something an organization asks for: a skill (first aid,
  stewarding) or a resource counted in a unit (seats in a vehicle, square metres
  of a hall, a sound system).
- An `Offer` is one person's standing offer to one organization: the
  capabilities they give (`OfferedCapability`, with a quantity for resources),
  when they are free (`Availability`), and where.
- A `Need` is posted on an event or a campaign: a capability, how many (people
  or units), when and where. It may be split into `Shift`s that volunteers sign
  up for publicly, with capacity and a waiting list.
- An `Assignment` is one person on one need (and shift): invited by a
  coordinator, accepted or declined by link, or signed up publicly; then
  attended or not, with hours.

Coverage never overfills: a need's `filled` and a shift's `taken` move only
through conditional UPDATEs (`filled + n <= wanted`), and a resource's units
already committed (`OfferedCapability.committed`) likewise, so two coordinators
giving away the last seat of a van at the same moment give it once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned
from saha.organizations.models import translated


class CapabilityKind(models.TextChoices):
    SKILL = "skill", _("Skill")
    RESOURCE = "resource", _("Resource")


class Unit(models.TextChoices):
    PEOPLE = "people", _("people")
    SEATS = "seats", _("seats")
    SQUARE_METRES = "m2", _("square metres")
    UNITS = "units", _("units")


class Capability(OrganizationOwned):
    key = models.SlugField(max_length=50)
    names = models.JSONField(_("name"), default=dict)
    kind = models.CharField(
        _("kind"), max_length=10, choices=CapabilityKind.choices, default=CapabilityKind.SKILL
    )
    # A resource is counted in this unit; a skill is counted in people.
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices, default=Unit.PEOPLE)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(_("offered on the form"), default=True)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "key"], name="capability_key_unique")
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def name(self) -> str:
        return translated(self.names, self.organization.default_language)

    @property
    def is_resource(self) -> bool:
        return self.kind == CapabilityKind.RESOURCE


class OfferStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Offer(OrganizationOwned):
    """One person's standing offer to the organization: one per person, updated by link."""

    person = models.OneToOneField(
        "supporters.Person", on_delete=models.CASCADE, related_name="volunteer_offer"
    )
    status = models.CharField(
        max_length=10, choices=OfferStatus.choices, default=OfferStatus.ACTIVE
    )
    region = models.CharField(_("region"), max_length=100, blank=True)
    locality = models.CharField(_("town or neighbourhood"), max_length=100, blank=True)
    # Folded (case, diacritics, Arabic letter forms) for matching by place.
    locality_key = models.CharField(max_length=100, blank=True, db_index=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    language = models.CharField(max_length=8, blank=True)
    # Where the offer was made: "form", "event:<id>", "campaign:<id>" (the embedded form).
    source_ref = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["organization", "status"], name="offer_active")]

    def __str__(self) -> str:
        return f"offer #{self.pk}"


class OfferedCapability(OrganizationOwned):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="capabilities")
    capability = models.ForeignKey(Capability, on_delete=models.CASCADE, related_name="+")
    # For a resource: how many units (a van's seats); for a skill: null.
    quantity = models.PositiveIntegerField(_("how many"), null=True, blank=True)
    # Units of this resource already promised to needs: only conditional UPDATEs move it.
    committed = models.PositiveIntegerField(default=0)
    details = models.CharField(_("details"), max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["offer", "capability"], name="offered_once"),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(committed__lte=F("quantity")),
                name="offered_not_overcommitted",
            ),
        ]
        # Matching starts from the capability: every offer of it, with its quantity.
        indexes = [models.Index(fields=["capability", "quantity"], name="offered_by_capability")]

    def __str__(self) -> str:
        return f"{self.offer_id}:{self.capability_id}"


class Availability(OrganizationOwned):
    """A date range, with an optional daily window ("weekends, 9:00-13:00" is one row per
    range; no window means the whole day)."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="availability")
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))
    from_time = models.TimeField(_("from (time)"), null=True, blank=True)
    to_time = models.TimeField(_("to (time)"), null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="availability_ends_after"
            )
        ]
        indexes = [
            models.Index(fields=["offer", "starts_on", "ends_on"], name="availability_range"),
            # Matching reads the organization's dates still to come: past ones pile up.
            models.Index(fields=["organization", "ends_on"], name="availability_by_end"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_on}..{self.ends_on}"


class NeedStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Need(OrganizationOwned):
    """ "20 stewards, Sunday 10:00-14:00, at the square"; "3 vans with at least 8 seats"."""

    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, null=True, blank=True, related_name="needs"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, null=True, blank=True, related_name="needs"
    )
    capability = models.ForeignKey(Capability, on_delete=models.PROTECT, related_name="needs")
    titles = models.JSONField(_("title"), default=dict, blank=True)
    descriptions = models.JSONField(_("description"), default=dict, blank=True)
    # How many people (a skill) or offers (a resource: "3 vans").
    wanted = models.PositiveIntegerField(_("how many"))
    # For a resource: the least each offer must bring ("at least 8 seats").
    min_quantity = models.PositiveIntegerField(_("at least (per offer)"), null=True, blank=True)
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    location = models.CharField(_("where"), max_length=300, blank=True)
    locality_key = models.CharField(max_length=100, blank=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(max_digits=8, decimal_places=5, null=True, blank=True)
    status = models.CharField(max_length=10, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    # Whether volunteers may sign up themselves on the public page (else by invitation).
    public_sign_up = models.BooleanField(
        _("volunteers may sign up on the public page"), default=True
    )
    # People (or offers) accepted: moved only by conditional UPDATEs.
    filled = models.PositiveIntegerField(default=0)
    # Reminders already sent (minutes before) to a need without shifts, claimed by a
    # conditional UPDATE as `Shift.reminders_sent` is for a shift.
    reminders_sent = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(event__isnull=False) | Q(campaign__isnull=False),
                name="need_on_event_or_campaign",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")), name="need_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(filled__lte=F("wanted")), name="need_not_overfilled"
            ),
        ]

    def __str__(self) -> str:
        return f"need #{self.pk}"

    @property
    def title(self) -> str:
        return translated(self.titles, self.organization.default_language) or self.capability.name

    @property
    def coverage(self) -> int:
        return 100 if not self.wanted else min(100, round(100 * self.filled / self.wanted))


class Shift(OrganizationOwned):
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="shifts")
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    capacity = models.PositiveIntegerField(_("places"))
    taken = models.PositiveIntegerField(default=0)
    reminders_sent = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")), name="shift_ends_after"
            ),
            models.CheckConstraint(
                condition=Q(taken__lte=F("capacity")), name="shift_not_overfilled"
            ),
        ]

    def __str__(self) -> str:
        return f"shift #{self.pk}"


class AssignmentStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    WAITING = "waiting", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class Assignment(OrganizationOwned):
    """One person on one need (and one of its shifts, if it has any)."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="assignments")
    shift = models.ForeignKey(
        Shift, on_delete=models.CASCADE, null=True, blank=True, related_name="assignments"
    )
    person = models.ForeignKey(
        "supporters.Person", on_delete=models.CASCADE, related_name="volunteer_assignments"
    )
    offered = models.ForeignKey(
        OfferedCapability, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=AssignmentStatus.choices)
    # Units of a resource this assignment commits (a van's 8 seats); 1 person for a skill.
    quantity = models.PositiveIntegerField(default=1)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)
    # Recorded after the shift: came or not, and hours given.
    attended = models.BooleanField(null=True, blank=True)
    hours = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["need", "person"], condition=Q(shift__isnull=True), name="assignment_once"
            ),
            models.UniqueConstraint(
                fields=["shift", "person"],
                condition=Q(shift__isnull=False),
                name="assignment_once_per_shift",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "status"], name="assignment_by_person"),
            models.Index(fields=["need", "status"], name="assignment_by_need"),
        ]

    def __str__(self) -> str:
        return f"assignment #{self.pk} ({self.status})"
