"""GET /people and /people/{id}: the HAL shape, pagination, filters, tenancy, query counts."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saha.api import scopes
from saha.api.resources.people import render_person
from saha.api.tests.conftest import ApiClient
from saha.organizations.models import Organization
from saha.supporters.models import Channel, ConsentStatus, ContactStatus, Person, PersonEmail
from saha.supporters.tests.people_factories import PersonFactory, PhoneFactory, consent


def person_of(organization: Organization, email: str = "", **fields: Any) -> Person:
    return PersonFactory(organization=organization, email=email or None, **fields)


def test_a_person_renders_as_action_network_shows_one(api: ApiClient, org_a: Organization) -> None:
    person = person_of(
        org_a,
        "rana@example.org",
        given_name="Rana",
        family_name="Khoury",
        region="Beirut",
        country="LB",
        language="ar",
        custom_fields={"branch": "north"},
    )
    PhoneFactory(person=person, number="+96171123456", is_primary=True)
    consent(person, Channel.EMAIL)

    response = api.get(f"/api/v2/people/{person.uuid}")

    assert response.status_code == 200
    body = response.json()
    assert body["identifiers"] == [f"saha:{person.uuid}", f"action_network:{person.uuid}"]
    assert body["given_name"] == "Rana"
    assert body["family_name"] == "Khoury"
    assert body["email_addresses"] == [
        {"primary": True, "address": "rana@example.org", "status": "subscribed"}
    ]
    assert body["phone_numbers"] == [
        {
            "primary": True,
            "number": "+96171123456",
            "number_type": "Mobile",
            "status": "unsubscribed",
        }
    ]
    assert body["postal_addresses"][0]["region"] == "Beirut"
    assert body["postal_addresses"][0]["country"] == "LB"
    assert body["languages_spoken"] == ["ar"]
    assert body["custom_fields"] == {"branch": "north"}
    assert body["created_date"].endswith("Z")
    links = body["_links"]
    assert links["self"]["href"].endswith(f"/api/v2/people/{person.uuid}")
    for rel in ("taggings", "attendances", "signatures"):
        assert links[f"osdi:{rel}"]["href"].endswith(f"/api/v2/people/{person.uuid}/{rel}")
    assert links["curies"][0]["name"] == "osdi"


def test_the_email_status_follows_flags_then_the_consent_ledger(org_a: Organization) -> None:
    person = person_of(org_a, "a@example.org")
    assert render_person(person)["email_addresses"][0]["status"] == "unsubscribed"
    consent(person, Channel.EMAIL)
    assert render_person(person)["email_addresses"][0]["status"] == "subscribed"
    consent(person, Channel.EMAIL, ConsentStatus.WITHDRAWN, wording="Stop")
    assert render_person(person)["email_addresses"][0]["status"] == "unsubscribed"
    PersonEmail.objects.filter(person=person).update(status=ContactStatus.BOUNCING)
    assert render_person(person)["email_addresses"][0]["status"] == "bouncing"
    PersonEmail.objects.filter(person=person).update(status=ContactStatus.COMPLAINED)
    # Action Network's spelling, with a space.
    assert render_person(person)["email_addresses"][0]["status"] == "spam complaint"


def test_the_render_needs_no_request_and_carries_no_curies(org_a: Organization) -> None:
    body = render_person(person_of(org_a, "b@example.org"))
    assert "curies" not in body["_links"]
    assert body["_links"]["self"]["href"].startswith("http")


def test_the_collection_is_paged_with_absolute_links(api: ApiClient, org_a: Organization) -> None:
    for n in range(3):
        person_of(org_a, f"p{n}@example.org")

    first = api.get("/api/v2/people", per_page=2).json()

    assert first["total_records"] == 3
    assert first["total_pages"] == 2
    assert first["per_page"] == 2
    assert len(first["_embedded"]["osdi:people"]) == 2
    assert len(first["_links"]["osdi:people"]) == 2
    second = api.get(first["_links"]["next"]["href"]).json()
    assert second["page"] == 2
    assert len(second["_embedded"]["osdi:people"]) == 1
    assert "next" not in second["_links"]


def test_a_page_past_the_end_is_200_and_empty(api: ApiClient, org_a: Organization) -> None:
    person_of(org_a, "x@example.org")
    response = api.get("/api/v2/people", page=9)
    assert response.status_code == 200
    assert response.json()["_embedded"]["osdi:people"] == []
    assert response.json()["total_records"] == 1


def test_a_bad_page_is_400(api: ApiClient) -> None:
    assert api.get("/api/v2/people", page="x").status_code == 400


def test_paths_work_with_and_without_a_trailing_slash(api: ApiClient, org_a: Organization) -> None:
    person = person_of(org_a, "s@example.org")
    assert api.get("/api/v2/people/").status_code == 200
    assert api.get("/api/v2/people").status_code == 200
    assert api.get(f"/api/v2/people/{person.uuid}/").status_code == 200
    assert api.get(f"/api/v2/people/saha:{person.uuid}").status_code == 200


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("email_address eq 'Rana@Example.org'", ["rana@example.org"]),
        ("phone_number eq '+961 71 123 456'", ["rana@example.org"]),
        ("given_name eq 'rana'", ["rana@example.org"]),
        ("family_name eq 'Haddad'", ["sami@example.org"]),
        ("region eq 'Beirut'", ["rana@example.org"]),
        ("postal_code eq '1100'", ["sami@example.org"]),
        ("country eq 'fr'", ["sami@example.org"]),
        ("email_address eq 'rana@example.org' or email_address eq 'sami@example.org'", "both"),
        ("given_name eq 'Rana' and region eq 'Tripoli'", []),
    ],
)
def test_filters(api: ApiClient, org_a: Organization, text: str, expected: Any) -> None:
    rana = person_of(org_a, "rana@example.org", given_name="Rana", region="Beirut", country="LB")
    PhoneFactory(person=rana, number="+96171123456", is_primary=True)
    person_of(org_a, "sami@example.org", family_name="Haddad", postal_code="1100", country="FR")
    if expected == "both":
        expected = ["rana@example.org", "sami@example.org"]

    response = api.get("/api/v2/people", filter=text)

    assert response.status_code == 200
    found = [
        p["email_addresses"][0]["address"] for p in response.json()["_embedded"]["osdi:people"]
    ]
    assert sorted(found) == expected
    assert response.json()["_links"]["self"]["href"].count("filter=") == 1


def test_date_filters(api: ApiClient, org_a: Organization) -> None:
    old = person_of(org_a, "old@example.org")
    Person.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=30),
        modified_at=timezone.now() - dt.timedelta(days=30),
    )
    person_of(org_a, "new@example.org")
    since = (timezone.now() - dt.timedelta(days=2)).date().isoformat()

    newer = api.get("/api/v2/people", filter=f"modified_date gt '{since}'").json()
    older = api.get("/api/v2/people", filter=f"created_date lt '{since}'").json()

    assert [p["email_addresses"][0]["address"] for p in newer["_embedded"]["osdi:people"]] == [
        "new@example.org"
    ]
    assert [p["email_addresses"][0]["address"] for p in older["_embedded"]["osdi:people"]] == [
        "old@example.org"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "shoe_size eq '42'",
        "email_address gt 'a'",
        "modified_date gt 'yesterday'",
        "phone_number eq 'not a number'",
        "given_name eq 'a' and family_name eq 'b' or region eq 'c'",
        "given_name = 'a'",
        "modified_date gt '99999-01-01'",
    ],
)
def test_a_bad_filter_is_400_invalid_filter(api: ApiClient, text: str) -> None:
    response = api.get("/api/v2/people", filter=text)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_filter"


def test_another_organizations_person_is_404(
    api: ApiClient, api_b: ApiClient, org_a: Organization
) -> None:
    person = person_of(org_a, "mine@example.org")
    assert api_b.get(f"/api/v2/people/{person.uuid}").status_code == 404
    assert api_b.put(f"/api/v2/people/{person.uuid}", {"given_name": "X"}).status_code == 404
    assert api_b.get(f"/api/v2/people/{person.uuid}/taggings").status_code == 404
    listed = api_b.get("/api/v2/people").json()
    assert listed["total_records"] == 0
    assert listed["_embedded"]["osdi:people"] == []
    filtered = api_b.get("/api/v2/people", filter="email_address eq 'mine@example.org'").json()
    assert filtered["total_records"] == 0


def test_a_contact_filter_looks_only_at_the_organizations_own_contacts(
    api: ApiClient, org_a: Organization
) -> None:
    person = person_of(org_a, "rana@example.org")
    PhoneFactory(person=person, number="+96171123456", is_primary=True)
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/v2/people", filter="email_address eq 'rana@example.org'")
        api.get("/api/v2/people", filter="phone_number eq '+96171123456'")
    subqueries = [
        sql.split("IN (SELECT", 1)[1] for sql in (q["sql"] for q in queries) if "IN (SELECT" in sql
    ]
    assert len(subqueries) == 4  # a count and a page per filter
    assert all(f'"organization_id" = {org_a.pk}' in sql for sql in subqueries)


@pytest.mark.parametrize("raw", ["nope", "12", "saha:not-a-uuid", "other:" + "0" * 32])
def test_an_id_that_is_no_uuid_is_404(api: ApiClient, raw: str) -> None:
    response = api.get(f"/api/v2/people/{raw}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_people_are_not_deleted_through_the_api(api: ApiClient, org_a: Organization) -> None:
    person = person_of(org_a, "keep@example.org")
    response = api.delete(f"/api/v2/people/{person.uuid}")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
    assert Person.objects.filter(pk=person.pk).exists()


def test_a_read_token_can_read_but_not_write(make_api: Any, org_a: Organization) -> None:
    reader = make_api(org_a, scope_list=["people:read"])
    assert reader.get("/api/v2/people").status_code == 200
    response = reader.post(
        "/api/v2/people", {"person": {"email_addresses": [{"address": "a@b.org"}]}}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert not Person.objects.exists()


def test_a_token_without_the_people_scope_is_403(make_api: Any, org_a: Organization) -> None:
    other = make_api(org_a, scope_list=[s for s in scopes.ALL_SCOPES if not s.startswith("people")])
    assert other.get("/api/v2/people").status_code == 403


def _count_queries(api: ApiClient) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api.get("/api/v2/people")
    assert response.status_code == 200
    return len(queries)


def test_the_collection_takes_as_many_queries_for_3_people_as_for_25(
    api: ApiClient, org_a: Organization
) -> None:
    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            person = person_of(org_a, f"q{n}@example.org")
            PhoneFactory(person=person, number=f"+9617{n:07d}", is_primary=True)
            consent(person, Channel.EMAIL)

    add(3, 0)
    api.get("/api/v2/people")  # the token's last-used time is written once
    few = _count_queries(api)
    add(27, 3)
    many = _count_queries(api)
    assert few == many
