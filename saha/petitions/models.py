"""Petitions: a text addressed to a target, and the people who signed it.

The public count never makes signatures queue on one row: it is the sum of a
few counter rows (`SignatureCount`, one per shard), and each signature adds to
one shard picked at random. A signature stays when its signer is erased (the
person becomes NULL, nothing about them is kept), so the count stays right.
"""

from __future__ import annotations

from uuid import uuid4

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned
from saha.organizations.models import translated

SHARDS = 16


class PetitionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for signatures")
    CLOSED = "closed", _("Closed")


class Petition(OrganizationOwned):
    # The id other systems see (the API's saha:<uuid>), never the row id.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    slug = models.SlugField(_("short name in the address"), max_length=80)
    titles = models.JSONField(_("title"), default=dict)
    texts = models.JSONField(_("text"), default=dict, blank=True)
    # Whom it is addressed to, one per line (a minister, a council, a company).
    targets = models.TextField(_("addressed to"), blank=True)
    goal = models.PositiveIntegerField(_("goal"), null=True, blank=True)
    deadline = models.DateTimeField(_("deadline"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PetitionStatus.choices, default=PetitionStatus.DRAFT
    )
    # Whether signatures not yet confirmed by email count on the public counter.
    count_unverified = models.BooleanField(
        _("count unconfirmed signatures publicly"), default=False
    )
    # Whether the page lists recent signers (only those who agreed to be shown).
    show_signers = models.BooleanField(_("show recent signers"), default=True)
    # The next action offered on the thank-you page.
    next_petition = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    next_event = models.ForeignKey(
        "events.Event", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # When it was last closed: signatures received before still count when taken in.
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="petition_slug_unique")
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def title(self) -> str:
        return translated(self.titles, self.organization.default_language)

    @property
    def text(self) -> str:
        return translated(self.texts, self.organization.default_language)

    @property
    def target_list(self) -> list[str]:
        return [line.strip() for line in self.targets.splitlines() if line.strip()]

    @property
    def is_open(self) -> bool:
        return self.status == PetitionStatus.OPEN and (
            self.deadline is None or self.deadline > timezone.now()
        )


class Signature(OrganizationOwned):
    """One person's signature on one petition, however often they sign."""

    # The id other systems see (the API's saha:<uuid>), never the row id.
    uuid = models.UUIDField(default=uuid4, unique=True, editable=False)
    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="signatures")
    # NULL after an erasure: the signature still counts, nothing about the signer stays.
    person = models.ForeignKey(
        "supporters.Person", on_delete=models.SET_NULL, null=True, related_name="signatures"
    )
    # Set when the signer followed the link in the confirmation email.
    verified_at = models.DateTimeField(null=True, blank=True)
    # The signer agreed to their first name and locality being shown, and given to the target.
    show_name = models.BooleanField(default=False)
    # The name and town as typed on this signature: what is shown and delivered, never
    # what is on file for the person (a stranger typing an address must learn nothing).
    given_name = models.CharField(max_length=100, blank=True)
    locality = models.CharField(max_length=100, blank=True)
    # The mailbox behind the address (case, "+tag" and Gmail's dots folded): one per
    # petition, so one inbox cannot confirm a signature per alias. Blank after erasure.
    mailbox = models.CharField(max_length=254, blank=True)
    comment = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)
    source = models.CharField(max_length=20, default="form")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["petition", "person"], name="signature_once_per_person"
            ),
            models.UniqueConstraint(
                fields=["petition", "mailbox"],
                condition=~models.Q(mailbox=""),
                name="signature_once_per_mailbox",
            ),
        ]
        indexes = [
            models.Index(fields=["petition", "-id"], name="signature_recent"),
        ]

    def __str__(self) -> str:
        return f"signature #{self.pk}"


class SignatureCount(models.Model):
    """One shard of a petition's counter: the count is the sum of its shards."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="count_shards")
    shard = models.PositiveSmallIntegerField()
    # Either may go below zero in one shard (a signature counted in one, confirmed in
    # another): only the sum means anything.
    verified = models.IntegerField(default=0)
    unverified = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["petition", "shard"], name="signature_count_shard")
        ]

    def __str__(self) -> str:
        return f"count shard {self.shard} of petition #{self.petition_id}"


class PendingSignature(models.Model):
    """A signature received and not yet taken in: one INSERT is all a signing request
    costs, however many arrive at once; the worker turns each into a Signature
    (`intake.py`). The data is what the form gave, kept only until then."""

    petition = models.ForeignKey(Petition, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    # A row the worker could not take in (a bug, not a refusal): set aside, not retried
    # ahead of the others, kept for an operator to look at.
    failed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            # The few rows set aside, found without reading the many waiting.
            models.Index(
                fields=["failed_at"],
                condition=models.Q(failed_at__isnull=False),
                name="pending_signature_set_aside",
            )
        ]

    def __str__(self) -> str:
        return f"pending signature #{self.pk}"
