"""Campaigns: one hub gathering what follows from a call (statements, events, petitions,
and later volunteer needs), with goals, progress, and partner organizations.

Partners are other organizations that co-host the campaign. Every form on the
campaign's pages shows one unticked box per accepted partner; a sign-up reaches a
partner's own supporter list (a `Person` of the partner, a `CampaignSignup` row
owned by the partner, consent recorded with the words of the box) only when its
box was ticked. Nothing else of the host's data is visible to a partner: what a
partner sees is what is in its own tenancy.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned
from saha.organizations.models import translated


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ENDED = "ended", _("Ended")


class Campaign(OrganizationOwned):
    slug = models.SlugField(_("short name in the address"), max_length=80)
    titles = models.JSONField(_("title"), default=dict)
    # One or two sentences per language: the hub's lead, link previews, the feed.
    summaries = models.JSONField(_("summary"), default=dict, blank=True)
    # Markdown per language.
    descriptions = models.JSONField(_("description"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    # Goals shown as progress bars on the hub; empty means no bar.
    goal_signatures = models.PositiveIntegerField(_("signatures goal"), null=True, blank=True)
    goal_rsvps = models.PositiveIntegerField(_("RSVPs goal"), null=True, blank=True)
    goal_check_ins = models.PositiveIntegerField(_("people present goal"), null=True, blank=True)
    partners = models.ManyToManyField(
        "organizations.Organization",
        through="Partner",
        through_fields=("campaign", "partner"),
        related_name="partner_campaigns",
        blank=True,
    )
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="campaign_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def title(self) -> str:
        return translated(self.titles, self.organization.default_language)

    @property
    def summary(self) -> str:
        return translated(self.summaries, self.organization.default_language)

    @property
    def description(self) -> str:
        return translated(self.descriptions, self.organization.default_language)

    @property
    def is_public(self) -> bool:
        return self.status in (CampaignStatus.PUBLISHED, CampaignStatus.ENDED)


class Partner(OrganizationOwned):
    """Another organization asked to co-host the host's (`organization`'s) campaign.
    Until one of its own admins accepts, it is named nowhere and receives nothing."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="partner_links")
    partner = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "partner"], name="campaign_partner_once")
        ]

    def __str__(self) -> str:
        return f"partner #{self.pk}"


class CampaignItem(OrganizationOwned):
    """One thing the campaign calls people to, in the host's chosen order: exactly one of
    a statement, an event or a petition of the host."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(default=0)
    statement = models.ForeignKey(
        "statements.Statement", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        "events.Event", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    petition = models.ForeignKey(
        "petitions.Petition", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The button's words per language ("Sign now", "Come on Sunday"); empty: a default per kind.
    labels = models.JSONField(_("call to action"), default=dict, blank=True)

    class Meta:
        ordering = ["campaign", "position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(statement__isnull=False, event__isnull=True, petition__isnull=True)
                    | Q(statement__isnull=True, event__isnull=False, petition__isnull=True)
                    | Q(statement__isnull=True, event__isnull=True, petition__isnull=False)
                ),
                name="campaign_item_one_target",
            ),
            models.UniqueConstraint(
                fields=["campaign", "statement"],
                condition=Q(statement__isnull=False),
                name="campaign_statement_once",
            ),
            models.UniqueConstraint(
                fields=["campaign", "event"],
                condition=Q(event__isnull=False),
                name="campaign_event_once",
            ),
            models.UniqueConstraint(
                fields=["campaign", "petition"],
                condition=Q(petition__isnull=False),
                name="campaign_petition_once",
            ),
        ]

    def __str__(self) -> str:
        return f"item #{self.pk}"

    @property
    def kind(self) -> str:
        if self.statement_id:
            return "statement"
        return "event" if self.event_id else "petition"

    @property
    def target(self) -> models.Model:
        return self.statement or self.event or self.petition  # type: ignore[return-value]


class CampaignSignup(OrganizationOwned):
    """A person of `organization`'s supporter list who came through the campaign.

    For the host: someone who joined from the hub. For a partner: someone who
    ticked that partner's box on one of the campaign's forms, and nobody else.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="signups")
    person = models.ForeignKey(
        "supporters.Person", on_delete=models.CASCADE, related_name="campaign_signups"
    )
    # Which form: "join", "event:<id>", "petition:<id>".
    source = models.CharField(max_length=40)
    # The exact words of the box ticked (a partner's), empty for the host's own form.
    wording = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "organization", "person", "source"],
                name="campaign_signup_once",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "campaign", "id"], name="campaign_signup_list")
        ]

    def __str__(self) -> str:
        return f"campaign sign-up #{self.pk}"
