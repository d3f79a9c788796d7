"""Segments: audiences defined by criteria, and the registry through which apps add criteria.

A segment's definition is a JSON object `{criterion key: value}`. Each
criterion turns its value into a `Q` over `Person`; the criteria are ANDed.
Later apps register their own ("signed petition X", "attended event Y"):

    @register
    class SignedPetition(Criterion):
        key = "signed_petition"
        label = _("Signed the petition")
        def form_field(self, organization): ...
        def to_q(self, organization, value): ...

The count and the preview come from one SQL query: the preview rows carry
the total as a window aggregate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import is_row_id
from saha.supporters.models import (
    Channel,
    ConsentState,
    ConsentStatus,
    Person,
    Segment,
    Tag,
    Tagging,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from saha.organizations.models import Organization

PREVIEW_SIZE = 10
REGIONS_CACHE_SECONDS = 600


class Criterion:
    key: ClassVar[str]
    label: ClassVar[StrOrPromise]

    def form_field(self, organization: Organization) -> forms.Field:
        raise NotImplementedError

    def to_q(self, organization: Organization, value: Any) -> Q:
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        """The cleaned form value as stored in the definition."""
        return value

    def is_empty(self, value: Any) -> bool:
        return value in (None, "", [], ())


_REGISTRY: dict[str, Criterion] = {}


def register(cls: type[Criterion]) -> type[Criterion]:
    _REGISTRY[cls.key] = cls()
    return cls


def criteria() -> list[Criterion]:
    return list(_REGISTRY.values())


def criterion(key: str) -> Criterion | None:
    return _REGISTRY.get(key)


class TagChoiceField(forms.ModelMultipleChoiceField):
    """Refuses ids that are not 64-bit integers before they reach the database."""

    def _check_values(self, value: Any) -> Any:
        for item in value:
            if not is_row_id(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": item},
                )
        return super()._check_values(value)


class _TagCriterion(Criterion):
    def form_field(self, organization: Organization) -> forms.Field:
        return TagChoiceField(
            queryset=Tag.objects.for_org(organization),
            required=False,
            label=self.label,
            widget=forms.CheckboxSelectMultiple,
        )

    def to_json(self, value: Any) -> list[int]:
        return sorted(tag.pk for tag in value)

    def _has(self, tag_id: int) -> Exists:
        return Exists(Tagging.objects.filter(person=OuterRef("pk"), tag_id=tag_id))


@register
class TagsAny(_TagCriterion):
    key = "tags_any"
    label = _("Has any of these tags")

    def to_q(self, organization: Organization, value: list[int]) -> Q:
        return Q(Exists(Tagging.objects.filter(person=OuterRef("pk"), tag_id__in=value)))


@register
class TagsAll(_TagCriterion):
    key = "tags_all"
    label = _("Has all of these tags")

    def to_q(self, organization: Organization, value: list[int]) -> Q:
        q = Q()
        for tag_id in value:
            q &= Q(self._has(tag_id))
        return q


@register
class TagsNone(_TagCriterion):
    key = "tags_none"
    label = _("Has none of these tags")

    def to_q(self, organization: Organization, value: list[int]) -> Q:
        return ~Q(Exists(Tagging.objects.filter(person=OuterRef("pk"), tag_id__in=value)))


class _ConsentCriterion(Criterion):
    channel: ClassVar[str]

    def form_field(self, organization: Organization) -> forms.Field:
        return forms.ChoiceField(
            label=self.label,
            required=False,
            choices=[
                ("", _("Any")),
                ("granted", _("Agreed")),
                ("not_granted", _("Did not agree, or withdrew")),
            ],
        )

    def to_q(self, organization: Organization, value: str) -> Q:
        granted = Q(
            Exists(
                ConsentState.objects.filter(
                    person=OuterRef("pk"), channel=self.channel, status=ConsentStatus.GRANTED
                )
            )
        )
        return granted if value == "granted" else ~granted


@register
class EmailConsent(_ConsentCriterion):
    key = "consent_email"
    label = _("Email consent")
    channel = Channel.EMAIL


@register
class SmsConsent(_ConsentCriterion):
    key = "consent_sms"
    label = _("SMS consent")
    channel = Channel.SMS


@register
class Language(Criterion):
    key = "language"
    label = _("Preferred language")

    def form_field(self, organization: Organization) -> forms.Field:
        return forms.MultipleChoiceField(
            label=self.label,
            required=False,
            choices=[(code, name) for code, name in settings.LANGUAGES],
            widget=forms.CheckboxSelectMultiple,
        )

    def to_q(self, organization: Organization, value: list[str]) -> Q:
        return Q(language__in=value)


@register
class Region(Criterion):
    key = "region"
    label = _("Region or governorate")

    def form_field(self, organization: Organization) -> forms.Field:
        # The distinct regions of a million people take a scan: remembered for
        # a while, as a list of places does not change by the minute.
        regions = cache.get_or_set(
            f"saha:supporters:regions:{organization.pk}",
            lambda: list(
                Person.objects.for_org(organization)
                .exclude(region="")
                .order_by("region")
                .values_list("region", flat=True)
                .distinct()[:200]
            ),
            REGIONS_CACHE_SECONDS,
        )
        return forms.MultipleChoiceField(
            label=self.label,
            required=False,
            choices=[(r, r) for r in regions],
            widget=forms.CheckboxSelectMultiple,
        )

    def to_q(self, organization: Organization, value: list[str]) -> Q:
        return Q(region__in=value)


class _DateCriterion(Criterion):
    lookup: ClassVar[str]

    def form_field(self, organization: Organization) -> forms.Field:
        return forms.DateField(
            label=self.label, required=False, widget=forms.DateInput(attrs={"type": "date"})
        )

    def to_json(self, value: dt.date | None) -> str | None:
        return value.isoformat() if value else None

    def to_q(self, organization: Organization, value: str) -> Q:
        return Q(**{self.lookup: dt.date.fromisoformat(value)})


@register
class AddedFrom(_DateCriterion):
    key = "created_from"
    label = _("Added on or after")
    lookup = "created_at__date__gte"


@register
class AddedUntil(_DateCriterion):
    key = "created_until"
    label = _("Added on or before")
    lookup = "created_at__date__lte"


@dataclass
class Evaluation:
    count: int
    preview: list[Person]


def condition(organization: Organization, definition: dict[str, Any]) -> Q | None:
    """The Q over Person a definition stands for; None when it can match nobody."""
    q = Q()
    for key, value in definition.items():
        item = criterion(key)
        if item is None:
            # A criterion whose app was removed: match nobody rather than widen
            # the audience of a broadcast to everyone.
            return None
        if item.is_empty(value):
            continue
        q &= item.to_q(organization, value)
    return q


def matching(organization: Organization, definition: dict[str, Any]) -> Any:
    """The people a definition selects, newest first."""
    q = condition(organization, definition)
    if q is None:
        return Person.objects.none()
    return Person.objects.for_org(organization).filter(q).order_by("-id")


def counts(organization: Organization, segments: list[Segment]) -> dict[int, int]:
    """How many people each segment selects now, by segment id, in one query
    (a page of the API's queries shows 25 counts without 25 scans)."""
    aggregates: dict[str, Count] = {}
    result: dict[int, int] = {}
    for segment in segments:
        q = condition(organization, segment.definition)
        if q is None:
            result[segment.pk] = 0
        else:
            aggregates[f"segment_{segment.pk}"] = Count("id", filter=q) if q else Count("id")
    if aggregates:
        totals = Person.objects.for_org(organization).order_by().aggregate(**aggregates)
        for segment in segments:
            result.setdefault(segment.pk, totals.get(f"segment_{segment.pk}") or 0)
    return result


def evaluate(organization: Organization, definition: dict[str, Any]) -> Evaluation:
    """The count and the first people, in one query.

    The total rides along as an uncorrelated subquery, which the database
    computes once as a plain count (a window count over a million rows would
    push each of them through the window: several times slower).
    """
    people = matching(organization, definition)
    total = people.order_by().values("organization").annotate(n=Count("id")).values("n")
    rows = list(people.annotate(total=Subquery(total))[:PREVIEW_SIZE])
    return Evaluation(count=rows[0].total if rows else 0, preview=rows)
