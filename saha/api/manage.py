"""Services behind the organizer's API pages: the API settings and the webhook endpoints.

Tokens have theirs in `saha.api.tokens`; sending and replaying deliveries in
`saha.api.webhooks`. Every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from saha.api import webhooks
from saha.api.models import ApiSettings, WebhookEndpoint
from saha.core import audit
from saha.core.errors import DomainError
from saha.organizations.models import Organization


def settings_of(organization: Organization) -> ApiSettings:
    found, _created = ApiSettings.objects.get_or_create(organization=organization)
    return found


def set_public_helpers(*, actor: Any, organization: Organization, enabled: bool) -> ApiSettings:
    with transaction.atomic():
        current = settings_of(organization)
        if current.public_helpers != enabled:
            ApiSettings.objects.filter(pk=current.pk).update(public_helpers=enabled)
            current.public_helpers = enabled
            audit.log(
                actor,
                "api.settings.changed",
                current,
                {"public_helpers": enabled},
                organization=organization,
            )
    return current


@dataclass(frozen=True)
class NewEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once on the page; kept on the row only to sign


def check_url(url: str) -> None:
    """DomainError `webhook_url_refused` for an address deliveries may not go to."""
    try:
        webhooks.check_url(url)
    except webhooks.WebhookError as error:
        raise DomainError("webhook_url_refused", error.message) from error


def create_endpoint(
    *, actor: Any, organization: Organization, url: str, event_types: list[str]
) -> NewEndpoint:
    url = url.strip()
    if len(url) > 500:
        raise DomainError("webhook_url_refused", _("This address is too long."))
    check_url(url)
    chosen = [name for name in webhooks.EVENT_TYPES if name in set(event_types)]
    if not chosen or len(chosen) != len(set(event_types)):
        raise DomainError("unknown_event_type", _("Choose events from the list."))
    secret = webhooks.new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.create(
            organization=organization,
            url=url,
            secret=secret,
            event_types=chosen,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit.log(actor, "api.webhook.created", endpoint, {"events": chosen})
    return NewEndpoint(endpoint=endpoint, secret=secret)


def set_endpoint_active(*, actor: Any, endpoint: WebhookEndpoint, active: bool) -> bool:
    changed = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=not active).update(
        is_active=active
    )
    if changed:
        endpoint.is_active = active
        action = "api.webhook.activated" if active else "api.webhook.deactivated"
        audit.log(actor, action, endpoint)
    return bool(changed)


def delete_endpoint(*, actor: Any, endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log; what was sent stays sent."""
    with transaction.atomic():
        audit.log(actor, "api.webhook.deleted", endpoint, {"url": endpoint.url[:200]})
        endpoint.delete()
