"""Signatures through the API: the record signature helper signs through the same
service as the public form (one signature per person and per mailbox, the counter,
the confirmation link, the audit rows); the public helper takes the form's own road."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from saha.api.models import ApiSettings
from saha.api.resources.petitions import render_signature
from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_attendances import helper_body
from saha.api.tests.test_petitions import make_petition, sign
from saha.core.models import AuditEntry
from saha.petitions import intake, services
from saha.petitions.models import PendingSignature, PetitionStatus, Signature
from saha.supporters.models import ConsentRecord, Person, Tagging

pytestmark = pytest.mark.django_db


def record(api: ApiClient, petition: Any, body: Any = None) -> Any:
    path = f"/api/v2/petitions/{petition.uuid}/signatures"
    return api.post(path, helper_body() if body is None else body)


def test_the_helper_signs_for_a_new_person(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a)
    response = record(api, petition, helper_body(comments="For the children", add_tags=["beach"]))
    assert response.status_code == 200
    body = response.json()
    signature = Signature.objects.get()
    person = Person.objects.get()
    assert body["identifiers"][0] == f"saha:{signature.uuid}"
    assert body["comments"] == "For the children" and body["saha:confirmed"] is False
    assert body["_links"]["osdi:person"]["href"].endswith(f"/api/v2/people/{person.uuid}")
    assert body["_links"]["osdi:petition"]["href"].endswith(f"/api/v2/petitions/{petition.uuid}")
    assert signature.source == "api" and person.source == "api"
    assert Tagging.objects.filter(person=person, tag__name="beach").exists()
    assert services.count(petition) == services.Count(verified=0, unverified=1)
    created = AuditEntry.objects.get(action="supporters.person.created")
    assert created.actor_label.startswith("api:test token")


def test_signing_again_by_email_or_mailbox_is_the_same_signature(
    api: ApiClient, org_a: Any
) -> None:
    petition = make_petition(org_a)
    sign(petition, 1)  # through the form's service first
    first = record(api, petition, helper_body("s1@example.org")).json()
    again = record(api, petition, helper_body("S1+news@example.org")).json()
    assert first["identifiers"] == again["identifiers"]
    assert Signature.objects.count() == 1
    assert services.count(petition).unverified == 1


def test_the_organizations_data_fills_a_known_supporter(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a)
    sign(make_petition(org_a, "other"), 1)
    body = helper_body("s1@example.org")
    body["person"]["email_addresses"][0]["status"] = "subscribed"
    record(api, petition, body)
    person = Person.objects.get()
    assert person.given_name == "Rima"  # a token's data is the organization's own
    assert ConsentRecord.objects.get(person=person).source == "api"


def test_tags_added_by_the_helper_leave_the_organizer_pages_audit_rows(
    api: ApiClient, org_a: Any
) -> None:
    record(api, make_petition(org_a), helper_body(add_tags=["volunteer"]))
    tagged = AuditEntry.objects.get(action="supporters.person.tagged")
    assert tagged.data == {"tag": "volunteer"}
    assert tagged.actor_label.startswith("api:test token")
    assert AuditEntry.objects.filter(action="supporters.tag.created").count() == 1


def test_a_tokens_subscribed_email_is_consent_named_after_the_token(
    api: ApiClient, org_a: Any
) -> None:
    body = helper_body()
    body["person"]["email_addresses"][0]["status"] = "subscribed"
    record(api, make_petition(org_a), body)
    consent = ConsentRecord.objects.get()
    assert consent.source == "api" and consent.source_ref.startswith("api:test token")


@pytest.mark.parametrize("background", ["", "?background_request=1"])
def test_add_tags_needs_tags_write(org_a: Any, make_api: Any, background: str) -> None:
    petition = make_petition(org_a)
    writer = make_api(org_a, scope_list=["petitions:write"])
    path = f"/api/v2/petitions/{petition.uuid}/signatures{background}"
    response = writer.post(path, helper_body(add_tags=["volunteer"]))
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert "tags:write" in response.json()["error"]
    assert not Person.objects.exists() and not Signature.objects.exists()


def test_a_petitions_token_signs_without_tags_and_with_tags_write(
    org_a: Any, make_api: Any
) -> None:
    petition = make_petition(org_a)
    petitions_only = make_api(org_a, scope_list=["petitions:write"])
    assert record(petitions_only, petition).status_code == 200
    both = make_api(org_a, scope_list=["petitions:write", "tags:write"])
    response = record(both, petition, helper_body("sami@example.org", add_tags=["x"]))
    assert response.status_code == 200
    assert Tagging.objects.get().tag.name == "x"


def test_a_closed_petition_is_409(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a, status=PetitionStatus.CLOSED)
    response = record(api, petition)
    assert response.status_code == 409
    assert response.json()["code"] == "petition_closed"


def test_a_signature_needs_an_email(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a)
    response = record(api, petition, {"person": {"phone_numbers": [{"number": "+96171123456"}]}})
    assert response.status_code == 400
    assert response.json()["code"] == "email_required"


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"person": "x"},
        {"person": {"email_addresses": [{"address": "a@b.org"}]}, "comments": "x" * 3000},
        {"person": {"email_addresses": [{"address": "a@b.org"}]}, "comments": ["x"]},
        {"person": {"email_addresses": [{"address": "a@b.org"}]}, "comments": "a\x00b"},
    ],
)
def test_bad_input_is_a_400(api: ApiClient, org_a: Any, body: Any) -> None:
    petition = make_petition(org_a)
    response = record(api, petition, body)
    assert response.status_code == 400
    assert not Signature.objects.exists()


def test_a_background_request_answers_200_empty(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    petition = make_petition(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/v2/petitions/{petition.uuid}/signatures?background_request=1", helper_body()
        )
    assert response.json() == {}
    assert Signature.objects.get().source == "api"


def test_the_collections_and_items(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a)
    signature = sign(petition, 1)
    sign(petition, 2)
    page = api.get(f"/api/v2/petitions/{petition.uuid}/signatures/").json()
    assert page["total_records"] == 2
    item = api.get(f"/api/v2/petitions/{petition.uuid}/signatures/{signature.uuid}").json()
    assert item["action_network:person_id"] == str(signature.person.uuid)
    person = signature.person
    mine = api.get(f"/api/v2/people/{person.uuid}/signatures").json()
    assert mine["total_records"] == 1
    assert api.get(f"/api/v2/people/{person.uuid}/signatures/{signature.uuid}").status_code == 200


def test_delete_and_put_are_405_in_json(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a)
    signature = sign(petition, 1)
    path = f"/api/v2/petitions/{petition.uuid}/signatures/{signature.uuid}"
    for response in (api.delete(path), api.put(path, {"comments": "x"})):
        assert response.status_code == 405
        assert response.json()["code"] == "method_not_allowed"
    assert Signature.objects.exists()


def test_another_organizations_token_gets_404_on_every_signature(
    api_b: ApiClient, org_a: Any
) -> None:
    petition = make_petition(org_a)
    signature = sign(petition, 1)
    paths = [
        f"/api/v2/petitions/{petition.uuid}/signatures/{signature.uuid}",
        f"/api/v2/people/{signature.person.uuid}/signatures",
        f"/api/v2/people/{signature.person.uuid}/signatures/{signature.uuid}",
    ]
    for path in paths:
        assert api_b.get(path).status_code == 404, path
    assert api_b.delete(paths[0]).status_code == 404
    assert record(api_b, petition).status_code == 404
    assert Signature.objects.count() == 1


def test_a_page_of_signatures_costs_the_same_queries(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a)
    for n in range(3):
        sign(petition, n)
    api.get("/api/v2/")
    with CaptureQueriesContext(connection) as few:
        api.get(f"/api/v2/petitions/{petition.uuid}/signatures")
    for n in range(3, 15):
        sign(petition, n)
    with CaptureQueriesContext(connection) as many:
        body = api.get(f"/api/v2/petitions/{petition.uuid}/signatures").json()
    assert len(body["_embedded"]["osdi:signatures"]) == 15
    assert len(many.captured_queries) == len(few.captured_queries)


def test_render_needs_no_request_and_survives_an_erased_signer(org_a: Any) -> None:
    signature = sign(make_petition(org_a), 1)
    Signature.objects.filter(pk=signature.pk).update(person=None)
    signature.refresh_from_db()
    assert "osdi:person" not in render_signature(signature)["_links"]


# --- The public helper ------------------------------------------------------------------


def anonymous_post(petition: Any, body: Any) -> Any:
    return ApiClient(None).post(f"/api/v2/petitions/{petition.uuid}/signatures", body)


def test_without_a_token_nothing_unless_the_organization_allows_it(
    org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    petition = make_petition(org_a)
    assert anonymous_post(petition, helper_body()).json() == {}
    assert not PendingSignature.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):  # the switch, committed
        ApiSettings.objects.create(organization=org_a, public_helpers=True)
    response = anonymous_post(petition, helper_body(comments="Yes", add_tags=["x"]))
    assert response.status_code == 200 and response.json() == {}
    # The form's road: one pending row, taken in by the worker as the form's are.
    assert PendingSignature.objects.count() == 1
    intake.take_in()
    signature = Signature.objects.get()
    assert signature.source == "api" and signature.comment == "Yes"
    assert not Tagging.objects.exists()


def test_the_public_helper_changes_nothing_of_a_known_supporter(org_a: Any) -> None:
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    known = sign(make_petition(org_a, "earlier"), 1).person
    petition = make_petition(org_a)
    body = helper_body("s1@example.org")
    assert anonymous_post(petition, body).json() == {}
    intake.take_in()
    known.refresh_from_db()
    assert known.given_name == ""
    assert Signature.objects.filter(petition=petition, person=known).exists()


def test_the_public_helper_answers_the_same_whatever_is_wrong(org_a: Any, org_b: Any) -> None:
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    closed = make_petition(org_a, "closed", status=PetitionStatus.CLOSED)
    draft = make_petition(org_a, "draft", status=PetitionStatus.DRAFT)
    elsewhere = make_petition(org_b, "elsewhere")
    for petition in (closed, draft, elsewhere):
        assert anonymous_post(petition, helper_body()).json() == {}
    open_one = make_petition(org_a)
    for bad in ([], {"person": {}}, {"person": {"phone_numbers": [{"number": "+96171123456"}]}}):
        response = anonymous_post(open_one, bad)
        assert response.status_code == 200 and response.json() == {}
    assert not PendingSignature.objects.exists()


def test_the_public_helper_keeps_the_forms_limits(org_a: Any, settings: Any) -> None:
    settings.SAHA_PETITION_EMAIL_LIMIT = 1
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    petition = make_petition(org_a)
    for _n in range(3):
        assert anonymous_post(petition, helper_body()).json() == {}
    assert PendingSignature.objects.count() == 1
