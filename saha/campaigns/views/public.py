"""Pages anyone may open: an organization's campaigns, one campaign's hub with its join
form, and the thank-you page.

They work without JavaScript and render as if nobody were signed in. A draft
campaign is a 404; an ended one stays, marked ended, without its form.
Whatever address is typed, joining ends on the same thank-you page: the form
never tells whether an address is known or had joined.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import translation
from django.utils.text import Truncator, get_text_list
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from saha.campaigns import abuse, hub, partners, queries, services
from saha.campaigns.forms import JoinForm
from saha.campaigns.models import Campaign, CampaignStatus
from saha.campaigns.progress import measure
from saha.campaigns.queries import pick
from saha.core.errors import DomainError
from saha.core.markdown import public_html
from saha.core.public_pages import absolute, render_public, see_other, share_links
from saha.organizations.models import Organization

SHOWN = (CampaignStatus.PUBLISHED, CampaignStatus.ENDED)
OG_DESCRIPTION_CHARS = 200


def _campaign(slug: str, campaign: str) -> Campaign:
    return get_object_or_404(
        Campaign.objects.select_related("organization"),
        organization__slug=slug,
        slug=campaign,
        status__in=SHOWN,
    )


def _page_url(campaign: Campaign) -> str:
    return absolute(reverse("campaigns:campaign", args=[campaign.organization.slug, campaign.slug]))


@require_GET
def campaign_list(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    campaigns = Campaign.objects.filter(organization=organization, status__in=SHOWN).order_by(
        "-status", "-published_at", "-pk"
    )
    fallback = organization.default_language
    rows = [
        {
            "campaign": campaign,
            "title": pick(campaign.titles, fallback),
            "summary": pick(campaign.summaries, fallback),
        }
        for campaign in campaigns
    ]
    context = {"organization": organization, "rows": rows}
    return render_public(request, "campaigns/public/list.html", context)


def _form(campaign: Campaign, data: Any = None) -> JoinForm:
    """The boxes are the partners now: a partner removed since the page was shown is not
    a field of the form, so its box, if sent, is dropped with the rest of unknown input."""
    boxes = partners.boxes_for(campaign=campaign)
    return JoinForm(data, campaign=campaign, boxes=boxes)


@require_http_methods(["GET", "HEAD", "POST"])
def campaign_page(request: HttpRequest, slug: str, campaign: str) -> HttpResponse:
    found = _campaign(slug, campaign)
    if request.method == "POST":
        return _join(request, found)
    return _hub(request, found, _form(found))


def _hub(
    request: HttpRequest, campaign: Campaign, form: JoinForm, *, status: int = 200
) -> HttpResponse:
    organization = campaign.organization
    fallback = organization.default_language
    items = queries.items_of(campaign)
    progress = measure(campaign, items)
    description = pick(campaign.descriptions, fallback)
    summary = pick(campaign.summaries, fallback)
    title = pick(campaign.titles, fallback)
    page_url = _page_url(campaign)
    partners_named = queries.public_partners(campaign)
    language = translation.get_language()
    feed = reverse("statements:campaign_feed", args=[organization.slug, campaign.slug, language])
    context = {
        "organization": organization,
        "campaign": campaign,
        "title": title,
        "summary": summary,
        "description": description,
        # Markdown without raw HTML or embedded images, sanitized (saha.core.markdown).
        "description_html": public_html(description.text),
        "partners": partners_named,
        "partner_names": get_text_list([org.name for org in partners_named], _("and")),
        "bars": progress.bars(campaign),
        "cards": hub.cards(campaign, items, progress),
        "form": form,
        "takes_signups": campaign.status == CampaignStatus.PUBLISHED,
        "honeypot": abuse.HONEYPOT,
        "page_url": page_url,
        "feed_url": absolute(feed),
        "og_description": _og_description(summary.text or hub.markdown_text(description.text)),
        "share_links": share_links(title.text, page_url),
    }
    return render_public(request, "campaigns/public/campaign.html", context, status=status)


def _og_description(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(OG_DESCRIPTION_CHARS)


def _join(request: HttpRequest, campaign: Campaign) -> HttpResponse:
    """Checks from the cheapest: the client's address, the honeypot, the form, the email
    address; then the sign-up, and the same thank-you page for everyone."""
    if campaign.status != CampaignStatus.PUBLISHED:
        return _hub(request, campaign, _form(campaign), status=409)
    throttled = abuse.check_address(request)
    if throttled:
        return _too_many(request, campaign, throttled)
    joined = reverse("campaigns:joined", args=[campaign.organization.slug, campaign.slug])
    if request.POST.get(abuse.HONEYPOT):
        return see_other(joined)  # a bot: the same answer, and nothing saved
    form = _form(campaign, request.POST)
    if not form.is_valid():
        return _hub(request, campaign, form, status=400)
    email = form.cleaned_data.get("email")
    throttled = abuse.check_email(email) if email else None
    if throttled:
        return _too_many(request, campaign, throttled)
    try:
        services.join(
            campaign=campaign,
            data=form.person_data(source_ref=_page_url(campaign)),
            ticked=form.ticked(),
        )
    except DomainError as error:
        field = {"invalid_phone": "phone", "invalid_email": "email"}.get(error.code)
        form.add_error(field, error.message)
        return _hub(request, campaign, form, status=error.status)
    return see_other(joined)


def _too_many(request: HttpRequest, campaign: Campaign, throttled: abuse.Throttled) -> HttpResponse:
    context = {
        "organization": campaign.organization,
        "campaign": campaign,
        "title": pick(campaign.titles, campaign.organization.default_language),
        "retry_minutes": max(1, (throttled.retry_after + 59) // 60),
    }
    response = render_public(request, "campaigns/public/too_many.html", context, status=429)
    response.headers["Retry-After"] = str(throttled.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


@require_GET
def joined_page(request: HttpRequest, slug: str, campaign: str) -> HttpResponse:
    found = _campaign(slug, campaign)
    title = pick(found.titles, found.organization.default_language)
    page_url = _page_url(found)
    context = {
        "organization": found.organization,
        "campaign": found,
        "title": title,
        "page_url": page_url,
        "share_links": share_links(title.text, page_url),
    }
    return render_public(request, "campaigns/public/joined.html", context, private=True)


_CAMPAIGN = "o/<slug:slug>/campaigns/<slug:campaign>/"

urlpatterns = [
    path("o/<slug:slug>/campaigns/", campaign_list, name="list"),
    path(_CAMPAIGN, campaign_page, name="campaign"),
    path(f"{_CAMPAIGN}joined/", joined_page, name="joined"),
]
