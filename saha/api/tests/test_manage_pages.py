"""The organizer's API pages: tokens (the secret shown once), the API settings, webhook
endpoints with their delivery log, test event and replay. Only members with api.manage
get in; another organization's rows are 404."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saha.api import manage, scopes
from saha.api.models import ApiSettings, ApiToken, DeliveryState, WebhookDelivery, WebhookEndpoint
from saha.api.tests.conftest import Receiver, make_delivery, make_endpoint
from saha.api.tokens import create_token, find_token
from saha.core.models import AuditEntry

SECRET = re.compile(r"saha_[A-Za-z0-9_-]{40,}")
WEBHOOK_SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{30,}")


def base(organization: Any) -> str:
    return f"/manage/{organization.slug}/api/"


@pytest.fixture
def allow_private(settings: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True


# --- Tokens --------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_works(owner: Any, english: None) -> None:
    client = owner.client()
    page = client.get(base(owner.organization) + "tokens/new/")
    assert page.status_code == 200
    # when the owner creates a token that may read people and write events
    made = client.post(
        base(owner.organization) + "tokens/new/",
        {"name": "Sync script", "scopes": ["people:read", "events:write"]},
    )
    # then the answer shows the secret, not cached, and it opens the API
    assert made.status_code == 200
    assert "no-store" in made["Cache-Control"]
    [secret] = set(SECRET.findall(made.content.decode()))
    token = find_token(secret)
    assert token is not None and token.organization == owner.organization
    assert token.scopes == ["people:read", "events:write"] and token.created_by == owner.user
    assert AuditEntry.objects.filter(action="api.token.created", actor=owner.user).exists()
    # and never again: the list names it by its prefix only
    listing = client.get(base(owner.organization))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "Sync script" in body and token.prefix in body and secret not in body


def test_a_token_needs_a_name_and_a_known_scope(owner: Any) -> None:
    client = owner.client()
    url = base(owner.organization) + "tokens/new/"
    assert client.post(url, {"name": " ", "scopes": ["people:read"]}).status_code == 400
    assert client.post(url, {"name": "x", "scopes": ["people:admin"]}).status_code == 400
    assert client.post(url, {"name": "x"}).status_code == 400
    assert client.post(url, {"name": "x" * 101, "scopes": ["people:read"]}).status_code == 400
    assert not ApiToken.objects.exists()


def test_revoking_a_token_closes_it(owner: Any) -> None:
    made = create_token(actor="test", organization=owner.organization, name="old")
    client = owner.client()
    url = base(owner.organization) + f"tokens/{made.token.pk}/revoke/"
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 302
    assert find_token(made.secret) is None
    assert AuditEntry.objects.filter(action="api.token.revoked", actor=owner.user).count() == 1
    assert client.post(url).status_code == 302  # twice: nothing more happens
    assert AuditEntry.objects.filter(action="api.token.revoked").count() == 1


def test_only_members_who_manage_the_api_get_in(organizer: Any, admin: Any) -> None:
    made = create_token(actor="test", organization=organizer.organization, name="t")
    client = organizer.client()
    for path in ("", "tokens/new/", "settings/", "webhooks/", "webhooks/new/"):
        assert client.get(base(organizer.organization) + path).status_code == 403, path
    revoke = base(organizer.organization) + f"tokens/{made.token.pk}/revoke/"
    assert client.post(revoke).status_code == 403
    assert find_token(made.secret) is not None
    assert admin.client().get(base(admin.organization)).status_code == 200


def test_another_organizations_token_is_404(owner: Any, outsider: Any) -> None:
    theirs = create_token(actor="test", organization=outsider.organization, name="b")
    url = base(owner.organization) + f"tokens/{theirs.token.pk}/revoke/"
    assert owner.client().post(url).status_code == 404
    assert find_token(theirs.secret) is not None


def test_the_token_list_costs_the_same_for_many_tokens(owner: Any) -> None:
    client = owner.client()
    create_token(actor=owner.user, organization=owner.organization, name="one")
    client.get(base(owner.organization))  # the session's first visit writes it once
    with CaptureQueriesContext(connection) as one:
        assert client.get(base(owner.organization)).status_code == 200
    for n in range(10):
        create_token(actor=owner.user, organization=owner.organization, name=f"t{n}")
    with CaptureQueriesContext(connection) as many:
        assert client.get(base(owner.organization)).status_code == 200
    assert len(many) == len(one)


# --- Settings ------------------------------------------------------------------------


def test_public_helpers_are_switched_on_and_off(owner: Any) -> None:
    client = owner.client()
    url = base(owner.organization) + "settings/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"public_helpers": "on"}).status_code == 302
    assert ApiSettings.objects.get(organization=owner.organization).public_helpers
    assert client.post(url, {}).status_code == 302
    assert not ApiSettings.objects.get(organization=owner.organization).public_helpers
    changes = AuditEntry.objects.filter(action="api.settings.changed").order_by("pk")
    assert [entry.data["public_helpers"] for entry in changes] == [True, False]


# --- Webhooks ------------------------------------------------------------------------


def test_an_endpoint_is_made_with_its_secret_shown_once(
    owner: Any,
    allow_private: None,
    receiver: Receiver,
) -> None:
    client = owner.client()
    made = client.post(
        base(owner.organization) + "webhooks/new/",
        {"url": receiver.url, "event_types": ["person.created", "signature.created"]},
    )
    assert made.status_code == 200 and "no-store" in made["Cache-Control"]
    [secret] = set(WEBHOOK_SECRET.findall(made.content.decode()))
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == secret and endpoint.created_by == owner.user
    assert endpoint.event_types == ["person.created", "signature.created"]
    detail = client.get(base(owner.organization) + f"webhooks/{endpoint.pk}/")
    assert detail.status_code == 200 and secret not in detail.content.decode()
    assert secret not in client.get(base(owner.organization) + "webhooks/").content.decode()


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1/hook", "http://localhost/x", "http://[::1]/x", "ftp://example.org/x"],
)
def test_an_endpoint_on_a_private_address_is_refused_on_the_form(
    owner: Any, settings: Any, url: str
) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = False
    response = owner.client().post(
        base(owner.organization) + "webhooks/new/", {"url": url, "event_types": ["test"]}
    )
    assert response.status_code == 400
    response = owner.client().post(
        base(owner.organization) + "webhooks/new/",
        {"url": url, "event_types": ["person.created"]},
    )
    assert response.status_code == 400
    assert "url" in response.context["form"].errors
    assert not WebhookEndpoint.objects.exists()


def test_a_test_event_is_sent_and_logged_then_replayed(
    owner: Any,
    allow_private: None,
    receiver: Receiver,
    english: None,
    django_capture_on_commit_callbacks: Any,
) -> None:
    endpoint = make_endpoint(owner.organization, receiver.url)
    client = owner.client()
    page = base(owner.organization) + f"webhooks/{endpoint.pk}/"
    # when the owner presses "send a test event" (tasks run at once in tests)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(page + "test/")
    assert response.status_code == 302 and response["Location"] == page
    [got] = receiver.received
    assert got.headers["Saha-Event"] == "test"
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED
    # then the log shows it, with its state and answer
    log = client.get(page).content.decode()
    assert f'id="delivery-{delivery.pk}"' in log and "HTTP 200" in log
    # and "send again" sends the same event id
    replay = base(owner.organization) + f"webhooks/deliveries/{delivery.pk}/replay/"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(replay).status_code == 302
    assert [r.headers["Saha-Delivery"] for r in receiver.received] == [str(delivery.event_id)] * 2
    delivery.refresh_from_db()
    assert delivery.attempts == 2


def test_an_endpoint_is_switched_off_on_and_deleted(owner: Any, allow_private: None) -> None:
    endpoint = make_endpoint(owner.organization, "http://127.0.0.1:9/x")
    make_delivery(endpoint)
    client = owner.client()
    page = base(owner.organization) + f"webhooks/{endpoint.pk}/"
    assert client.post(page + "active/", {"active": "0"}).status_code == 302
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert client.post(page + "test/").status_code == 302  # refused: switched off
    assert WebhookDelivery.objects.filter(event_type="test").count() == 0
    assert client.post(page + "active/", {"active": "1"}).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert client.post(page + "delete/").status_code == 302
    assert not WebhookEndpoint.objects.exists() and not WebhookDelivery.objects.exists()
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"api.webhook.deactivated", "api.webhook.activated", "api.webhook.deleted"} <= actions


def test_another_organizations_endpoint_and_delivery_are_404(
    owner: Any, outsider: Any, allow_private: None
) -> None:
    theirs = make_endpoint(outsider.organization, "http://127.0.0.1:9/x")
    delivery = make_delivery(theirs)
    client = owner.client()
    mine = base(owner.organization)
    assert client.get(mine + f"webhooks/{theirs.pk}/").status_code == 404
    assert client.post(mine + f"webhooks/{theirs.pk}/delete/").status_code == 404
    assert client.post(mine + f"webhooks/deliveries/{delivery.pk}/replay/").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs.pk).exists()


def test_the_delivery_log_costs_the_same_for_many_deliveries_and_pages(
    owner: Any, allow_private: None
) -> None:
    endpoint = make_endpoint(owner.organization, "http://127.0.0.1:9/x")
    make_delivery(endpoint)
    client = owner.client()
    page = base(owner.organization) + f"webhooks/{endpoint.pk}/"
    client.get(page)  # the session's first visit writes it once
    with CaptureQueriesContext(connection) as one:
        assert client.get(page).status_code == 200
    for _ in range(60):
        make_delivery(endpoint)
    with CaptureQueriesContext(connection) as many:
        response = client.get(page)
    assert len(many) == len(one)
    assert len(response.context["deliveries"]) == 50
    older = client.get(page, {"before": response.context["older"]})
    assert len(older.context["deliveries"]) == 11
    assert client.get(page, {"before": "nonsense"}).status_code == 200


def test_the_pages_speak_arabic(owner: Any, allow_private: None) -> None:
    endpoint = make_endpoint(owner.organization, "http://127.0.0.1:9/x")
    make_delivery(endpoint)
    client = owner.client()
    for path in ("", "tokens/new/", "settings/", "webhooks/", f"webhooks/{endpoint.pk}/"):
        response = client.get(base(owner.organization) + path, {"lang": "ar"})
        assert response.status_code == 200, path
        assert '<html lang="ar" dir="rtl"' in response.content.decode(), path


def test_every_scope_has_a_checkbox(owner: Any) -> None:
    body = owner.client().get(base(owner.organization) + "tokens/new/").content.decode()
    for scope in scopes.ALL_SCOPES:
        assert f'value="{scope}"' in body


def test_the_nav_links_the_api_for_those_who_manage_it(owner: Any, organizer: Any) -> None:
    link = f'href="{base(owner.organization)}"'
    dashboard = f"/manage/{owner.organization.slug}/"
    assert link in owner.client().get(dashboard).content.decode()
    assert link not in organizer.client().get(dashboard).content.decode()


def test_services_refuse_unknown_events(owner: Any, allow_private: None) -> None:
    from saha.core.errors import DomainError

    with pytest.raises(DomainError) as refused:
        manage.create_endpoint(
            actor="t", organization=owner.organization, url="http://127.0.0.1/", event_types=["x"]
        )
    assert refused.value.code == "unknown_event_type"
