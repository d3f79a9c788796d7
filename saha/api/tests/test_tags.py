"""GET and POST /tags, GET /tags/{id}."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saha.api.tests.conftest import ApiClient
from saha.core.models import AuditEntry
from saha.organizations.models import Organization
from saha.supporters.models import Tag


def test_a_new_tag_is_created_and_answered(api: ApiClient, org_a: Organization) -> None:
    response = api.post("/api/v2/tags", {"name": "  Volunteers "})
    assert response.status_code == 200
    body = response.json()
    tag = Tag.objects.get()
    assert (tag.organization, tag.name) == (org_a, "Volunteers")
    assert body["name"] == "Volunteers"
    assert body["identifiers"] == [f"saha:{tag.uuid}", f"action_network:{tag.uuid}"]
    assert body["created_date"] == body["modified_date"]
    assert body["_links"]["self"]["href"].endswith(f"/api/v2/tags/{tag.uuid}")
    assert body["_links"]["osdi:taggings"]["href"].endswith(f"/api/v2/tags/{tag.uuid}/taggings")
    assert body["_links"]["curies"]
    assert AuditEntry.objects.filter(action="supporters.tag.created").count() == 1


def test_an_existing_name_answers_the_existing_tag(api: ApiClient, org_a: Organization) -> None:
    first = api.post("/api/v2/tags", {"name": "members"}).json()
    second = api.post("/api/v2/tags/", {"name": "members"})
    assert second.status_code == 200
    assert second.json()["identifiers"] == first["identifiers"]
    assert Tag.objects.count() == 1
    assert AuditEntry.objects.filter(action="supporters.tag.created").count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "required"),
        ({"name": ""}, "blank"),
        ({"name": "   "}, "blank"),
        ({"name": "x" * 101}, "max_length"),
        ({"name": None}, "null"),
        ({"name": ["a"]}, "invalid"),
        ([], "invalid"),
    ],
)
def test_a_bad_name_is_400(api: ApiClient, body: Any, code: str) -> None:
    response = api.post("/api/v2/tags", body)
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_the_collection_lists_the_organizations_tags(
    api: ApiClient, api_b: ApiClient, org_a: Organization
) -> None:
    for name in ("a", "b", "c"):
        api.post("/api/v2/tags", {"name": name})
    page = api.get("/api/v2/tags", per_page=2).json()
    assert page["total_records"] == 3
    assert [t["name"] for t in page["_embedded"]["osdi:tags"]] == ["a", "b"]
    assert (
        api.get(page["_links"]["next"]["href"]).json()["_embedded"]["osdi:tags"][0]["name"] == "c"
    )
    assert api.get("/api/v2/tags/", page=5).json()["_embedded"]["osdi:tags"] == []
    assert api_b.get("/api/v2/tags").json()["_embedded"]["osdi:tags"] == []


def test_a_tag_is_read_by_its_id_with_or_without_slash(api: ApiClient) -> None:
    created = api.post("/api/v2/tags", {"name": "a"}).json()
    href = created["_links"]["self"]["href"]
    assert api.get(href).json()["name"] == "a"
    assert api.get(href + "/").status_code == 200


def test_another_organizations_tag_is_404(api: ApiClient, api_b: ApiClient) -> None:
    href = api.post("/api/v2/tags", {"name": "a"}).json()["_links"]["self"]["href"]
    assert api_b.get(href).status_code == 404
    assert api_b.get(href + "/taggings").status_code == 404
    assert api.get("/api/v2/tags/not-an-id").status_code == 404


def test_tags_need_the_tags_scope(make_api: Any, org_a: Organization) -> None:
    reader = make_api(org_a, scope_list=["tags:read"])
    assert reader.get("/api/v2/tags").status_code == 200
    assert reader.post("/api/v2/tags", {"name": "a"}).status_code == 403
    people_only = make_api(org_a, scope_list=["people:write"])
    assert people_only.get("/api/v2/tags").status_code == 403


def test_the_collection_takes_constant_queries(api: ApiClient, org_a: Organization) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get("/api/v2/tags").status_code == 200
        return len(queries)

    Tag.objects.create(organization=org_a, name="first")
    api.get("/api/v2/tags")
    few = count()
    for n in range(20):
        Tag.objects.create(organization=org_a, name=f"t{n}")
    assert count() == few
