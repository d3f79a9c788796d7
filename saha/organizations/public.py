"""The organization's public page and the search over its public content.

The page gathers what the organization says and calls people to: its public
campaigns, its latest statements, its upcoming public events and its open
petitions, then its about text and contact. A section with nothing in it is
not shown. Each list is one query (statements two: their versions come in one
more; petitions two: all their counters are added up in one more), so the
page costs the same number of queries whatever it lists.

Both pages render as if nobody were signed in (`render_public`) and need no
JavaScript: the search box is a plain GET form.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, F, IntegerField, Prefetch, Q, Sum, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.views.decorators.http import require_safe

from saha.campaigns.models import Campaign, CampaignStatus
from saha.core.public_pages import absolute, render_public
from saha.events.models import Event, EventStatus, Visibility
from saha.organizations import search
from saha.organizations.models import Organization
from saha.organizations.search import Localized, localized
from saha.petitions import services as petition_services
from saha.petitions.models import Petition, PetitionStatus, SignatureCount
from saha.statements.models import Statement, StatementStatus, StatementVersion

CAMPAIGNS_SHOWN = 10
STATEMENTS_SHOWN = 5
EVENTS_SHOWN = 5
PETITIONS_SHOWN = 5
OG_DESCRIPTION_CHARS = 200


# --- The public page ----------------------------------------------------------------


def _campaigns(organization: Organization) -> list[dict[str, Any]]:
    """Public campaigns: the running ones first, then those ended; the newest first."""
    campaigns = (
        Campaign.objects.filter(
            organization=organization,
            status__in=[CampaignStatus.PUBLISHED, CampaignStatus.ENDED],
        )
        .only("slug", "titles", "summaries", "status", "published_at", "created_at")
        .order_by(
            Case(
                When(status=CampaignStatus.PUBLISHED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            F("published_at").desc(nulls_last=True),
            "-created_at",
            "-pk",
        )[:CAMPAIGNS_SHOWN]
    )
    fallback = organization.default_language
    return [
        {
            "slug": campaign.slug,
            "title": localized(campaign.titles, fallback),
            "summary": localized(campaign.summaries, fallback),
            "ended": campaign.status == CampaignStatus.ENDED,
        }
        for campaign in campaigns
    ]


def _statements(organization: Organization) -> list[dict[str, Any]]:
    """The latest public statements, each in the reader's language or else its original."""
    statements = (
        Statement.objects.public()
        .filter(organization=organization)
        .only("slug", "dated", "status", "original_language")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=StatementVersion.objects.only(
                    "statement_id", "language", "title", "place"
                ),
            )
        )
        .order_by("-dated", "-pk")[:STATEMENTS_SHOWN]
    )
    page = translation.get_language() or ""
    items = []
    for statement in statements:
        version = statement.version_for(page)
        if version is None:  # a statement without a text has nothing to show
            continue
        language = "" if version.language == page else version.language
        items.append(
            {
                "slug": statement.slug,
                "dated": statement.dated,
                "title": Localized(version.title, language),
                "place": Localized(version.place, language),
                "withdrawn": statement.status == StatementStatus.WITHDRAWN,
            }
        )
    return items


def _events(organization: Organization) -> list[dict[str, Any]]:
    """Upcoming public events, soonest first (as the events' own list: not yet over)."""
    events = (
        Event.objects.filter(
            organization=organization,
            status=EventStatus.PUBLISHED,
            visibility=Visibility.PUBLIC,
            ends_at__gte=timezone.now(),
        )
        .only("slug", "titles", "starts_at", "time_zone", "venue_name")
        .order_by("starts_at", "pk")[:EVENTS_SHOWN]
    )
    return [
        {
            "slug": event.slug,
            "title": localized(event.titles, organization.default_language),
            # What events/public/_when.html reads.
            "starts_at": event.starts_at,
            "time_zone": event.time_zone,
            "venue_name": event.venue_name,
        }
        for event in events
    ]


def _petitions(organization: Organization) -> list[dict[str, Any]]:
    """Petitions open for signatures, newest first, with their public counts."""
    petitions = list(
        Petition.objects.filter(organization=organization, status=PetitionStatus.OPEN)
        .filter(Q(deadline__isnull=True) | Q(deadline__gt=timezone.now()))
        .only("slug", "titles", "goal", "count_unverified", "created_at")
        .order_by("-created_at", "-pk")[:PETITIONS_SHOWN]
    )
    if not petitions:
        return []
    # Every counter on the page added up in one query, as the petitions' own list does.
    totals = {
        row["petition"]: petition_services.Count(row["verified"] or 0, row["unverified"] or 0)
        for row in SignatureCount.objects.filter(petition__in=petitions)
        .values("petition")
        .annotate(verified=Sum("verified"), unverified=Sum("unverified"))
    }
    items = []
    for petition in petitions:
        count = totals.get(petition.pk, petition_services.Count(0, 0)).public(petition)
        items.append(
            {
                "slug": petition.slug,
                "title": localized(petition.titles, organization.default_language),
                "count": count,
                "goal": petition.goal,
                "reached": bool(petition.goal) and count >= (petition.goal or 0),
            }
        )
    return items


def _open_graph(organization: Organization, about: Localized) -> dict[str, str]:
    image = ""
    if organization.logo:
        url = organization.logo.url
        image = url if url.startswith(("http://", "https://")) else absolute(url)
    return {
        "page_url": absolute(reverse("organizations:public", args=[organization.slug])),
        "og_description": Truncator(" ".join(about.text.split())).chars(OG_DESCRIPTION_CHARS),
        "og_image": image,
    }


@require_safe
def public_page(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    language = translation.get_language() or organization.default_language
    about = localized(organization.about, organization.default_language)
    statements = _statements(organization)
    context = {
        "organization": organization,
        "name": localized(organization.names, organization.default_language),
        "about": about,
        "campaigns": _campaigns(organization),
        "statements": statements,
        "events": _events(organization),
        "petitions": _petitions(organization),
        "feed_url": absolute(reverse("statements:feed", args=[organization.slug, language])),
        "query": search.Query(text="", terms=(), shortened=False),
        **_open_graph(organization, about),
    }
    return render_public(request, "organizations/public.html", context)


# --- Search -------------------------------------------------------------------------


@require_safe
def search_page(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    typed = request.GET.get("q", "")
    query = search.parse_query(typed)
    groups = search.search(organization, query)
    context = {
        "organization": organization,
        "query": query,
        "asked": bool(typed.strip()),
        "groups": groups,
        "found": sum(len(group.hits) + group.more for group in groups),
        "max_query": search.MAX_QUERY,
    }
    return render_public(request, "organizations/search.html", context)
