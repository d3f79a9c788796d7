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

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from rest_framework import serializers

from saha.api import filters, hal
from saha.core.public_pages import absolute
from saha.events.models import Event, EventStatus, Rsvp, RsvpStatus, Visibility
from saha.supporters.consent import ConsentGrant
from saha.supporters.models import Channel, ConsentSource
from saha.supporters.services import PersonData

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

EVENT_FILTERS = {
    "created_date": filters.Field("created_at", **filters.DATE),  # type: ignore[arg-type]
    "modified_date": filters.Field("modified_at", **filters.DATE),  # type: ignore[arg-type]
    "start_date": filters.Field("starts_at", **filters.DATE),  # type: ignore[arg-type]
}
ATTENDANCE_FILTERS = {
    "created_date": filters.Field("created_at", **filters.DATE),  # type: ignore[arg-type]
    "modified_date": filters.Field("modified_at", **filters.DATE),  # type: ignore[arg-type]
}


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
        "_links": {
            "self": hal.link(hal.url(path)),
            "osdi:attendances": hal.link(hal.url(f"{path}/attendances")),
            "osdi:record_attendance_helper": hal.link(hal.url(f"{path}/attendances")),
            "curies": hal.curies(),
        },
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
    if rsvp.person is not None:  # None after the person was erased: the answer still counts
        body["action_network:person_id"] = str(rsvp.person.uuid)
        links["osdi:person"] = hal.link(hal.url(f"people/{rsvp.person.uuid}"))
    links["curies"] = hal.curies()
    body["_links"] = links
    return body


# --- The person in a record helper (attendances, signatures) -------------------------

CONTACT_STATUSES = ("subscribed", "unsubscribed", "bouncing", "spam_complaint")


class HelperEmail(serializers.Serializer):
    address = serializers.CharField(max_length=254)
    primary = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(CONTACT_STATUSES, required=False)


class HelperPhone(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    primary = serializers.BooleanField(required=False)
    number_type = serializers.CharField(max_length=40, required=False, allow_blank=True)
    status = serializers.ChoiceField(CONTACT_STATUSES, required=False)


class HelperAddress(serializers.Serializer):
    primary = serializers.BooleanField(required=False)
    locality = serializers.CharField(max_length=100, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=2, required=False, allow_blank=True)


class HelperPerson(serializers.Serializer):
    """Action Network's person hash, as much of it as a sign-up takes."""

    given_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    family_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email_addresses = serializers.ListField(child=HelperEmail(), max_length=5, required=False)
    phone_numbers = serializers.ListField(child=HelperPhone(), max_length=5, required=False)
    postal_addresses = serializers.ListField(child=HelperAddress(), max_length=5, required=False)
    languages_spoken = serializers.ListField(
        child=serializers.CharField(max_length=16), max_length=10, required=False
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("email_addresses") and not attrs.get("phone_numbers"):
            raise serializers.ValidationError(
                _("Give an email address or a phone number."), code="no_contact"
            )
        return attrs


class HelperTriggers(serializers.Serializer):
    autoresponse = serializers.DictField(required=False)


class AttendanceHelperInput(serializers.Serializer):
    """`{"person": {...}, "add_tags": [...]}`, as Action Network's record helpers take it."""

    person = HelperPerson()
    add_tags = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=50, required=False
    )
    triggers = HelperTriggers(required=False)


def read_input(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """The validated body, or a 400 with the field errors (also for a body that is not
    an object at all)."""
    if not isinstance(data, dict):
        raise serializers.ValidationError(
            {"non_field_errors": [_("The body must be a JSON object.")]}, code="invalid"
        )
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def autoresponse_wanted(values: dict[str, Any]) -> bool:
    """Action Network's `triggers.autoresponse.enabled`; Saha sends its confirmation (the
    ticket, the signature's link) unless a client turns it off."""
    enabled = values.get("triggers", {}).get("autoresponse", {}).get("enabled", True)
    return enabled is not False


@dataclass(frozen=True)
class Origin:
    """Who sends a record helper's person: a token (the organization's own data, whose
    `subscribed` statuses are consent with the API as its source) or a stranger."""

    token_label: str = ""
    token_id: int | None = None

    @property
    def trusted(self) -> bool:
        return self.token_id is not None


def person_data(values: dict[str, Any], origin: Origin) -> PersonData:
    """The `PersonData` a record helper's body holds. Tags and consents only from a token:
    a stranger on another website neither labels a supporter nor speaks for them."""
    person = values["person"]
    emails = sorted(person.get("email_addresses", []), key=lambda e: not e.get("primary"))
    phones = sorted(person.get("phone_numbers", []), key=lambda p: not p.get("primary"))
    addresses = sorted(person.get("postal_addresses", []), key=lambda a: not a.get("primary"))
    email = emails[0] if emails else {}
    phone = phones[0] if phones else {}
    address = addresses[0] if addresses else {}
    known = {code for code, _name in settings.LANGUAGES}
    language = next((code for code in person.get("languages_spoken", []) if code in known), "")
    return PersonData(
        email=email.get("address", ""),
        phone=phone.get("number", ""),
        given_name=person.get("given_name", ""),
        family_name=person.get("family_name", ""),
        language=language,
        country=address.get("country", ""),
        region=address.get("region", ""),
        locality=address.get("locality", ""),
        postal_code=address.get("postal_code", ""),
        tags=tuple(values.get("add_tags", ())) if origin.trusted else (),
        consents=_grants(email, phone, language, origin),
    )


def _grants(
    email: dict[str, Any], phone: dict[str, Any], language: str, origin: Origin
) -> list[ConsentGrant]:
    if not origin.trusted:
        return []
    wording = _("Subscribed through the API by %(token)s") % {"token": origin.token_label}
    channels = []
    if email.get("status") == "subscribed":
        channels.append(Channel.EMAIL)
    if phone.get("status") == "subscribed":
        channels.append(Channel.SMS)
    return [
        ConsentGrant(
            channel=channel,
            wording=wording,
            source=ConsentSource.API,
            source_ref=f"token:{origin.token_id}",
            language=language,
        )
        for channel in channels
    ]


class AttendanceUpdateInput(serializers.Serializer):
    status = serializers.CharField(max_length=20, required=False)
