"""The Atom feeds over HTTP: an organization's statements and a campaign's, in one
language or in all, with an ETag and Last-Modified so an unchanged feed costs a 304.

What a feed would say is known before it is written: one aggregate query (how many
public statements, which, and when they and their versions last changed) plus what
was already read to find the organization or the campaign. The ETag is a hash of
that, so a reader polling an unchanged feed gets its 304 without the feed being
built, and the built bytes are cached under the same hash for everyone else. The
hash also holds the day: a change nothing dates (another organization renaming
itself, for one) reaches the readers of a co-signed statement within a day.

A feed reader sends no Accept-Language: the language is in the address, and the
feed of every language is titled in the organization's default language.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from saha.campaigns.models import Campaign, CampaignItem
from saha.core.public_pages import absolute
from saha.organizations.models import Organization
from saha.statements.feeds import FeedHead, StatementFeed, build, feed_statements, tag_uri
from saha.statements.models import Statement, StatementQuerySet
from saha.statements.rendering import known_languages, own_name

FEED_MAX_AGE = 15 * 60
CACHE_SECONDS = 10 * 60
# Raise it when what a feed looks like changes: every reader's ETag changes with it.
FEED_FORMAT = 2


def _language(language: str | None) -> str | None:
    if language is not None and language not in known_languages():
        raise Http404
    return language


@dataclass(frozen=True)
class Mark:
    """What identifies a feed's content, computed without building it."""

    key: str
    etag: str
    modified: dt.datetime


def _mark(
    request: HttpRequest, organization: Organization, statements: StatementQuerySet, *extra: Any
) -> Mark:
    stats = statements.public().aggregate(
        count=Count("pk", distinct=True),
        ids=Sum("pk", distinct=True),
        changed=Max("modified_at"),
        versions_changed=Max("versions__modified_at"),
        version_count=Count("versions", distinct=True),
    )
    parts = [
        FEED_FORMAT,
        settings.SAHA_BASE_URL,
        request.path,
        organization.pk,
        organization.created,
        organization.names,
        organization.default_language,
        organization.time_zone,
        stats,
        extra,
        timezone.now().date(),
    ]
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    dates = [organization.created, stats["changed"], stats["versions_changed"]]
    dates += [value for value in extra if isinstance(value, dt.datetime)]
    return Mark(
        key=f"statements:feed:{digest}",
        etag=f'"{digest[:32]}"',
        modified=max(value for value in dates if value is not None),
    )


def _respond(request: HttpRequest, mark: Mark, make: Callable[[], bytes]) -> HttpResponse:
    """A 304 from the mark alone; else the cached bytes, built only when none are."""
    headers = HttpResponse(content_type=StatementFeed.content_type)
    headers.headers["Cache-Control"] = f"public, max-age={FEED_MAX_AGE}"
    headers.headers["ETag"] = mark.etag
    modified = int(mark.modified.timestamp())
    headers.headers["Last-Modified"] = http_date(modified)
    conditional = get_conditional_response(
        request, etag=mark.etag, last_modified=modified, response=headers
    )
    if conditional is not headers and conditional is not None:
        return conditional
    body = cache.get(mark.key)
    if body is None:
        body = make()
        cache.set(mark.key, body, CACHE_SECONDS)
    headers.content = body
    return headers


def _title(base: str, language: str | None) -> str:
    if language is None:
        return base
    return _("%(title)s (%(language)s)") % {"title": base, "language": own_name(language)}


@require_safe
def organization_feed(request: HttpRequest, slug: str, language: str | None = None) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    _language(language)
    statements = Statement.objects.filter(organization=organization)

    def make() -> bytes:
        with translation.override(language or organization.default_language):
            head = FeedHead(
                title=_title(_("Statements of %(name)s") % {"name": organization.name}, language),
                link=absolute(reverse("statements:list", args=[slug])),
                self_url=absolute(request.path),
                guid=tag_uri(
                    organization.created, f"statements/{organization.pk}/{language or 'all'}"
                ),
                language=language or organization.default_language,
                organization=organization,
            )
            return build(head, feed_statements(statements), language).body

    return _respond(request, _mark(request, organization, statements), make)


@require_safe
def campaign_feed(
    request: HttpRequest, slug: str, campaign: str, language: str | None = None
) -> HttpResponse:
    """The statements a public campaign gathers (its items), nothing of a draft campaign."""
    found = get_object_or_404(
        Campaign.objects.select_related("organization"), organization__slug=slug, slug=campaign
    )
    if not found.is_public:
        raise Http404
    _language(language)
    organization = found.organization
    items = CampaignItem.objects.filter(campaign=found, statement__isnull=False)
    statements = Statement.objects.filter(
        organization=organization, pk__in=items.values("statement_id")
    )

    def make() -> bytes:
        with translation.override(language or organization.default_language):
            head = FeedHead(
                title=_title(_("%(campaign)s: statements") % {"campaign": found.title}, language),
                link=_campaign_page(found),
                self_url=absolute(request.path),
                guid=tag_uri(
                    found.created_at, f"campaigns/{found.pk}/statements/{language or 'all'}"
                ),
                language=language or organization.default_language,
                organization=organization,
            )
            return build(head, feed_statements(statements), language).body

    mark = _mark(request, organization, statements, found.pk, found.titles, found.modified_at)
    return _respond(request, mark, make)


def _campaign_page(campaign: Campaign) -> str:
    """The campaign's hub; the organization's statements until the hub exists."""
    slug = campaign.organization.slug
    try:
        return absolute(reverse("campaigns:campaign", args=[slug, campaign.slug]))
    except NoReverseMatch:
        return absolute(reverse("statements:list", args=[slug]))


_CAMPAIGN = "o/<slug:slug>/campaigns/<slug:campaign>/"

urlpatterns = [
    path("o/<slug:slug>/statements/feed.atom", organization_feed, name="feed_all"),
    path("o/<slug:slug>/statements/feed/<slug:language>.atom", organization_feed, name="feed"),
    path(f"{_CAMPAIGN}feed.atom", campaign_feed, name="campaign_feed_all"),
    path(f"{_CAMPAIGN}feed/<slug:language>.atom", campaign_feed, name="campaign_feed"),
]
