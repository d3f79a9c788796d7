"""The organizer's petition pages: the list with each count, one petition with its progress
and its open and close buttons, creating and editing, the signatures, and what is
delivered to the target (a printable document and a CSV).

Every member sees the list and the counts, as with events; changing a
petition needs content.manage; seeing who signed needs people.view; the CSV
needs people.export and a session that passed two-factor authentication.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from saha.accounts.mfa import mfa_session_required
from saha.core.slugs import create_with_free_slug
from saha.core.tenancy import get_for_org_or_404, is_row_id
from saha.organizations.access import organization_view
from saha.organizations.models import Organization
from saha.organizations.roles import Permission
from saha.petitions import delivery, organizer, services
from saha.petitions.manage_forms import PetitionForm
from saha.petitions.models import Petition, PetitionStatus

PREFIX = "manage/<slug:slug>/petitions/"
CONTENT = Permission.MANAGE_CONTENT
PETITIONS_PAGE = 50
# What the open and close buttons may ask for (services.set_status says from which state).
STATUS_CHANGES = (PetitionStatus.OPEN, PetitionStatus.CLOSED)


def petition_of(request: HttpRequest, pk: Any) -> Petition:
    """One of this organization's petitions, else 404 (never saying which exists)."""
    organization = request.organization  # type: ignore[attr-defined]
    found = Petition.objects.select_related("organization", "next_petition", "next_event")
    return get_for_org_or_404(found, organization, pk=pk)


def to_petition(petition: Petition) -> HttpResponse:
    return redirect("petitions:manage_petition", petition.organization.slug, petition.pk)


@organization_view(Permission.VIEW_DASHBOARD)
@require_GET
def petition_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    petitions = (
        Petition.objects.for_org(organization)
        .select_related("organization")
        .order_by("-created_at", "-pk")
    )
    # Petitions are few (dozens a year): numbered pages are cheap here.
    page_obj = Paginator(petitions, PETITIONS_PAGE).get_page(request.GET.get("page"))
    page = list(page_obj.object_list)
    counts = delivery.progresses(page)
    context = {"rows": [(p, counts[p.pk]) for p in page], "page_obj": page_obj}
    return render(request, "petitions/manage/list.html", context)


@organization_view(Permission.VIEW_DASHBOARD)
@require_GET
def petition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    petition = petition_of(request, pk)
    codes = dict(settings.LANGUAGES)
    context = {
        "petition": petition,
        "progress": delivery.progress(petition),
        "document_languages": [(c, codes[c]) for c in codes if petition.titles.get(c)],
    }
    return render(request, "petitions/manage/detail.html", context)


def _form_page(
    request: HttpRequest, form: PetitionForm, petition: Petition | None, status: int = 200
) -> HttpResponse:
    context = {"form": form, "petition": petition}
    return render(request, "petitions/manage/form.html", context, status=status)


@organization_view(CONTENT)
def petition_new(request: HttpRequest) -> HttpResponse:
    organization: Organization = request.organization  # type: ignore[attr-defined]
    form = PetitionForm(
        request.POST if request.method == "POST" else None,
        organization=organization,
        initial=PetitionForm.initial_for(None, organization),
    )
    if request.method != "POST":
        return _form_page(request, form, None)
    if not form.is_valid():
        return _form_page(request, form, None, status=400)
    fields = form.fields_for_service()
    petition = create_with_free_slug(
        Petition.objects.for_org(organization),
        fields["titles"],
        f"petition-{timezone.now():%Y-%m-%d}",
        lambda slug: organizer.create(
            actor=request.user, organization=organization, slug=slug, **fields
        ),
    )
    messages.success(request, _("Petition saved as a draft. Open it for signatures when ready."))
    return to_petition(petition)


@organization_view(CONTENT)
def petition_edit(request: HttpRequest, pk: int) -> HttpResponse:
    petition = petition_of(request, pk)
    form = PetitionForm(
        request.POST if request.method == "POST" else None,
        organization=petition.organization,
        petition=petition,
        initial=PetitionForm.initial_for(petition, petition.organization),
    )
    if request.method != "POST":
        return _form_page(request, form, petition)
    if not form.is_valid():
        return _form_page(request, form, petition, status=400)
    organizer.update_petition(actor=request.user, petition=petition, **form.fields_for_service())
    messages.success(request, _("Petition saved."))
    return to_petition(petition)


