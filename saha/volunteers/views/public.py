"""Pages anyone may open: the offer form (standalone, or embedded in an event's or a
campaign's page through templates/volunteers/public/_offer_form.html), and a need
with its shifts and sign-up form. The pages reached by a signed link are in
`links.py`.

They work without JavaScript, render as if nobody were signed in and fit a
360 px phone. Whatever address is typed in a form, the next page is the same:
it never tells whether an address is known, and the signed link goes by
message to the person's own address, never to the page. A honeypot and rate
limits (per client address, per email address: `saha.volunteers.abuse`) keep
bots out.

On a campaign's pages (the offer form for a published event or campaign, a need
of either) each form shows one unticked box per partner of the campaign, and
the typed details reach a partner only when its box was ticked (issue 7).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from saha.campaigns.models import Campaign, CampaignStatus
from saha.core.errors import DomainError
from saha.core.public_pages import absolute, render_public, see_other, share_links
from saha.core.tenancy import is_row_id
from saha.events.models import Event, EventStatus
from saha.organizations.models import Organization
from saha.volunteers import abuse, offers, services, texts
from saha.volunteers.forms import HONEYPOT, OfferForm, SignUpForm
from saha.volunteers.models import (
    Need,
    NeedStatus,
    Shift,
)
from saha.volunteers.when import need_span

# Errors of a service that belong next to one field of the form.
FIELD_OF_ERROR = {"invalid_email": "email", "invalid_phone": "phone"}


def _too_many(request: HttpRequest, organization: Organization, throttled: Any) -> HttpResponse:
    context = {
        "organization": organization,
        "retry_minutes": max(1, (throttled.retry_after + 59) // 60),
    }
    response = render_public(request, "volunteers/public/too_many.html", context, status=429)
    response.headers["Retry-After"] = str(throttled.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


def _add_error(form: Any, error: DomainError) -> int:
    field = FIELD_OF_ERROR.get(error.code)
    form.add_error(field if field in form.fields else None, error.message)
    return error.status


# --- The offer form -----------------------------------------------------------------


def _embedded_in(organization: Organization, data: Any) -> Event | Campaign | None:
    """Where the form stands (`event` or `campaign`: the organization's own, published):
    recorded with the offer, and its campaigns' partners get a box. Anything else is
    ignored."""
    return offers.embedded_in(
        organization, event=data.get("event", ""), campaign=data.get("campaign", "")
    )


def _offer_form(
    organization: Organization, parent: Event | Campaign | None, data: Any = None, **kwargs: Any
) -> OfferForm:
    return OfferForm(
        data,
        organization=organization,
        capabilities=services.active_capabilities(organization),
        partner_boxes=offers.partner_boxes(organization, parent),
        **kwargs,
    )


def _offer_response(
    request: HttpRequest,
    organization: Organization,
    parent: Event | Campaign | None,
    form: OfferForm,
    status: int = 200,
) -> HttpResponse:
    context = {
        "organization": organization,
        "form": form,
        "honeypot": HONEYPOT,
        "parent": parent,
        "parent_kind": offers.reference(parent).partition(":")[0],
        "page_url": absolute(reverse("volunteers:offer", args=[organization.slug])),
    }
    return render_public(request, "volunteers/public/offer.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def offer_page(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    if request.method != "POST":
        parent = _embedded_in(organization, request.GET)
        chosen = request.GET.get("capability", "")
        initial = {f"cap_{chosen}": True} if is_row_id(chosen) else {}
        form = _offer_form(organization, parent, initial=initial)
        return _offer_response(request, organization, parent, form)
    throttled = abuse.check_address(request)
    if throttled:
        return _too_many(request, organization, throttled)
    thanks = reverse("volunteers:offered", args=[organization.slug])
    if request.POST.get(HONEYPOT):
        return see_other(thanks)  # a bot: the same answer, and nothing saved
    parent = _embedded_in(organization, request.POST)
    form = _offer_form(organization, parent, request.POST)
    if not form.is_valid():
        return _offer_response(request, organization, parent, form, status=400)
    throttled = abuse.check_email(form.cleaned_data.get("email") or "")
    if throttled:
        return _too_many(request, organization, throttled)
    try:
        services.submit_offer(
            organization=organization,
            data=form.person_data(source_ref=absolute(request.path)),
            offered=form.offered(),
            availability=form.availability(),
            anonymous=True,
            source_ref=offers.reference(parent) or "form",
            partners=form.ticked_partners(),
            **form.area(),
        )
    except DomainError as error:
        status = _add_error(form, error)
        return _offer_response(request, organization, parent, form, status=status)
    return see_other(thanks)


@require_GET
def offered_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The same page whoever typed whichever address."""
    organization = get_object_or_404(Organization, slug=slug)
    context = {"organization": organization}
    return render_public(request, "volunteers/public/offered.html", context, private=True)


# --- A need, its shifts and its sign-up form -----------------------------------------


def _need(slug: str, pk: int) -> Need:
    """An open need taking public sign-ups, of a published event or a public campaign."""
    need = get_object_or_404(
        Need.objects.select_related("organization", "event", "campaign", "capability"),
        organization__slug=slug,
        pk=pk,
        status=NeedStatus.OPEN,
        public_sign_up=True,
    )
    if need.event is not None:
        shown = need.event.status == EventStatus.PUBLISHED
    else:
        shown = need.campaign is not None and need.campaign.is_public
    if not shown:
        raise Http404
    return need


def _open_shifts(need: Need, shifts: list[Shift]) -> list[Shift]:
    now = timezone.now()
    return [shift for shift in shifts if shift.ends_at >= now]


def _takes_sign_ups(need: Need, shifts: list[Shift]) -> bool:
    """A need for people (not a resource), not over, with a shift not over if it has any."""
    if need.capability.is_resource or need.ends_at < timezone.now():
        return False
    if shifts and not _open_shifts(need, shifts):
        return False
    if need.event is not None:
        return need.event.status == EventStatus.PUBLISHED
    return need.campaign is not None and need.campaign.status == CampaignStatus.PUBLISHED


def _need_form(need: Need, shifts: list[Shift], data: Any = None) -> SignUpForm:
    """The boxes are the partners now: one removed since the page was shown is not a
    field of the form, so its box, if sent, is dropped with the rest of unknown input."""
    return SignUpForm(
        data,
        organization=need.organization,
        shifts=_open_shifts(need, shifts),
        partner_boxes=offers.partner_boxes(need.organization, need.event, need.campaign),
    )


def _need_response(
    request: HttpRequest, need: Need, shifts: list[Shift], form: SignUpForm, status: int = 200
) -> HttpResponse:
    page_url = absolute(reverse("volunteers:need", args=[need.organization.slug, need.pk]))
    rows = [
        {
            "shift": shift,
            "when": need_span(need, shift),
            "left": max(shift.capacity - shift.taken, 0),
            "over": shift.ends_at < timezone.now(),
        }
        for shift in shifts
    ]
    offer_url = reverse("volunteers:offer", args=[need.organization.slug])
    parent = f"event={need.event_id}" if need.event_id else f"campaign={need.campaign_id}"
    context = {
        "organization": need.organization,
        "need": need,
        "title": texts.need_title(need),
        "description": texts.need_description(need),
        "capability_name": texts.capability_name(need.capability),
        "when": need_span(need),
        "where": need.location or (need.event.venue_name if need.event else ""),
        "left": max(need.wanted - need.filled, 0),
        "shifts": rows,
        "form": form,
        "honeypot": HONEYPOT,
        "takes_sign_ups": _takes_sign_ups(need, shifts),
        "offer_url": f"{offer_url}?capability={need.capability_id}&{parent}",
        "page_url": page_url,
        "share_links": share_links(str(texts.need_title(need)), page_url),
    }
    return render_public(request, "volunteers/public/need.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
def need_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    need = _need(slug, pk)
    shifts = list(need.shifts.all())
    if request.method != "POST":
        return _need_response(request, need, shifts, _need_form(need, shifts))
    if not _takes_sign_ups(need, shifts):
        return _need_response(request, need, shifts, _need_form(need, shifts), status=409)
    throttled = abuse.check_address(request)
    if throttled:
        return _too_many(request, need.organization, throttled)
    thanks = reverse("volunteers:need_thanks", args=[need.organization.slug, need.pk])
    if request.POST.get(HONEYPOT):
        return see_other(thanks)
    form = _need_form(need, shifts, request.POST)
    if not form.is_valid():
        return _need_response(request, need, shifts, form, status=400)
    throttled = abuse.check_email(form.cleaned_data.get("email") or "")
    if throttled:
        return _too_many(request, need.organization, throttled)
    data = form.person_data(source_ref=absolute(request.path))
    shift = form.chosen_shift()
    ticked = form.ticked_partners()
    try:
        if shift is not None:
            services.sign_up_for_shift(shift=shift, data=data, partners=ticked)
        else:
            services.sign_up_for_need(need=need, data=data, partners=ticked)
    except DomainError as error:
        status = _add_error(form, error)
        return _need_response(request, need, shifts, form, status=status)
    return see_other(thanks)


@require_GET
def need_thanks_page(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """The same page whoever signed up, with a place or on the waiting list."""
    need = get_object_or_404(
        Need.objects.select_related("organization", "capability", "event", "campaign"),
        organization__slug=slug,
        pk=pk,
    )
    # Only for a need whose page is public (it may have closed since): a draft event's
    # need is not confirmed to exist.
    if need.event is not None and need.event.status != EventStatus.PUBLISHED:
        raise Http404
    if need.event is None and not (need.campaign is not None and need.campaign.is_public):
        raise Http404
    context = {"organization": need.organization, "need": need}
    return render_public(request, "volunteers/public/need_thanks.html", context, private=True)
