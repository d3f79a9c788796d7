"""The organization's own fields on people: list, add, delete."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saha.core.errors import DomainError
from saha.core.tenancy import get_for_org_or_404
from saha.organizations.access import organization_view
from saha.organizations.roles import Permission
from saha.supporters import fields
from saha.supporters.forms import CustomFieldForm
from saha.supporters.models import CustomField

PREFIX = "manage/<slug:slug>/people/fields/"


@organization_view(Permission.MANAGE_ORGANIZATION)
def field_list(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    form = CustomFieldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            field = fields.create_field(
                actor=request.user,
                organization=organization,
                labels=form.labels(),
                kind=form.cleaned_data["kind"],
                choices=form.choice_list(),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Field “%(name)s” added.") % {"name": field.label()})
            return redirect("supporters:field_list", slug=organization.slug)
    return render(
        request,
        "supporters/field_list.html",
        {"form": form, "fields": CustomField.objects.for_org(organization)},
        status=400 if form.errors else 200,
    )


@organization_view(Permission.MANAGE_ORGANIZATION)
@require_POST
def field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    field = get_for_org_or_404(CustomField, request.organization, pk=pk)  # type: ignore[attr-defined]
    if not request.POST.get("confirm"):
        messages.error(request, _("Tick the box to confirm: the field's values are deleted too."))
        return redirect("supporters:field_list", slug=field.organization.slug)
    name = field.label()
    fields.delete_field(actor=request.user, field=field)
    messages.success(request, _("Field “%(name)s” deleted, with its values.") % {"name": name})
    return redirect("supporters:field_list", slug=field.organization.slug)


urlpatterns = [
    path(PREFIX, field_list, name="field_list"),
    path(PREFIX + "<int:pk>/delete/", field_delete, name="field_delete"),
]
