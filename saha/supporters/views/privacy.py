"""The organization's privacy settings: double opt-in, export approval, retention."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _

from saha.organizations.access import organization_view
from saha.organizations.roles import Permission
from saha.supporters import subject
from saha.supporters.forms import PrivacySettingsForm


@organization_view(Permission.MANAGE_ORGANIZATION)
def privacy_settings(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    current = subject.privacy_settings(organization)
    form = PrivacySettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        changed = subject.update_privacy_settings(
            actor=request.user, organization=organization, values=form.values()
        )
        messages.success(
            request, _("Privacy settings saved.") if changed else _("Nothing changed.")
        )
        return redirect("supporters:privacy", organization.slug)
    return render(
        request,
        "supporters/privacy_settings.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


urlpatterns = [
    path("manage/<slug:slug>/people/privacy/", privacy_settings, name="privacy"),
]
