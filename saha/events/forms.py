"""The public RSVP form: who is coming, how to reach them, what they agree to receive."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from saha.events.models import Event
from saha.supporters.consent import ConsentGrant
from saha.supporters.models import Channel, ConsentSource
from saha.supporters.services import PersonData

# Field name -> channel. The label of each box is the wording recorded with the consent.
CONSENT_FIELDS = {"consent_email": Channel.EMAIL, "consent_sms": Channel.SMS}


class RsvpForm(forms.Form):
    given_name = forms.CharField(label=_("Given name"), max_length=100)
    family_name = forms.CharField(label=_("Family name"), max_length=100, required=False)
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

    def __init__(self, *args: Any, event: Event, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        language = self.fields["language"]
        language.choices = list(settings.LANGUAGES)  # type: ignore[attr-defined]
        language.initial = translation.get_language()
        self.fields["consent_email"].label = _("Send me news from %(organization)s by email.") % {
            "organization": event.organization.name
        }
        self.fields["consent_sms"].label = _("Send me an SMS on the day of the event.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("email") and not cleaned.get("phone") and not self.has_error("email"):
            raise forms.ValidationError(
                _("Give an email address or a phone number."), code="no_contact"
            )
        return cleaned

    def consent_wording(self, name: str) -> str:
        """The exact words shown next to the box, in the page's language."""
        return str(self.fields[name].label)

    def person_data(self, *, source_ref: str) -> PersonData:
        data = self.cleaned_data
        language = data["language"]
        contact = {Channel.EMAIL: data.get("email"), Channel.SMS: data.get("phone")}
        consents = [
            ConsentGrant(
                channel=channel,
                wording=self.consent_wording(name),
                source=ConsentSource.FORM,
                source_ref=source_ref,
                language=translation.get_language() or language,
            )
            for name, channel in CONSENT_FIELDS.items()
            # A box ticked without the address it is about agrees to nothing we can use.
            if data.get(name) and contact[channel]
        ]
        return PersonData(
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            given_name=data["given_name"],
            family_name=data.get("family_name") or "",
            language=language,
            consents=consents,
        )
