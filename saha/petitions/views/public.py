"""Pages anyone may open: an organization's petitions, one petition with its sign
form, the thank-you page, the confirmation link, an embeddable widget and the
counter as JSON.

They work without JavaScript. Two static scripts add to them: counter.js
refreshes the counter from count.json, and pow.js solves the proof-of-work
challenge when a flood switched it on (see `saha.petitions.abuse`). The pages
render as if nobody were signed in, like the events' public pages.

Whatever address is typed, a signature ends on the same thank-you page: the
form never tells whether an address is known or has signed. Someone who had
signed already gets the confirmation link again (at most hourly), if they
had not confirmed (the worker that takes signatures in sees that, `intake.py`).

The sign path is lean for a viral petition: the petition's row, one INSERT
(`intake.accept`) and a few cache round trips for the abuse checks. The
counter is cached for a couple of seconds, so a viral page does not add up
the counter's shards on every view.

A petition held by a campaign with partners shows a box for each
(`saha.campaigns.partners`). Whether it has any comes with the petition's row;
the boxes themselves are cached a few seconds, since the worker decides again
who receives what when it takes the signature in.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from saha.campaigns import partners
from saha.campaigns.models import CampaignItem
from saha.core.errors import DomainError
from saha.core.public_pages import absolute, render_public, see_other, share_links
from saha.events.models import EventStatus, Visibility
from saha.messaging.views.public import page_language, render_recipient_page
from saha.organizations.models import Organization
from saha.petitions import abuse, intake, services
from saha.petitions.forms import HONEYPOT, SignForm
from saha.petitions.models import Petition, PetitionStatus, SignatureCount

SHOWN = (PetitionStatus.OPEN, PetitionStatus.CLOSED)
COUNT_CACHE_SECONDS = 2  # the counter on pages and in count.json
SIGNERS_CACHE_SECONDS = 5
PARTNERS_CACHE_SECONDS = 10  # the boxes a campaign's partners get on the form
COUNT_MAX_AGE = 5  # what browsers and proxies may keep count.json for
WIDGET_MAX_AGE = 60
OG_DESCRIPTION_CHARS = 200
_CACHE = "saha:petitions:"


def _petition(slug: str, petition: str) -> Petition:
    return get_object_or_404(
        Petition.objects.select_related("organization"),
        organization__slug=slug,
        slug=petition,
        status__in=SHOWN,
    )


def _petition_with_partners(slug: str, petition: str) -> Petition:
    """The petition, knowing in the same query whether a campaign holding it has
    partners: a petition of no campaign pays nothing more for their boxes."""
    accepted = CampaignItem.objects.filter(
        petition=OuterRef("pk"), campaign__partner_links__accepted_at__isnull=False
    )
    return get_object_or_404(
        Petition.objects.select_related("organization").annotate(has_partners=Exists(accepted)),
        organization__slug=slug,
        slug=petition,
        status__in=SHOWN,
    )


def _partner_boxes(petition: Petition) -> list[partners.PartnerBox]:
    """The boxes of the form, as `partners.boxes_for` had them a few seconds ago at most."""
    if not getattr(petition, "has_partners", True):
        return []
    key = f"{_CACHE}partners:{petition.pk}"
    boxes = cache.get(key)
    if boxes is None:
        boxes = partners.boxes_for(petition=petition)
        cache.set(key, boxes, PARTNERS_CACHE_SECONDS)
    return list(boxes)


def _sign_form(petition: Petition, data: Any = None) -> SignForm:
    return SignForm(data, petition=petition, partner_boxes=_partner_boxes(petition))


def _page_url(petition: Petition) -> str:
    return absolute(reverse("petitions:petition", args=[petition.organization.slug, petition.slug]))


# --- The counter and the signers, cached ------------------------------------------


def public_count(petition: Petition) -> int:
    key = f"{_CACHE}count:{petition.pk}"
    value = cache.get(key)
    if value is None:
        value = services.count(petition).public(petition)
        cache.set(key, value, COUNT_CACHE_SECONDS)
    return int(value)


def _count_json_key(slug: str, petition: str) -> str:
    return f"{_CACHE}count.json:{slug}:{petition}"


def forget_count(petition: Petition) -> None:
    """A confirmation shows at once, on the page of the one who confirmed too."""
    cache.delete_many(
        [
            f"{_CACHE}count:{petition.pk}",
            f"{_CACHE}signers:{petition.pk}",
            _count_json_key(petition.organization.slug, petition.slug),
        ]
    )


def _recent_signers(petition: Petition) -> list[dict[str, str]]:
    """First name and town of those who agreed to be shown; nothing else leaves the row."""
    key = f"{_CACHE}signers:{petition.pk}"
    signers = cache.get(key)
    if signers is None:
        signers = [
            {"name": s.given_name, "locality": s.locality}
            for s in services.recent_signers(petition)
            if s.person is not None
        ]
        cache.set(key, signers, SIGNERS_CACHE_SECONDS)
    return list(signers)


def _progress(count: int, goal: int | None) -> dict[str, Any]:
    return {"count": count, "goal": goal, "reached": bool(goal) and count >= (goal or 0)}


# --- The list ---------------------------------------------------------------------


@require_GET
def petition_list(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    now = timezone.now()
    petitions = list(
        Petition.objects.select_related("organization")
        .filter(organization=organization, status=PetitionStatus.OPEN)
        .filter(Q(deadline__isnull=True) | Q(deadline__gt=now))
    )
    # One query for every counter on the page, however many petitions.
    totals: dict[int, services.Count] = {
        row["petition"]: services.Count(row["verified"] or 0, row["unverified"] or 0)
        for row in SignatureCount.objects.filter(petition__in=petitions)
        .values("petition")
        .annotate(verified=Sum("verified"), unverified=Sum("unverified"))
    }
    items = []
    for petition in petitions:
        shown = totals.get(petition.pk, services.Count(0, 0)).public(petition)
        items.append({"petition": petition, **_progress(shown, petition.goal)})
    context = {"organization": organization, "items": items}
    return render_public(request, "petitions/public/list.html", context)


# --- One petition and its form ----------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def petition_page(request: HttpRequest, slug: str, petition: str) -> HttpResponse:
    found = _petition_with_partners(slug, petition)
    if request.method == "POST":
        return _sign(request, found)
    return _page(request, found, _sign_form(found))


def _page(
    request: HttpRequest, petition: Petition, form: SignForm, *, status: int = 200
) -> HttpResponse:
    page_url = _page_url(petition)
    takes_signatures = petition.is_open
    challenge = None
    if takes_signatures and abuse.challenge_on(petition.pk):
        challenge = abuse.issue(petition.pk)
    context = {
        "organization": petition.organization,
        "petition": petition,
        "form": form,
        "takes_signatures": takes_signatures,
        "challenge": challenge,
        "honeypot": HONEYPOT,
        "signers": _recent_signers(petition),
        "page_url": page_url,
        "og_description": Truncator(" ".join(petition.text.split())).chars(OG_DESCRIPTION_CHARS),
        "share_links": share_links(petition.title, page_url),
        "count_url": reverse("petitions:count", args=[petition.organization.slug, petition.slug]),
        "widget_url": absolute(
            reverse("petitions:widget", args=[petition.organization.slug, petition.slug])
        ),
        **_progress(public_count(petition), petition.goal),
    }
    return render_public(request, "petitions/public/petition.html", context, status=status)


def _sign(request: HttpRequest, petition: Petition) -> HttpResponse:
    """Checks from the cheapest: the client's address, the honeypot, the form, the
    challenge, the email address; then one INSERT (`intake.accept`: the worker makes
    the signature, or sends the link again to someone who had signed) and the same
    thank-you page."""
    if not petition.is_open:
        return _page(request, petition, _sign_form(petition), status=409)
    throttled = abuse.check_address(request)
    if throttled:
        return _too_many(request, petition, throttled)
    abuse.note_attempt(petition.pk)
    thanks = reverse("petitions:thanks", args=[petition.organization.slug, petition.slug])
    if request.POST.get(HONEYPOT):
        return see_other(thanks)  # a bot: the same answer, and nothing saved
    form = _sign_form(petition, request.POST)
    if not form.is_valid():
        return _page(request, petition, form, status=400)
    refused = _check_challenge(request, petition, form)
    if refused:
        return refused
    throttled = abuse.check_email(form.cleaned_data["email"])
    if throttled:
        return _too_many(request, petition, throttled)
    try:
        intake.accept(
            petition=petition,
            data=form.person_data(source_ref=_page_url(petition)),
            show_name=form.cleaned_data["show_name"],
            comment=form.cleaned_data["comment"],
            partners=form.ticked_partners(),
        )
    except DomainError as error:
        field = {"invalid_phone": "phone", "invalid_email": "email"}.get(error.code)
        form.add_error(field, error.message)
        return _page(request, petition, form, status=error.status)
    return see_other(thanks)


def _check_challenge(
    request: HttpRequest, petition: Petition, form: SignForm
) -> HttpResponse | None:
    """While the challenge is on: a script's answer must be right; without a script,
    the signature goes through under a stricter limit per address (see abuse.py)."""
    if not abuse.challenge_on(petition.pk):
        return None
    if request.POST.get("pow_js") == "1":
        problem = abuse.verify(
            petition.pk, request.POST.get("pow_challenge", ""), request.POST.get("pow_nonce", "")
        )
        if not problem:
            return None
        form.add_error(
            None, _("We could not finish checking your browser. Press the button again, please.")
        )
        return _page(request, petition, form, status=400)
    throttled = abuse.check_noscript(request)
    return _too_many(request, petition, throttled) if throttled else None


def _too_many(request: HttpRequest, petition: Petition, throttled: abuse.Throttled) -> HttpResponse:
    context = {
        "organization": petition.organization,
        "petition": petition,
        "retry_minutes": max(1, (throttled.retry_after + 59) // 60),
    }
    response = render_public(request, "petitions/public/too_many.html", context, status=429)
    response.headers["Retry-After"] = str(throttled.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- After signing ------------------------------------------------------------------


@require_GET
def thanks_page(request: HttpRequest, slug: str, petition: str) -> HttpResponse:
    found = _petition(slug, petition)
    page_url = _page_url(found)
    context = {
        "organization": found.organization,
        "petition": found,
        "confirmed": request.GET.get("confirmed") == "1",
        "next_petition": _next_petition(found),
        "next_event": _next_event(found),
        "share_links": share_links(found.title, page_url),
        "page_url": page_url,
        **_progress(public_count(found), found.goal),
    }
    return render_public(request, "petitions/public/thanks.html", context, private=True)


def _next_petition(petition: Petition) -> Petition | None:
    following = petition.next_petition
    if following is None or following.organization_id != petition.organization_id:
        return None
    following.organization = petition.organization
    return following if following.is_open else None


def _next_event(petition: Petition) -> Any:
    event = petition.next_event
    if (
        event is None
        or event.organization_id != petition.organization_id
        or event.status != EventStatus.PUBLISHED
        or event.visibility != Visibility.PUBLIC
        or event.ends_at < timezone.now()
    ):
        return None
    event.organization = petition.organization
    return event


@never_cache
@csrf_exempt  # the signed token is the proof; the signer may have no session here
@require_http_methods(["GET", "HEAD", "POST"])
def confirm_page(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the email: a page with one button, so a mail scanner's visit
    confirms nothing; the press confirms, once however often pressed."""
    signature = services.read_confirmation(token)
    template = "petitions/public/confirm.html"
    if signature is None or signature.person_id is None:  # not ours, or the signer was erased
        language = page_language(request, translation.get_language() or settings.LANGUAGE_CODE)
        return render_recipient_page(
            request, template, {"invalid": True}, language=language, status=404
        )
    petition = signature.petition
    if request.method == "POST":
        if services.confirm(signature=signature):
            forget_count(petition)
        thanks = reverse("petitions:thanks", args=[petition.organization.slug, petition.slug])
        return see_other(f"{thanks}?confirmed=1")
    known = {code for code, _name in settings.LANGUAGES}
    candidates = [signature.language, petition.organization.default_language]
    default = next((code for code in candidates if code in known), settings.LANGUAGE_CODE)
    context = {
        "organization": petition.organization,
        "petition": petition,
        "already": signature.verified_at is not None,
        # What the press confirms: whoever typed the form chose these, not necessarily
        # the owner of the mailbox, who sees them before saying it was them.
        "signature": signature,
    }
    language = page_language(request, default)
    return render_recipient_page(request, template, context, language=language)


