"""Every organization-owned model is scoped; single rows are fetched through the organization."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models
from django.http import Http404

from saha.core.tenancy import OrganizationOwned, get_for_org_or_404
from saha.organizations.models import Membership, Organization


def points_at_organization(model: type[models.Model]) -> bool:
    return any(
        isinstance(field, models.ForeignKey) and field.related_model is Organization
        for field in model._meta.get_fields()
        if field.concrete
    )


def unscoped(candidates: list[type[models.Model]]) -> list[str]:
    """Models that belong to an organization but are not reached through one."""
    problems = []
    for model in candidates:
        if model is Organization or not points_at_organization(model):
            continue
        if not issubclass(model, OrganizationOwned):
            problems.append(f"{model._meta.label} does not subclass OrganizationOwned")
        elif not hasattr(model._default_manager, "for_org"):
            problems.append(f"{model._meta.label}'s default manager has no for_org()")
    return problems


def test_every_organization_owned_model_is_scoped() -> None:
    saha_models = [m for m in apps.get_models() if m.__module__.startswith("saha.")]
    assert saha_models, "no Saha models found: the walk would prove nothing"
    assert unscoped(saha_models) == []


def test_the_walk_fails_on_an_unscoped_model() -> None:
    # given a model that points at an organization without the scoping base
    class Leaky(models.Model):
        organization = models.ForeignKey(Organization, on_delete=models.CASCADE)

        class Meta:
            app_label = "core"
            managed = False

    # then the walk names it
    assert unscoped([Leaky]) == ["core.Leaky does not subclass OrganizationOwned"]
    apps.all_models["core"].pop("leaky", None)
    apps.clear_cache()


def test_the_walk_fails_on_a_manager_without_for_org() -> None:
    class Bare(OrganizationOwned):
        objects = models.Manager()

        class Meta:
            app_label = "core"
            managed = False

    assert unscoped([Bare]) == ["core.Bare's default manager has no for_org()"]
    apps.all_models["core"].pop("bare", None)
    apps.clear_cache()


def test_get_for_org_or_404_does_not_cross_organizations(owner, outsider) -> None:
    mine = owner.membership
    assert get_for_org_or_404(Membership, owner.organization, pk=mine.pk) == mine
    with pytest.raises(Http404):
        get_for_org_or_404(Membership, outsider.organization, pk=mine.pk)
    with pytest.raises(Http404):
        get_for_org_or_404(Membership, owner.organization, pk="not-a-number")
