"""The organizer's forms: an event (texts per language, when in its own time zone, where,
how many), a copy of it at another time, a co-host, an attendee added by hand."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from saha.events.models import Event, EventKind, Visibility
from saha.organizations.forms import (
    add_per_language,
    per_language_first,
    per_language_initial,
    per_language_values,
    time_zone_choices,
)
from saha.organizations.models import Organization
from saha.supporters.services import PersonData

LOCAL_INPUT = "%Y-%m-%dT%H:%M"
# Dates a person may mean. Beyond them a zone's offset can carry a time past year 1 or
# year 9999, which Python cannot represent.
YEARS = (1900, 2200)
# Minutes before the start; the organizer ticks any of them.
REMINDER_CHOICES = [
    (7 * 24 * 60, _("One week before")),
    (2 * 24 * 60, _("Two days before")),
    (24 * 60, _("The day before (24 hours)")),
    (4 * 60, _("Four hours before")),
    (2 * 60, _("Two hours before")),
    (60, _("One hour before")),
]


def reminder_labels(reminders: list[int]) -> list[str]:
    named = dict(REMINDER_CHOICES)
    return [
        str(named[m]) if m in named else _("%(minutes)s minutes before") % {"minutes": m}
        for m in sorted(reminders, reverse=True)
    ]


class LocalDateTimeField(forms.Field):
    """A wall-clock time as typed, without a zone: the event's own zone is applied in clean(),
    never the page's (whose clock changes on other nights)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT)
    default_error_messages = {
        "invalid": _("Enter a date and time."),
        "out_of_range": _("Enter a date between the years %(first)s and %(last)s."),
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return self._in_range(value.replace(tzinfo=None))
        text = str(value).strip().replace(" ", "T")
        for layout in (LOCAL_INPUT, f"{LOCAL_INPUT}:%S"):
            try:
                parsed = dt.datetime.strptime(text, layout)
            except ValueError:
                continue
            return self._in_range(parsed)
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")

    def _in_range(self, value: dt.datetime) -> dt.datetime:
        if not YEARS[0] <= value.year <= YEARS[1]:
            raise forms.ValidationError(
                self.error_messages["out_of_range"],
                code="out_of_range",
                params={"first": YEARS[0], "last": YEARS[1]},
            )
        return value


def in_zone(local: dt.datetime, zone_name: str) -> dt.datetime:
    """The instant a wall-clock time names in a zone. A time the clocks skip, or one they
    pass twice (when they go back), is refused rather than guessed."""
    if not YEARS[0] <= local.year <= YEARS[1]:
        # Year 1 or 9999 moved by the zone's offset is past what Python can hold.
        raise forms.ValidationError(
            _("Enter a date between the years %(first)s and %(last)s."),
            code="out_of_range",
            params={"first": YEARS[0], "last": YEARS[1]},
        )
    zone = zoneinfo.ZoneInfo(zone_name)
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    back = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
    params = {"time": local.strftime("%H:%M"), "zone": zone_name}
    if back != local:
        raise forms.ValidationError(
            _("%(time)s does not exist in %(zone)s: the clocks change then."),
            code="skipped_time",
            params=params,
        )
    if first.utcoffset() != second.utcoffset():
        raise forms.ValidationError(
            _("%(time)s happens twice in %(zone)s that night (clocks go back): choose another."),
            code="ambiguous_time",
            params=params,
        )
    return first


def wall_clock(moment: dt.datetime, zone_name: str) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo(zone_name)).strftime(LOCAL_INPUT)


class EventForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), choices=EventKind.choices)
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=time_zone_choices)
    starts = LocalDateTimeField(label=_("Starts"))
    ends = LocalDateTimeField(label=_("Ends"))
    venue_name = forms.CharField(label=_("Venue"), max_length=200, required=False)
    address = forms.CharField(label=_("Address"), max_length=300, required=False)
    latitude = forms.DecimalField(
        label=_("Latitude"),
        required=False,
        max_digits=8,
        decimal_places=5,
        min_value=Decimal(-90),
        max_value=Decimal(90),
    )
    longitude = forms.DecimalField(
        label=_("Longitude"),
        required=False,
        max_digits=8,
        decimal_places=5,
        min_value=Decimal(-180),
        max_value=Decimal(180),
    )
    private_location = forms.CharField(
        label=_("Private location details"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown only to confirmed attendees, on their ticket and in reminders."),
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        required=False,
        min_value=1,
        max_value=10_000_000,
        help_text=_("Leave empty for no limit."),
    )
    waiting_list = forms.BooleanField(
        label=_("Keep a waiting list when full"), required=False, initial=True
    )
    visibility = forms.ChoiceField(
        label=_("Visibility"), choices=Visibility.choices, widget=forms.RadioSelect
    )
    reminders = forms.TypedMultipleChoiceField(
        label=_("Reminders"),
        choices=REMINDER_CHOICES,
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Sent to everyone coming, by email or SMS."),
    )

    def __init__(
        self, *args: Any, organization: Organization, event: Event | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.event = event
        add_per_language(self, "title", _("Title (%(language)s)"), max_length=200)
        add_per_language(
            self, "description", _("Description (%(language)s)"), max_length=10_000, rows=5
        )
        per_language_first(self, "title", "description")

    @classmethod
    def initial_for(cls, event: Event | None, organization: Organization) -> dict[str, Any]:
        if event is None:
            return {
                "time_zone": organization.time_zone,
                "visibility": Visibility.PUBLIC,
                "reminders": [24 * 60, 2 * 60],
                "waiting_list": True,
            }
        initial: dict[str, Any] = {
            name: getattr(event, name)
            for name in (
                "kind",
                "time_zone",
                "venue_name",
                "address",
                "latitude",
                "longitude",
                "private_location",
                "capacity",
                "waiting_list",
                "visibility",
                "reminders",
            )
        }
        initial["starts"] = wall_clock(event.starts_at, event.time_zone)
        initial["ends"] = wall_clock(event.ends_at, event.time_zone)
        initial.update(per_language_initial("title", event.titles))
        initial.update(per_language_initial("description", event.descriptions))
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not per_language_values(data, "title"):
            raise forms.ValidationError(_("Give the event a title in at least one language."))
        zone = data.get("time_zone")
        for name in ("starts", "ends"):
            if zone and data.get(name):
                try:
                    data[f"{name}_at"] = self._unchanged(name, data[name], zone) or in_zone(
                        data[name], zone
                    )
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] < data["starts_at"]:
            self.add_error("ends", _("The event must end after it starts."))
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("longitude", _("Give both the latitude and the longitude, or neither."))
        return data

    def _unchanged(self, name: str, local: dt.datetime, zone: str) -> dt.datetime | None:
        """The stored instant when the edit leaves this time as it was (even one the
        clocks pass twice, which a new entry could not choose)."""
        if self.event is None or zone != self.event.time_zone:
            return None
        stored = getattr(self.event, f"{name}_at")
        return stored if wall_clock(stored, zone) == local.strftime(LOCAL_INPUT) else None

    def fields_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "titles": per_language_values(data, "title"),
            "descriptions": per_language_values(data, "description"),
            "kind": data["kind"],
            "time_zone": data["time_zone"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "venue_name": data.get("venue_name", ""),
            "address": data.get("address", ""),
            "latitude": data.get("latitude"),
            "longitude": data.get("longitude"),
            "private_location": data.get("private_location", ""),
            "capacity": data.get("capacity"),
            "waiting_list": bool(data.get("waiting_list")),
            "visibility": data["visibility"],
            "reminders": sorted(set(data.get("reminders") or []), reverse=True),
        }


class DuplicateForm(forms.Form):
    starts = LocalDateTimeField(label=_("The copy starts"))

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event

    def clean_starts(self) -> dt.datetime:
        return in_zone(self.cleaned_data["starts"], self.event.time_zone)


class CoHostForm(forms.Form):
    organization = forms.CharField(
        label=_("Web address of the co-hosting organization"),
        max_length=50,
        help_text=_("As in its public page's address, /o/<web address>/."),
    )

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event

    def clean_organization(self) -> Organization:
        slug = self.cleaned_data["organization"].strip().strip("/").lower()
        found = Organization.objects.filter(slug=slug).first()
        if found is None:
            raise forms.ValidationError(_("No organization has this web address."))
        if found.pk == self.event.organization_id:
            raise forms.ValidationError(_("An organization cannot co-host its own event."))
        return found


class AttendeeForm(forms.Form):
    """Someone who answered by telephone or in person: no consent is recorded for them."""

    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
    language = forms.ChoiceField(label=_("Language for our messages"), choices=settings.LANGUAGES)
    send_ticket = forms.BooleanField(
        label=_("Send them their ticket"), required=False, initial=True
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("email") and not data.get("phone") and not self.has_error("email"):
            raise forms.ValidationError(_("Give an email address or a phone number."))
        return data

    def person_data(self) -> PersonData:
        data = self.cleaned_data
        return PersonData(
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            given_name=data["given_name"],
            family_name=data.get("family_name") or "",
            language=data["language"],
        )