# --- For other sites and scripts -------------------------------------------------


@xframe_options_exempt
@require_safe
def widget(request: HttpRequest, slug: str, petition: str) -> HttpResponse:
    """A counter and a link, for other sites to show in an iframe."""
    found = _petition(slug, petition)
    context = {
        "organization": found.organization,
        "petition": found,
        "page_url": _page_url(found),
        "count_url": reverse("petitions:count", args=[slug, found.slug]),
        **_progress(public_count(found), found.goal),
    }
    response = render(request, "petitions/public/widget.html", context)
    # Only this page may be framed, by any site: it holds no form and nothing personal.
    response.headers["Content-Security-Policy"] = "frame-ancestors *"
    response.headers["Cache-Control"] = f"public, max-age={WIDGET_MAX_AGE}"
    return response


@require_safe
def count_json(request: HttpRequest, slug: str, petition: str) -> JsonResponse:
    key = _count_json_key(slug, petition)
    payload = cache.get(key)
    if payload is None:
        found = _petition(slug, petition)
        payload = {"count": public_count(found), "goal": found.goal}
        cache.set(key, payload, COUNT_CACHE_SECONDS)
    response = JsonResponse(payload)
    response.headers["Cache-Control"] = f"public, max-age={COUNT_MAX_AGE}"
    return response


_PETITION = "o/<slug:slug>/petitions/<slug:petition>/"

urlpatterns = [
    path("o/<slug:slug>/petitions/", petition_list, name="list"),
    path(_PETITION, petition_page, name="petition"),
    path(f"{_PETITION}thanks/", thanks_page, name="thanks"),
    path(f"{_PETITION}widget/", widget, name="widget"),
    path(f"{_PETITION}count.json", count_json, name="count"),
    path("s/<str:token>/", confirm_page, name="confirm"),
]
