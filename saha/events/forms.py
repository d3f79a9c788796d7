"""The public RSVP form: who is coming, how to reach them, what they agree to receive,
and which other organizations may have them; the ticket page's language form.

Two kinds of organizations ask for a box: the event's co-hosts (ticked: they
see the RSVP among their attendees) and the partners of the campaigns holding
the event (ticked: the typed details join the partner's own supporters). One
that is both gets one box, whose words say both, and ticking it does both.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from saha.campaigns.partners import PartnerBox
from saha.events.models import Event
from saha.organizations.models import Organization
from saha.supporters.consent import FORM_CONSENT_FIELDS, ticked_consents
from saha.supporters.services import PersonData

# Field name -> channel. The label of each box is the wording recorded with the consent.
CONSENT_FIELDS = FORM_CONSENT_FIELDS
# One box per co-host or campaign partner, `share_<organization id>`: a box for any
# other id is no field of the form, so a forged one is dropped with the rest of the
# unknown input.
SHARE_PREFIX = "share_"


def _language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


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

    def __init__(
        self,
        *args: Any,
        event: Event,
        co_hosts: list[Organization] | None = None,
        partner_boxes: list[PartnerBox] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.event = event
        language = self.fields["language"]
        language.choices = _language_choices()  # type: ignore[attr-defined]
        language.initial = translation.get_language()
        self.fields["consent_email"].label = _("Send me news from %(organization)s by email.") % {
            "organization": event.organization.name
        }
        self.fields["consent_sms"].label = _("Send me an SMS on the day of the event.")
        self._add_boxes(co_hosts or [], partner_boxes or [])

    def _add_boxes(self, co_hosts: list[Organization], partner_boxes: list[PartnerBox]) -> None:
        """One box per organization, in name order, whichever way it came."""
        self.co_host_ids = {org.pk for org in co_hosts}
        # The host's own campaign naming the host as partner would share with itself.
        partners = {
            box.organization.pk: box
            for box in partner_boxes
            if box.organization.pk != self.event.organization_id
        }
        self.partner_ids = set(partners)
        organizations = {org.pk: org for org in co_hosts}
        for partner in partners.values():
            organizations.setdefault(partner.organization.pk, partner.organization)
        for org in sorted(organizations.values(), key=lambda org: org.name.casefold()):
            box = partners.get(org.pk)
            if org.pk not in self.co_host_ids and box is not None:
                label = box.wording  # the campaign's own words for a partner's box
            elif box is not None:
                label = _(
                    "Share my name and contact details with %(organization)s, co-host of this "
                    "event and a partner in this campaign, and add me to its supporters so they "
                    "can keep me informed"
                ) % {"organization": org.name}
            else:
                label = _("Share my name and contact details with %(co_host)s") % {
                    "co_host": org.name
                }
            # Unticked unless the person ticks it: sharing is never the default. No
            # suffix: the words shown are exactly the words kept with the yes.
            self.fields[f"{SHARE_PREFIX}{org.pk}"] = forms.BooleanField(
                required=False, initial=False, label=label, label_suffix=""
            )

    def _ticked(self) -> dict[int, str]:
        return {
            int(name.removeprefix(SHARE_PREFIX)): self.consent_wording(name)
            for name, value in self.cleaned_data.items()
            if name.startswith(SHARE_PREFIX) and value
        }

    def share_with(self) -> dict[int, str]:
        """The co-hosts whose box was ticked, each with the exact words of its box."""
        return {pk: words for pk, words in self._ticked().items() if pk in self.co_host_ids}

    def ticked_partners(self) -> dict[int, str]:
        """The campaign partners whose box was ticked, each with the exact words of its box
        (in the language the form was shown in: these words go to the partner's ledger)."""
        return {pk: words for pk, words in self._ticked().items() if pk in self.partner_ids}

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
        consents = ticked_consents(self, source_ref=source_ref)
        return PersonData(
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            given_name=data["given_name"],
            family_name=data.get("family_name") or "",
            language=language,
            consents=consents,
        )


class LanguageForm(forms.Form):
    """The ticket page's "speak to me in" choice."""

    language = forms.ChoiceField(label=_("Language for our messages"), choices=())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = _language_choices()  # type: ignore[attr-defined]
