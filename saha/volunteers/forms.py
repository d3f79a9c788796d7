"""The public forms: offering help (who, what, when, where) and signing up for a shift.

The offer form has one box per capability the organization asks for, with a
number (in the capability's unit: seats, square metres) and a few words for
each resource, and up to three periods of availability, each a range of days
with an optional daily time window. Everything works without JavaScript.

The consent boxes' labels are the exact words recorded with the consent, in
the page's language, as on the RSVP form. On a campaign's pages (an event's
page, a campaign's hub, a need of either) both forms add one unticked box per
partner of the campaign (`partner_<organization id>`, `offers.partner_boxes`):
a box for any other id is no field of the form, so a forged one is dropped with
the rest of the unknown input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from saha.campaigns import partners
from saha.campaigns.queries import Shown
from saha.organizations.models import Organization
from saha.supporters.consent import FORM_CONSENT_FIELDS, ticked_consents
from saha.supporters.services import PersonData
from saha.volunteers.models import Capability, Offer, Shift
from saha.volunteers.offers import MAX_QUANTITY, AvailabilityWindow
from saha.volunteers.texts import capability_name

# The field a person never sees and a bot fills.
HONEYPOT = "website"
WINDOWS = 3
CONSENT_FIELDS = FORM_CONSENT_FIELDS


def _language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


class PersonFields(forms.Form):
    """Who: a name, an email or a phone (or both), a language, and what they agree to."""

    given_name = forms.CharField(
        label=_("Given name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    family_name = forms.CharField(
        label=_("Family name"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("Email"), required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    language = forms.ChoiceField(label=_("Language for our messages"), choices=())
    consent_email = forms.BooleanField(required=False)
    consent_sms = forms.BooleanField(required=False)

    person_field_names = ("given_name", "family_name", "email", "phone", "language")
    partner_boxes: list[partners.PartnerBox]

    def _init_person(
        self, organization: Organization, boxes: list[partners.PartnerBox] | None = None
    ) -> None:
        language = self.fields["language"]
        language.choices = _language_choices()  # type: ignore[attr-defined]
        language.initial = translation.get_language()
        self.fields["consent_email"].label = _("Send me news from %(organization)s by email.") % {
            "organization": organization.name
        }
        self.fields["consent_sms"].label = _(
            "Send me an SMS when %(organization)s needs volunteers."
        ) % {"organization": organization.name}
        for name in CONSENT_FIELDS:
            # No suffix: the words shown are exactly the words kept with the yes.
            self.fields[name].label_suffix = ""
        # The organization itself is never its own partner, whatever a campaign says.
        self.partner_boxes = [box for box in boxes or () if box.organization.pk != organization.pk]
        for box in self.partner_boxes:
            # Unticked unless the person ticks it: sharing is never the default.
            self.fields[box.field_name] = forms.BooleanField(
                required=False, initial=False, label=box.wording, label_suffix=""
            )

    def partner_fields(self) -> list[forms.BoundField]:
        return [self[box.field_name] for box in self.partner_boxes]

    def ticked_partners(self) -> dict[int, str]:
        """Partner organization id -> the exact words of its box, for the boxes ticked."""
        return partners.ticked(self.partner_boxes, self.cleaned_data)

    def _clean_contact(self, cleaned: dict[str, Any]) -> None:
        if not cleaned.get("email") and not cleaned.get("phone") and not self.has_error("email"):
            raise forms.ValidationError(
                _("Give an email address or a phone number."), code="no_contact"
            )

    def consent_wording(self, name: str) -> str:
        return str(self.fields[name].label)

    def person_data(self, *, source_ref: str) -> PersonData:
        data = self.cleaned_data
        consents = ticked_consents(self, source_ref=source_ref)
        return PersonData(
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            given_name=data["given_name"],
            family_name=data.get("family_name") or "",
            language=data["language"],
            region=data.get("region") or "",
            locality=data.get("locality") or "",
            consents=consents,
        )


@dataclass(frozen=True)
class CapabilityRow:
    capability: Capability
    name: Shown
    box: forms.BoundField
    quantity: forms.BoundField | None
    details: forms.BoundField | None


@dataclass(frozen=True)
class WindowRow:
    number: int
    starts_on: forms.BoundField
    ends_on: forms.BoundField
    from_time: forms.BoundField
    to_time: forms.BoundField


def _date(label: Any) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def _time(label: Any) -> forms.TimeField:
    return forms.TimeField(
        label=label, required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )


class OfferDetailsForm(forms.Form):
    """What, when and where: the part of an offer its owner changes through their link."""

    region = forms.CharField(
        label=_("Region"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level1"}),
    )
    locality = forms.CharField(
        label=_("Town or neighbourhood"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    notes = forms.CharField(
        label=_("Anything else we should know (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        capabilities: list[Capability],
        offer: Offer | None = None,
        **kwargs: Any,
    ) -> None:
        if offer is not None and "initial" not in kwargs:
            kwargs["initial"] = initial_from(offer)
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.capabilities = capabilities
        for capability in capabilities:
            self._add_capability(capability)
        for number in range(1, WINDOWS + 1):
            self.fields[f"from_{number}"] = _date(_("From"))
            self.fields[f"until_{number}"] = _date(_("Until"))
            self.fields[f"from_time_{number}"] = _time(_("From (time, optional)"))
            self.fields[f"to_time_{number}"] = _time(_("To (time, optional)"))

    def _add_capability(self, capability: Capability) -> None:
        pk = capability.pk
        self.fields[f"cap_{pk}"] = forms.BooleanField(
            label=capability.name, required=False, label_suffix=""
        )
        if capability.is_resource:
            self.fields[f"qty_{pk}"] = forms.IntegerField(
                label=_("How many (%(unit)s)") % {"unit": capability.get_unit_display()},
                min_value=1,
                max_value=MAX_QUANTITY,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )
            self.fields[f"details_{pk}"] = forms.CharField(
                label=_("What is it? (optional)"), max_length=200, required=False
            )

    def capability_rows(self) -> list[CapabilityRow]:
        rows = []
        for capability in self.capabilities:
            pk = capability.pk
            resource = capability.is_resource
            rows.append(
                CapabilityRow(
                    capability,
                    capability_name(capability),
                    self[f"cap_{pk}"],
                    self[f"qty_{pk}"] if resource else None,
                    self[f"details_{pk}"] if resource else None,
                )
            )
        return rows

    def window_rows(self) -> list[WindowRow]:
        return [
            WindowRow(
                number=n,
                starts_on=self[f"from_{n}"],
                ends_on=self[f"until_{n}"],
                from_time=self[f"from_time_{n}"],
                to_time=self[f"to_time_{n}"],
            )
            for n in range(1, WINDOWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._clean_capabilities(cleaned)
        for number in range(1, WINDOWS + 1):
            self._clean_window(cleaned, number)
        return cleaned

    def _clean_capabilities(self, cleaned: dict[str, Any]) -> None:
        ticked = [c for c in self.capabilities if cleaned.get(f"cap_{c.pk}")]
        if not ticked:
            self.add_error(None, _("Tick at least one thing you can offer."))
        for capability in ticked:
            name = f"qty_{capability.pk}"
            if capability.is_resource and not cleaned.get(name) and not self.has_error(name):
                self.add_error(name, _("Say how many."))

    def _clean_window(self, cleaned: dict[str, Any], n: int) -> None:
        starts, ends = cleaned.get(f"from_{n}"), cleaned.get(f"until_{n}")
        from_time, to_time = cleaned.get(f"from_time_{n}"), cleaned.get(f"to_time_{n}")
        if starts is None and ends is None and from_time is None and to_time is None:
            return
        if starts is None and not self.has_error(f"from_{n}"):
            self.add_error(f"from_{n}", _("Give the first day."))
        if ends is not None and starts is not None and ends < starts:
            self.add_error(f"until_{n}", _("The last day cannot be before the first."))
        if (from_time is None) != (to_time is None):
            self.add_error(f"to_time_{n}", _("Give both times of the day, or neither."))
        elif from_time is not None and to_time is not None and to_time <= from_time:
            self.add_error(f"to_time_{n}", _("The end time must be after the start time."))

    def offered(self) -> dict[int, tuple[int | None, str]]:
        data = self.cleaned_data
        return {
            c.pk: (data.get(f"qty_{c.pk}"), data.get(f"details_{c.pk}") or "")
            for c in self.capabilities
            if data.get(f"cap_{c.pk}")
        }

    def availability(self) -> list[AvailabilityWindow]:
        data = self.cleaned_data
        windows = []
        for n in range(1, WINDOWS + 1):
            starts: dt.date | None = data.get(f"from_{n}")
            if starts is None:
                continue
            windows.append(
                AvailabilityWindow(
                    starts_on=starts,
                    ends_on=data.get(f"until_{n}") or starts,
                    from_time=data.get(f"from_time_{n}"),
                    to_time=data.get(f"to_time_{n}"),
                )
            )
        return windows

    def area(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "region": data.get("region") or "",
            "locality": data.get("locality") or "",
            "notes": data.get("notes") or "",
        }


def initial_from(offer: Offer) -> dict[str, Any]:
    """The form as the offer stands (the signed page's prefilled form)."""
    initial: dict[str, Any] = {
        "region": offer.region,
        "locality": offer.locality,
        "notes": offer.notes,
    }
    for row in offer.capabilities.all():
        initial[f"cap_{row.capability_id}"] = True
        initial[f"qty_{row.capability_id}"] = row.quantity
        initial[f"details_{row.capability_id}"] = row.details
    windows = offer.availability.order_by("starts_on", "pk")[:WINDOWS]
    for n, window in enumerate(windows, start=1):
        initial[f"from_{n}"] = window.starts_on
        initial[f"until_{n}"] = window.ends_on
        initial[f"from_time_{n}"] = window.from_time
        initial[f"to_time_{n}"] = window.to_time
    return initial


class OfferForm(PersonFields, OfferDetailsForm):
    """The public form: the person, then what they offer."""

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        partner_boxes: list[partners.PartnerBox] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, organization=organization, **kwargs)
        self._init_person(organization, partner_boxes)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self._clean_contact(cleaned)
        return cleaned

    def person_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.person_field_names]

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CONSENT_FIELDS]


class SignUpForm(PersonFields):
    """Signing up for one of a need's shifts (or for the need, when it has none)."""

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        shifts: list[Shift] | None = None,
        partner_boxes: list[partners.PartnerBox] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._init_person(organization, partner_boxes)
        self.shifts = shifts or []
        if self.shifts:
            self.fields["shift"] = forms.TypedChoiceField(
                label=_("Which shift?"),
                choices=[(shift.pk, str(shift.pk)) for shift in self.shifts],
                coerce=int,
                widget=forms.RadioSelect,
            )
            if len(self.shifts) == 1:
                self.fields["shift"].initial = self.shifts[0].pk

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._clean_contact(cleaned)
        return cleaned

    def chosen_shift(self) -> Shift | None:
        chosen = self.cleaned_data.get("shift")
        return next((shift for shift in self.shifts if shift.pk == chosen), None)

    def person_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.person_field_names]

    def consent_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in CONSENT_FIELDS]
