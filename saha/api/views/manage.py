"""The organizer's API pages, all under api.manage: tokens, the API settings, webhooks.

A new token's secret (and a new endpoint's signing secret) is shown once, in
the answer to the form that made it: never in a session, a message or a
redirect, and the page is not cached. Views parse, fetch within the
organization (another organization's row is a 404), call one service, answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from saha.api import manage, tokens, webhooks
from saha.api.forms import EndpointForm, SettingsForm, TokenForm
from saha.api.models import ApiToken, WebhookDelivery, WebhookEndpoint
from saha.core.errors import DomainError
from saha.core.tenancy import get_for_org_or_404, is_row_id
from saha.organizations.access import organization_view
from saha.organizations.models import Organization
from saha.organizations.roles import Permission

PREFIX = "manage/<slug:slug>/api/"
MANAGE = Permission.MANAGE_API
LOG_PAGE = 50


def _organization(request: HttpRequest) -> Organization:
    return request.organization  # type: ignore[attr-defined]


def _endpoint(request: HttpRequest, pk: int) -> WebhookEndpoint:
    rows = WebhookEndpoint.objects.select_related("organization")
    return get_for_org_or_404(rows, _organization(request), pk=pk)


# --- Tokens ----------------------------------------------------------------------------


@organization_view(MANAGE)
def token_list(request: HttpRequest) -> HttpResponse:
    rows = ApiToken.objects.for_org(_organization(request)).select_related("created_by")
    return render(request, "api/tokens.html", {"tokens": rows, "tab": "tokens"})


@never_cache
@organization_view(MANAGE)
def token_new(request: HttpRequest) -> HttpResponse:
    def create(data: dict[str, Any]) -> dict[str, Any]:
        made = tokens.create_token(
            actor=request.user,
            organization=_organization(request),
            name=data["name"],
            scopes=data["scopes"],
        )
        return {"token": made.token, "secret": made.secret}

    form = TokenForm(request.POST if request.method == "POST" else None)
    return _create_page(
        request, form, create, "api/token_form.html", "api/token_created.html", tab="tokens"
    )


def _create_page(
    request: HttpRequest,
    form: forms.Form,
    create: Callable[[dict[str, Any]], dict[str, Any]],
    form_page: str,
    created_page: str,
    *,
    tab: str,
) -> HttpResponse:
    """The form; once valid, `create` makes the row and the answer is `created_page`
    with the context it returns, the secret shown once (or the service's refusal on
    the form)."""
    if request.method == "POST" and form.is_valid():
        try:
            context = create(form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return render(request, created_page, {**context, "tab": tab})
    status = 400 if form.is_bound else 200
    return render(request, form_page, {"form": form, "tab": tab}, status=status)


@organization_view(MANAGE)
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    organization = _organization(request)
    token = get_for_org_or_404(ApiToken.objects.all(), organization, pk=pk)
    if tokens.revoke_token(actor=request.user, token=token):
        messages.success(request, _("Token revoked: it opens nothing any more."))
    return redirect("api_manage:tokens", organization.slug)


# --- Settings --------------------------------------------------------------------------


@organization_view(MANAGE)
def settings_page(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    current = manage.settings_of(organization)
    form = SettingsForm(
        request.POST if request.method == "POST" else None,
        initial={"public_helpers": current.public_helpers},
    )
    if request.method == "POST" and form.is_valid():
        manage.set_public_helpers(
            actor=request.user,
            organization=organization,
            enabled=form.cleaned_data["public_helpers"],
        )
        messages.success(request, _("API settings saved."))
        return redirect("api_manage:api_settings", organization.slug)
    context = {"form": form, "settings": current, "tab": "settings"}
    return render(request, "api/settings.html", context, status=400 if form.is_bound else 200)


# --- Webhooks --------------------------------------------------------------------------


@organization_view(MANAGE)
def webhook_list(request: HttpRequest) -> HttpResponse:
    endpoints = WebhookEndpoint.objects.for_org(_organization(request)).select_related("created_by")
    labels = webhooks.EVENT_TYPES
    rows = [(e, [labels.get(t, t) for t in e.event_types or []]) for e in endpoints]
    # What the page promises is what the retries add up to (about 15 hours).
    retry_hours = round(sum(webhooks.RETRY_DELAYS) / 3600)
    context = {"endpoints": rows, "retry_hours": retry_hours, "tab": "webhooks"}
    return render(request, "api/webhooks.html", context)


@never_cache
@organization_view(MANAGE)
def webhook_new(request: HttpRequest) -> HttpResponse:
    def create(data: dict[str, Any]) -> dict[str, Any]:
        made = manage.create_endpoint(
            actor=request.user,
            organization=_organization(request),
            url=data["url"],
            event_types=data["event_types"],
        )
        return {"endpoint": made.endpoint, "secret": made.secret}

    form = EndpointForm(request.POST if request.method == "POST" else None)
    return _create_page(
        request, form, create, "api/webhook_form.html", "api/webhook_created.html", tab="webhooks"
    )


@organization_view(MANAGE)
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    deliveries = endpoint.deliveries.order_by("-pk")
    before = request.GET.get("before", "")
    if is_row_id(before):
        deliveries = deliveries.filter(pk__lt=int(before))
    page = list(deliveries[: LOG_PAGE + 1])
    labels = webhooks.EVENT_TYPES
    context = {
        "endpoint": endpoint,
        "events": [labels.get(t, t) for t in endpoint.event_types or []],
        # Each row with its last error in the reader's language (stored as a code).
        "deliveries": [(row, webhooks.shown_error(row.last_error)) for row in page[:LOG_PAGE]],
        "older": page[LOG_PAGE - 1].pk if len(page) > LOG_PAGE else None,
        "tab": "webhooks",
    }
    return render(request, "api/webhook_detail.html", context)


def _to_endpoint(endpoint: WebhookEndpoint) -> HttpResponse:
    return redirect("api_manage:webhook", endpoint.organization.slug, endpoint.pk)


@organization_view(MANAGE)
@require_POST
def webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    if not endpoint.is_active:
        messages.error(request, _("Switch the endpoint on to send it a test event."))
        return _to_endpoint(endpoint)
    webhooks.send_test(actor=request.user, endpoint=endpoint)
    messages.success(request, _("Test event queued: its delivery is at the top of the log."))
    return _to_endpoint(endpoint)


@organization_view(MANAGE)
@require_POST
def webhook_active(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    active = request.POST.get("active") == "1"
    if manage.set_endpoint_active(actor=request.user, endpoint=endpoint, active=active):
        messages.success(
            request, _("Endpoint switched on.") if active else _("Endpoint switched off.")
        )
    return _to_endpoint(endpoint)


@organization_view(MANAGE)
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = _endpoint(request, pk)
    manage.delete_endpoint(actor=request.user, endpoint=endpoint)
    messages.success(request, _("Endpoint deleted, with its delivery log."))
    return redirect("api_manage:webhooks", _organization(request).slug)


@organization_view(MANAGE)
@require_POST
def delivery_replay(request: HttpRequest, pk: int) -> HttpResponse:
    rows = WebhookDelivery.objects.select_related("endpoint__organization")
    delivery = get_for_org_or_404(rows, _organization(request), pk=pk)
    if webhooks.replay(actor=request.user, delivery=delivery):
        messages.success(request, _("Sending it again now, with the same event id."))
    else:
        messages.info(request, _("It is being sent right now; try again in a minute."))
    return _to_endpoint(delivery.endpoint)


def _routes() -> list[Any]:
    return [
        path(PREFIX, token_list, name="tokens"),
        path(PREFIX + "tokens/new/", token_new, name="token_new"),
        path(PREFIX + "tokens/<int:pk>/revoke/", token_revoke, name="token_revoke"),
        path(PREFIX + "settings/", settings_page, name="api_settings"),
        path(PREFIX + "webhooks/", webhook_list, name="webhooks"),
        path(PREFIX + "webhooks/new/", webhook_new, name="webhook_new"),
        path(PREFIX + "webhooks/<int:pk>/", webhook_detail, name="webhook"),
        path(PREFIX + "webhooks/<int:pk>/test/", webhook_test, name="webhook_test"),
        path(PREFIX + "webhooks/<int:pk>/active/", webhook_active, name="webhook_active"),
        path(PREFIX + "webhooks/<int:pk>/delete/", webhook_delete, name="webhook_delete"),
        path(
            PREFIX + "webhooks/deliveries/<int:pk>/replay/",
            delivery_replay,
            name="delivery_replay",
        ),
    ]


urlpatterns = _routes()
