"""Export pages: ask for an export, approve someone else's, download your own once.

Every page here needs the people.export permission and a session that passed
two-factor authentication.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saha.accounts.mfa import mfa_session_required
from saha.core.tenancy import get_for_org_or_404
from saha.organizations.access import organization_view
from saha.organizations.roles import Permission
from saha.supporters import exporting, segments
from saha.supporters.import_forms import ExportForm
from saha.supporters.models import ExportRequest, ExportStatus, Segment

PREFIX = "manage/<slug:slug>/people/exports/"


@organization_view(Permission.EXPORT_PEOPLE)
@mfa_session_required
def export_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    form = ExportForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        return _request(request, form.cleaned_data["segment"])
    exports = ExportRequest.objects.for_org(organization).select_related(
        "requested_by", "decided_by"
    )[:50]
    return render(
        request,
        "supporters/export_list.html",
        {
            "form": form,
            "exports": exports,
            "needs_approval": exporting.needs_approval(organization),
        },
        status=400 if request.method == "POST" else 200,
    )


@organization_view(Permission.EXPORT_PEOPLE)
@mfa_session_required
def export_segment(request: HttpRequest, pk: int) -> HttpResponse:
    segment = get_for_org_or_404(Segment, request.organization, pk=pk)  # type: ignore[attr-defined]
    if request.method == "POST":
        return _request(request, segment)
    count = segments.evaluate(segment.organization, segment.definition).count
    return render(
        request,
        "supporters/export_confirm.html",
        {
            "segment": segment,
            "count": count,
            "needs_approval": exporting.needs_approval(segment.organization),
        },
    )


def _request(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    export = exporting.request_export(
        actor=request.user, organization=organization, segment=segment
    )
    if export.status == ExportStatus.PENDING:
        messages.info(
            request, _("Another admin must approve this export before you can download it.")
        )
    else:
        messages.success(request, _("Your export is ready to download."))
    return redirect("supporters:export_list", slug=organization.slug)


@organization_view(Permission.EXPORT_PEOPLE)
@require_POST
@mfa_session_required
def export_decide(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_for_org_or_404(ExportRequest, request.organization, pk=pk)  # type: ignore[attr-defined]
    approve = request.POST.get("decision") == "approve"
    exporting.decide_export(
        actor=request.user,
        approver=request.membership,  # type: ignore[attr-defined]
        export=export,
        approve=approve,
    )
    messages.success(request, _("Export approved.") if approve else _("Export refused."))
    return redirect("supporters:export_list", slug=export.organization.slug)


@organization_view(Permission.EXPORT_PEOPLE)
@require_POST
@mfa_session_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_for_org_or_404(
        ExportRequest.objects.select_related("organization", "segment"),
        request.organization,  # type: ignore[attr-defined]
        pk=pk,
    )
    lines = exporting.start_download(actor=request.user, export=export)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="people-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


urlpatterns = [
    path(PREFIX, export_list, name="export_list"),
    path(PREFIX + "<int:pk>/decide/", export_decide, name="export_decide"),
    path(PREFIX + "<int:pk>/download/", export_download, name="export_download"),
    path(
        "manage/<slug:slug>/people/segments/<int:pk>/export/", export_segment, name="export_segment"
    ),
]
