"""Attendances through the API: the record attendance helper lands in the same RSVP
service as the event page's form (capacity, waiting list, one answer per person,
audit), and a PUT can cancel; nothing of another organization is ever shown."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saha.api.models import ApiSettings
from saha.api.resources.events import render_attendance
from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_events import make_event
from saha.core.models import AuditEntry
from saha.events import services
from saha.events.models import CheckIn, CoHost, EventStatus, Rsvp, RsvpShare, RsvpStatus, Visibility
from saha.supporters.models import ConsentRecord, Person, PersonEmail, Tagging
from saha.supporters.services import PersonData

pytestmark = pytest.mark.django_db


def helper_body(email: str = "rima@example.org", **extra: Any) -> dict[str, Any]:
    return {
        "person": {
            "given_name": "Rima",
            "family_name": "Haddad",
            "email_addresses": [{"address": email}],
            "languages_spoken": ["ar"],
        },
        **extra,
    }


def record(api: ApiClient, event: Any, body: Any = None) -> Any:
    return api.post(
        f"/api/v2/events/{event.uuid}/attendances", helper_body() if body is None else body
    )


# --- The record attendance helper ---------------------------------------------------


def test_the_helper_makes_a_new_person_and_their_attendance(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    response = record(api, event)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "accepted"
    person = Person.objects.get()
    assert person.source == "api" and person.given_name == "Rima"
    assert body["_links"]["osdi:person"]["href"].endswith(f"/api/v2/people/{person.uuid}")
    assert body["_links"]["osdi:event"]["href"].endswith(f"/api/v2/events/{event.uuid}")
    assert body["_links"]["self"]["href"].endswith(
        f"/api/v2/events/{event.uuid}/attendances/{Rsvp.objects.get().uuid}"
    )
    rsvp = Rsvp.objects.get()
    assert rsvp.source == "api" and rsvp.person == person
    event.refresh_from_db()
    assert event.confirmed == 1
    created = AuditEntry.objects.get(action="supporters.person.created")
    assert created.actor_label.startswith("api:test token")


def test_the_same_email_again_is_the_same_person_and_one_answer(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    services.rsvp(event=make_event(org_a, "other"), data=PersonData(email="rima@example.org"))
    first = record(api, event).json()
    again = record(api, event, helper_body("RIMA@example.org")).json()
    assert first["identifiers"] == again["identifiers"]
    assert Person.objects.count() == 1
    assert Rsvp.objects.filter(event=event).count() == 1
    assert AuditEntry.objects.filter(action="supporters.person.created").count() == 1
    event.refresh_from_db()
    assert event.confirmed == 1


def test_a_full_event_without_a_waiting_list_is_409(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a, capacity=1, waiting_list=False)
    assert record(api, event).status_code == 200
    response = record(api, event, helper_body("sami@example.org"))
    assert response.status_code == 409
    assert response.json()["code"] == "event_full"
    assert Person.objects.count() == 2  # as the form: the person stays, the answer does not


def test_a_full_event_with_a_waiting_list_puts_them_on_it(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a, capacity=1)
    record(api, event)
    assert record(api, event, helper_body("sami@example.org")).json()["status"] == "waiting"


def test_an_event_not_published_takes_no_answer(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a, status=EventStatus.DRAFT)
    response = record(api, event)
    assert response.status_code == 409
    assert response.json()["code"] == "event_closed"


def test_tags_and_a_subscribed_email_go_through_the_consent_ledger(
    api: ApiClient, org_a: Any
) -> None:
    event = make_event(org_a)
    body = helper_body(add_tags=["volunteer", "beach"])
    body["person"]["email_addresses"][0]["status"] = "subscribed"
    assert record(api, event, body).status_code == 200
    assert sorted(Tagging.objects.values_list("tag__name", flat=True)) == ["beach", "volunteer"]
    consent = ConsentRecord.objects.get()
    # The ledger names the token as the audit log does (consent.api_grant, every API path).
    assert consent.source == "api" and consent.source_ref.startswith("api:test token")
    assert consent.channel == "email"


def test_tags_added_by_the_helper_leave_the_organizer_pages_audit_rows(
    api: ApiClient, org_a: Any
) -> None:
    record(api, make_event(org_a), helper_body(add_tags=["volunteer"]))
    tagged = AuditEntry.objects.get(action="supporters.person.tagged")
    created = AuditEntry.objects.get(action="supporters.tag.created")
    assert tagged.data == created.data == {"tag": "volunteer"}
    assert tagged.actor_label.startswith("api:test token")


def test_a_full_event_tags_nobody(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a, capacity=1, waiting_list=False)
    record(api, event)
    response = record(api, event, helper_body("sami@example.org", add_tags=["volunteer"]))
    assert response.json()["code"] == "event_full"
    assert not Tagging.objects.exists()


# --- Scopes: an events token writes tags only with tags:write --------------------------


@pytest.mark.parametrize("background", ["", "?background_request=true"])
def test_add_tags_needs_tags_write(org_a: Any, make_api: Any, background: str) -> None:
    event = make_event(org_a)
    writer = make_api(org_a, scope_list=["events:write"])
    path = f"/api/v2/events/{event.uuid}/attendances{background}"
    response = writer.post(path, helper_body(add_tags=["volunteer"]))
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert "tags:write" in response.json()["error"]
    assert not Person.objects.exists() and not Rsvp.objects.exists()


def test_an_events_token_records_without_tags_and_with_tags_write(
    org_a: Any, make_api: Any
) -> None:
    event = make_event(org_a)
    events_only = make_api(org_a, scope_list=["events:write"])
    assert record(events_only, event, helper_body(add_tags=[])).status_code == 200
    both = make_api(org_a, scope_list=["events:write", "tags:write"])
    assert record(both, event, helper_body("sami@example.org", add_tags=["x"])).status_code == 200
    assert Tagging.objects.get().tag.name == "x"


def test_no_autoresponse_when_the_client_turns_it_off(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event = make_event(org_a)
    body = helper_body(triggers={"autoresponse": {"enabled": False}})
    with django_capture_on_commit_callbacks() as callbacks:
        record(api, event, body)
    with django_capture_on_commit_callbacks() as with_ticket:
        record(api, event, helper_body("sami@example.org"))
    assert len(with_ticket) == len(callbacks) + 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        [],
        "text",
        {"person": None},
        {"person": []},
        {"person": {"given_name": "No contact"}},
        {"person": {"email_addresses": [{"address": "x" * 5000}]}},
        {"person": {"email_addresses": "rima@example.org"}},
        {"person": {"email_addresses": [{"address": None}]}},
        {"person": {"email_addresses": [{"address": "a\x00b@example.org"}]}},
        {"person": {"email_addresses": [{"address": "a@b.org"}]}, "add_tags": "one"},
        {"person": {"email_addresses": [{"address": "a@b.org"}]}, "add_tags": [{"x": 1}]},
        {"person": {"email_addresses": [{"address": "not an address"}]}},
        {"person": {"phone_numbers": [{"number": "12"}]}},
    ],
)
def test_bad_input_is_a_400_with_a_code(api: ApiClient, org_a: Any, body: Any) -> None:
    event = make_event(org_a)
    response = record(api, event, body)
    assert response.status_code == 400
    assert response.json()["code"]
    assert not Rsvp.objects.exists()


def test_a_body_that_is_not_json_is_a_400(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    response = api.post(f"/api/v2/events/{event.uuid}/attendances", "{not json")
    assert response.status_code == 400


def test_a_background_request_answers_200_empty_and_lands_later(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event = make_event(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v2/events/{event.uuid}/attendances?background_request=true", helper_body()
        )
    assert response.status_code == 200 and response.json() == {}
    assert Rsvp.objects.get().source == "api"


def test_a_read_only_token_cannot_record(org_a: Any, make_api: Any) -> None:
    event = make_event(org_a)
    reader = make_api(org_a, scope_list=["events:read"])
    response = record(reader, event)
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"


# --- Reading, cancelling ------------------------------------------------------------


def answer(event: Any, n: int) -> Rsvp:
    return services.rsvp(event=event, data=PersonData(email=f"p{n}@example.org")).rsvp


def test_the_collection_and_an_item(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    rsvp = answer(event, 1)
    CheckIn.objects.create(organization=org_a, event=event, rsvp=rsvp, nonce="n1", method="scan")
    page = api.get(f"/api/v2/events/{event.uuid}/attendances/").json()
    assert page["total_records"] == 1
    [item] = page["_embedded"]["osdi:attendances"]
    assert item["saha:checked_in"] is True and item["saha:checked_in_date"].endswith("Z")
    single = api.get(item["_links"]["self"]["href"]).json()
    assert single["identifiers"] == item["identifiers"]
    assert api.get(f"/api/v2/events/{event.uuid}/attendances/{rsvp.uuid}/").status_code == 200


def test_a_persons_attendances(api: ApiClient, org_a: Any) -> None:
    first, second = make_event(org_a, "one"), make_event(org_a, "two")
    rsvp = answer(first, 1)
    answer(second, 1)
    answer(second, 2)
    person = rsvp.person
    page = api.get(f"/api/v2/people/{person.uuid}/attendances").json()
    assert page["total_records"] == 2
    assert (
        page["_links"]["self"]["href"]
        .split("?")[0]
        .endswith(f"/api/v2/people/{person.uuid}/attendances")
    )
    assert api.get(f"/api/v2/people/{person.uuid}/attendances/{rsvp.uuid}").status_code == 200


def test_a_put_declined_cancels_hands_the_place_on_and_is_audited(
    api: ApiClient, org_a: Any
) -> None:
    event = make_event(org_a, capacity=1)
    coming, waiting = answer(event, 1), answer(event, 2)
    assert waiting.status == RsvpStatus.WAITING
    response = api.put(
        f"/api/v2/events/{event.uuid}/attendances/{coming.uuid}", {"status": "declined"}
    )
    assert response.status_code == 200 and response.json()["status"] == "declined"
    waiting.refresh_from_db()
    assert waiting.status == RsvpStatus.CONFIRMED
    entry = AuditEntry.objects.get(action="events.rsvp.cancelled")
    assert entry.actor_label.startswith("api:test token")
    again = api.put(
        f"/api/v2/events/{event.uuid}/attendances/{coming.uuid}", {"status": "accepted"}
    )
    assert again.status_code == 409


def test_a_put_of_another_status_is_refused(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    rsvp = answer(event, 1)
    path = f"/api/v2/events/{event.uuid}/attendances/{rsvp.uuid}"
    assert api.put(path, {"status": "waiting"}).json()["code"] == "invalid_status"
    assert api.put(path, {"status": "accepted"}).status_code == 200  # unchanged
    assert api.put(path, []).status_code == 400


def test_delete_is_a_405_in_json(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    rsvp = answer(event, 1)
    response = api.delete(f"/api/v2/events/{event.uuid}/attendances/{rsvp.uuid}")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert Rsvp.objects.filter(status=RsvpStatus.CONFIRMED).count() == 1


def test_a_page_of_attendances_costs_the_same_queries(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    for n in range(3):
        answer(event, n)
    api.get("/api/v2/")
    with CaptureQueriesContext(connection) as few:
        api.get(f"/api/v2/events/{event.uuid}/attendances")
    for n in range(3, 15):
        rsvp = answer(event, n)
    CheckIn.objects.create(organization=org_a, event=event, rsvp=rsvp, nonce="n", method="scan")
    with CaptureQueriesContext(connection) as many:
        body = api.get(f"/api/v2/events/{event.uuid}/attendances").json()
    assert len(body["_embedded"]["osdi:attendances"]) == 15
    assert len(many.captured_queries) == len(few.captured_queries)


def test_render_needs_no_request_and_survives_an_erased_person(org_a: Any) -> None:
    event = make_event(org_a)
    rsvp = answer(event, 1)
    Rsvp.objects.filter(pk=rsvp.pk).update(person=None)
    rsvp.refresh_from_db()
    body = render_attendance(rsvp)
    assert "osdi:person" not in body["_links"] and body["status"] == "accepted"


# --- Other organizations -------------------------------------------------------------


def test_another_organizations_token_gets_404_on_every_attendance(
    api_b: ApiClient, org_a: Any
) -> None:
    event = make_event(org_a)
    rsvp = answer(event, 1)
    paths = [
        f"/api/v2/events/{event.uuid}/attendances/{rsvp.uuid}",
        f"/api/v2/people/{rsvp.person.uuid}/attendances",
        f"/api/v2/people/{rsvp.person.uuid}/attendances/{rsvp.uuid}",
    ]
    for path in paths:
        assert api_b.get(path).status_code == 404, path
    assert api_b.put(paths[0], {"status": "declined"}).status_code == 404
    assert api_b.delete(paths[0]).status_code == 404
    assert record(api_b, event).status_code == 404
    assert Rsvp.objects.get().status == RsvpStatus.CONFIRMED


def test_a_co_host_sees_nothing_of_the_hosts_event_even_shared_attendees(
    api_b: ApiClient, org_a: Any, org_b: Any
) -> None:
    """The safe rule: the API shows an organization its own events only. A co-host reads
    the attendees who shared with it on the organizer pages, not through the API."""
    event = make_event(org_a)
    CoHost.objects.create(
        organization=org_a, event=event, co_host=org_b, accepted_at=timezone.now()
    )
    rsvp = answer(event, 1)
    RsvpShare.objects.create(organization=org_a, rsvp=rsvp, co_host=org_b, wording="Share")
    assert api_b.get("/api/v2/events").json()["total_records"] == 0
    assert api_b.get(f"/api/v2/events/{event.uuid}").status_code == 404
    assert api_b.get(f"/api/v2/events/{event.uuid}/attendances").status_code == 404


# --- The public helper ------------------------------------------------------------------


def anonymous_post(path: str, body: Any) -> Any:
    return ApiClient(None).post(path, body)


def test_without_a_token_nothing_is_taken_unless_the_organization_allows_it(
    org_a: Any,
) -> None:
    event = make_event(org_a)
    path = f"/api/v2/events/{event.uuid}/attendances"
    response = anonymous_post(path, helper_body())
    assert response.status_code == 200 and response.json() == {}
    assert not Rsvp.objects.exists()
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    assert anonymous_post(path, helper_body(add_tags=["x"])).json() == {}
    rsvp = Rsvp.objects.get()
    assert rsvp.source == "api" and rsvp.person.source == "api"
    assert not Tagging.objects.exists()  # a stranger labels nobody
    assert ApiClient(None).get(path).status_code == 401


def test_the_public_helper_is_anonymous_and_tells_nothing(org_a: Any) -> None:
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    known = services.rsvp(
        event=make_event(org_a, "earlier"), data=PersonData(email="rima@example.org")
    ).rsvp.person
    event = make_event(org_a)
    body = helper_body()
    body["person"]["phone_numbers"] = [{"number": "+96171123456"}]
    body["person"]["given_name"] = "Someone else"
    assert anonymous_post(f"/api/v2/events/{event.uuid}/attendances", body).json() == {}
    known.refresh_from_db()
    assert not known.phones.exists()  # a stranger adds no contact to a known supporter
    assert known.given_name == ""
    for bad in ({}, [], {"person": {"email_addresses": [{"address": "nope"}]}}):
        response = anonymous_post(f"/api/v2/events/{event.uuid}/attendances", bad)
        assert response.status_code == 200 and response.json() == {}
    full = make_event(org_a, "full", capacity=0, waiting_list=False)
    assert anonymous_post(f"/api/v2/events/{full.uuid}/attendances", body).json() == {}


def test_the_public_helper_takes_only_published_public_events(org_a: Any, org_b: Any) -> None:
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    unlisted = make_event(org_a, "quiet", visibility=Visibility.UNLISTED)
    draft = make_event(org_a, "draft", status=EventStatus.DRAFT)
    elsewhere = make_event(org_b, "elsewhere")
    for event in (unlisted, draft, elsewhere):
        assert (
            anonymous_post(f"/api/v2/events/{event.uuid}/attendances", helper_body()).json() == {}
        )
    assert anonymous_post("/api/v2/events/nope/attendances", helper_body()).json() == {}
    assert not Rsvp.objects.exists()
    assert not PersonEmail.objects.exists()


def test_the_public_helper_is_rate_limited_per_address(org_a: Any, settings: Any) -> None:
    settings.SAHA_API_PUBLIC_HELPER_PER_MINUTE = 2
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    event = make_event(org_a)
    for n in range(4):
        response = anonymous_post(
            f"/api/v2/events/{event.uuid}/attendances", helper_body(f"p{n}@example.org")
        )
        assert response.status_code == 200 and response.json() == {}
    assert Rsvp.objects.count() == 2
