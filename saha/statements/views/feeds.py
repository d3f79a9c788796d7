"""The Atom feeds over HTTP: an organization's statements and a campaign's, in one
language or in all, with an ETag and Last-Modified so an unchanged feed costs a 304.

A feed reader sends no Accept-Language: the language is in the address, and the
feed of every language is titled in the organization's default language.
"""

from __future__ import annotations

import hashlib

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, path, reverse
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from saha.campaigns.models import Campaign, CampaignItem
from saha.core.public_pages import absolute
from saha.organizations.models import Organization
from saha.statements.feeds import Built, FeedHead, StatementFeed, build, feed_statements, tag_uri
from saha.statements.models import Statement
from saha.statements.rendering import known_languages, own_name

FEED_MAX_AGE = 15 * 60


def _language(language: str | None) -> str | None:
    if language is not None and language not in known_languages():
        raise Http404
    return language


def _respond(request: HttpRequest, built: Built) -> HttpResponse:
    response = HttpResponse(built.body, content_type=StatementFeed.content_type)
    response.headers["Cache-Control"] = f"public, max-age={FEED_MAX_AGE}"
    etag = f'"{hashlib.sha256(built.body).hexdigest()[:32]}"'
    modified = int(built.updated.timestamp())
    response.headers["ETag"] = etag
    response.headers["Last-Modified"] = http_date(modified)
    conditional = get_conditional_response(
        request, etag=etag, last_modified=modified, response=response
    )
    return conditional or response


def _title(base: str, language: str | None) -> str:
    if language is None:
        return base
    return _("%(title)s (%(language)s)") % {"title": base, "language": own_name(language)}


@require_safe
def organization_feed(request: HttpRequest, slug: str, language: str | None = None) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    _language(language)
    with translation.override(language or organization.default_language):
        head = FeedHead(
            title=_title(_("Statements of %(name)s") % {"name": organization.name}, language),
            link=absolute(reverse("statements:list", args=[slug])),
            self_url=absolute(request.path),
            guid=tag_uri(organization.created, f"statements/{organization.pk}/{language or 'all'}"),
            language=language or organization.default_language,
            organization=organization,
        )
        statements = feed_statements(Statement.objects.filter(organization=organization))
        built = build(head, statements, language)
    return _respond(request, built)


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
    with translation.override(language or organization.default_language):
        head = FeedHead(
            title=_title(_("%(campaign)s: statements") % {"campaign": found.title}, language),
            link=_campaign_page(found),
            self_url=absolute(request.path),
            guid=tag_uri(found.created_at, f"campaigns/{found.pk}/statements/{language or 'all'}"),
            language=language or organization.default_language,
            organization=organization,
        )
        statements = Statement.objects.filter(
            organization=organization, pk__in=items.values("statement_id")
        )
        built = build(head, feed_statements(statements), language)
    return _respond(request, built)


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
