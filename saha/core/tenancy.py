"""Tenant scoping: every row an organization owns is reached through its organization.

A model that belongs to an organization subclasses `OrganizationOwned`. Its
default manager offers `for_org(organization)`, and views fetch single rows
with `get_for_org_or_404`, so a lookup by id alone cannot cross tenants.
`saha/core/tests/test_tenancy.py` walks every installed model and fails when
one points at an organization without being scoped this way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeVar

from django.db import models
from django.http import Http404

if TYPE_CHECKING:
    from saha.organizations.models import Organization

M = TypeVar("M", bound=models.Model)


class OrganizationQuerySet(models.QuerySet):
    def for_org(self, organization: Organization) -> Self:
        return self.filter(organization=organization)


class OrganizationManager(models.Manager.from_queryset(OrganizationQuerySet)):  # type: ignore[misc]
    pass


class OrganizationOwned(models.Model):
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )

    objects = OrganizationManager()

    class Meta:
        abstract = True


def get_for_org_or_404(
    queryset: type[M] | models.QuerySet[M], organization: Organization, **lookup: Any
) -> M:
    """The one way a view fetches a single organization-owned row."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    if "pk" in lookup and not is_row_id(lookup["pk"]):
        raise Http404
    try:
        return queryset.filter(organization=organization).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


# Primary keys are 64-bit: SQLite refuses a larger integer outright (a 500),
# and "²".isdigit() is true while int("²") fails.
MAX_ROW_ID = 2**63 - 1


def is_row_id(value: object) -> bool:
    """Whether `value` (from a URL, a form or a query string) can be a primary key."""
    text = str(value)
    return text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ROW_ID
