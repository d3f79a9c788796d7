"""The organizer's API forms: a new token, the API settings, a new webhook endpoint."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from saha.api import manage, scopes, webhooks
from saha.core.errors import DomainError

ACCESS_LABELS = {scopes.READ: _("read"), scopes.WRITE: _("read and write")}


def scope_choices() -> list[tuple[str, Any]]:
    return [
        (f"{resource}:{access}", f"{label} ({ACCESS_LABELS[access]})")
        for resource, label in scopes.RESOURCES.items()
        for access in (scopes.READ, scopes.WRITE)
    ]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("Which tool or person will use it, so you recognise it later."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("What it may do"),
        choices=scope_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Give each tool only what it needs. Write includes read."),
    )

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError(_("Give the token a name."))
        return name


class SettingsForm(forms.Form):
    public_helpers = forms.BooleanField(
        label=_("Accept sign-ups from other websites without a token"),
        required=False,
        help_text=_(
            "When on, a form on another website (yours, or a partner's) can add people, "
            "RSVPs and signatures here without a token, as Action Network's \"public "
            'helpers" do. It can never read anything. Leave it off unless you use such a form.'
        ),
    )


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Address"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Where Saha sends the events, for example https://example.org/saha-hook."),
    )
    event_types = forms.MultipleChoiceField(
        label=pgettext_lazy("webhook", "Events"),
        choices=lambda: [(name, label) for name, label in webhooks.EVENT_TYPES.items()],
        widget=forms.CheckboxSelectMultiple,
    )

    def clean_url(self) -> str:
        url = str(self.cleaned_data["url"]).strip()
        try:
            manage.check_url(url)
        except DomainError as error:
            raise forms.ValidationError(error.message, code=error.code) from error
        return url
