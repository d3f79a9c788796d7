"""The organizer's forms: a campaign (texts per language, goals), an item to add, an
item's button words, a partner to invite."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from saha.campaigns import queries
from saha.campaigns.models import Campaign, CampaignItem
from saha.campaigns.services import LABEL_MAX
from saha.organizations.forms import (
    add_per_language,
    per_language_first,
    per_language_initial,
    per_language_values,
)
from saha.organizations.models import Organization

GOAL_MAX = 100_000_000
KIND_NAMES = {
    "statement": _("Statements"),
    "event": _("Events"),
    "petition": _("Petitions"),
}


def _goal(label: Any, help_text: Any) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=1, max_value=GOAL_MAX, help_text=help_text
    )


class CampaignForm(forms.Form):
    goal_signatures = _goal(
        _("Signatures goal"), _("Signatures on the campaign's petitions. Empty: no bar.")
    )
    goal_rsvps = _goal(
        _("People coming goal"), _("Confirmed answers to the campaign's events. Empty: no bar.")
    )
    goal_check_ins = _goal(
        _("People present goal"),
        _("People checked in at the campaign's events. Empty: no bar."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        add_per_language(self, "title", _("Title (%(language)s)"), max_length=200)
        add_per_language(self, "summary", _("Summary (%(language)s)"), max_length=400, rows=2)
        add_per_language(
            self,
            "description",
            _("Description (%(language)s), in Markdown"),
            max_length=20_000,
            rows=6,
        )
        per_language_first(self, "title", "summary", "description")

    @staticmethod
    def initial_for(campaign: Campaign | None) -> dict[str, Any]:
        if campaign is None:
            return {}
        return {
            **per_language_initial("title", campaign.titles),
            **per_language_initial("summary", campaign.summaries),
            **per_language_initial("description", campaign.descriptions),
            "goal_signatures": campaign.goal_signatures,
            "goal_rsvps": campaign.goal_rsvps,
            "goal_check_ins": campaign.goal_check_ins,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not per_language_values(data, "title"):
            raise forms.ValidationError(_("Give the campaign a title in at least one language."))
        return data

    def fields_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "titles": per_language_values(data, "title"),
            "summaries": per_language_values(data, "summary"),
            "descriptions": per_language_values(data, "description"),
            "goal_signatures": data.get("goal_signatures"),
            "goal_rsvps": data.get("goal_rsvps"),
            "goal_check_ins": data.get("goal_check_ins"),
        }


class ItemForm(forms.Form):
    """One of the host's statements, events or petitions, from a select grouped by kind."""

    target = forms.ChoiceField(label=_("Add to the campaign"), choices=())

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.target_object: Any = None
        found = queries.candidates(campaign)
        groups: list[tuple[str, Any]] = [("", _("Choose…"))]
        for kind, candidates in found.items():
            if candidates:
                choices = [(c.value, c.label) for c in candidates]
                groups.append((str(KIND_NAMES[kind]), choices))
        self.fields["target"].choices = groups  # type: ignore[attr-defined]
        self.is_empty = len(groups) == 1

    def clean_target(self) -> str:
        value = self.cleaned_data["target"]
        self.target_object = queries.target_of(self.campaign, value)
        if self.target_object is None:
            raise forms.ValidationError(_("Choose a statement, event or petition of yours."))
        return value


class LabelsForm(forms.Form):
    """The button's words per language; empty: the default of the item's kind."""

    def __init__(self, *args: Any, item: CampaignItem, **kwargs: Any) -> None:
        kwargs.setdefault("initial", per_language_initial("label", item.labels))
        super().__init__(*args, **kwargs)
        add_per_language(self, "label", _("Button (%(language)s)"), max_length=LABEL_MAX)

    def labels(self) -> dict[str, str]:
        return per_language_values(self.cleaned_data, "label")


class PartnerForm(forms.Form):
    organization = forms.CharField(
        label=_("Web address of the partner organization"),
        max_length=50,
        help_text=_("As in its public page's address, /o/<web address>/."),
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean_organization(self) -> Organization:
        slug = self.cleaned_data["organization"].strip().strip("/").lower()
        if slug.startswith("o/"):
            slug = slug[2:]
        found = Organization.objects.filter(slug=slug).first()
        if found is None:
            raise forms.ValidationError(_("No organization has this web address."))
        if found.pk == self.campaign.organization_id:
            raise forms.ValidationError(_("An organization cannot partner in its own campaign."))
        return found
