"""Segment criteria from petitions: who signed (confirmed or not), who confirmed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from saha.organizations.models import Organization
from saha.petitions.models import Petition, Signature
from saha.supporters.segments import Criterion, register


class _PetitionCriterion(Criterion):
    confirmed_only = False

    def form_field(self, organization: Organization) -> forms.Field:
        return forms.ModelMultipleChoiceField(
            label=self.label,
            required=False,
            queryset=Petition.objects.for_org(organization).order_by("-created_at"),
        )

    def to_json(self, value: Any) -> list[int]:
        return [petition.pk for petition in value]

    def to_q(self, organization: Organization, value: Any) -> Q:
        ids = [v for v in value if isinstance(v, int)] if isinstance(value, list) else []
        # Only the organization's own petitions, whatever a stored definition says.
        own = Petition.objects.for_org(organization).filter(pk__in=ids).values("pk")
        signed = Signature.objects.filter(person=OuterRef("pk"), petition_id__in=own)
        if self.confirmed_only:
            signed = signed.filter(verified_at__isnull=False)
        return Q(Exists(signed))


@register
class Signed(_PetitionCriterion):
    key = "signed"
    label = _("Signed one of these petitions (confirmed or not)")


@register
class SignedConfirmed(_PetitionCriterion):
    key = "signed_confirmed"
    label = _("Signed one of these petitions and confirmed by email")
    confirmed_only = True
