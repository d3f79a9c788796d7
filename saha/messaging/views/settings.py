"""The messaging settings page: sender, approval, SMS quiet hours, and the webhook addresses.

The webhook addresses carry a secret key, so only members who may change the
organization's settings see them; regenerating the key retires the old ones.
"""

from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from saha.messaging.forms import MessagingSettingsForm
from saha.messaging.models import MessagingSettings
from saha.messaging.services import messaging_settings
from saha.messaging.settings_services import regenerate_webhook_key, update_messaging_settings
from saha.organizations.access import organization_view
from saha.organizations.models import Organization
from saha.organizations.roles import Permission

WEBHOOKS = (
    ("messaging_sms_hook", "sms"),
    ("messaging_email_events_hook", "email_events"),
    ("messaging_unsubscribe_email_hook", "unsubscribe_email"),
)


def webhook_urls(row: MessagingSettings, organization: Organization) -> dict[str, str]:
    """The organization's webhook addresses, absolute (providers are configured with them)."""
    if not row.webhook_key:
        return {}
    kwargs = {"org": organization.slug, "key": row.webhook_key}
    base = django_settings.SAHA_BASE_URL
    return {key: base + reverse(name, kwargs=kwargs) for name, key in WEBHOOKS}


@organization_view(Permission.MANAGE_ORGANIZATION)
def settings_view(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    row = messaging_settings(organization)
    data = request.POST if request.method == "POST" else None
    form = MessagingSettingsForm(data, instance=row, organization=organization)
    if request.method == "POST" and form.is_valid():
        update_messaging_settings(actor=request.user, organization=organization, **form.changes())
        messages.success(request, _("Messaging settings saved."))
        return redirect("messaging_settings", slug=organization.slug)
    context = {"form": form, "webhooks": webhook_urls(row, organization)}
    status = 400 if request.method == "POST" else 200
    return render(request, "messaging/settings.html", context, status=status)


@organization_view(Permission.MANAGE_ORGANIZATION)
@require_POST
def regenerate_key(request: HttpRequest) -> HttpResponse:
    organization = request.organization  # type: ignore[attr-defined]
    regenerate_webhook_key(actor=request.user, organization=organization)
    messages.success(
        request,
        _("New webhook addresses made. Give them to your providers: the old ones stopped working."),
    )
    return redirect("messaging_settings", slug=organization.slug)


PREFIX = "manage/<slug:slug>/messages/settings/"

urlpatterns = [
    path(PREFIX, settings_view, name="messaging_settings"),
    path(PREFIX + "webhook-key/", regenerate_key, name="messaging_regenerate_webhook_key"),
]
