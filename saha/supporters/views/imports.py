"""Import pages: upload a CSV, match its columns, watch the progress, read the report."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from saha.accounts.mfa import mfa_detour, session_passed_mfa
from saha.core.errors import DomainError
from saha.core.tenancy import get_for_org_or_404
from saha.organizations.access import organization_view
from saha.organizations.roles import Permission
from saha.supporters import importing
from saha.supporters.exporting import encode
from saha.supporters.import_forms import MappingForm, UploadForm
from saha.supporters.import_rows import PROBLEM_TEXT
from saha.supporters.models import ImportBatch, ImportStatus

PREFIX = "manage/<slug:slug>/people/imports/"


@organization_view(Permission.EDIT_PEOPLE)
def import_list(request: HttpRequest) -> HttpResponse:
    batches = ImportBatch.objects.for_org(request.organization).select_related("created_by")[:50]  # type: ignore[attr-defined]
    return render(
        request, "supporters/import_list.html", {"batches": batches, "form": UploadForm()}
    )


class SizeLimit(FileUploadHandler):
    """Stops receiving a file at SAHA_IMPORT_MAX_MB, before Django writes the rest to disk.

    The rest of the request is read and dropped (so the member gets the page
    that says why), and the form is told the file was too large.
    """

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = settings.SAHA_IMPORT_MAX_MB * 1024 * 1024
        self.too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > self.limit:
            self.too_large = True
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


@csrf_exempt  # checked by _import_new, once the size limit is in place
def import_new(request: HttpRequest, slug: str) -> HttpResponse:
    # The CSRF check reads the body: the limit must come before it.
    limit = SizeLimit(request)
    request.upload_handlers.insert(0, limit)
    return _import_new(request, slug, limit=limit)


@organization_view(Permission.EDIT_PEOPLE)
@csrf_protect
def _import_new(request: HttpRequest, limit: SizeLimit) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None, too_large=limit.too_large)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = importing.receive_file(
                organization=request.organization,  # type: ignore[attr-defined]
                actor=request.user,
                name=upload.name,
                chunks=upload.chunks(),
                encoding=form.cleaned_data["encoding"],
            )
        except DomainError as error:
            form.add_error("file", ValidationError(error.message, code=error.code))
        else:
            return redirect("supporters:import_detail", slug=request.organization.slug, pk=batch.pk)  # type: ignore[attr-defined]
    status = 400 if request.method == "POST" else 200
    return render(request, "supporters/import_new.html", {"form": form}, status=status)


@organization_view(Permission.EDIT_PEOPLE)
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_org_or_404(ImportBatch, request.organization, pk=pk)  # type: ignore[attr-defined]
    if batch.status != ImportStatus.DRAFT:
        context = _progress(request, batch)
        # The problems quote the file, as the report does: shown to the same members.
        # ... and, for someone else's import, only in a session that passed MFA.
        shown = context["may_download_report"] and (
            batch.created_by_id == request.user.pk or session_passed_mfa(request)
        )
        problems = list(batch.problems.all()[:20]) if shown else []
        for problem in problems:
            problem.text = PROBLEM_TEXT.get(problem.code, problem.code)  # type: ignore[attr-defined]
        return render(request, "supporters/import_detail.html", {**context, "problems": problems})
    form = MappingForm(request.POST or None, batch=batch, samples=importing.sample_rows(batch))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        importing.start_import(
            batch=batch,
            actor=request.user,
            mapping=form.mapping(),
            tags=form.tag_list(),
            language=data["language"],
            consent_email=data["consent_email"],
            consent_sms=data["consent_sms"],
            consent_wording=data["consent_wording"],
            lawful_basis=data["lawful_basis"],
            attested=data["attested"],
        )
        messages.success(request, _("The import has started. You can leave this page."))
        return redirect("supporters:import_detail", slug=batch.organization.slug, pk=batch.pk)
    status = 400 if request.method == "POST" else 200
    earlier = (
        ImportBatch.objects.for_org(batch.organization)
        .filter(sha256=batch.sha256, status=ImportStatus.DONE)
        .exclude(pk=batch.pk)
        .first()
    )
    return render(
        request,
        "supporters/import_mapping.html",
        {"batch": batch, "form": form, "earlier": earlier},
        status=status,
    )


@organization_view(Permission.EDIT_PEOPLE)
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_org_or_404(ImportBatch, request.organization, pk=pk)  # type: ignore[attr-defined]
    return render(request, "supporters/import_progress.html", _progress(request, batch))


def _progress(request: HttpRequest, batch: ImportBatch) -> dict[str, Any]:
    return {
        "batch": batch,
        "failure_text": importing.failure_text(batch),
        "may_download_report": importing.may_download_report(batch, request.membership),  # type: ignore[attr-defined]
    }


@organization_view(Permission.EDIT_PEOPLE)
@require_POST
def import_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_org_or_404(ImportBatch, request.organization, pk=pk)  # type: ignore[attr-defined]
    was_draft = batch.status == ImportStatus.DRAFT
    if importing.cancel_import(batch=batch, actor=request.user) and not was_draft:
        messages.info(request, _("The import stops after the rows it is writing now."))
    if batch.status == ImportStatus.DRAFT:
        return redirect("supporters:import_list", slug=batch.organization.slug)
    return redirect("supporters:import_detail", slug=batch.organization.slug, pk=batch.pk)


@organization_view(Permission.EDIT_PEOPLE)
def import_report(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_org_or_404(ImportBatch, request.organization, pk=pk)  # type: ignore[attr-defined]
    if not importing.may_download_report(batch, request.membership):  # type: ignore[attr-defined]
        raise PermissionDenied
    # Someone else's report quotes people's data: an export, with an export's gate.
    if batch.created_by_id != request.user.pk and (detour := mfa_detour(request)):
        return detour
    rows = importing.download_report(actor=request.user, batch=batch)
    response = StreamingHttpResponse(encode(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-problems.csv"'
    return response


urlpatterns = [
    path(PREFIX, import_list, name="import_list"),
    path(PREFIX + "new/", import_new, name="import_new"),
    path(PREFIX + "<int:pk>/", import_detail, name="import_detail"),
    path(PREFIX + "<int:pk>/progress/", import_progress, name="import_progress"),
    path(PREFIX + "<int:pk>/cancel/", import_cancel, name="import_cancel"),
    path(PREFIX + "<int:pk>/problems.csv", import_report, name="import_report"),
]
