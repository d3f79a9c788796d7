"""Segment criteria from volunteers: who offers a capability, who volunteered at an event.
They let an organizer write to the drivers, or thank an event's volunteers, through an
ordinary broadcast."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from saha.events.models import Event
from saha.organizations.models import Organization
from saha.supporters.segments import Criterion, register
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Capability,
    OfferedCapability,
    OfferStatus,
)
from saha.volunteers.texts import capability_name


def _ids(value: Any) -> list[int]:
    return [v for v in value if isinstance(v, int)] if isinstance(value, list) else []


class CapabilityChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(capability_name(obj))


@register
class OfferedCapabilityCriterion(Criterion):
    key = "offered_capability"
    label = _("Offers one of these capabilities")

    def form_field(self, organization: Organization) -> forms.Field:
        # Listed as they are: building a form writes nothing (the defaults are seeded
        # when volunteers are first used).
        return CapabilityChoiceField(
            label=self.label,
            required=False,
            queryset=Capability.objects.for_org(organization).select_related("organization"),
        )

    def to_json(self, value: Any) -> list[int]:
        return sorted(capability.pk for capability in value)

    def to_q(self, organization: Organization, value: Any) -> Q:
        # Only the organization's own capabilities, whatever a stored definition says.
        own = Capability.objects.for_org(organization).filter(pk__in=_ids(value)).values("pk")
        offered = OfferedCapability.objects.filter(
            offer__person=OuterRef("pk"), offer__status=OfferStatus.ACTIVE, capability_id__in=own
        )
        return Q(Exists(offered))


@register
class VolunteeredAt(Criterion):
    key = "volunteered_at"
    label = _("Volunteered at one of these events")

    def form_field(self, organization: Organization) -> forms.Field:
        return forms.ModelMultipleChoiceField(
            label=self.label,
            required=False,
            queryset=Event.objects.for_org(organization).order_by("-starts_at"),
        )

    def to_json(self, value: Any) -> list[int]:
        return [event.pk for event in value]

    def to_q(self, organization: Organization, value: Any) -> Q:
        own = Event.objects.for_org(organization).filter(pk__in=_ids(value)).values("pk")
        volunteered = Assignment.objects.filter(
            person=OuterRef("pk"), need__event_id__in=own, status=AssignmentStatus.ACCEPTED
        )
        return Q(Exists(volunteered))
