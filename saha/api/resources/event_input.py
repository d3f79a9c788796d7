"""What `POST /events` and `PUT /events/{id}` take, as the fields `events.organizer` takes.

The body is Action Network's event, as `render_event` shows it, so what GET
returns can be PUT back unchanged (and changes nothing: every field is
compared with what is stored, and only what differs reaches the service, so
a round trip neither bumps the revision nor tells attendees of a "change").

- `title` and `description` are read and written in the request's language
  (Accept-Language, else the site's default), as GET shows them;
  `saha:titles` / `saha:descriptions` hold every language at once
  (`{"ar": "...", "en": "..."}`, an empty text or null drops that language).
- `start_date` / `end_date`: a time with an offset ("...Z", "+03:00") is that
  instant; one without is a wall-clock time in the event's zone
  (`saha:time_zone`), refused when the clocks skip it or pass it twice, as the
  organizer's form refuses it. Years 1900 to 2200 only. An event created
  without an end ends when it starts.
- `location`: `venue`, `address_lines` (with any `locality`, `region`,
  `postal_code`, `country`, joined into the one address Saha keeps), and
  `location.latitude` / `location.longitude` (both or neither).
- `instructions`: the private location details, shown to confirmed attendees only.
- `capacity`: null or 0 for no limit. `visibility`: "public" or "private" (unlisted).
- `status`: "tentative" (a draft), "confirmed" (published), "cancelled".
- `name` (the address), counts, dates and links are read-only and ignored.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from saha.events.manage_forms import YEARS, in_zone
from saha.events.models import Event, EventKind, EventStatus, Visibility, default_reminders
from saha.organizations.models import Organization, translated

MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_ADDRESS = 300
VISIBILITY = {"public": Visibility.PUBLIC, "private": Visibility.UNLISTED}
STATUSES = ("tentative", "confirmed", "cancelled")


# --- Shared with petitions: languages and dates --------------------------------------


def invalid(name: str, message: Any, code: str) -> serializers.ValidationError:
    """A 400 naming the field, with a stable code."""
    return serializers.ValidationError({name: [ErrorDetail(str(message), code=code)]})


def per_language(max_length: int) -> serializers.DictField:
    """`{"ar": "...", "en": "..."}`: a text per offered language; "" or null drops one."""
    return serializers.DictField(
        child=serializers.CharField(max_length=max_length, allow_blank=True, allow_null=True),
        required=False,
    )


def check_languages(name: str, values: dict[str, Any] | None) -> None:
    known = {code for code, _name in settings.LANGUAGES}
    if values and any(code not in known for code in values):
        raise invalid(
            name,
            _("Languages are named by their code: %(codes)s.")
            % {"codes": ", ".join(sorted(known))},
            "unknown_language",
        )


def merged_texts(
    current: dict[str, str],
    *,
    every: dict[str, str | None] | None,
    one: str | None,
    language: str,
    fallback: str,
) -> dict[str, str]:
    """The texts per language after a write: `every` (saha:titles) first, then `one`
    (title) in the request's language, unless it is what GET shows already (a read
    back, which may be another language's text shown as a fallback)."""
    texts = dict(current)
    for code, text in (every or {}).items():
        if text and text.strip():
            texts[code] = text.strip()
        else:
            texts.pop(code, None)
    if one is not None and one.strip() != translated(texts, fallback):
        if one.strip():
            texts[language] = one.strip()
        else:
            texts.pop(language, None)
    return texts


def titled_texts(
    before: dict[str, Any],
    values: dict[str, Any],
    *,
    texts: str,
    one: str | None,
    language: str,
    fallback: str,
    untitled: str,
) -> dict[str, Any]:
    """`before` with its `titles` and its other texts (the field named `texts`, read
    from `saha:<texts>` and `one`) merged from the body; a 400 when no title is left."""
    after = dict(before)
    after["titles"] = merged_texts(
        before["titles"],
        every=values.get("saha:titles"),
        one=values.get("title"),
        language=language,
        fallback=fallback,
    )
    after[texts] = merged_texts(
        before[texts],
        every=values.get(f"saha:{texts}"),
        one=one,
        language=language,
        fallback=fallback,
    )
    if not any(after["titles"].values()):
        raise invalid("title", untitled, "title_required")
    return after


