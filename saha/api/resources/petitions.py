"""Petitions and signatures as Action Network's v2 API shows them, and the record
signature helper's input (the attendance helper's, whose person hash `person_input`
reads, plus the signer's comments).

The render functions take rows only (no request): webhooks build their payloads
with `render_signature`. A collection loads what they read in its queryset
(`petitions` adds the counter's sums, `signatures` the petition and signer).

`total_signatures` counts every signature, confirmed by its email link or not
(the collection of signatures lists them all); `saha:confirmed_signatures` only
those confirmed. A petition's `status` is Saha's own: draft, open, closed.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from rest_framework import serializers

from saha.api import filters, hal
from saha.api.resources.events import (
    DATE_FILTERS,
    AttendanceHelperInput,
    action_links,
    with_person,
)
from saha.core.public_pages import absolute
from saha.petitions import services
from saha.petitions.models import Petition, PetitionStatus, Signature

PETITION_FILTERS = DATE_FILTERS
SIGNATURE_FILTERS = {
    "created_date": filters.Field("created_at", **filters.DATE),  # type: ignore[arg-type]
    # A signature changes once, when it is confirmed: until then it is as created.
    "modified_date": filters.Field("created_at", **filters.DATE),  # type: ignore[arg-type]
}


def petitions(queryset: QuerySet[Petition]) -> QuerySet[Petition]:
    """What `render_petition` reads, counter included, in the same query."""
    return (
        queryset.select_related("organization")
        .annotate(
            api_verified=Coalesce(Sum("count_shards__verified"), 0),
            api_unverified=Coalesce(Sum("count_shards__unverified"), 0),
        )
        .order_by("-created_at", "-pk")
    )


def signatures(queryset: QuerySet[Signature]) -> QuerySet[Signature]:
    """What `render_signature` reads, in the same query."""
    return queryset.select_related("petition", "person").order_by("-created_at", "-pk")


# --- Rendering ----------------------------------------------------------------------


def petition_path(petition: Petition) -> str:
    return f"petitions/{petition.uuid}"


def browser_url(petition: Petition) -> str | None:
    """The petition's own page, once it has one (a draft has none)."""
    if petition.status == PetitionStatus.DRAFT:
        return None
    return absolute(reverse("petitions:petition", args=[petition.organization.slug, petition.slug]))


def _count(petition: Petition) -> services.Count:
    verified = getattr(petition, "api_verified", None)
    unverified = getattr(petition, "api_unverified", None)
    if verified is None or unverified is None:  # a row not loaded by `petitions()`
        return services.count(petition)
    return services.Count(verified=verified, unverified=unverified)


def render_petition(petition: Petition) -> dict[str, Any]:
    path = petition_path(petition)
    count = _count(petition)
    return {
        "identifiers": hal.identifiers(petition),
        "created_date": hal.timestamp(petition.created_at),
        "modified_date": hal.timestamp(petition.modified_at),
        "name": petition.slug,
        "title": petition.title,
        "description": petition.text,
        "petition_text": petition.text,
        "target": [{"name": name} for name in petition.target_list],
        "total_signatures": count.verified + count.unverified,
        "saha:confirmed_signatures": count.verified,
        "saha:public_count": count.public(petition),
        "goal": petition.goal,
        "saha:deadline": hal.timestamp(petition.deadline),
        "status": petition.status,
        "saha:titles": dict(petition.titles),
        "saha:texts": dict(petition.texts),
        "saha:count_unverified": petition.count_unverified,
        "saha:show_signers": petition.show_signers,
        "browser_url": browser_url(petition),
        "_links": action_links(path, "signatures", "record_signature_helper"),
    }


def signature_path(signature: Signature) -> str:
    return f"{petition_path(signature.petition)}/signatures/{signature.uuid}"


def render_signature(signature: Signature) -> dict[str, Any]:
    petition = signature.petition
    modified = max(filter(None, (signature.created_at, signature.verified_at)))
    links: dict[str, Any] = {
        "self": hal.link(hal.url(signature_path(signature))),
        "osdi:petition": hal.link(hal.url(petition_path(petition))),
    }
    body: dict[str, Any] = {
        "identifiers": hal.identifiers(signature),
        "created_date": hal.timestamp(signature.created_at),
        "modified_date": hal.timestamp(modified),
        "comments": signature.comment,
        "saha:confirmed": signature.verified_at is not None,
        "action_network:petition_id": str(petition.uuid),
    }
    return with_person(body, links, signature.person)


# --- Input ----------------------------------------------------------------------------


class SignatureHelperInput(AttendanceHelperInput):
    """The record signature helper: the person, tags, and the signer's comments."""

    comments = serializers.CharField(max_length=2000, required=False, allow_blank=True)
