"""`?background_request=true`: the write is queued, the call answers `200 {}`, and
the worker runs the same function the request would have (tests run the task
backend immediately, once the transaction commits)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from saha.api import background
from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_messages import EMAIL, created, draft
from saha.core.models import AuditEntry
from saha.messaging.models import Broadcast, BroadcastStatus

QUEUED = "?background_request=true"


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    ignored = {"identifiers", "created_date", "modified_date", "_links"}
    return {key: value for key, value in body.items() if key not in ignored}


def test_a_queued_create_answers_200_empty_and_lands_like_the_direct_call(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    data = {
        **EMAIL,
        "saha:language": "en",
        "saha:versions": [{"language": "fr", "body": "Oui", "subject": "S"}],
    }
    direct = created(api, data)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.post(f"/api/v2/messages{QUEUED}", data)
    assert response.status_code == 200
    assert response.json() == {}
    assert len(callbacks) >= 1
    queued = Broadcast.objects.exclude(uuid=direct["identifiers"][0].split(":")[1]).get()
    shown = api.get(f"/api/v2/messages/{queued.uuid}").json()
    assert _comparable(shown) == _comparable(direct)
    actions = list(
        AuditEntry.objects.filter(action__startswith="messaging.").values_list(
            "action", "actor_label"
        )
    )
    # the same audit rows, twice, under the token's name
    assert sorted(actions[: len(actions) // 2]) == sorted(actions[len(actions) // 2 :])
    assert all(label.startswith("api:test token") for _action, label in actions)


def test_nothing_is_written_before_the_transaction_commits(
    api: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert api.post(f"/api/v2/messages{QUEUED}", EMAIL).json() == {}
    assert len(callbacks) == 1
    assert not Broadcast.objects.exists()


@pytest.mark.parametrize("flag", ["true", "True", "1"])
def test_the_flag_is_read_in_any_case(
    api: ApiClient, flag: str, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v2/messages?background_request={flag}", EMAIL).json() == {}
    assert Broadcast.objects.count() == 1


def test_any_other_value_runs_the_write_in_the_request(api: ApiClient) -> None:
    response = api.post("/api/v2/messages?background_request=false", EMAIL)
    assert response.json()["status"] == "draft"


def test_queued_update_schedule_and_send(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broadcast = draft(org_a)
    path = f"/api/v2/messages/{broadcast.uuid}"
    when = (timezone.now() + dt.timedelta(days=1)).replace(microsecond=0)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.put(f"{path}{QUEUED}", {"name": "Renamed"}).json() == {}
    broadcast.refresh_from_db()
    assert broadcast.name == "Renamed"
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{path}/schedule{QUEUED}", {"scheduled_start_date": when.isoformat()})
    assert response.json() == {}
    broadcast.refresh_from_db()
    assert (broadcast.status, broadcast.scheduled_for) == (BroadcastStatus.SCHEDULED, when)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"{path}/schedule{QUEUED}").json() == {}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"{path}/send{QUEUED}").json() == {}
    broadcast.refresh_from_db()
    assert broadcast.status in (BroadcastStatus.SENDING, BroadcastStatus.SENT)


def refusals() -> list[dict[str, Any]]:
    return list(
        AuditEntry.objects.filter(action="api.background.refused").values_list("data", flat=True)
    )


def test_a_refused_queued_write_leaves_an_audit_row(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broadcast = draft(org_a)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENT)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v2/messages/{broadcast.uuid}/send{QUEUED}")
    assert (response.status_code, response.json()) == (200, {})
    assert refusals() == [{"write": "messages.send", "code": "not_draft"}]
    entry = AuditEntry.objects.get(action="api.background.refused")
    assert entry.actor_label.startswith("api:test token")
    assert entry.organization == org_a


@pytest.mark.parametrize(
    ("path", "data", "code"),
    [
        # the refusal keeps the code a direct call would have answered
        ("/api/v2/messages", {"subject": "No body"}, "body_required"),
        ("/api/v2/messages", ["not", "an", "object"], "invalid"),
    ],
)
def test_bad_queued_input_is_refused_in_the_worker(
    api: ApiClient, django_capture_on_commit_callbacks: Any, path: str, data: Any, code: str
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"{path}{QUEUED}", data).json() == {}
    assert refusals()[0]["code"] == code
    assert not Broadcast.objects.exists()


def test_an_unknown_or_another_organizations_message_is_404_before_queueing(
    api_b: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broadcast = draft(org_a)
    for message_id in (broadcast.uuid, "4d1b7d2c-53a3-4c52-9d3c-3f1f7f1f7f1f"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = api_b.post(f"/api/v2/messages/{message_id}/send{QUEUED}")
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
        assert not callbacks
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.DRAFT


def test_a_write_not_registered_cannot_be_queued(org_a: Any) -> None:
    with pytest.raises(KeyError):
        background.enqueue("nothing.here", organization=org_a, actor="x", data={})


def test_a_queued_write_of_an_organization_gone_does_nothing(org_a: Any) -> None:
    pk = org_a.pk
    result = background.run_write.call("messages.create", pk + 1000, "api:x", EMAIL, {})
    assert result == "organization gone"
    assert not Broadcast.objects.exists()