def moment(name: str, text: str, zone_name: str) -> dt.datetime:
    """An ISO 8601 time: with an offset, that instant; without, a wall-clock time in
    the zone. Refused with a code: unreadable, out of range, skipped or doubled."""
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise invalid(name, _("Give a date and time as 2025-05-01T18:00:00Z."), "invalid") from None
    if not YEARS[0] <= parsed.year <= YEARS[1]:
        raise invalid(
            name,
            _("Enter a date between the years %(first)s and %(last)s.")
            % {"first": YEARS[0], "last": YEARS[1]},
            "out_of_range",
        )
    if parsed.tzinfo is not None:
        return parsed.astimezone(dt.UTC)
    try:
        return in_zone(parsed, zone_name)
    except forms.ValidationError as error:
        raise invalid(name, " ".join(error.messages), error.code or "invalid") from None


def same_moment(new: dt.datetime | None, stored: dt.datetime | None) -> bool:
    """Equal to the second: GET shows whole seconds, the database may hold more."""
    if new is None or stored is None:
        return new is stored
    return new.replace(microsecond=0) == stored.replace(microsecond=0)


@cache
def time_zones() -> frozenset[str]:
    """The zones the organizer's form offers (regions, not aliases like "UTC")."""
    return frozenset(name for name in zoneinfo.available_timezones() if "/" in name)


def checked_zone(name: str, value: str) -> str:
    if value not in time_zones():
        raise invalid(name, _("Unknown time zone, e.g. Asia/Beirut."), "unknown_time_zone")
    return value


def colon_fields(fields: dict[str, Any], **extra: serializers.Field) -> dict[str, Any]:
    """Fields named `saha:...` (not Python names): `saha_titles` becomes `saha:titles`."""
    for name, one in extra.items():
        fields[name.replace("_", ":", 1)] = one
    return fields


# --- The event's body ----------------------------------------------------------------


class CoordinatesInput(serializers.Serializer):
    latitude = serializers.FloatField(min_value=-90, max_value=90)
    longitude = serializers.FloatField(min_value=-180, max_value=180)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not all(math.isfinite(attrs[name]) for name in ("latitude", "longitude")):
            raise serializers.ValidationError(_("Give numbers."), code="invalid")
        return attrs


class LocationInput(serializers.Serializer):
    venue = serializers.CharField(max_length=200, required=False, allow_blank=True, allow_null=True)
    address_lines = serializers.ListField(
        child=serializers.CharField(max_length=MAX_ADDRESS, allow_blank=True),
        max_length=5,
        required=False,
        allow_null=True,
    )
    locality = serializers.CharField(max_length=100, required=False, allow_blank=True)
    region = serializers.CharField(max_length=100, required=False, allow_blank=True)
    postal_code = serializers.CharField(max_length=20, required=False, allow_blank=True)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    location = CoordinatesInput(required=False, allow_null=True)


