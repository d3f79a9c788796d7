"""The public sign form: who signs, how to reach them, what they agree to.

The honeypot and the proof-of-work fields are no fields of this form: the
template writes them and `saha.petitions.views.public` reads them from the
request, so they never reach a person's data.

A petition held by published campaigns offers one unticked box per accepted
partner of theirs (`saha.campaigns.partners`); a box for any other
organization is no field of the form, so a forged one is dropped.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from saha.campaigns.partners import PartnerBox
from saha.petitions.models import Petition
from saha.supporters.consent import ConsentGrant
from saha.supporters.models import Channel, ConsentSource
from saha.supporters.services import PersonData

# The field a person never sees and a bot fills (named so that bots want to).
HONEYPOT = "website"
COMMENT_MAX = 2000


def _language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


class SignForm(forms.Form):
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
        label=_("Email"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    locality = forms.CharField(
        label=_("Town or village"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        max_length=COMMENT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    show_name = forms.BooleanField(
        label=_("Show my first name and town publicly and to the target of the petition."),
        required=False,
        initial=False,
    )
    consent_email = forms.BooleanField(required=False, initial=False)
    language = forms.ChoiceField(label=_("Language for our messages"), choices=())

    def __init__(
        self,
        *args: Any,
        petition: Petition,
        partner_boxes: list[PartnerBox] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.petition = petition
        language = self.fields["language"]
        language.choices = _language_choices()  # type: ignore[attr-defined]
        language.initial = translation.get_language()
        self.fields["consent_email"].label = _("Send me news from %(organization)s by email.") % {
            "organization": petition.organization.name
        }
        self.partner_boxes = sorted(
            # The host's own campaign naming the host as partner would share with itself.
            (box for box in partner_boxes or () if box.organization.pk != petition.organization_id),
            key=lambda box: box.organization.name.casefold(),
        )
        for box in self.partner_boxes:
            # Unticked unless the person ticks it; no suffix: the words shown are
            # exactly the words kept with the yes.
            self.fields[box.field_name] = forms.BooleanField(
                required=False, initial=False, label=box.wording, label_suffix=""
            )

    def ticked_partners(self) -> dict[int, str]:
        """The partners whose box was ticked, each with the exact words of its box in the
        language the form was shown in (the worker that takes the signature in later
        has no page language: these words travel with it)."""
        return {
            box.organization.pk: self.consent_wording(box.field_name)
            for box in self.partner_boxes
            if self.cleaned_data.get(box.field_name)
        }

    def consent_wording(self, name: str) -> str:
        """The exact words shown next to the box, in the page's language."""
        return str(self.fields[name].label)

    def person_data(self, *, source_ref: str) -> PersonData:
        data = self.cleaned_data
        consents = []
        if data.get("consent_email"):
            consents.append(
                ConsentGrant(
                    channel=Channel.EMAIL,
                    wording=self.consent_wording("consent_email"),
                    source=ConsentSource.FORM,
                    source_ref=source_ref,
                    language=translation.get_language() or data["language"],
                )
            )
        return PersonData(
            email=data["email"],
            phone=data.get("phone") or "",
            given_name=data["given_name"],
            family_name=data.get("family_name") or "",
            locality=data.get("locality") or "",
            language=data["language"],
            consents=consents,
        )
