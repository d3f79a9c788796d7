"""The organizer's campaign pages: the list (its own, those it partners in, invitations),
creating and editing, publishing, ending and deleting a draft (each asked first), the
campaign with its items in order, goals and progress, its partners, and the sign-ups.

Changing a campaign needs content.manage and hosting it. A partner's member
sees the campaign read-only (its public items and the progress numbers) and
its own sign-ups only, never the host's people; a member of any other
organization gets 404. Answering an invitation, or leaving, needs
organization.manage in the partner organization.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from saha.campaigns import hub, queries, services
from saha.campaigns.manage_forms import CampaignForm, ItemForm, LabelsForm, PartnerForm
from saha.campaigns.models import Campaign, Partner
from saha.campaigns.progress import measure
from saha.campaigns.queries import pick
from saha.core.errors import DomainError
from saha.core.slugs import create_with_free_slug
from saha.core.tenancy import is_row_id
from saha.events.models import Visibility
from saha.organizations.access import organization_view
from saha.organizations.models import Organization
from saha.organizations.roles import Permission

PREFIX = "manage/<slug:slug>/campaigns/"
CONTENT = Permission.MANAGE_CONTENT
ANSWER = Permission.MANAGE_ORGANIZATION
CAMPAIGNS_PAGE = 50


def _organization(request: HttpRequest) -> Organization:
    return request.organization  # type: ignore[attr-defined]


def hosted_campaign(request: HttpRequest, pk: Any) -> Campaign:
    """A campaign this organization hosts: a partner gets 404 on every page that changes it."""
    campaign = queries.campaign_for(_organization(request), pk)
    if not queries.hosts(campaign, _organization(request)):
        raise Http404
    return campaign


def to_campaign(campaign: Campaign, anchor: str = "") -> HttpResponse:
    url = reverse("campaigns:manage_campaign", args=[campaign.organization.slug, campaign.pk])
    return redirect(f"{url}#{anchor}" if anchor else url)


# --- The list -----------------------------------------------------------------------


@organization_view(CONTENT)
@require_GET
def campaign_list(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    fallback = organization.default_language
    own = Campaign.objects.for_org(organization).order_by("-created_at", "-pk")
    # Campaigns are few (dozens a year): numbered pages are cheap here.
    page_obj = Paginator(own, CAMPAIGNS_PAGE).get_page(request.GET.get("page"))
    partnered = list(
        queries.campaigns_for(organization)
        .exclude(organization=organization)
        .order_by("-created_at", "-pk")[:CAMPAIGNS_PAGE]
    )
    context = {
        "rows": [(c, pick(c.titles, fallback)) for c in page_obj.object_list],
        "page_obj": page_obj,
        "partnered": [(c, pick(c.titles, c.organization.default_language)) for c in partnered],
        "invitations": [
            (link, pick(link.campaign.titles, link.campaign.organization.default_language))
            for link in queries.invitations_for(organization)
        ],
    }
    return render(request, "campaigns/manage/list.html", context)


# --- Creating and editing -------------------------------------------------------------


def _form_page(
    request: HttpRequest, form: CampaignForm, campaign: Campaign | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "campaign": campaign}
    return render(request, "campaigns/manage/form.html", context, status=status)


@organization_view(CONTENT)
def campaign_new(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    form = CampaignForm(request.POST if request.method == "POST" else None)
    if request.method != "POST":
        return _form_page(request, form, None)
    if not form.is_valid():
        return _form_page(request, form, None, status=400)
    fields = form.fields_for_service()
    campaign = create_with_free_slug(
        Campaign.objects.for_org(organization),
        fields["titles"],
        f"campaign-{timezone.now():%Y-%m-%d}",
        lambda slug: services.create_campaign(
            actor=request.user, organization=organization, slug=slug, **fields
        ),
    )
    messages.success(
        request, _("Campaign saved as a draft. Add what it calls people to, then publish it.")
    )
    return to_campaign(campaign)


@organization_view(CONTENT)
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = hosted_campaign(request, pk)
    form = CampaignForm(
        request.POST if request.method == "POST" else None,
        initial=CampaignForm.initial_for(campaign),
    )
    if request.method != "POST":
        return _form_page(request, form, campaign)
    if not form.is_valid():
        return _form_page(request, form, campaign, status=400)
    services.update_campaign(actor=request.user, campaign=campaign, **form.fields_for_service())
    messages.success(request, _("Campaign saved."))
    return to_campaign(campaign)


# --- Publishing, ending, deleting: asked first ------------------------------------------

CHANGES = {
    "publish": (services.publish, _("Published: the campaign's page is public.")),
    "end": (services.end, _("Ended: the page stays public, marked ended, without its form.")),
    "delete": (services.delete_draft, _("Draft deleted.")),
}


def _change(request: HttpRequest, pk: int, what: str) -> HttpResponse:
    """A page asking first (no script to ask "are you sure?"); the POST with confirm=1 acts."""
    campaign = hosted_campaign(request, pk)
    if request.method == "POST" and request.POST.get("confirm") == "1":
        act, done = CHANGES[what]
        if not act(actor=request.user, campaign=campaign):
            messages.info(request, _("Nothing changed: the campaign was not in a state for this."))
        else:
            messages.success(request, str(done))
            if what == "delete":
                return redirect("campaigns:manage_list", campaign.organization.slug)
        return to_campaign(campaign)
    context = {
        "campaign": campaign,
        "title": pick(campaign.titles, campaign.organization.default_language),
        "what": what,
    }
    return render(request, "campaigns/manage/confirm.html", context)


@organization_view(CONTENT)
def campaign_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, "publish")


@organization_view(CONTENT)
def campaign_end(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, "end")


@organization_view(CONTENT)
def campaign_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _change(request, pk, "delete")


# --- The campaign -----------------------------------------------------------------


@organization_view(CONTENT)
@require_GET
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = queries.campaign_for(_organization(request), pk)
    return _detail(request, campaign)


def _detail(
    request: HttpRequest,
    campaign: Campaign,
    *,
    item_form: ItemForm | None = None,
    partner_form: PartnerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = _organization(request)
    hosting = queries.hosts(campaign, organization)
    items = queries.items_of(campaign)
    progress = measure(campaign, items)
    fallback = campaign.organization.default_language
    context: dict[str, Any] = {
        "campaign": campaign,
        "title": pick(campaign.titles, fallback),
        "summary": pick(campaign.summaries, fallback),
        "hosting": hosting,
        "progress": progress,
        "bars": progress.bars(campaign),
        "own_signups": queries.signup_count(campaign, organization),
    }
    if hosting:
        context["rows"] = [_row(item, fallback) for item in items]
        context["partners"] = queries.partners_of(campaign)
        context["item_form"] = item_form or ItemForm(campaign=campaign)
        context["partner_form"] = partner_form or PartnerForm(campaign=campaign)
    else:
        # A partner sees what anyone may see of the items, nothing of the host's drafts.
        context["rows"] = [_row(item, fallback) for item in items if queries.is_public(item)]
        context["link"] = Partner.objects.filter(campaign=campaign, partner=organization).first()
    return render(request, "campaigns/manage/detail.html", context, status=status)


def _row(item: Any, fallback: str) -> dict[str, Any]:
    target = item.target
    if item.statement_id:
        version = target.version_for()
        title = version.title if version else target.slug
    else:
        title = pick(target.titles, fallback).text or target.slug
    return {
        "item": item,
        "title": title,
        "public": queries.is_public(item),
        "unlisted": queries.is_unlisted(item),
        "label": hub.label_for(item),
        "custom_label": bool(item.labels),
    }


# --- Items ------------------------------------------------------------------------


@organization_view(CONTENT)
@require_POST
def item_add(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = hosted_campaign(request, pk)
    form = ItemForm(request.POST, campaign=campaign)
    if not form.is_valid():
        return _detail(request, campaign, item_form=form, status=400)
    try:
        services.add_item(actor=request.user, campaign=campaign, target=form.target_object)
    except DomainError as error:
        form.add_error("target", error.message)
        return _detail(request, campaign, item_form=form, status=error.status)
    messages.success(request, _("Added to the campaign."))
    if getattr(form.target_object, "visibility", Visibility.PUBLIC) != Visibility.PUBLIC:
        messages.warning(
            request,
            _(
                "This event is unlisted: the campaign's page does not show it. Only people "
                "given its own link reach it. Make it public to show it on the campaign."
            ),
        )
    return to_campaign(campaign, "items")


@organization_view(CONTENT)
@require_POST
def item_remove(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    campaign = hosted_campaign(request, pk)
    found = queries.item_of(campaign, item)
    if services.remove_item(actor=request.user, item=found):
        messages.success(request, _("Taken out of the campaign. The page itself stays as it was."))
    return to_campaign(campaign, "items")


@organization_view(CONTENT)
@require_POST
def item_move(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    campaign = hosted_campaign(request, pk)
    found = queries.item_of(campaign, item)
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        messages.error(request, _("Move up or down."))
        return to_campaign(campaign, "items")
    services.move_item(actor=request.user, item=found, direction=direction)
    return to_campaign(campaign, "items")


@organization_view(CONTENT)
def item_labels(request: HttpRequest, pk: int, item: int) -> HttpResponse:
    campaign = hosted_campaign(request, pk)
    found = queries.item_of(campaign, item)
    form = LabelsForm(request.POST if request.method == "POST" else None, item=found)
    if request.method == "POST" and form.is_valid():
        services.set_labels(actor=request.user, item=found, labels=form.labels())
        messages.success(request, _("Button saved."))
        return to_campaign(campaign, "items")
    fallback = campaign.organization.default_language
    context = {
        "campaign": campaign,
        "title": pick(campaign.titles, fallback),
        "row": _row(found, fallback),
        "default_label": hub.DEFAULT_LABELS[found.kind],
        "form": form,
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "campaigns/manage/labels.html", context, status=status)


# --- Partners ---------------------------------------------------------------------


@organization_view(CONTENT)
@require_POST
def partner_invite(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = hosted_campaign(request, pk)
    form = PartnerForm(request.POST, campaign=campaign)
    if not form.is_valid():
        return _detail(request, campaign, partner_form=form, status=400)
    partner = form.cleaned_data["organization"]
    try:
        asked = services.invite_partner(actor=request.user, campaign=campaign, partner=partner)
    except DomainError as error:
        form.add_error("organization", error.message)
        return _detail(request, campaign, partner_form=form, status=error.status)
    if asked:
        messages.success(
            request,
            _("%(name)s is asked. It becomes a partner once one of its admins accepts.")
            % {"name": partner.name},
        )
    return to_campaign(campaign, "partners")


@organization_view(CONTENT)
@require_POST
def partner_remove(request: HttpRequest, pk: int, partner: int) -> HttpResponse:
    campaign = hosted_campaign(request, pk)
    if not is_row_id(partner):
        raise Http404
    link = campaign.partner_links.select_related("partner").filter(partner_id=partner).first()
    if link is not None:
        services.remove_partner(actor=request.user, campaign=campaign, partner=link.partner)
        messages.success(
            request, _("%(name)s is no longer a partner.") % {"name": link.partner.name}
        )
    return to_campaign(campaign, "partners")


@organization_view(ANSWER)
@require_POST
def partnership_accept(request: HttpRequest, pk: int) -> HttpResponse:
    organization = _organization(request)
    campaign = queries.invitation_for(organization, pk)
    if services.accept_partnership(actor=request.user, campaign=campaign, partner=organization):
        messages.success(request, _("You are now a partner in this campaign."))
    return redirect("campaigns:manage_campaign", organization.slug, campaign.pk)


@organization_view(ANSWER)
@require_POST
def partnership_leave(request: HttpRequest, pk: int) -> HttpResponse:
    """Decline an invitation, or leave: no box is offered for this organization from now."""
    organization = _organization(request)
    campaign = queries.invitation_for(organization, pk)
    if services.leave_partnership(actor=request.user, campaign=campaign, partner=organization):
        messages.success(request, _("You are not a partner in this campaign any more."))
    return redirect("campaigns:manage_list", organization.slug)


# --- Sign-ups -----------------------------------------------------------------------


@organization_view(Permission.VIEW_PEOPLE)
@require_GET
def signup_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The people who came to this organization through the campaign, and nobody else's."""
    organization = _organization(request)
    campaign = queries.campaign_for(organization, pk)
    after = request.GET.get("after")
    rows = queries.signups(
        campaign, organization, after=int(after) if after and is_row_id(after) else None
    )
    context = {
        "campaign": campaign,
        "title": pick(campaign.titles, campaign.organization.default_language),
        "hosting": queries.hosts(campaign, organization),
        "rows": rows,
        "total": queries.signup_count(campaign, organization),
        "next_after": rows[-1].pk if len(rows) == queries.PAGE else None,
    }
    return render(request, "campaigns/manage/signups.html", context)


