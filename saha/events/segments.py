"""Segment criteria from events: who answered an event, who came. They let an
organizer write to an event's attendees through an ordinary broadcast."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from saha.events.models import CheckIn, Event, Rsvp, RsvpStatus
from saha.organizations.models import Organization
from saha.supporters.segments import Criterion, register


class _EventCriterion(Criterion):
    def form_field(self, organization: Organization) -> forms.Field:
        return forms.ModelMultipleChoiceField(
            label=self.label,
            required=False,
            queryset=Event.objects.for_org(organization).order_by("-starts_at"),
        )

    def to_json(self, value: Any) -> list[int]:
        return [event.pk for event in value]

    def _ids(self, organization: Organization, value: Any) -> list[int]:
        ids = [v for v in value if isinstance(v, int)] if isinstance(value, list) else []
        # Only the organization's own events, whatever a stored definition says.
        return list(
            Event.objects.for_org(organization).filter(pk__in=ids).values_list("pk", flat=True)
        )


@register
class RsvpedTo(_EventCriterion):
    key = "rsvped_to"
    label = _("Coming to one of these events")

    def to_q(self, organization: Organization, value: Any) -> Q:
        coming = Rsvp.objects.filter(
            person=OuterRef("pk"),
            event_id__in=self._ids(organization, value),
            status=RsvpStatus.CONFIRMED,
        )
        return Q(Exists(coming))


@register
class Attended(_EventCriterion):
    key = "attended"
    label = _("Came to one of these events")

    def to_q(self, organization: Organization, value: Any) -> Q:
        came = CheckIn.objects.filter(
            rsvp__person=OuterRef("pk"), event_id__in=self._ids(organization, value)
        )
        return Q(Exists(came))
