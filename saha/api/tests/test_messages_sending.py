"""The schedule and send helpers: a token asks to send as a member would, and
never skips the approval the organization requires."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_messages import EMAIL, created, draft
from saha.core.models import AuditEntry
from saha.messaging import broadcasts
from saha.messaging.models import Broadcast, BroadcastStatus, Delivery, MessagingSettings
from saha.messaging.tests.factories import recipient


def later(**delta: Any) -> str:
    return (timezone.now() + dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def requires_approval(organization: Any) -> None:
    MessagingSettings.objects.create(organization=organization, broadcast_requires_approval=True)


def test_send_starts_a_draft_through_the_service(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    response = api.post(f"/api/v2/messages/{broadcast.uuid}/send", {})
    assert response.status_code == 200
    body = response.json()
    assert body["message"]
    assert (body["status"], body["saha:status"]) == ("sending", "preparing")
    assert body["saha:approval_required"] is False
    assert body["_links"]["self"]["href"].endswith(f"/api/v2/messages/{broadcast.uuid}")
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.PREPARING
    entry = AuditEntry.objects.get(action="messaging.broadcast.sent")
    assert entry.actor_label.startswith("api:test token")


def test_send_where_approval_is_required_waits_for_an_admin(
    api: ApiClient, org_a: Any, admin: Any
) -> None:
    requires_approval(org_a)
    broadcast = draft(org_a)
    body = api.post(f"/api/v2/messages/{broadcast.uuid}/send").json()
    assert (body["status"], body["saha:status"]) == ("scheduled", "awaiting")
    assert body["saha:approval_required"] is True
    assert AuditEntry.objects.filter(action="messaging.broadcast.approval_requested").exists()
    assert not AuditEntry.objects.filter(action="messaging.broadcast.sent").exists()
    # asking again changes nothing: only an owner or admin lets it go
    assert api.post(f"/api/v2/messages/{broadcast.uuid}/send").json()["code"] == "not_draft"
    broadcast.refresh_from_db()
    broadcasts.approve(actor=admin.user, broadcast=broadcast)
    assert api.get(f"/api/v2/messages/{broadcast.uuid}").json()["saha:status"] == "preparing"


def test_send_of_a_message_no_longer_a_draft_is_409(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    assert api.post(f"/api/v2/messages/{broadcast.uuid}/send").status_code == 200
    again = api.post(f"/api/v2/messages/{broadcast.uuid}/send/")
    assert again.status_code == 409
    assert again.json()["code"] == "not_draft"
    assert AuditEntry.objects.filter(action="messaging.broadcast.sent").count() == 1


def test_send_of_a_message_not_ready_is_400(api: ApiClient, org_a: Any) -> None:
    body = created(api, {**EMAIL, "saha:language": "en"})
    Broadcast.objects.update(fallback_language="fr")  # its fallback version is missing
    response = api.post(f"{body['_links']['osdi:send_helper']['href']}", {})
    assert response.status_code == 400
    assert response.json()["code"] == "not_ready"
    assert Broadcast.objects.get().status == BroadcastStatus.DRAFT


def test_schedule_sets_the_time_in_utc(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    when = later(days=2)
    response = api.post(
        f"/api/v2/messages/{broadcast.uuid}/schedule", {"scheduled_start_date": when}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["saha:status"]) == ("scheduled", "scheduled")
    shown = api.get(f"/api/v2/messages/{broadcast.uuid}").json()
    assert shown["scheduled_start_date"] == when


def test_a_time_without_an_offset_is_utc(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    naive = (timezone.now() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    api.post(f"/api/v2/messages/{broadcast.uuid}/schedule", {"scheduled_start_date": naive})
    broadcast.refresh_from_db()
    assert broadcast.scheduled_for == dt.datetime.fromisoformat(naive).replace(tzinfo=dt.UTC)


def test_schedule_where_approval_is_required_waits_and_keeps_the_time(
    api: ApiClient, org_a: Any
) -> None:
    requires_approval(org_a)
    broadcast = draft(org_a)
    when = later(hours=5)
    body = api.post(
        f"/api/v2/messages/{broadcast.uuid}/schedule", {"scheduled_start_date": when}
    ).json()
    assert body["saha:status"] == "awaiting"
    assert body["saha:approval_required"] is True
    assert api.get(f"/api/v2/messages/{broadcast.uuid}").json()["scheduled_start_date"] == when


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({}, "required"),
        ({"scheduled_start_date": None}, "null"),
        ({"scheduled_start_date": "tomorrow"}, "invalid"),
        ({"scheduled_start_date": "2001-01-01T00:00:00Z"}, "past"),
        ({"scheduled_start_date": "9999-12-31T23:59:59Z"}, "too_far"),
        ({"scheduled_start_date": "10000-01-01T00:00:00Z"}, "invalid"),
        ({"scheduled_start_date": 12345}, "invalid"),
        ([], "invalid"),
    ],
)
def test_a_bad_schedule_is_400(api: ApiClient, org_a: Any, data: Any, code: str) -> None:
    broadcast = draft(org_a)
    response = api.post(f"/api/v2/messages/{broadcast.uuid}/schedule", data)
    assert response.status_code == 400
    assert response.json()["code"] == code
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.DRAFT


def test_schedule_of_a_message_no_longer_a_draft_is_409(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    api.post(f"/api/v2/messages/{broadcast.uuid}/send")
    response = api.post(
        f"/api/v2/messages/{broadcast.uuid}/schedule", {"scheduled_start_date": later(days=1)}
    )
    assert (response.status_code, response.json()["code"]) == (409, "not_draft")


def test_deleting_the_schedule_returns_the_message_to_draft(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    path = f"/api/v2/messages/{broadcast.uuid}/schedule"
    api.post(path, {"scheduled_start_date": later(days=1)})
    response = api.delete(path)
    assert response.status_code == 200
    assert response.json()["saha:status"] == "draft"
    assert AuditEntry.objects.filter(action="messaging.broadcast.returned_to_draft").exists()
    again = api.delete(path)
    assert (again.status_code, again.json()["code"]) == (409, "not_scheduled")


def test_deleting_the_send_stops_a_message_going_out(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    path = f"/api/v2/messages/{broadcast.uuid}/send"
    early = api.delete(path)
    assert (early.status_code, early.json()["code"]) == (409, "not_sending")
    api.post(path)
    response = api.delete(path)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["saha:status"]) == (
        "canceled",
        "cancelled",
    )
    assert AuditEntry.objects.filter(action="messaging.broadcast.cancelled").exists()


def test_a_read_token_cannot_send_or_schedule(org_a: Any, make_api: Any) -> None:
    broadcast = draft(org_a)
    reader = make_api(org_a, scope_list=["messages:read"])
    for response in (
        reader.post(f"/api/v2/messages/{broadcast.uuid}/send"),
        reader.post(
            f"/api/v2/messages/{broadcast.uuid}/schedule", {"scheduled_start_date": later(days=1)}
        ),
        reader.put(f"/api/v2/messages/{broadcast.uuid}", {"name": "x"}),
    ):
        assert (response.status_code, response.json()["code"]) == (403, "missing_scope")
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.DRAFT


def test_a_message_sent_through_the_api_reaches_its_audience(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    recipient(org_a, email="rana@example.org")
    recipient(org_a, email="sam@example.org")
    body = created(api, EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(body["_links"]["osdi:send_helper"]["href"])
    assert Delivery.objects.count() == 2
    broadcasts.finish_all()
    shown = api.get(body["_links"]["self"]["href"]).json()
    assert shown["total_targeted"] == 2
    assert shown["statistics"]["sent"] == 2
    assert (shown["status"], shown["saha:status"]) == ("sent", "sent")
    assert shown["sent_start_date"].endswith("Z")
