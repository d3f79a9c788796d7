"""Events through the API: Action Network's shape, the organization's own events only,
filters, pages, and the same few queries however many events a page holds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saha.api.tests.conftest import ApiClient
from saha.events.models import Event, EventStatus, Visibility

pytestmark = pytest.mark.django_db


def make_event(organization: Any, slug: str = "clean-up", **fields: Any) -> Event:
    start = fields.pop("starts_at", timezone.now() + dt.timedelta(days=3))
    values = {
        "organization": organization,
        "slug": slug,
        "titles": {"en": "Beach clean-up", "ar": "تنظيف الشاطئ"},
        "kind": "rally",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=3),
        "time_zone": "Asia/Beirut",
        "status": EventStatus.PUBLISHED,
        **fields,
    }
    return Event.objects.create(**values)


def test_an_event_has_action_networks_fields_and_links(api: ApiClient, org_a: Any) -> None:
    event = make_event(
        org_a,
        venue_name="The beach",
        address="Corniche, Beirut",
        latitude="33.90000",
        longitude="35.48000",
        private_location="Meet at the blue kiosk",
        capacity=40,
    )
    body = api.get(f"/api/v2/events/{event.uuid}").json()
    assert body["identifiers"] == [f"saha:{event.uuid}", f"action_network:{event.uuid}"]
    assert body["name"] == "clean-up"
    assert body["status"] == "confirmed"
    assert body["visibility"] == "public"
    assert body["capacity"] == 40 and body["total_accepted"] == 0
    assert body["instructions"] == "Meet at the blue kiosk"
    assert body["location"]["venue"] == "The beach"
    assert body["location"]["address_lines"] == ["Corniche, Beirut"]
    assert body["location"]["location"] == {"latitude": 33.9, "longitude": 35.48}
    assert body["start_date"].endswith("Z") and body["created_date"].endswith("Z")
    assert body["browser_url"].endswith(f"/o/{org_a.slug}/events/clean-up/")
    links = body["_links"]
    assert links["self"]["href"].endswith(f"/api/v2/events/{event.uuid}")
    assert links["osdi:attendances"]["href"].endswith(f"/api/v2/events/{event.uuid}/attendances")
    assert links["osdi:record_attendance_helper"]["href"] == links["osdi:attendances"]["href"]
    assert links["curies"][0]["name"] == "osdi"


def test_a_draft_is_tentative_without_a_page_and_unlisted_is_private(
    api: ApiClient, org_a: Any
) -> None:
    draft = make_event(org_a, "draft", status=EventStatus.DRAFT)
    unlisted = make_event(org_a, "quiet", visibility=Visibility.UNLISTED)
    cancelled = make_event(org_a, "off", status=EventStatus.CANCELLED)
    body = api.get(f"/api/v2/events/{draft.uuid}").json()
    assert body["status"] == "tentative" and body["browser_url"] is None
    assert api.get(f"/api/v2/events/{unlisted.uuid}").json()["visibility"] == "private"
    assert api.get(f"/api/v2/events/{cancelled.uuid}").json()["status"] == "cancelled"


def test_the_collection_pages_and_filters(api: ApiClient, org_a: Any) -> None:
    old = make_event(org_a, "old", starts_at=timezone.now() + dt.timedelta(days=1))
    Event.objects.filter(pk=old.pk).update(modified_at=timezone.now() - dt.timedelta(days=30))
    make_event(org_a, "soon", starts_at=timezone.now() + dt.timedelta(days=10))
    body = api.get("/api/v2/events", per_page=1).json()
    assert body["total_records"] == 2 and body["total_pages"] == 2
    assert len(body["_embedded"]["osdi:events"]) == 1
    assert "next" in body["_links"]
    since = (timezone.now() - dt.timedelta(days=2)).strftime("%Y-%m-%d")
    recent = api.get("/api/v2/events", filter=f"modified_date gt '{since}'").json()
    assert [e["name"] for e in recent["_embedded"]["osdi:events"]] == ["soon"]
    later = (timezone.now() + dt.timedelta(days=5)).strftime("%Y-%m-%d")
    starting = api.get("/api/v2/events", filter=f"start_date gt '{later}'").json()
    assert [e["name"] for e in starting["_embedded"]["osdi:events"]] == ["soon"]
    assert api.get("/api/v2/events", page=9).json()["_embedded"]["osdi:events"] == []


def test_a_bad_filter_is_a_400(api: ApiClient) -> None:
    response = api.get("/api/v2/events", filter="title eq 'x'")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_filter"
    bad_date = api.get("/api/v2/events", filter="start_date gt '99999-01-01'")
    assert bad_date.json()["code"] == "invalid_filter"


def test_paths_work_with_and_without_a_trailing_slash(api: ApiClient, org_a: Any) -> None:
    event = make_event(org_a)
    for path in ("/api/v2/events", "/api/v2/events/", f"/api/v2/events/{event.uuid}/"):
        assert api.get(path).status_code == 200


def test_another_organizations_token_sees_none_of_its_events(
    api: ApiClient, api_b: ApiClient, org_a: Any
) -> None:
    event = make_event(org_a)
    assert api_b.get(f"/api/v2/events/{event.uuid}").status_code == 404
    assert api_b.get(f"/api/v2/events/{event.uuid}/attendances").status_code == 404
    assert api_b.get("/api/v2/events").json()["total_records"] == 0
    assert api.get("/api/v2/events/not-a-uuid").json()["code"] == "not_found"


def test_a_token_without_the_events_scope_is_refused(org_a: Any, make_api: Any) -> None:
    people_only = make_api(org_a, scope_list=["people:read"])
    response = people_only.get("/api/v2/events")
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"


def test_a_page_of_events_costs_the_same_queries_for_3_or_20(api: ApiClient, org_a: Any) -> None:
    for n in range(3):
        make_event(org_a, f"e{n}")
    api.get("/api/v2/")  # the token's first call of the minute also notes when it was used
    with CaptureQueriesContext(connection) as few:
        assert api.get("/api/v2/events").status_code == 200
    for n in range(3, 20):
        make_event(org_a, f"e{n}")
    with CaptureQueriesContext(connection) as many:
        body = api.get("/api/v2/events").json()
    assert len(body["_embedded"]["osdi:events"]) == 20
    assert len(many.captured_queries) == len(few.captured_queries)