urlpatterns = [
    path(PREFIX, campaign_list, name="manage_list"),
    path(f"{PREFIX}new/", campaign_new, name="manage_new"),
    path(f"{PREFIX}<int:pk>/", campaign_detail, name="manage_campaign"),
    path(f"{PREFIX}<int:pk>/edit/", campaign_edit, name="manage_edit"),
    path(f"{PREFIX}<int:pk>/publish/", campaign_publish, name="manage_publish"),
    path(f"{PREFIX}<int:pk>/end/", campaign_end, name="manage_end"),
    path(f"{PREFIX}<int:pk>/delete/", campaign_delete, name="manage_delete"),
    path(f"{PREFIX}<int:pk>/items/", item_add, name="manage_item_add"),
    path(f"{PREFIX}<int:pk>/items/<int:item>/remove/", item_remove, name="manage_item_remove"),
    path(f"{PREFIX}<int:pk>/items/<int:item>/move/", item_move, name="manage_item_move"),
    path(f"{PREFIX}<int:pk>/items/<int:item>/button/", item_labels, name="manage_item_labels"),
    path(f"{PREFIX}<int:pk>/partners/", partner_invite, name="manage_partner_invite"),
    path(
        f"{PREFIX}<int:pk>/partners/<int:partner>/remove/",
        partner_remove,
        name="manage_partner_remove",
    ),
    path(f"{PREFIX}<int:pk>/partnership/accept/", partnership_accept, name="partnership_accept"),
    path(f"{PREFIX}<int:pk>/partnership/leave/", partnership_leave, name="partnership_leave"),
    path(f"{PREFIX}<int:pk>/signups/", signup_list, name="manage_signups"),
]
