"""Creating and changing events through the API: the organizer's services (draft,
address from the title, audit rows, news to attendees), Action Network's fields in
and out, so what GET returns can be PUT back without changing anything, and a 400
with a code for anything a client can get wrong."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_events import make_event
from saha.core.models import AuditEntry
from saha.events import services
from saha.events.models import CoHost, Event, EventKind, EventStatus, Visibility
from saha.supporters.services import PersonData

pytestmark = pytest.mark.django_db

ENGLISH = {"Accept-Language": "en"}


def new_event(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Beach clean-up",
        "description": "Bring gloves.",
        "start_date": "2030-05-01T15:00:00Z",
        "end_date": "2030-05-01T18:00:00Z",
        **extra,
    }


def create(api: ApiClient, body: Any, path: str = "/api/v2/events") -> Any:
    return api.post(path, body, **ENGLISH)


def actions(event: Event) -> list[str]:
    rows = AuditEntry.objects.filter(target_type="events.event", target_id=str(event.pk))
    return list(rows.order_by("id").values_list("action", flat=True))


# --- POST /events ----------------------------------------------------------------------


def test_a_new_event_is_a_draft_made_by_the_organizer_service(api: ApiClient, org_a: Any) -> None:
    response = create(api, new_event(capacity=40, instructions="Blue kiosk"))
    assert response.status_code == 200
    body = response.json()
    event = Event.objects.get(organization=org_a)
    assert body["identifiers"][0] == f"saha:{event.uuid}"
    assert body["status"] == "tentative" and body["browser_url"] is None
    assert body["name"] == "beach-clean-up"
    assert body["saha:titles"] == {"en": "Beach clean-up"}
    assert body["start_date"] == "2030-05-01T15:00:00Z"
    assert body["end_date"] == "2030-05-01T18:00:00Z"
    assert body["saha:time_zone"] == org_a.time_zone
    assert body["capacity"] == 40 and body["instructions"] == "Blue kiosk"
    assert event.kind == EventKind.OTHER and event.reminders == [24 * 60, 2 * 60]
    assert actions(event) == ["events.event.created"]
    entry = AuditEntry.objects.get(action="events.event.created")
    assert entry.actor_label.startswith("api:test token")


def test_a_new_event_asked_confirmed_is_published(api: ApiClient, org_a: Any) -> None:
    body = create(api, new_event(status="confirmed")).json()
    event = Event.objects.get(organization=org_a)
    assert event.status == EventStatus.PUBLISHED
    assert body["status"] == "confirmed" and body["browser_url"].endswith("/beach-clean-up/")
    assert actions(event) == ["events.event.created", "events.event.published"]


def test_the_same_title_twice_gets_a_free_address(api: ApiClient, org_a: Any) -> None:
    first = create(api, new_event()).json()
    second = create(api, new_event()).json()
    assert (first["name"], second["name"]) == ("beach-clean-up", "beach-clean-up-2")


def test_an_arabic_title_gets_a_dated_address(api: ApiClient) -> None:
    body = create(api, new_event(title="تنظيف الشاطئ")).json()
    assert body["name"] == "event-2030-05-01"


def test_every_field_action_network_names(api: ApiClient, org_a: Any) -> None:
    body = create(
        api,
        new_event(
            visibility="private",
            location={
                "venue": "The beach",
                "address_lines": ["Corniche"],
                "locality": "Beirut",
                "location": {"latitude": 33.9012345, "longitude": 35.48},
            },
            **{
                "saha:kind": "vigil",
                "saha:waiting_list": False,
                "saha:titles": {"ar": "تنظيف الشاطئ"},
                "saha:descriptions": {"fr": "Apportez des gants."},
            },
        ),
    ).json()
    assert body["visibility"] == "private" and body["saha:kind"] == "vigil"
    assert body["saha:waiting_list"] is False
    assert body["location"]["venue"] == "The beach"
    assert body["location"]["address_lines"] == ["Corniche, Beirut"]
    assert body["location"]["location"] == {"latitude": 33.90123, "longitude": 35.48}
    assert body["saha:titles"] == {"ar": "تنظيف الشاطئ", "en": "Beach clean-up"}
    assert body["saha:descriptions"] == {"en": "Bring gloves.", "fr": "Apportez des gants."}
    assert Event.objects.get().visibility == Visibility.UNLISTED


def test_a_time_without_an_offset_is_in_the_events_zone(api: ApiClient) -> None:
    body = create(
        api,
        new_event(
            start_date="2030-05-01T18:00:00",
            end_date="2030-05-01T20:30",
            **{"saha:time_zone": "Europe/Paris"},
        ),
    ).json()
    assert body["start_date"] == "2030-05-01T16:00:00Z"  # Paris is UTC+2 in May
    assert body["end_date"] == "2030-05-01T18:30:00Z"


def test_an_event_without_an_end_ends_when_it_starts(api: ApiClient) -> None:
    body = create(api, new_event(end_date=None)).json()
    assert body["end_date"] == body["start_date"]


BAD_BODIES = [
    ([], "invalid"),
    ('"text"', "invalid"),  # a JSON string, not an object
    (new_event(title=""), "title_required"),
    ({"start_date": "2030-05-01T15:00:00Z"}, "title_required"),
    (new_event(start_date=None), "null"),
    ({"title": "No time"}, "required"),
    (new_event(end_date="2030-05-01T14:00:00Z"), "end_before_start"),
    (new_event(start_date="1800-01-01T00:00:00Z"), "out_of_range"),
    (new_event(start_date="0001-01-01T00:00:00+05:00"), "out_of_range"),
    (new_event(end_date="9999-12-31T23:59:59Z"), "out_of_range"),
    (new_event(start_date="2026-02-30T25:61:61Z"), "invalid"),
    (new_event(start_date=12), "invalid"),
    (new_event(start_date={"a": 1}), "invalid"),
    (new_event(title={"en": "x"}), "invalid"),
    (new_event(title="x" * 100_000), "max_length"),
    (new_event(description="x" * 100_000), "max_length"),
    (new_event(title="a\x00b"), "null_characters_not_allowed"),
    (new_event(capacity="lots"), "invalid"),
    (new_event(capacity=-1), "min_value"),
    (new_event(capacity=2**70), "max_value"),
    (new_event(visibility="secret"), "invalid_choice"),
    (new_event(status="cancelled"), "invalid_status"),
    (new_event(status=["confirmed"]), "invalid_choice"),
    (new_event(location=[]), "invalid"),
    (new_event(location={"address_lines": "one line"}), "not_a_list"),
    (new_event(location={"address_lines": ["x" * 200, "y" * 200]}), "too_long"),
    (new_event(location={"location": {"latitude": 200, "longitude": 0}}), "max_value"),
    (new_event(location={"location": {"latitude": 33}}), "required"),
    (new_event(**{"saha:titles": {"de": "Strand"}}), "unknown_language"),
    (new_event(**{"saha:titles": ["ar"]}), "not_a_dict"),
    (new_event(**{"saha:time_zone": "Mars/Olympus"}), "unknown_time_zone"),
    (new_event(**{"saha:kind": "party"}), "invalid_choice"),
    (
        new_event(start_date="2030-03-31T02:30:00", **{"saha:time_zone": "Europe/Paris"}),
        "skipped_time",
    ),
]


@pytest.mark.parametrize(("body", "code"), BAD_BODIES)
def test_bad_input_is_a_400_with_a_code(api: ApiClient, org_a: Any, body: Any, code: str) -> None:
    response = create(api, body)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert not Event.objects.exists()


def test_a_body_that_is_not_json_is_a_400(api: ApiClient) -> None:
    assert create(api, "{not json").status_code == 400


def test_with_and_without_the_trailing_slash(api: ApiClient) -> None:
    assert create(api, new_event(), "/api/v2/events/").status_code == 200
    assert create(api, new_event(), "/api/v2/events").status_code == 200
    event = Event.objects.order_by("pk").first()
    assert event is not None
    assert api.put(f"/api/v2/events/{event.uuid}/", {"capacity": 5}).status_code == 200
    assert api.put(f"/api/v2/events/{event.uuid}", {"capacity": 6}).status_code == 200


def test_writing_needs_the_write_scope(org_a: Any, make_api: Any) -> None:
    reader = make_api(org_a, scope_list=["events:read"])
    response = create(reader, new_event())
    assert response.status_code == 403 and response.json()["code"] == "missing_scope"
    event = make_event(org_a)
    assert reader.put(f"/api/v2/events/{event.uuid}", {"capacity": 3}).status_code == 403
    writer = make_api(org_a, scope_list=["events:write"])
    assert create(writer, new_event()).status_code == 200


def test_a_background_create_answers_200_empty_and_lands_later(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = create(api, new_event(), "/api/v2/events?background_request=true")
    assert response.status_code == 200 and response.json() == {}
    assert Event.objects.get().titles == {"en": "Beach clean-up"}


def test_a_background_create_with_bad_input_is_refused_at_once(api: ApiClient) -> None:
    response = create(api, new_event(title=""), "/api/v2/events?background_request=true")
    assert response.status_code == 400 and response.json()["code"] == "title_required"


# --- PUT /events/{id} ----------------------------------------------------------------


def read(api: ApiClient, event: Event, language: str) -> Any:
    """GET in a language (title and description are shown in the request's)."""
    path = f"/api/v2/events/{event.uuid}"
    return api.client.get(path, headers=api._headers({"Accept-Language": language})).json()


def put(api: ApiClient, event: Event, body: Any, **headers: str) -> Any:
    return api.put(f"/api/v2/events/{event.uuid}", body, **{**ENGLISH, **headers})


def test_what_get_returns_put_back_changes_nothing(api: ApiClient, org_a: Any) -> None:
    # Microseconds in the stored times: GET shows whole seconds.
    event = make_event(
        org_a, venue_name="Beach", address="Corniche", latitude="33.9", longitude="35.5"
    )
    services.rsvp(event=event, data=PersonData(email="p@example.org"))
    for language in ("en", "ar", "fr"):  # fr: no French title, the fallback is shown
        before = read(api, event, language)
        response = put(api, event, before, **{"Accept-Language": language})
        assert response.status_code == 200
        assert read(api, event, language) == before
    event.refresh_from_db()
    assert event.revision == 0 and "events.event.changed" not in actions(event)


def test_put_merges_only_the_fields_given(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a, capacity=10, venue_name="The beach")
    body = put(api, event, {"title": "Big clean-up", "capacity": 0}).json()
    assert body["saha:titles"] == {"en": "Big clean-up", "ar": "تنظيف الشاطئ"}
    assert body["capacity"] is None and body["location"]["venue"] == "The beach"
    entry = AuditEntry.objects.get(action="events.event.changed")
    assert entry.data == {"fields": ["capacity", "titles"]}
    assert entry.actor_label.startswith("api:test token")


def test_the_title_is_written_in_the_requests_language(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    put(api, event, {"title": "Nettoyage"}, **{"Accept-Language": "fr"})
    event.refresh_from_db()
    assert event.titles["fr"] == "Nettoyage" and event.titles["en"] == "Beach clean-up"
    put(api, event, {"saha:titles": {"fr": "", "ar": None}})
    event.refresh_from_db()
    assert event.titles == {"en": "Beach clean-up"}


def test_the_last_title_cannot_be_removed(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a, titles={"en": "Only"})
    response = put(api, event, {"title": ""})
    assert response.status_code == 400 and response.json()["code"] == "title_required"


def test_a_new_time_is_news_for_those_who_answered(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    later = (event.starts_at + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (event.ends_at + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert put(api, event, {"start_date": later, "end_date": end}).status_code == 200
    event.refresh_from_db()
    assert event.revision == 1
    assert AuditEntry.objects.get(action="events.event.changed").data == {
        "fields": ["ends_at", "starts_at"]
    }


def test_a_start_after_the_stored_end_is_a_400(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    later = (event.ends_at + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    response = put(api, event, {"start_date": later})
    assert response.status_code == 400 and response.json()["code"] == "end_before_start"


def test_a_new_zone_keeps_the_instants_and_reads_new_times_in_it(
    api: ApiClient, org_a: Any
) -> None:
    event = make_event(org_a, starts_at=dt.datetime(2030, 5, 1, 15, tzinfo=dt.UTC))
    body = put(api, event, {"saha:time_zone": "Europe/Paris"}).json()
    assert body["start_date"] == "2030-05-01T15:00:00Z"
    body = put(api, event, {"start_date": "2030-05-01T16:00:00"}).json()
    assert body["start_date"] == "2030-05-01T14:00:00Z"


def test_location_null_clears_the_place(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a, venue_name="Beach", address="Corniche", latitude=1, longitude=2)
    body = put(api, event, {"location": None}).json()
    assert body["location"] == {"venue": "", "address_lines": []}


# Not those about a missing title or start (a PUT merges), nor "cancelled" (a 409 there).
BAD_CHANGES = [case for case in BAD_BODIES[:2] + BAD_BODIES[6:] if case[1] != "invalid_status"]


@pytest.mark.parametrize(("body", "code"), BAD_CHANGES)
def test_bad_input_to_put_is_a_400_and_changes_nothing(
    api: ApiClient, org_a: Any, body: Any, code: str
) -> None:
    event = make_event(org_a, status=EventStatus.DRAFT)
    response = put(api, event, body)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert "events.event.changed" not in actions(event)


# --- Status ----------------------------------------------------------------------------


def test_a_draft_is_published_then_cancelled(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a, status=EventStatus.DRAFT)
    assert put(api, event, {"status": "confirmed"}).json()["status"] == "confirmed"
    assert put(api, event, {"status": "confirmed"}).status_code == 200  # already: no change
    assert put(api, event, {"status": "cancelled"}).json()["status"] == "cancelled"
    assert actions(event) == ["events.event.published", "events.event.cancelled"]


@pytest.mark.parametrize(
    ("status", "wanted", "code"),
    [
        (EventStatus.DRAFT, "cancelled", "draft_not_cancellable"),
        (EventStatus.PUBLISHED, "tentative", "already_published"),
        (EventStatus.CANCELLED, "confirmed", "event_cancelled"),
        (EventStatus.CANCELLED, "tentative", "event_cancelled"),
    ],
)
def test_a_status_the_service_refuses_is_a_409(
    api: ApiClient, org_a: Any, status: str, wanted: str, code: str
) -> None:
    event = make_event(org_a, status=status)
    response = put(api, event, {"status": wanted})
    assert response.status_code == 409 and response.json()["code"] == code
    event.refresh_from_db()
    assert event.status == status


def test_a_refused_status_undoes_the_fields_of_the_same_put(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    response = put(api, event, {"title": "Renamed", "status": "tentative"})
    assert response.status_code == 409
    event.refresh_from_db()
    assert event.titles["en"] == "Beach clean-up"
    assert "events.event.changed" not in actions(event)


def test_a_cancelled_event_cannot_be_changed(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a, status=EventStatus.CANCELLED)
    response = put(api, event, {"capacity": 5})
    assert response.status_code == 409 and response.json()["code"] == "event_cancelled"
    assert put(api, event, {"status": "cancelled"}).status_code == 200


# --- Other organizations --------------------------------------------------------------


def test_another_organizations_token_gets_404(api_b: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    for raw in (str(event.uuid), f"saha:{event.uuid}", "not-a-uuid"):
        response = put(api_b, event, {"capacity": 1}) if raw == str(event.uuid) else None
        if response is None:
            response = api_b.put(f"/api/v2/events/{raw}", {"capacity": 1})
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    event.refresh_from_db()
    assert event.capacity is None


def test_a_co_host_cannot_change_the_hosts_event(api_b: ApiClient, org_a: Any, org_b: Any) -> None:
    event = make_event(org_a)
    CoHost.objects.create(
        organization=org_a, event=event, co_host=org_b, accepted_at=timezone.now()
    )
    assert put(api_b, event, {"status": "cancelled"}).status_code == 404
    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED


def test_an_event_made_by_b_is_bs_only(api: ApiClient, api_b: ApiClient, org_b: Any) -> None:
    body = create(api_b, new_event()).json()
    assert Event.objects.get().organization == org_b
    assert api.get("/api/v2/events").json()["total_records"] == 0
    assert api.get(body["_links"]["self"]["href"]).status_code == 404


def test_a_background_put_lands_later(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    event = make_event(org_a, status=EventStatus.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(
            f"/api/v2/events/{event.uuid}?background_request=true", {"status": "confirmed"}
        )
    assert response.status_code == 200 and response.json() == {}
    event.refresh_from_db()
    assert event.status == EventStatus.PUBLISHED


def test_a_status_moved_by_another_request_first_is_a_409(
    api: ApiClient, org_a: Any, monkeypatch: Any
) -> None:
    """The service's conditional update found the event no longer a draft."""
    from saha.events import organizer

    event = make_event(org_a, status=EventStatus.DRAFT)
    monkeypatch.setattr(organizer, "publish", lambda **kwargs: False)
    response = put(api, event, {"status": "confirmed"})
    assert response.status_code == 409 and response.json()["code"] == "status_changed"
