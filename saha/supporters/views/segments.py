"""Segment pages: saved audiences, built in a form from the criteria registry.

The form counts as it changes: htmx asks `segment_count` for the count and a
preview (one SQL query, `segments.evaluate`). Without JavaScript the
"Preview" button posts the form, which comes back with the same result.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from saha.core.errors import Conflict
from saha.core.tenancy import get_for_org_or_404
from saha.organizations.access import organization_view
from saha.organizations.roles import Permission
from saha.supporters import segments, subject
from saha.supporters.forms import SegmentCriteriaForm, SegmentForm, describe
from saha.supporters.models import PersonEmail, Segment


def evaluation(organization: Any, definition: dict[str, Any]) -> segments.Evaluation:
    """The count and preview, with the preview's email addresses (one more query)."""
    result = segments.evaluate(organization, definition)
    prefetch_related_objects(
        result.preview,
        Prefetch("emails", PersonEmail.objects.order_by("-is_primary", "id"), to_attr="email_list"),
    )
    return result


def _segment(request: HttpRequest, pk: int) -> Segment:
    return get_for_org_or_404(Segment, request.organization, pk=pk)  # type: ignore[attr-defined]


@organization_view(Permission.VIEW_PEOPLE)
@require_GET
def segment_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    return render(
        request,
        "supporters/segment_list.html",
        {"segments": Segment.objects.for_org(organization).select_related("created_by")},
    )


def _render_form(
    request: HttpRequest, form: SegmentForm, segment: Segment | None, status: int = 200
) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    # Bound: the valid criteria (the others show their errors); unbound: what is saved.
    saved = segment.definition if segment else {}
    definition = form.definition() if form.is_bound else saved
    context = {"form": form, "segment": segment, "result": evaluation(organization, definition)}
    return render(request, "supporters/segment_form.html", context, status=status)


def _edit(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    """The new and edit pages: save, or (without JavaScript) preview the count."""
    organization = request.organization  # type: ignore[attr-defined]
    form = SegmentForm(request.POST or None, organization=organization, segment=segment)
    if request.method != "POST":
        return _render_form(request, form, segment)
    valid = form.is_valid()
    if "preview" in request.POST:
        # A preview needs no name yet: only the criteria can be wrong.
        form.errors.pop("name", None)
        return _render_form(request, form, segment, status=400 if form.errors else 200)
    if valid:
        try:
            saved = subject.save_segment(
                actor=request.user,
                organization=organization,
                name=form.cleaned_data["name"],
                definition=form.definition(),
                segment=segment,
            )
        except Conflict:
            form.add_error("name", _("Another segment has this name."))
        else:
            messages.success(request, _("Segment saved."))
            return redirect("supporters:segment_detail", organization.slug, saved.pk)
    return _render_form(request, form, segment, status=400)


@organization_view(Permission.EDIT_PEOPLE)
def segment_new(request: HttpRequest) -> HttpResponse:
    return _edit(request, None)


@organization_view(Permission.EDIT_PEOPLE)
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, _segment(request, pk))


@organization_view(Permission.VIEW_PEOPLE)
@require_GET
def segment_count(request: HttpRequest) -> HttpResponse:
    """The live count of the form, as it changes (htmx): a fragment of the page."""
    organization = request.organization  # type: ignore[attr-defined]
    form = SegmentCriteriaForm(request.GET, organization=organization)
    valid = form.is_valid()
    context = {
        "result": evaluation(organization, form.definition()) if valid else None,
        "invalid": not valid,
    }
    return render(request, "supporters/segment_result.html", context)


@organization_view(Permission.VIEW_PEOPLE)
@require_GET
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    segment = _segment(request, pk)
    context = {
        "segment": segment,
        "criteria": describe(organization, segment.definition),
        "result": evaluation(organization, segment.definition),
        "can_edit": request.membership.can(Permission.EDIT_PEOPLE),  # type: ignore[attr-defined]
        "can_export": request.membership.can(Permission.EXPORT_PEOPLE),  # type: ignore[attr-defined]
    }
    return render(request, "supporters/segment_detail.html", context)


@organization_view(Permission.EDIT_PEOPLE)
@require_POST
def segment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    segment = _segment(request, pk)
    subject.delete_segment(actor=request.user, segment=segment)
    messages.success(request, _("Segment %(name)s deleted.") % {"name": segment.name})
    return redirect("supporters:segment_list", organization.slug)


PREFIX = "manage/<slug:slug>/people/segments/"

urlpatterns = [
    path(PREFIX, segment_list, name="segment_list"),
    path(PREFIX + "new/", segment_new, name="segment_new"),
    path(PREFIX + "count/", segment_count, name="segment_count"),
    path(PREFIX + "<int:pk>/", segment_detail, name="segment_detail"),
    path(PREFIX + "<int:pk>/edit/", segment_edit, name="segment_edit"),
    path(PREFIX + "<int:pk>/delete/", segment_delete, name="segment_delete"),
]
