"""The organizer's petition form: title and text per language, whom it is addressed to, the
goal, the deadline (a wall-clock time in the organization's zone), what the public page
shows, and the next action offered to signers (only the organization's own)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.events.manage_forms import LOCAL_INPUT, LocalDateTimeField, in_zone, wall_clock
from saha.events.models import Event, EventStatus
from saha.organizations.forms import (
    add_per_language,
    per_language_first,
    per_language_initial,
    per_language_values,
)
from saha.organizations.models import Organization
from saha.petitions.models import Petition, PetitionStatus

MAX_TARGETS = 50


def next_petitions(organization: Organization, petition: Petition | None) -> QuerySet[Petition]:
    """The organization's other open petitions: a signer can be sent on to one of them."""
    found = Petition.objects.for_org(organization).filter(status=PetitionStatus.OPEN)
    if petition is not None:
        found = found.exclude(pk=petition.pk)
    return found.select_related("organization").order_by("-created_at", "-pk")


def next_events(organization: Organization) -> QuerySet[Event]:
    """The organization's own published events that have not ended."""
    return (
        Event.objects.for_org(organization)
        .filter(status=EventStatus.PUBLISHED, ends_at__gte=timezone.now())
        .select_related("organization")
        .order_by("starts_at", "pk")
    )


class _Choice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.title or obj.slug)


class PetitionForm(forms.Form):
    targets = forms.CharField(
        label=_("Addressed to"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: a minister, a council, a company."),
    )
    goal = forms.IntegerField(
        label=_("Goal"),
        required=False,
        min_value=1,
        max_value=100_000_000,
        help_text=_("How many signatures you aim for. Leave empty for none."),
    )
    deadline = LocalDateTimeField(
        label=_("Deadline"),
        required=False,
        help_text=_("Leave empty to keep it open until you close it."),
    )
    count_unverified = forms.BooleanField(
        label=_("Count signatures not yet confirmed by email on the public counter"),
        required=False,
    )
    show_signers = forms.BooleanField(
        label=_("Show recent signers (only those who agreed to be shown)"),
        required=False,
        initial=True,
    )
    next_petition = _Choice(
        label=_("Next action: another petition"), queryset=Petition.objects.none(), required=False
    )
    next_event = _Choice(
        label=_("Next action: an event"), queryset=Event.objects.none(), required=False
    )

    def __init__(
        self,
        *args: Any,
        organization: Organization,
        petition: Petition | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.petition = petition
        self.fields["deadline"].help_text = _(
            "In the organization's time zone (%(zone)s). Leave empty to keep it open until you "
            "close it."
        ) % {"zone": organization.time_zone}
        self.fields["next_petition"].queryset = next_petitions(organization, petition)  # type: ignore[attr-defined]
        self.fields["next_event"].queryset = next_events(organization)  # type: ignore[attr-defined]
        add_per_language(self, "title", _("Title (%(language)s)"), max_length=200)
        add_per_language(self, "text", _("Text (%(language)s)"), max_length=20_000, rows=6)
        per_language_first(self, "title", "text")

    @classmethod
    def initial_for(cls, petition: Petition | None, organization: Organization) -> dict[str, Any]:
        if petition is None:
            return {"show_signers": True, "count_unverified": False}
        initial: dict[str, Any] = {
            "targets": petition.targets,
            "goal": petition.goal,
            "count_unverified": petition.count_unverified,
            "show_signers": petition.show_signers,
            "next_petition": petition.next_petition_id,
            "next_event": petition.next_event_id,
            "deadline": (
                wall_clock(petition.deadline, organization.time_zone) if petition.deadline else ""
            ),
        }
        initial.update(per_language_initial("title", petition.titles))
        initial.update(per_language_initial("text", petition.texts))
        return initial

    def clean_targets(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["targets"].splitlines()]
        lines = [line for line in lines if line]
        if len(lines) > MAX_TARGETS:
            raise forms.ValidationError(
                _("At most %(count)s targets."), code="too_many", params={"count": MAX_TARGETS}
            )
        if any(len(line) > 300 for line in lines):
            raise forms.ValidationError(_("Keep each target under 300 characters."), code="long")
        return "\n".join(lines)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not per_language_values(data, "title"):
            raise forms.ValidationError(_("Give the petition a title in at least one language."))
        if data.get("deadline"):
            try:
                data["deadline_at"] = self._unchanged(data["deadline"]) or in_zone(
                    data["deadline"], self.organization.time_zone
                )
            except forms.ValidationError as error:
                self.add_error("deadline", error)
        return data

    def _unchanged(self, local: dt.datetime) -> dt.datetime | None:
        """The stored instant when the edit leaves the deadline as it was (even one the
        clocks pass twice, which a new entry could not choose)."""
        stored = self.petition.deadline if self.petition else None
        if stored is None:
            return None
        same = wall_clock(stored, self.organization.time_zone) == local.strftime(LOCAL_INPUT)
        return stored if same else None

    def fields_for_service(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "titles": per_language_values(data, "title"),
            "texts": per_language_values(data, "text"),
            "targets": data.get("targets", ""),
            "goal": data.get("goal"),
            "deadline": data.get("deadline_at"),
            "count_unverified": bool(data.get("count_unverified")),
            "show_signers": bool(data.get("show_signers")),
            "next_petition": data.get("next_petition"),
            "next_event": data.get("next_event"),
        }
