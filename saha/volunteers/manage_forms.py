"""The organizer's forms for volunteers: a capability (names per language), a need (what,
how many, when in its own time zone, where, texts per language), a shift, the offers'
search, inviting or assigning from the matching page, and attendance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import is_row_id
from saha.events.manage_forms import LOCAL_INPUT, LocalDateTimeField, in_zone, wall_clock
from saha.organizations.forms import (
    add_per_language,
    per_language_first,
    per_language_initial,
    per_language_values,
)
from saha.organizations.models import Organization
from saha.volunteers.models import (
    Assignment,
    Capability,
    CapabilityKind,
    Need,
    Offer,
    OfferedCapability,
    OfferStatus,
    Shift,
    Unit,
)
from saha.volunteers.offers import MAX_QUANTITY

MAX_WANTED = 100_000
MAX_HOURS = Decimal("999.99")


def _coordinate(label: Any, bound: int) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_digits=8,
        decimal_places=5,
        min_value=Decimal(-bound),
        max_value=Decimal(bound),
    )


class CapabilityForm(forms.Form):
    """A new capability (kind and unit chosen once), or one renamed or switched off."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=CapabilityKind.choices, widget=forms.RadioSelect
    )
    unit = forms.ChoiceField(
        label=_("Counted in"),
        choices=Unit.choices,
        help_text=_("For a resource: seats for a vehicle, square metres for a hall."),
    )
    active = forms.BooleanField(label=_("Offered on the form"), required=False, initial=True)

    def __init__(self, *args: Any, capability: Capability | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.capability = capability
        add_per_language(self, "name", _("Name (%(language)s)"), max_length=100)
        per_language_first(self, "name")
        if capability is None:
            del self.fields["active"]
        else:
            # What a capability counts cannot change under the offers already made.
            del self.fields["kind"], self.fields["unit"]

    @classmethod
    def initial_for(cls, capability: Capability | None) -> dict[str, Any]:
        if capability is None:
            return {"kind": CapabilityKind.SKILL, "unit": Unit.PEOPLE}
        return {"active": capability.active, **per_language_initial("name", capability.names)}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not per_language_values(data, "name"):
            raise forms.ValidationError(_("Give a name in at least one language."))
        if data.get("kind") == CapabilityKind.SKILL:
            data["unit"] = Unit.PEOPLE
        elif data.get("kind") == CapabilityKind.RESOURCE and data.get("unit") == Unit.PEOPLE:
            self.add_error("unit", _("Choose what the resource is counted in."))
        return data

    def names(self) -> dict[str, str]:
        return per_language_values(self.cleaned_data, "name")


class NeedForm(forms.Form):
    capability = forms.ModelChoiceField(label=_("What"), queryset=Capability.objects.none())
    wanted = forms.IntegerField(
        label=_("How many"),
        min_value=1,
        max_value=MAX_WANTED,
        help_text=_("People for a skill; offers (vehicles, halls) for a resource."),
    )
    min_quantity = forms.IntegerField(
        label=_("At least, per offer"),
        required=False,
        min_value=1,
        max_value=MAX_WANTED,
        help_text=_("For a resource only: 8 for vans with at least 8 seats."),
    )
    starts = LocalDateTimeField(label=_("From"))
    ends = LocalDateTimeField(label=_("Until"))
    location = forms.CharField(label=_("Where"), max_length=300, required=False)
    locality = forms.CharField(
        label=_("Town or neighbourhood"),
        max_length=100,
        required=False,
        help_text=_("Volunteers living there are proposed first."),
    )
    latitude = _coordinate(_("Latitude"), 90)
    longitude = _coordinate(_("Longitude"), 180)
    public_sign_up = forms.BooleanField(
        label=_("Volunteers may sign up on the public page"), required=False, initial=True
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        zone: str,
        need: Need | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization, self.zone, self.need = organization, zone, need
        add_per_language(self, "title", _("Title (%(language)s)"), max_length=200)
        add_per_language(
            self, "description", _("Description (%(language)s)"), max_length=4000, rows=3
        )
        codes = [code for code, _name in settings.LANGUAGES]
        self.order_fields(
            ["capability", "wanted", "min_quantity"]
            + [f"{prefix}_{code}" for prefix in ("title", "description") for code in codes]
        )
        choices = Capability.objects.for_org(organization).select_related("organization")
        field = self.fields["capability"]
        if need is None:
            field.queryset = choices.filter(active=True)  # type: ignore[attr-defined]
        else:  # what a need asks for is fixed once posted
            field.queryset = choices.filter(pk=need.capability_id)  # type: ignore[attr-defined]
            field.disabled = True
        field.label_from_instance = lambda capability: capability.name  # type: ignore[attr-defined]
        for name in ("starts", "ends"):
            self.fields[name].help_text = _("Time in %(zone)s.") % {"zone": zone}

    @classmethod
    def initial_for(
        cls, need: Need | None, zone: str, event: Any = None, locality: str = ""
    ) -> dict[str, Any]:
        if need is None:
            initial: dict[str, Any] = {"public_sign_up": True}
            if event is not None:
                initial.update(
                    starts=wall_clock(event.starts_at, zone),
                    ends=wall_clock(event.ends_at, zone),
                    location=event.venue_name or event.address,
                )
            return initial
        initial = {
            name: getattr(need, name)
            for name in (
                "capability",
                "wanted",
                "min_quantity",
                "location",
                "latitude",
                "longitude",
                "public_sign_up",
            )
        }
        initial.update(
            starts=wall_clock(need.starts_at, zone),
            ends=wall_clock(need.ends_at, zone),
            locality=locality,
            **per_language_initial("title", need.titles),
            **per_language_initial("description", need.descriptions),
        )
        return initial

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("starts", "ends"):
            if data.get(name):
                try:
                    data[f"{name}_at"] = self._unchanged(name, data[name]) or in_zone(
                        data[name], self.zone
                    )
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends", _("The need must end after it starts."))
        capability = data.get("capability")
        if capability is not None and not capability.is_resource and data.get("min_quantity"):
            self.add_error("min_quantity", _("Only a resource is counted per offer."))
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("longitude", _("Give both the latitude and the longitude, or neither."))
        return data

    def _unchanged(self, name: str, local: dt.datetime) -> dt.datetime | None:
        """The stored instant when an edit leaves this time as it was."""
        if self.need is None:
            return None
        stored: dt.datetime = getattr(self.need, f"{name}_at")
        return stored if wall_clock(stored, self.zone) == local.strftime(LOCAL_INPUT) else None

    def fields_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "titles": per_language_values(data, "title"),
            "descriptions": per_language_values(data, "description"),
            "wanted": data["wanted"],
            "min_quantity": data.get("min_quantity"),
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "location": data.get("location", "").strip(),
            "locality": data.get("locality", "").strip(),
            "latitude": data.get("latitude"),
            "longitude": data.get("longitude"),
            "public_sign_up": bool(data.get("public_sign_up")),
        }


class ShiftForm(forms.Form):
    starts = LocalDateTimeField(label=_("From"))
    ends = LocalDateTimeField(label=_("Until"))
    capacity = forms.IntegerField(label=_("Places"), min_value=1, max_value=MAX_WANTED)

    def __init__(self, *args: Any, zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("starts", "ends"):
            if data.get(name):
                try:
                    data[f"{name}_at"] = in_zone(data[name], self.zone)
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends", _("The shift must end after it starts."))
        return data


class OfferSearchForm(forms.Form):
    capability = forms.ChoiceField(label=_("Offers"), required=False)
    locality = forms.CharField(label=_("Town or neighbourhood"), required=False, max_length=100)
    withdrawn = forms.BooleanField(label=_("Show withdrawn offers"), required=False)

    def __init__(self, *args: Any, capabilities: list[Capability], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["capability"].choices = [  # type: ignore[attr-defined]
            ("", _("Anything")),
            *((str(c.pk), c.name) for c in capabilities),
        ]


def _active_offers(need: Need) -> QuerySet[Offer]:
    return Offer.objects.for_org(need.organization).filter(
        status=OfferStatus.ACTIVE, capabilities__capability_id=need.capability_id
    )


class RowIdsField(forms.ModelMultipleChoiceField):
    """Ids that cannot be rows (a huge number, a word) are refused before any query:
    SQLite overflows on them inside `IN (...)`."""

    def _check_values(self, value: Any) -> Any:
        if any(not is_row_id(str(item)) for item in value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": ""}
            )
        return super()._check_values(value)


class InviteForm(forms.Form):
    offers = RowIdsField(
        queryset=Offer.objects.none(),
        error_messages={"required": _("Tick at least one volunteer to invite.")},
    )
    shift = forms.ModelChoiceField(
        label=_("For the shift"), queryset=Shift.objects.none(), required=False
    )

    def __init__(self, *args: Any, need: Need, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.need = need
        field = self.fields["offers"]
        field.queryset = _active_offers(need).select_related("person")  # type: ignore[attr-defined]
        field.error_messages["invalid_choice"] = _(
            "One of the volunteers ticked withdrew their offer: reload the list."
        )
        self.fields["shift"].queryset = need.shifts.all()  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    offered = forms.ModelChoiceField(
        queryset=OfferedCapability.objects.none(),
        error_messages={"invalid_choice": _("This offer is no longer available: reload.")},
    )
    quantity = forms.IntegerField(
        label=_("How many"), required=False, min_value=1, max_value=MAX_QUANTITY
    )
    shift = forms.ModelChoiceField(
        label=_("For the shift"), queryset=Shift.objects.none(), required=False
    )

    def __init__(self, *args: Any, need: Need, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.need = need
        self.fields["offered"].queryset = OfferedCapability.objects.filter(  # type: ignore[attr-defined]
            organization_id=need.organization_id,
            capability_id=need.capability_id,
            offer__status=OfferStatus.ACTIVE,
        )
        self.fields["shift"].queryset = need.shifts.all()  # type: ignore[attr-defined]


ATTENDED_CHOICES = [("", _("Not recorded")), ("yes", _("Came")), ("no", _("Did not come"))]


class AttendanceForm(forms.Form):
    """One pair of fields per accepted volunteer: came or not, and hours."""

    def __init__(self, *args: Any, assignments: list[Assignment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.assignments = assignments
        for row in assignments:
            self.fields[f"attended_{row.pk}"] = forms.ChoiceField(
                label=_("Came"),
                choices=ATTENDED_CHOICES,
                required=False,
                widget=forms.RadioSelect,
                initial={True: "yes", False: "no"}.get(row.attended, ""),  # type: ignore[arg-type]
            )
            self.fields[f"hours_{row.pk}"] = forms.DecimalField(
                label=_("Hours"),
                required=False,
                min_value=Decimal(0),
                max_value=MAX_HOURS,
                max_digits=5,
                decimal_places=2,
                initial=row.hours,
            )

    def rows(self) -> list[tuple[Assignment, forms.BoundField, forms.BoundField]]:
        return [
            (row, self[f"attended_{row.pk}"], self[f"hours_{row.pk}"]) for row in self.assignments
        ]

    def changes(self) -> list[tuple[Assignment, bool, Decimal | None]]:
        """(assignment, attended, hours) for each row whose answer is new or changed."""
        found = []
        for row in self.assignments:
            answer = self.cleaned_data.get(f"attended_{row.pk}")
            hours = self.cleaned_data.get(f"hours_{row.pk}")
            if not answer:
                continue
            attended = answer == "yes"
            if attended != row.attended or (attended and hours is not None and hours != row.hours):
                found.append((row, attended, hours))
        return found