class EventInput(serializers.Serializer):
    """POST and PUT /events: Action Network's event (see the module's notes)."""

    title = serializers.CharField(max_length=MAX_TITLE, required=False, allow_blank=True)
    description = serializers.CharField(
        max_length=MAX_DESCRIPTION, required=False, allow_blank=True, trim_whitespace=False
    )
    start_date = serializers.CharField(max_length=40, required=False)
    end_date = serializers.CharField(max_length=40, required=False, allow_null=True)
    location = LocationInput(required=False, allow_null=True)
    instructions = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, allow_null=True
    )
    capacity = serializers.IntegerField(
        min_value=0, max_value=10_000_000, required=False, allow_null=True
    )
    visibility = serializers.ChoiceField(choices=list(VISIBILITY), required=False)
    status = serializers.ChoiceField(choices=STATUSES, required=False)

    def get_fields(self) -> dict[str, Any]:
        return colon_fields(
            super().get_fields(),
            saha_titles=per_language(MAX_TITLE),
            saha_descriptions=per_language(MAX_DESCRIPTION),
            saha_time_zone=serializers.CharField(max_length=64, required=False),
            saha_kind=serializers.ChoiceField(choices=EventKind.values, required=False),
            saha_waiting_list=serializers.BooleanField(required=False),
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_languages("saha:titles", attrs.get("saha:titles"))
        check_languages("saha:descriptions", attrs.get("saha:descriptions"))
        if "saha:time_zone" in attrs:
            checked_zone("saha:time_zone", attrs["saha:time_zone"])
        return attrs


@dataclass
class EventChange:
    """What a body asks: the fields for `organizer.create_event` / `update_event` (only
    those that differ from the event's, on an update) and a status, if any."""

    fields: dict[str, Any] = field(default_factory=dict)
    status: str | None = None


def new_event_fields(organization: Organization) -> dict[str, Any]:
    """An event before the body: the organizer's form's defaults."""
    return {
        "titles": {},
        "descriptions": {},
        "kind": EventKind.OTHER,
        "time_zone": organization.time_zone,
        "starts_at": None,
        "ends_at": None,
        "venue_name": "",
        "address": "",
        "latitude": None,
        "longitude": None,
        "private_location": "",
        "capacity": None,
        "waiting_list": True,
        "visibility": Visibility.PUBLIC,
        "reminders": default_reminders(),
    }


def current_fields(event: Event) -> dict[str, Any]:
    return {name: getattr(event, name) for name in new_event_fields(event.organization)}


def event_change(
    values: dict[str, Any], *, organization: Organization, event: Event | None, language: str
) -> EventChange:
    """The body read against the event (None: a new one). Raises a field's 400."""
    before = current_fields(event) if event is not None else new_event_fields(organization)
    after = titled_texts(
        before,
        values,
        texts="descriptions",
        one=values.get("description"),
        language=language,
        fallback=organization.default_language,
        untitled=_("Give the event a title."),
    )
    _settings(values, after)
    _dates(values, after, creating=event is None)
    _location(values.get("location"), after, "location" in values)
    changed = {
        name: value
        for name, value in after.items()
        if event is None or _differs(before, after, name)
    }
    return EventChange(fields=changed, status=values.get("status"))


def _settings(values: dict[str, Any], after: dict[str, Any]) -> None:
    if "saha:time_zone" in values:
        after["time_zone"] = values["saha:time_zone"]
    if "saha:kind" in values:
        after["kind"] = values["saha:kind"]
    if "saha:waiting_list" in values:
        after["waiting_list"] = values["saha:waiting_list"]
    if "visibility" in values:
        after["visibility"] = VISIBILITY[values["visibility"]]
    if "capacity" in values:
        after["capacity"] = values["capacity"] or None  # 0, as Action Network says: no limit
    if "instructions" in values:
        after["private_location"] = values["instructions"] or ""


def _dates(values: dict[str, Any], after: dict[str, Any], *, creating: bool) -> None:
    zone = after["time_zone"]
    if values.get("start_date") is not None:
        after["starts_at"] = moment("start_date", values["start_date"], zone)
    if values.get("end_date") is not None:
        after["ends_at"] = moment("end_date", values["end_date"], zone)
    if after["starts_at"] is None:
        raise invalid("start_date", _("Give the time the event starts."), "required")
    if creating and after["ends_at"] is None:
        after["ends_at"] = after["starts_at"]
    if after["ends_at"] < after["starts_at"]:
        raise invalid("end_date", _("The event must end after it starts."), "end_before_start")


def _location(location: dict[str, Any] | None, after: dict[str, Any], given: bool) -> None:
    if not given:
        return
    if location is None:  # "location": null clears the place
        after.update(venue_name="", address="", latitude=None, longitude=None)
        return
    if "venue" in location:
        after["venue_name"] = location["venue"] or ""
    parts = ("address_lines", "locality", "region", "postal_code", "country")
    if any(name in location for name in parts):
        lines = [*(location.get("address_lines") or [])]
        lines += [location.get(name, "") for name in parts[1:]]
        address = ", ".join(line.strip() for line in lines if line and line.strip())
        if len(address) > MAX_ADDRESS:
            raise invalid("location", _("The address is too long."), "too_long")
        after["address"] = address
    if "location" in location:
        point = location["location"]
        after["latitude"] = _degrees(point["latitude"]) if point else None
        after["longitude"] = _degrees(point["longitude"]) if point else None


def _degrees(value: float) -> Decimal:
    return Decimal(str(round(value, 5))).quantize(Decimal("0.00001"))


def _differs(before: dict[str, Any], after: dict[str, Any], name: str) -> bool:
    old, new = before[name], after[name]
    if name in ("starts_at", "ends_at"):
        return not same_moment(new, old)
    if name in ("latitude", "longitude") and old is not None and new is not None:
        return Decimal(old) != Decimal(new)
    return bool(old != new)


# --- Status --------------------------------------------------------------------------

WANTED = {
    "tentative": EventStatus.DRAFT,
    "confirmed": EventStatus.PUBLISHED,
    "cancelled": EventStatus.CANCELLED,
}
