"""Taggings: under a tag (list, add by the person's href, read, delete) and under a person."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saha.api.tests.conftest import ApiClient
from saha.core.models import AuditEntry
from saha.organizations.models import Organization
from saha.supporters.models import Person, Tag, Tagging
from saha.supporters.tests.people_factories import PersonFactory


@pytest.fixture
def tag(org_a: Organization) -> Tag:
    return Tag.objects.create(organization=org_a, name="volunteer")


@pytest.fixture
def rana(org_a: Organization) -> Person:
    return PersonFactory(organization=org_a, email="rana@example.org")


def tag_person(api: ApiClient, tag: Tag, href: str) -> Any:
    return api.post(
        f"/api/v2/tags/{tag.uuid}/taggings", {"_links": {"osdi:person": {"href": href}}}
    )


def test_a_tagging_is_added_by_the_persons_href_on_any_host(
    api: ApiClient, tag: Tag, rana: Person
) -> None:
    response = tag_person(api, tag, f"https://actionnetwork.org/api/v2/people/{rana.uuid}")

    assert response.status_code == 200
    tagging = Tagging.objects.get()
    assert (tagging.person, tagging.tag) == (rana, tag)
    body = response.json()
    assert body["identifiers"][0] == f"saha:{tagging.uuid}"
    assert body["item_type"] == "osdi:person"
    assert body["created_date"] == body["modified_date"]
    links = body["_links"]
    assert links["self"]["href"].endswith(f"/api/v2/tags/{tag.uuid}/taggings/{tagging.uuid}")
    assert links["osdi:tag"]["href"].endswith(f"/api/v2/tags/{tag.uuid}")
    assert links["osdi:person"]["href"].endswith(f"/api/v2/people/{rana.uuid}")
    assert AuditEntry.objects.filter(action="supporters.person.tagged").count() == 1


def test_tagging_twice_answers_the_same_tagging(api: ApiClient, tag: Tag, rana: Person) -> None:
    first = tag_person(api, tag, f"saha:{rana.uuid}").json()
    second = tag_person(api, tag, str(rana.uuid))
    assert second.status_code == 200
    assert second.json()["identifiers"] == first["identifiers"]
    assert Tagging.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "required"),
        ({"_links": {}}, 400, "required"),
        ({"_links": {"osdi:person": "x"}}, 400, "invalid"),
        (
            {"_links": {"osdi:person": {"href": "https://x.org/people/nobody"}}},
            400,
            "invalid_person_link",
        ),
        (
            {"_links": {"osdi:person": {"href": "00000000-0000-0000-0000-000000000000"}}},
            404,
            "not_found",
        ),
        ([], 400, "invalid"),
    ],
)
def test_a_bad_person_link(api: ApiClient, tag: Tag, body: Any, status: int, code: str) -> None:
    response = api.post(f"/api/v2/tags/{tag.uuid}/taggings", body)
    assert response.status_code == status
    assert response.json()["code"] == code


def test_another_organizations_person_cannot_be_tagged(
    api: ApiClient, tag: Tag, org_b: Organization
) -> None:
    stranger = PersonFactory(organization=org_b, email="b@example.org")
    response = tag_person(api, tag, str(stranger.uuid))
    assert response.status_code == 404
    assert not Tagging.objects.exists()


def test_a_tagging_is_read_and_deleted(api: ApiClient, tag: Tag, rana: Person) -> None:
    href = tag_person(api, tag, str(rana.uuid)).json()["_links"]["self"]["href"]

    assert api.get(href).status_code == 200
    assert api.get(href + "/").status_code == 200
    response = api.delete(href)

    assert response.status_code == 200
    assert response.json()["notice"]
    assert not Tagging.objects.exists()
    assert AuditEntry.objects.filter(action="supporters.person.untagged").count() == 1
    assert api.get(href).status_code == 404
    assert api.delete(href).status_code == 404


def test_the_taggings_of_a_tag_and_of_a_person(
    api: ApiClient, tag: Tag, rana: Person, org_a: Organization
) -> None:
    sami = PersonFactory(organization=org_a, email="sami@example.org")
    other = Tag.objects.create(organization=org_a, name="member")
    for person in (rana, sami):
        tag_person(api, tag, str(person.uuid))
    tag_person(api, other, str(rana.uuid))

    of_tag = api.get(f"/api/v2/tags/{tag.uuid}/taggings/").json()
    of_person = api.get(f"/api/v2/people/{rana.uuid}/taggings").json()

    assert of_tag["total_records"] == 2
    assert len(of_tag["_embedded"]["osdi:taggings"]) == 2
    assert of_tag["_links"]["self"]["href"].split("?")[0].endswith(f"/tags/{tag.uuid}/taggings")
    assert of_person["total_records"] == 2
    tags = {
        t["_links"]["osdi:tag"]["href"].rsplit("/", 1)[1]
        for t in of_person["_embedded"]["osdi:taggings"]
    }
    assert tags == {str(tag.uuid), str(other.uuid)}


def test_another_organization_sees_no_tagging(
    api: ApiClient, api_b: ApiClient, tag: Tag, rana: Person
) -> None:
    href = tag_person(api, tag, str(rana.uuid)).json()["_links"]["self"]["href"]
    assert api_b.get(href).status_code == 404
    assert api_b.delete(href).status_code == 404
    assert api_b.get(f"/api/v2/people/{rana.uuid}/taggings").status_code == 404
    assert Tagging.objects.count() == 1


def test_a_tagging_of_another_tag_is_404_under_this_one(
    api: ApiClient, tag: Tag, rana: Person, org_a: Organization
) -> None:
    other = Tag.objects.create(organization=org_a, name="member")
    tagging_id = tag_person(api, other, str(rana.uuid)).json()["identifiers"][0]
    assert api.get(f"/api/v2/tags/{tag.uuid}/taggings/{tagging_id}").status_code == 404


def test_taggings_need_the_tags_scope(
    make_api: Any, org_a: Organization, tag: Tag, rana: Person
) -> None:
    reader = make_api(org_a, scope_list=["tags:read", "people:write"])
    assert reader.get(f"/api/v2/tags/{tag.uuid}/taggings").status_code == 200
    assert tag_person(reader, tag, str(rana.uuid)).status_code == 403


def test_the_taggings_page_takes_constant_queries(
    api: ApiClient, tag: Tag, org_a: Organization
) -> None:
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert api.get(f"/api/v2/tags/{tag.uuid}/taggings").status_code == 200
        return len(queries)

    def add(start: int, number: int) -> None:
        for n in range(start, start + number):
            person = PersonFactory(organization=org_a, email=f"p{n}@example.org")
            Tagging.objects.create(person=person, tag=tag)

    add(0, 2)
    api.get("/api/v2/tags")
    few = count()
    add(2, 20)
    assert count() == few
