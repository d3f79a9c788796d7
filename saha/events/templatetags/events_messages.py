"""What an event's messages need, loaded from the ids the outbox keeps.

Messages carry only ids in their context (the outbox stores it as JSON); the
worker renders them in the person's language, when the event's current time
and place are what matter.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.utils import formats

from saha.events import tickets
from saha.events.models import Event, Rsvp

register = template.Library()


@dataclass(frozen=True)
class RsvpView:
    event: Event
    rsvp: Rsvp
    title: str
    starts: str
    ticket_url: str


@register.simple_tag
def rsvp_view(rsvp_id: int) -> RsvpView | None:
    rsvp = Rsvp.objects.select_related("event__organization").filter(pk=rsvp_id).first()
    if rsvp is None:
        return None
    event = rsvp.event
    local = event.starts_at.astimezone(zoneinfo.ZoneInfo(event.time_zone))
    return RsvpView(
        event=event,
        rsvp=rsvp,
        title=event.title,
        starts=formats.date_format(local, "DATETIME_FORMAT"),
        ticket_url=f"{settings.SAHA_BASE_URL}/t/{tickets.ticket_token(rsvp.pk)}/",
    )
