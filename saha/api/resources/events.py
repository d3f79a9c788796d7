"""Events and attendances as Action Network's v2 API shows them, and the record
attendance helper's input.

The render functions take rows only (no request): webhooks build their payloads
with `render_attendance`. A collection loads what they read in its queryset
(`EVENTS`, `ATTENDANCES`), so a page costs the same few queries at any size.

Mapping to Action Network's words:
- an event's `status`: published is "confirmed", a draft "tentative", and
  cancelled "cancelled"; `visibility`: "public", or "private" for an unlisted event;
- an attendance's `status`: "accepted" (coming), "declined" (cancelled), and,
  Saha's own, "waiting" (on the waiting list of a full event).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from rest_framework import serializers

from saha.api import filters, hal
from saha.api.resources import person_input
from saha.core.public_pages import absolute
from saha.events.models import Event, EventStatus, Rsvp, RsvpStatus, Visibility
from saha.supporters.models import Person

EVENT_STATUS: dict[str, str] = {
    EventStatus.PUBLISHED: "confirmed",
    EventStatus.DRAFT: "tentative",
    EventStatus.CANCELLED: "cancelled",
}
ATTENDANCE_STATUS: dict[str, str] = {
    RsvpStatus.CONFIRMED: "accepted",
    RsvpStatus.CANCELLED: "declined",
    RsvpStatus.WAITING: "waiting",
}
# What a PUT on an attendance may say to cancel it (Action Network says "declined").
CANCELLING = ("declined", "cancelled")

# Events, attendances and petitions filter on these (and events on their start too).
DATE_FILTERS = {
    "created_date": filters.Field("created_at", **filters.DATE),  # type: ignore[arg-type]
    "modified_date": filters.Field("modified_at", **filters.DATE),  # type: ignore[arg-type]
}
EVENT_FILTERS = {
    **DATE_FILTERS,
    "start_date": filters.Field("starts_at", **filters.DATE),  # type: ignore[arg-type]
}
ATTENDANCE_FILTERS = DATE_FILTERS


def events(queryset: QuerySet[Event]) -> QuerySet[Event]:
    """What `render_event` reads, in the same query."""
    return queryset.select_related("organization").order_by("-created_at", "-pk")


def attendances(queryset: QuerySet[Rsvp]) -> QuerySet[Rsvp]:
    """What `render_attendance` reads, in the same query."""
    return queryset.select_related("event", "person", "check_in").order_by("-created_at", "-pk")


# --- Rendering ----------------------------------------------------------------------


def event_path(event: Event) -> str:
    return f"events/{event.uuid}"


def attendance_path(rsvp: Rsvp, event: Event | None = None) -> str:
    return f"events/{(event or rsvp.event).uuid}/attendances/{rsvp.uuid}"


def browser_url(event: Event) -> str | None:
    """The event's own page, once it has one (a draft has none)."""
    if event.status == EventStatus.DRAFT:
        return None
    return absolute(reverse("events:event", args=[event.organization.slug, event.slug]))


def _location(event: Event) -> dict[str, Any]:
    location: dict[str, Any] = {
        "venue": event.venue_name,
        "address_lines": [event.address] if event.address else [],
    }
    if event.latitude is not None and event.longitude is not None:
        location["location"] = {
            "latitude": float(event.latitude),
            "longitude": float(event.longitude),
        }
    return location


def render_event(event: Event) -> dict[str, Any]:
    path = event_path(event)
    return {
        "identifiers": hal.identifiers(event),
        "created_date": hal.timestamp(event.created_at),
        "modified_date": hal.timestamp(event.modified_at),
        "name": event.slug,
        "title": event.title,
        "description": event.description,
        "instructions": event.private_location,
        "browser_url": browser_url(event),
        "start_date": hal.timestamp(event.starts_at),
        "end_date": hal.timestamp(event.ends_at),
        "saha:time_zone": event.time_zone,
        "saha:kind": event.kind,
        "saha:titles": dict(event.titles),
        "saha:descriptions": dict(event.descriptions),
        "status": EVENT_STATUS.get(event.status, event.status),
        "visibility": "public" if event.visibility == Visibility.PUBLIC else "private",
        "capacity": event.capacity,
        "total_accepted": event.confirmed,
        "saha:waiting_list": event.waiting_list,
        "location": _location(event),
        "_links": action_links(path, "attendances", "record_attendance_helper"),
    }


def action_links(path: str, rel: str, helper: str) -> dict[str, Any]:
    """An action's links (an event's, a petition's): itself, and its collection of
    answers (`rel`), where its record helper (`helper`) takes new ones too."""
    answers = hal.url(f"{path}/{rel}")
    return {
        "self": hal.link(hal.url(path)),
        f"osdi:{rel}": hal.link(answers),
        f"osdi:{helper}": hal.link(answers),
        "curies": hal.curies(),
    }


def _checked_in_at(rsvp: Rsvp) -> Any:
    try:
        return rsvp.check_in.checked_in_at
    except Rsvp.check_in.RelatedObjectDoesNotExist:
        return None


def render_attendance(rsvp: Rsvp) -> dict[str, Any]:
    event = rsvp.event
    checked_in_at = _checked_in_at(rsvp)
    links: dict[str, Any] = {
        "self": hal.link(hal.url(attendance_path(rsvp, event))),
        "osdi:event": hal.link(hal.url(event_path(event))),
    }
    body: dict[str, Any] = {
        "identifiers": hal.identifiers(rsvp),
        "created_date": hal.timestamp(rsvp.created_at),
        "modified_date": hal.timestamp(rsvp.modified_at),
        "status": ATTENDANCE_STATUS.get(rsvp.status, rsvp.status),
        "saha:checked_in": checked_in_at is not None,
        "saha:checked_in_date": hal.timestamp(checked_in_at),
        "action_network:event_id": str(event.uuid),
    }
    return with_person(body, links, rsvp.person)


def with_person(
    body: dict[str, Any], links: dict[str, Any], person: Person | None
) -> dict[str, Any]:
    """An answer's body (an attendance, a signature) with its links, and its person's
    id and link where the person is still there (None after an erasure: the answer
    still counts)."""
    if person is not None:
        body["action_network:person_id"] = str(person.uuid)
        links["osdi:person"] = hal.link(hal.url(f"people/{person.uuid}"))
    links["curies"] = hal.curies()
    body["_links"] = links
    return body


# --- The record attendance helper's input (signatures take the same) -----------------


class HelperTriggers(serializers.Serializer):
    autoresponse = serializers.DictField(required=False)


class AttendanceHelperInput(serializers.Serializer):
    """`{"person": {...}, "add_tags": [...]}`, as Action Network's record helpers take it;
    the person hash is read by the rules every API path shares (`person_input`)."""

    person = person_input.ContactPersonInput()
    add_tags = person_input.tag_list()
    triggers = HelperTriggers(required=False)


def autoresponse_wanted(values: dict[str, Any]) -> bool:
    """Action Network's `triggers.autoresponse.enabled`; Saha sends its confirmation (the
    ticket, the signature's link) unless a client turns it off."""
    enabled = values.get("triggers", {}).get("autoresponse", {}).get("enabled", True)
    return enabled is not False


class AttendanceUpdateInput(serializers.Serializer):
    status = serializers.CharField(max_length=20, required=False)