@organization_view(CONTENT)
@require_POST
def petition_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a draft or a closed petition, or close an open one."""
    petition = petition_of(request, pk)
    wanted = request.POST.get("status", "")
    if wanted not in STATUS_CHANGES:
        messages.error(request, _("Choose to open or to close the petition."))
        return to_petition(petition)
    if not services.set_status(actor=request.user, petition=petition, status=wanted):
        messages.info(request, _("Nothing changed: the petition was already in that state."))
    elif wanted == PetitionStatus.OPEN:
        messages.success(request, _("Open: the petition page now takes signatures."))
    else:
        messages.success(request, _("Closed: the petition takes no more signatures."))
    return to_petition(petition)


@organization_view(Permission.VIEW_PEOPLE)
@require_GET
def signature_list(request: HttpRequest, pk: int) -> HttpResponse:
    petition = petition_of(request, pk)
    term = request.GET.get("q", "")[:100]
    state = request.GET.get("state", "")
    state = state if state in delivery.STATES else ""
    after = request.GET.get("after")
    rows = delivery.signatures(
        petition,
        term=term,
        state=state,
        after=int(after) if after and is_row_id(after) else None,
    )
    context = {
        "petition": petition,
        "rows": rows,
        "term": term,
        "state": state,
        "progress": delivery.progress(petition),
        "next_after": rows[-1].pk if len(rows) == delivery.PAGE else None,
    }
    return render(request, "petitions/manage/signatures.html", context)


@organization_view(Permission.VIEW_PEOPLE)
@require_GET
def petition_document(request: HttpRequest, pk: int) -> HttpResponse:
    """A page to print (or save as PDF) and hand to the target: no site around it on paper."""
    petition = petition_of(request, pk)
    context = {"petition": petition, "document": delivery.document(petition)}
    return render(request, "petitions/manage/document.html", context)


@organization_view(Permission.EXPORT_PEOPLE)
@mfa_session_required
@require_GET
def petition_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The signatures as CSV for the target: names only of those who agreed; audited.

    A GET, unlike the supporters' export: the second-factor detour comes back
    here by GET, and nothing is changed but the audit log.
    """
    petition = petition_of(request, pk)
    response = StreamingHttpResponse(
        delivery.download(actor=request.user, petition=petition),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{petition.slug}-signatures.csv"'
    response["Cache-Control"] = "no-store"
    return response  # type: ignore[return-value]  # the decorators are typed for HttpResponse


@organization_view(Permission.SEND_MESSAGES)
@require_POST
def petition_message(request: HttpRequest, pk: int) -> HttpResponse:
    """A broadcast to those who signed and confirmed: the segment, then the usual form."""
    petition = petition_of(request, pk)
    segment = organizer.signers_segment(actor=request.user, petition=petition)
    url = reverse("messaging_broadcast_new", args=[petition.organization.slug])
    return redirect(f"{url}?segment={segment.pk}")


urlpatterns = [
    path(PREFIX, petition_list, name="manage_list"),
    path(f"{PREFIX}new/", petition_new, name="manage_new"),
    path(f"{PREFIX}<int:pk>/", petition_detail, name="manage_petition"),
    path(f"{PREFIX}<int:pk>/edit/", petition_edit, name="manage_edit"),
    path(f"{PREFIX}<int:pk>/status/", petition_status, name="manage_status"),
    path(f"{PREFIX}<int:pk>/signatures/", signature_list, name="manage_signatures"),
    path(f"{PREFIX}<int:pk>/document/", petition_document, name="manage_document"),
    path(f"{PREFIX}<int:pk>/signatures.csv", petition_csv, name="manage_csv"),
    path(f"{PREFIX}<int:pk>/message/", petition_message, name="manage_message"),
]
