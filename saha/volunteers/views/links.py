"""The pages a volunteer reaches by the signed link in their messages: their offer (see,
update, withdraw; their assignments), and one assignment (accept, decline, cancel).

The token is the only proof (`saha.volunteers.tokens`); the pages are private
(not indexed, not cached, their URL kept out of referrers) and speak the
volunteer's language unless this browser chose another. A GET never changes
anything, since mail scanners open every link: each change is a button, and
the "accept" link of an invitation opens the page with that button first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from saha.core.errors import DomainError
from saha.core.public_pages import see_other
from saha.messaging.views.public import page_language, render_recipient_page
from saha.volunteers import services, texts, tokens
from saha.volunteers.forms import OfferDetailsForm
from saha.volunteers.models import Assignment, AssignmentStatus, NeedStatus, Offer, OfferStatus
from saha.volunteers.views.public import FIELD_OF_ERROR
from saha.volunteers.when import need_span

ACTOR = "volunteer link"


def _language(request: HttpRequest, *candidates: str) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    default = next((c for c in candidates if c in known), settings.LANGUAGE_CODE)
    return page_language(request, default)


def _invalid(request: HttpRequest) -> HttpResponse:
    language = page_language(request, translation.get_language() or settings.LANGUAGE_CODE)
    return render_recipient_page(
        request, "volunteers/public/invalid.html", {}, language=language, status=404
    )


# --- The offer ----------------------------------------------------------------------


def _offer(token: str) -> Offer | None:
    offer_id = tokens.read_offer(token)
    if offer_id is None:
        return None
    return Offer.objects.select_related("organization", "person").filter(pk=offer_id).first()


def _details_form(offer: Offer, capabilities: list[Any], data: Any = None) -> OfferDetailsForm:
    return OfferDetailsForm(
        data, organization=offer.organization, capabilities=capabilities, offer=offer
    )


@dataclass
class OfferState:
    form: OfferDetailsForm
    confirming: bool = False  # "withdraw" was pressed once: the page asks before doing it
    status: int = 200


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def offer_manage_page(request: HttpRequest, token: str) -> HttpResponse:
    offer = _offer(token)
    if offer is None:
        return _invalid(request)
    organization = offer.organization
    language = _language(
        request, offer.language, offer.person.language, organization.default_language
    )
    with translation.override(language):
        # What the person offers stays on their form even if the organization stopped
        # asking for it: unticking it is theirs to do.
        offered = set(offer.capabilities.values_list("capability_id", flat=True))
        capabilities = [
            c for c in services.ensure_capabilities(organization) if c.active or c.pk in offered
        ]
        state = OfferState(_details_form(offer, capabilities))
        if request.method == "POST":
            outcome = _offer_action(request, offer, capabilities)
            if isinstance(outcome, HttpResponse):
                return outcome
            state = outcome
        context = _offer_context(request, offer, state)
    return render_recipient_page(
        request,
        "volunteers/public/offer_manage.html",
        context,
        language=language,
        status=state.status,
    )


def _offer_action(
    request: HttpRequest, offer: Offer, capabilities: list[Any]
) -> HttpResponse | OfferState:
    """One button of the page: save the changes, or withdraw (asked twice, no script)."""
    action = request.POST.get("action", "")
    if action == "withdraw":
        if request.POST.get("confirm") != "1":
            return OfferState(_details_form(offer, capabilities), confirming=True)
        services.withdraw_offer(offer=offer, actor=ACTOR)
        return see_other(request.path)
    form = _details_form(offer, capabilities, request.POST)
    if action != "update":
        form.add_error(None, _("This page has no such button."))
        return OfferState(form, status=400)
    if not form.is_valid():
        return OfferState(form, status=400)
    try:
        services.update_offer(
            offer=offer,
            offered=form.offered(),
            availability=form.availability(),
            actor=ACTOR,
            **form.area(),
        )
    except DomainError as error:
        form.add_error(FIELD_OF_ERROR.get(error.code), error.message)
        return OfferState(form, status=error.status)
    return see_other(f"{request.path}?saved=1")


def _offer_context(request: HttpRequest, offer: Offer, state: OfferState) -> dict[str, Any]:
    assignments = (
        Assignment.objects.filter(person_id=offer.person_id)
        .exclude(status=AssignmentStatus.CANCELLED)
        .select_related("need__organization", "need__event", "need__capability", "shift")
        .order_by("-created_at")[:50]
    )
    rows = [
        {
            "assignment": row,
            "need": row.need,
            "title": texts.need_title(row.need),
            "when": need_span(row.need, row.shift),
            "url": reverse("volunteers:respond", args=[tokens.assignment_token(row.pk)]),
        }
        for row in assignments
    ]
    return {
        "organization": offer.organization,
        "offer": offer,
        "withdrawn": offer.status == OfferStatus.WITHDRAWN,
        "saved": request.GET.get("saved") == "1",
        "form": state.form,
        "confirming": state.confirming,
        "assignments": rows,
    }


# --- One assignment -------------------------------------------------------------------


def _assignment(token: str) -> Assignment | None:
    assignment_id = tokens.read_assignment(token)
    if assignment_id is None:
        return None
    return (
        Assignment.objects.select_related(
            "organization",
            "person",
            "need__organization",
            "need__event",
            "need__capability",
            "shift",
        )
        .filter(pk=assignment_id)
        .first()
    )


@dataclass
class RespondState:
    confirming: bool = False  # "cancel" was pressed once
    error: str = ""
    status: int = 200


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def respond_page(request: HttpRequest, token: str) -> HttpResponse:
    assignment = _assignment(token)
    if assignment is None:
        return _invalid(request)
    need = assignment.need
    language = _language(request, assignment.person.language, need.organization.default_language)
    state = RespondState()
    with translation.override(language):
        if request.method == "POST":
            outcome = _respond_action(request, assignment)
            if isinstance(outcome, HttpResponse):
                return outcome
            state = outcome
            assignment.refresh_from_db(fields=["status"])
        context = _respond_context(request, assignment, state)
    return render_recipient_page(
        request, "volunteers/public/respond.html", context, language=language, status=state.status
    )


def _respond_action(request: HttpRequest, assignment: Assignment) -> HttpResponse | RespondState:
    action = request.POST.get("action", "")
    try:
        if action == "accept":
            services.respond(assignment=assignment, accept=True, actor=ACTOR)
        elif action == "decline":
            services.respond(assignment=assignment, accept=False, actor=ACTOR)
        elif action == "cancel":
            if request.POST.get("confirm") != "1":
                return RespondState(confirming=True)
            services.release(actor=ACTOR, assignment=assignment, notify=False)
        else:
            raise DomainError("unknown_action", _("This page has no such button."))
    except DomainError as error:
        return RespondState(error=error.message, status=error.status)
    return see_other(request.path)


def _respond_context(
    request: HttpRequest, assignment: Assignment, state: RespondState
) -> dict[str, Any]:
    need = assignment.need
    status = assignment.status
    open_need = need.status == NeedStatus.OPEN and need.ends_at >= timezone.now()
    offer = Offer.objects.filter(person_id=assignment.person_id).only("pk").first()
    return {
        "organization": need.organization,
        "assignment": assignment,
        "need": need,
        "title": texts.need_title(need),
        "when": need_span(need, assignment.shift),
        "where": need.location or (need.event.venue_name if need.event else ""),
        "answer": request.GET.get("answer", ""),
        "can_accept": open_need and status in (AssignmentStatus.INVITED, AssignmentStatus.DECLINED),
        "can_decline": status == AssignmentStatus.INVITED,
        "can_cancel": status in (AssignmentStatus.ACCEPTED, AssignmentStatus.WAITING),
        "confirming": state.confirming,
        "error": state.error,
        "offer_url": reverse("volunteers:offer_manage", args=[tokens.offer_token(offer.pk)])
        if offer
        else "",
    }
