"""GET, POST and PUT /messages: broadcasts as Action Network's messages."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saha.api import hal
from saha.api.tests.conftest import ApiClient
from saha.core.models import AuditEntry
from saha.messaging import broadcasts
from saha.messaging.broadcasts import BroadcastData
from saha.messaging.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    MessagingSettings,
    Priority,
)
from saha.messaging.tests.factories import recipient
from saha.supporters.models import Channel, Segment
from saha.supporters.subject import save_segment

EMAIL = {"subject": "Saturday's rally", "body": "Meet us at the square at 10."}
LATER = "?background_request=true"


def segment(organization: Any, name: str = "Arabic speakers", **definition: Any) -> Segment:
    return save_segment(
        actor=None,
        organization=organization,
        name=name,
        definition=definition or {"language": ["ar"]},
    )


def draft(organization: Any, *, channel: str = Channel.EMAIL, name: str = "Rally") -> Broadcast:
    """A draft written on the organizer pages (by nobody in particular)."""
    data = BroadcastData(name=name, channel=channel, segment=None, fallback_language="en")
    broadcast = broadcasts.create_broadcast(actor=None, organization=organization, data=data)
    broadcasts.save_version(
        actor=None,
        broadcast=broadcast,
        language="en",
        subject="Come" if channel == Channel.EMAIL else "",
        body="Saturday at 10.",
    )
    return broadcast


def created(api: ApiClient, data: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v2/messages", data)
    assert response.status_code == 200, response.json()
    return response.json()


def uuid_of(body: dict[str, Any]) -> str:
    return body["identifiers"][0].split(":", 1)[1]


# --- creating ------------------------------------------------------------------------


def test_posting_a_message_creates_a_draft_broadcast_through_the_service(
    api: ApiClient, org_a: Any
) -> None:
    body = created(api, {**EMAIL, "from": "ignored", "reply_to": "ignored@example.org"})
    broadcast = Broadcast.objects.get(uuid=uuid_of(body))
    assert broadcast.organization == org_a
    assert broadcast.status == BroadcastStatus.DRAFT
    assert broadcast.created_by is None  # a token is nobody's account
    assert broadcast.name == "Saturday's rally"
    assert broadcast.fallback_language == org_a.default_language
    version = broadcast.versions.get()
    assert (version.language, version.subject, version.body) == (
        org_a.default_language,
        EMAIL["subject"],
        EMAIL["body"],
    )
    entry = AuditEntry.objects.get(action="messaging.broadcast.created")
    assert entry.actor_label.startswith("api:test token")


def test_a_message_shows_as_action_network_does_with_our_additions(
    api: ApiClient, org_a: Any
) -> None:
    MessagingSettings.objects.create(
        organization=org_a, from_name="The Square", reply_to="team@example.org"
    )
    arabic = segment(org_a)
    recipient(org_a, email="rana@example.org", language="ar")
    recipient(org_a, email="sam@example.org", language="en")
    body = created(
        api,
        {
            **EMAIL,
            "name": "Rally call",
            "saha:language": "en",
            "saha:versions": [{"language": "ar", "subject": "المسيرة", "body": "السبت"}],
            "targets": [{"href": f"https://elsewhere.example/api/v2/queries/{arabic.uuid}"}],
        },
    )
    message_id = uuid_of(body)
    assert body["identifiers"] == [f"saha:{message_id}", f"action_network:{message_id}"]
    assert body["created_date"].endswith("Z") and body["modified_date"].endswith("Z")
    assert (body["name"], body["subject"], body["body"]) == ("Rally call", *EMAIL.values())
    assert body["saha:versions"] == [
        {"language": "ar", "subject": "المسيرة", "body": "السبت"},
        {"language": "en", **EMAIL},
    ]
    assert (body["from"], body["reply_to"]) == ("The Square", "team@example.org")
    assert (body["type"], body["channel"]) == ("email", "email")
    assert (body["status"], body["saha:status"]) == ("draft", "draft")
    assert body["targets"] == [{"href": hal.url(f"queries/{arabic.uuid}")}]
    assert body["total_targeted"] == 1  # the one who speaks Arabic and agreed
    assert body["statistics"]["sent"] == 0
    links = body["_links"]
    assert links["self"]["href"].endswith(f"/api/v2/messages/{message_id}")
    assert links["osdi:schedule_helper"]["href"].endswith(f"/messages/{message_id}/schedule")
    assert links["osdi:send_helper"]["href"].endswith(f"/messages/{message_id}/send")
    assert links["curies"][0]["name"] == "osdi"
    assert api.get(links["self"]["href"]).json() == body


def test_an_sms_has_no_subject_and_comes_from_the_sms_sender(api: ApiClient, org_a: Any) -> None:
    MessagingSettings.objects.create(organization=org_a, sms_sender="SAHA")
    body = created(api, {"type": "sms", "body": "Rally at 10.", "subject": "dropped"})
    assert body["type"] == "sms"
    assert "subject" not in body
    assert body["from"] == "SAHA"
    assert Broadcast.objects.get().versions.get().subject == ""


def test_the_sender_defaults_to_the_organizations_name(api: ApiClient, org_a: Any) -> None:
    body = created(api, EMAIL)
    assert body["from"] == org_a.name
    assert "reply_to" not in body


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({}, "body_required"),
        ({"subject": "Only a subject"}, "body_required"),
        ({"body": "No subject for an email"}, "subject_required"),
        ({**EMAIL, "body": "   "}, "body_required"),
        ({**EMAIL, "body": "Hello {{ shoe_size }}"}, "unknown_field"),
        ({**EMAIL, "type": "pigeon"}, "invalid_choice"),
        ({**EMAIL, "saha:language": "xx"}, "invalid_choice"),
        ({**EMAIL, "saha:purpose": "nonsense"}, "invalid_choice"),
        ({**EMAIL, "body": None}, "null"),
        ({**EMAIL, "body": ["a", "list"]}, "invalid"),
        ({**EMAIL, "subject": {"an": "object"}}, "invalid"),
        ({**EMAIL, "body": "x" * 60_000}, "max_length"),
        ({**EMAIL, "name": "n" * 201}, "max_length"),
        ({**EMAIL, "targets": [{"href": "a"}, {"href": "b"}]}, "one_target_only"),
        ({**EMAIL, "targets": [{"href": "not a query"}]}, "unknown_query"),
        ({**EMAIL, "targets": "everyone"}, "not_a_list"),
        ({**EMAIL, "targets": [{"nohref": 1}]}, "required"),
        ({**EMAIL, "saha:versions": [{"language": "fr"}]}, "body_required"),
        ({**EMAIL, "saha:versions": [{"language": "fr", "body": None}]}, "body_required"),
        (
            {**EMAIL, "saha:language": "en", "saha:versions": [{"language": "en", "body": "x"}]},
            "duplicate_language",
        ),
    ],
)
def test_bad_input_is_400_with_a_code(
    api: ApiClient, org_a: Any, data: dict[str, Any], code: str
) -> None:
    response = api.post("/api/v2/messages", data)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Broadcast.objects.exists()


@pytest.mark.parametrize("raw", ["[]", '"text"', "null", "42", "{not json"])
def test_a_body_that_is_not_an_object_is_400(api: ApiClient, raw: str) -> None:
    response = api.post("/api/v2/messages", raw)
    assert response.status_code == 400
    assert response.json()["code"]


def test_a_message_cannot_target_another_organizations_query(api: ApiClient, org_b: Any) -> None:
    theirs = segment(org_b)
    response = api.post("/api/v2/messages", {**EMAIL, "targets": [{"href": str(theirs.uuid)}]})
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_query"
    assert not Broadcast.objects.exists()


def test_a_read_token_cannot_create(api: ApiClient, org_a: Any, make_api: Any) -> None:
    reader = make_api(org_a, scope_list=["messages:read"])
    response = reader.post("/api/v2/messages", EMAIL)
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert reader.get("/api/v2/messages").status_code == 200
    assert make_api(org_a, scope_list=["queries:write"]).get("/api/v2/messages").status_code == 403


# --- changing a draft --------------------------------------------------------------------


def test_put_merges_what_is_given_and_keeps_the_rest(api: ApiClient, org_a: Any) -> None:
    arabic = segment(org_a)
    body = created(api, {**EMAIL, "saha:language": "en", "targets": [{"href": str(arabic.uuid)}]})
    path = body["_links"]["self"]["href"]
    response = api.put(path, {"subject": "New subject", "saha:urgent": True})
    assert response.status_code == 200
    changed = response.json()
    assert (changed["subject"], changed["body"]) == ("New subject", EMAIL["body"])
    assert changed["targets"] == body["targets"]
    assert changed["saha:urgent"] is True
    assert changed["name"] == body["name"]
    assert AuditEntry.objects.filter(action="messaging.broadcast.edited").exists()


def test_put_removes_only_what_is_explicitly_nulled(api: ApiClient, org_a: Any) -> None:
    arabic = segment(org_a)
    body = created(
        api,
        {
            **EMAIL,
            "saha:language": "en",
            "targets": [{"href": str(arabic.uuid)}],
            "saha:versions": [{"language": "fr", "subject": "Samedi", "body": "À 10 h."}],
        },
    )
    path = body["_links"]["self"]["href"]
    changed = api.put(
        path, {"targets": None, "saha:versions": [{"language": "fr", "body": None}]}
    ).json()
    assert changed["targets"] == []  # everyone who agreed
    assert [v["language"] for v in changed["saha:versions"]] == ["en"]


def test_put_adds_a_version_and_changes_the_fallback_language(api: ApiClient, org_a: Any) -> None:
    body = created(api, {**EMAIL, "saha:language": "en"})
    changed = api.put(
        body["_links"]["self"]["href"],
        {"saha:language": "fr", "subject": "Samedi", "body": "Rendez-vous à 10 h."},
    ).json()
    assert changed["saha:language"] == "fr"
    assert (changed["subject"], changed["body"]) == ("Samedi", "Rendez-vous à 10 h.")
    assert sorted(v["language"] for v in changed["saha:versions"]) == ["en", "fr"]


def test_put_with_bad_input_changes_nothing(api: ApiClient, org_a: Any) -> None:
    body = created(api, {**EMAIL, "saha:language": "en"})
    response = api.put(
        body["_links"]["self"]["href"],
        {
            "name": "Renamed",
            "saha:versions": [{"language": "fr", "body": "{{ nope }}", "subject": "x"}],
        },
    )
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_field"
    assert Broadcast.objects.get().name == body["name"]


def test_put_on_a_message_no_longer_a_draft_is_409(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    broadcasts.request_send(actor=None, broadcast=broadcast)
    response = api.put(f"/api/v2/messages/{broadcast.uuid}", {"subject": "Too late"})
    assert response.status_code == 409
    assert response.json()["code"] == "not_draft"
    assert broadcast.versions.get().subject == "Come"


# --- reading -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (BroadcastStatus.DRAFT, "draft"),
        (BroadcastStatus.AWAITING_APPROVAL, "scheduled"),
        (BroadcastStatus.SCHEDULED, "scheduled"),
        (BroadcastStatus.PREPARING, "sending"),
        (BroadcastStatus.SENDING, "sending"),
        (BroadcastStatus.PAUSED, "sending"),
        (BroadcastStatus.SENT, "sent"),
        (BroadcastStatus.CANCELLED, "canceled"),
    ],
)
def test_our_statuses_in_action_networks_words(
    api: ApiClient, org_a: Any, ours: str, theirs: str
) -> None:
    broadcast = draft(org_a)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=ours)
    body = api.get(f"/api/v2/messages/{broadcast.uuid}").json()
    assert (body["status"], body["saha:status"]) == (theirs, ours)


def deliver(broadcast: Broadcast, status: str, *, refused: bool = False) -> Delivery:
    person = recipient(broadcast.organization, email=f"{uuid.uuid4().hex}@example.org")
    return Delivery.objects.create(
        organization=broadcast.organization,
        message_id=broadcast.message_id,
        person=person,
        channel=broadcast.channel,
        address="x@example.org",
        priority=Priority.BULK,
        status=status,
        refused=refused,
    )


def test_statistics_count_the_deliveries(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    Broadcast.objects.filter(pk=broadcast.pk).update(status=BroadcastStatus.SENDING, recipients=5)
    deliver(broadcast, DeliveryStatus.SENT)
    deliver(broadcast, DeliveryStatus.SENT)
    deliver(broadcast, DeliveryStatus.FAILED, refused=True)
    deliver(broadcast, DeliveryStatus.QUEUED)
    deliver(broadcast, DeliveryStatus.SKIPPED)
    body = api.get(f"/api/v2/messages/{broadcast.uuid}").json()
    assert body["total_targeted"] == 5
    stats = body["statistics"]
    assert (stats["sent"], stats["bounced"], stats["saha:failed"]) == (2, 1, 1)
    assert (stats["saha:queued"], stats["saha:skipped"]) == (1, 1)
    listed = api.get("/api/v2/messages").json()["_embedded"]["osdi:messages"][0]
    assert listed["statistics"] == stats


def test_the_collection_lists_the_newest_first_and_pages(api: ApiClient, org_a: Any) -> None:
    for n in range(3):
        draft(org_a, name=f"Broadcast {n}")
    first = api.get("/api/v2/messages", per_page=2).json()
    assert first["total_records"] == 3
    assert [m["name"] for m in first["_embedded"]["osdi:messages"]] == [
        "Broadcast 2",
        "Broadcast 1",
    ]
    second = api.get(first["_links"]["next"]["href"]).json()
    assert [m["name"] for m in second["_embedded"]["osdi:messages"]] == ["Broadcast 0"]
    assert api.get("/api/v2/messages", page=5).json()["_embedded"]["osdi:messages"] == []
    assert api.get("/api/v2/messages", page="x").status_code == 400


def test_a_filter_on_modified_date(api: ApiClient, org_a: Any) -> None:
    draft(org_a)
    assert (
        api.get("/api/v2/messages", filter="modified_date gt '2000-01-01'").json()["total_records"]
        == 1
    )
    assert (
        api.get("/api/v2/messages", filter="modified_date lt '2000-01-01'").json()["total_records"]
        == 0
    )
    bad = api.get("/api/v2/messages", filter="subject eq 'x'")
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_filter")


def test_a_page_costs_the_same_queries_for_few_or_many_messages(api: ApiClient, org_a: Any) -> None:
    arabic = segment(org_a)

    def add(n: int) -> None:
        for i in range(n):
            broadcast = draft(org_a, name=f"B{i}")
            Broadcast.objects.filter(pk=broadcast.pk).update(segment=arabic)
            deliver(broadcast, DeliveryStatus.SENT)

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v2/messages").status_code == 200
        return len(queries)

    add(2)
    cost()  # the token's first call also records when it was last used
    few = cost()
    add(10)
    assert cost() == few


def test_another_organizations_messages_are_404_and_never_listed(
    api_b: ApiClient, org_a: Any
) -> None:
    broadcast = draft(org_a)
    for call in (
        lambda path: api_b.get(path),
        lambda path: api_b.put(path, EMAIL),
        lambda path: api_b.post(f"{path}/send"),
        lambda path: api_b.post(f"{path}/schedule", {"scheduled_start_date": "2100-01-01"}),
        lambda path: api_b.delete(f"{path}/send"),
        lambda path: api_b.delete(f"{path}/schedule"),
    ):
        response = call(f"/api/v2/messages/{broadcast.uuid}")
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert api_b.get("/api/v2/messages").json()["total_records"] == 0
    broadcast.refresh_from_db()
    assert broadcast.status == BroadcastStatus.DRAFT


@pytest.mark.parametrize(
    "call",
    [
        lambda api, path: api.put(f"{path}{LATER}", EMAIL),
        lambda api, path: api.post(f"{path}/send{LATER}"),
        lambda api, path: api.post(
            f"{path}/schedule{LATER}", {"scheduled_start_date": "2100-01-01"}
        ),
        lambda api, path: api.delete(f"{path}/send{LATER}"),
        lambda api, path: api.delete(f"{path}/schedule{LATER}"),
    ],
)
def test_a_background_write_on_another_organizations_message_is_404_at_once(
    api_b: ApiClient, org_a: Any, call: Any
) -> None:
    broadcast = draft(org_a)
    response = call(api_b, f"/api/v2/messages/{broadcast.uuid}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_background_put_answers_200_empty_and_lands_later(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    broadcast = draft(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(f"/api/v2/messages/{broadcast.uuid}{LATER}", {"name": "Later"})
    assert response.status_code == 200 and response.json() == {}
    broadcast.refresh_from_db()
    assert broadcast.name == "Later"


def test_unknown_or_malformed_ids_are_404(api: ApiClient) -> None:
    for raw in (str(uuid.uuid4()), "nope", "1", "saha:" + "f" * 40):
        assert api.get(f"/api/v2/messages/{raw}").status_code == 404


def test_paths_answer_with_and_without_a_trailing_slash(api: ApiClient, org_a: Any) -> None:
    broadcast = draft(org_a)
    assert api.get("/api/v2/messages").status_code == 200
    assert api.get("/api/v2/messages/").status_code == 200
    assert api.get(f"/api/v2/messages/{broadcast.uuid}").status_code == 200
    assert api.get(f"/api/v2/messages/{broadcast.uuid}/").status_code == 200
    assert api.put(f"/api/v2/messages/{broadcast.uuid}/", {"name": "Slash"}).status_code == 200


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("null", "invalid"),  # validated: any body but an object
        ("[]", "invalid"),
        ('{"targets": [null]}', "null"),
        ('{"targets": [{"href": null}]}', "null"),
        ('{"saha:versions": ["x"]}', "invalid"),
        ('{"saha:versions": {"language": "en"}}', "not_a_list"),
        ('{"saha:urgent": "maybe"}', "invalid"),
        ('{"type": null}', "null"),
        ('{"body": "\\u0000"}', "null_characters_not_allowed"),
    ],
)
def test_put_refuses_what_a_client_should_not_send(
    api: ApiClient, org_a: Any, raw: str, code: str
) -> None:
    broadcast = draft(org_a)
    response = api.put(f"/api/v2/messages/{broadcast.uuid}", raw)
    assert response.status_code == 400
    assert response.json()["code"] == code
