"""Petitions through the API: Action Network's shape, the counter, filters, pages,
the organization's own petitions only, and the same queries for any page size."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saha.api.resources.petitions import render_petition
from saha.api.tests.conftest import ApiClient
from saha.petitions import services
from saha.petitions.models import Petition, PetitionStatus
from saha.supporters.services import PersonData

pytestmark = pytest.mark.django_db


def make_petition(organization: Any, slug: str = "beach", **fields: Any) -> Petition:
    status = fields.pop("status", PetitionStatus.OPEN)
    values = {"titles": {"en": "Keep the beach open", "ar": "أبقوا الشاطئ مفتوحًا"}, **fields}
    petition = services.create_petition(actor=None, organization=organization, slug=slug, **values)
    if status != PetitionStatus.DRAFT:
        services.set_status(actor=None, petition=petition, status=PetitionStatus.OPEN)
    if status == PetitionStatus.CLOSED:
        services.set_status(actor=None, petition=petition, status=status)
    return petition


def sign(petition: Petition, n: int) -> Any:
    return services.sign(petition=petition, data=PersonData(email=f"s{n}@example.org")).signature


def test_a_petition_has_action_networks_fields_and_links(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(
        org_a, texts={"en": "We ask", "ar": "نطالب"}, targets="The minister\nThe council", goal=500
    )
    services.confirm(signature=sign(petition, 1))
    sign(petition, 2)
    body = api.get(f"/api/v2/petitions/{petition.uuid}").json()
    assert body["identifiers"] == [f"saha:{petition.uuid}", f"action_network:{petition.uuid}"]
    assert body["target"] == [{"name": "The minister"}, {"name": "The council"}]
    assert body["total_signatures"] == 2 and body["saha:confirmed_signatures"] == 1
    assert body["goal"] == 500 and body["status"] == "open"
    assert body["petition_text"]
    assert body["browser_url"].endswith(f"/o/{org_a.slug}/petitions/beach/")
    links = body["_links"]
    assert links["self"]["href"].endswith(f"/api/v2/petitions/{petition.uuid}")
    assert links["osdi:signatures"]["href"].endswith(
        f"/api/v2/petitions/{petition.uuid}/signatures"
    )
    assert links["osdi:record_signature_helper"] == links["osdi:signatures"]
    assert render_petition(petition)["total_signatures"] == 2  # also without the annotation


def test_a_draft_has_no_page(api: ApiClient, org_a: Any) -> None:
    draft = make_petition(org_a, status=PetitionStatus.DRAFT)
    body = api.get(f"/api/v2/petitions/{draft.uuid}/").json()
    assert body["status"] == "draft" and body["browser_url"] is None


def test_the_collection_pages_and_filters(api: ApiClient, org_a: Any) -> None:
    old = make_petition(org_a, "old")
    Petition.objects.filter(pk=old.pk).update(modified_at=timezone.now() - dt.timedelta(days=30))
    make_petition(org_a, "new")
    body = api.get("/api/v2/petitions/", per_page=1).json()
    assert body["total_records"] == 2 and body["total_pages"] == 2
    since = (timezone.now() - dt.timedelta(days=2)).strftime("%Y-%m-%d")
    recent = api.get("/api/v2/petitions", filter=f"modified_date gt '{since}'").json()
    assert [p["name"] for p in recent["_embedded"]["osdi:petitions"]] == ["new"]
    assert api.get("/api/v2/petitions", filter="goal gt '3'").json()["code"] == "invalid_filter"
    assert api.get("/api/v2/petitions", page=5).json()["_embedded"]["osdi:petitions"] == []


def test_another_organizations_token_sees_none_of_its_petitions(
    api_b: ApiClient, org_a: Any
) -> None:
    petition = make_petition(org_a)
    assert api_b.get(f"/api/v2/petitions/{petition.uuid}").status_code == 404
    assert api_b.get(f"/api/v2/petitions/{petition.uuid}/signatures").status_code == 404
    assert api_b.get("/api/v2/petitions").json()["total_records"] == 0


def test_a_token_without_the_petitions_scope_is_refused(org_a: Any, make_api: Any) -> None:
    events_only = make_api(org_a, scope_list=["events:write"])
    assert events_only.get("/api/v2/petitions").json()["code"] == "missing_scope"


def test_a_page_of_petitions_costs_the_same_queries(api: ApiClient, org_a: Any) -> None:
    for n in range(3):
        sign(make_petition(org_a, f"p{n}"), n)
    api.get("/api/v2/")
    with CaptureQueriesContext(connection) as few:
        api.get("/api/v2/petitions")
    for n in range(3, 15):
        sign(make_petition(org_a, f"p{n}"), n)
    with CaptureQueriesContext(connection) as many:
        body = api.get("/api/v2/petitions").json()
    assert len(body["_embedded"]["osdi:petitions"]) == 15
    assert all(p["total_signatures"] == 1 for p in body["_embedded"]["osdi:petitions"])
    assert len(many.captured_queries) == len(few.captured_queries)
