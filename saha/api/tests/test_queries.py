"""GET /queries and /queries/{id}: an organization's saved segments, read-only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saha.api.tests.conftest import ApiClient
from saha.supporters.models import Segment
from saha.supporters.subject import save_segment
from saha.supporters.tests.people_factories import PersonFactory


def segment(organization: Any, name: str, definition: dict[str, Any] | None = None) -> Segment:
    return save_segment(
        actor=None, organization=organization, name=name, definition=definition or {}
    )


def test_a_query_is_a_segment_with_its_current_count(api: ApiClient, org_a: Any) -> None:
    PersonFactory(organization=org_a, language="ar")
    PersonFactory(organization=org_a, language="fr")
    arabic = segment(org_a, "Arabic speakers", {"language": ["ar"]})
    response = api.get(f"/api/v2/queries/{arabic.uuid}")
    assert response.status_code == 200
    body = response.json()
    assert body["identifiers"] == [f"saha:{arabic.uuid}", f"action_network:{arabic.uuid}"]
    assert body["name"] == "Arabic speakers"
    assert body["saha:total_people"] == 1
    assert body["created_date"].endswith("Z") and body["modified_date"].endswith("Z")
    assert body["_links"]["self"]["href"].endswith(f"/api/v2/queries/{arabic.uuid}")
    assert body["_links"]["curies"][0]["name"] == "osdi"


def test_the_count_follows_the_people_who_match_now(api: ApiClient, org_a: Any) -> None:
    arabic = segment(org_a, "Arabic speakers", {"language": ["ar"]})
    assert api.get(f"queries/{arabic.uuid}").json()["saha:total_people"] == 0
    PersonFactory(organization=org_a, language="ar")
    assert api.get(f"queries/{arabic.uuid}").json()["saha:total_people"] == 1


def test_the_collection_lists_the_organizations_segments_by_name(
    api: ApiClient, org_a: Any, org_b: Any
) -> None:
    PersonFactory(organization=org_a, language="ar")
    segment(org_a, "B everyone")
    segment(org_a, "A arabic", {"language": ["ar"]})
    segment(org_b, "Of another organization")
    body = api.get("/api/v2/queries").json()
    assert body["total_records"] == 2
    items = body["_embedded"]["osdi:queries"]
    assert [item["name"] for item in items] == ["A arabic", "B everyone"]
    assert [item["saha:total_people"] for item in items] == [1, 1]
    links = [link["href"] for link in body["_links"]["osdi:queries"]]
    assert links == [item["_links"]["self"]["href"] for item in items]


def test_pages_of_queries(api: ApiClient, org_a: Any) -> None:
    for n in range(3):
        segment(org_a, f"Segment {n}")
    first = api.get("/api/v2/queries", per_page=2).json()
    assert (first["page"], first["per_page"], first["total_pages"]) == (1, 2, 2)
    second = api.get(first["_links"]["next"]["href"]).json()
    assert [item["name"] for item in second["_embedded"]["osdi:queries"]] == ["Segment 2"]
    past = api.get("/api/v2/queries", page=9)
    assert past.status_code == 200
    assert past.json()["_embedded"]["osdi:queries"] == []


def test_a_filter_on_name(api: ApiClient, org_a: Any) -> None:
    segment(org_a, "Volunteers")
    segment(org_a, "Donors")
    body = api.get("/api/v2/queries", filter="name eq 'Donors'").json()
    assert [item["name"] for item in body["_embedded"]["osdi:queries"]] == ["Donors"]
    assert api.get("/api/v2/queries", filter="colour eq 'red'").json()["code"] == ("invalid_filter")


def test_a_page_costs_the_same_queries_for_few_or_many_segments(api: ApiClient, org_a: Any) -> None:
    PersonFactory(organization=org_a, language="ar")

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v2/queries").status_code == 200
        return len(queries)

    segment(org_a, "One", {"language": ["ar"]})
    cost()  # the token's first call also records when it was last used
    few = cost()
    for n in range(12):
        segment(org_a, f"More {n}", {"language": ["fr"]} if n % 2 else {"consent_email": "granted"})
    assert cost() == few


def test_another_organizations_query_is_404(api: ApiClient, api_b: ApiClient, org_a: Any) -> None:
    mine = segment(org_a, "Mine")
    assert api_b.get(f"/api/v2/queries/{mine.uuid}").json()["code"] == "not_found"
    assert api_b.get(f"/api/v2/queries/{mine.uuid}").status_code == 404
    assert api_b.get("/api/v2/queries").json()["total_records"] == 0
    assert api.get(f"/api/v2/queries/{uuid.uuid4()}").status_code == 404
    assert api.get("/api/v2/queries/not-a-uuid").status_code == 404


@pytest.mark.parametrize("path", ["/api/v2/queries", "/api/v2/queries/"])
def test_the_collection_answers_with_and_without_a_trailing_slash(
    api: ApiClient, path: str
) -> None:
    assert api.get(path).status_code == 200


def test_an_item_answers_with_and_without_a_trailing_slash_and_by_any_id_form(
    api: ApiClient, org_a: Any
) -> None:
    mine = segment(org_a, "Mine")
    for raw in (str(mine.uuid), f"{mine.uuid}/", f"action_network:{mine.uuid}"):
        assert api.get(f"/api/v2/queries/{raw}").status_code == 200


def test_queries_are_read_only_and_need_their_scope(
    api: ApiClient, org_a: Any, make_api: Any
) -> None:
    mine = segment(org_a, "Mine")
    assert api.post("/api/v2/queries", {"name": "New"}).status_code == 405
    assert api.put(f"/api/v2/queries/{mine.uuid}", {"name": "New"}).status_code == 405
    assert api.delete(f"/api/v2/queries/{mine.uuid}").status_code == 405
    people_only = make_api(org_a, scope_list=["people:read"])
    response = people_only.get("/api/v2/queries")
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert make_api(org_a, scope_list=["queries:read"]).get("/api/v2/queries").status_code == 200
