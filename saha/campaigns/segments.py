"""Segment criterion from campaigns: who came through a campaign. It lets an organizer
write to the people a campaign brought it (the host: those who joined from the hub; a
partner: those who ticked its box) through an ordinary broadcast."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from saha.campaigns.models import CampaignSignup
from saha.campaigns.queries import campaigns_for
from saha.organizations.models import Organization
from saha.supporters.segments import Criterion, register


@register
class CameThroughCampaign(Criterion):
    key = "came_through_campaign"
    label = _("Came through one of these campaigns")

    def form_field(self, organization: Organization) -> forms.Field:
        return forms.ModelMultipleChoiceField(
            label=self.label,
            required=False,
            queryset=campaigns_for(organization).order_by("-created_at", "-pk"),
        )

    def to_json(self, value: Any) -> list[int]:
        return [campaign.pk for campaign in value]

    def to_q(self, organization: Organization, value: Any) -> Q:
        ids = [v for v in value if isinstance(v, int)] if isinstance(value, list) else []
        # Only this organization's own sign-ups, whatever a stored definition says.
        came = CampaignSignup.objects.filter(
            person=OuterRef("pk"), organization=organization, campaign_id__in=ids
        )
        return Q(Exists(came))
