"""The hub's join form: a name, how to reach them, the host's consent boxes, and one
unticked box per partner (`partners.boxes_for`).

The honeypot is no field of this form: the template writes it and the view
reads it from the request, so it never reaches a person's data.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from saha.campaigns import partners
from saha.campaigns.models import Campaign
from saha.supporters.consent import FORM_CONSENT_FIELDS, ticked_consents
from saha.supporters.services import PersonData

# Field name -> channel. The label of each box is the wording recorded with the consent.
CONSENT_FIELDS = FORM_CONSENT_FIELDS


def _language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


class JoinForm(forms.Form):
    given_name = forms.CharField(
        label=_("Given name"),
        max_length=100,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
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
    # No suffix on the boxes: the words shown are exactly the words kept with the yes.
    consent_email = forms.BooleanField(required=False, initial=False, label_suffix="")
    consent_sms = forms.BooleanField(required=False, initial=False, label_suffix="")

    def __init__(
        self,
        *args: Any,
        campaign: Campaign,
        boxes: list[partners.PartnerBox] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.boxes = list(boxes or ())
        language = self.fields["language"]
        language.choices = _language_choices()  # type: ignore[attr-defined]
        language.initial = translation.get_language()
        name = {"organization": campaign.organization.name}
        self.fields["consent_email"].label = (
            _("Send me news from %(organization)s by email.") % name
        )
        self.fields["consent_sms"].label = _("Send me news from %(organization)s by SMS.") % name
        for box in self.boxes:
            # Unticked unless the person ticks it: sharing is never the default.
            self.fields[box.field_name] = forms.BooleanField(
                required=False, initial=False, label=box.wording, label_suffix=""
            )

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

    def ticked(self) -> dict[int, str]:
        """Partner organization id -> the words of its box, for the boxes ticked."""
        return partners.ticked(self.boxes, self.cleaned_data)

    def person_data(self, *, source_ref: str) -> PersonData:
        data = self.cleaned_data
        consents = ticked_consents(self, source_ref=source_ref)
        return PersonData(
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            given_name=data["given_name"],
            language=data["language"],
            consents=consents,
        )
