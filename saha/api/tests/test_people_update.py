"""PUT /people/{id}: a merge; null removes; contacts are added; an email status unsubscribes."""

from __future__ import annotations

from typing import Any

import pytest

from saha.api.tests.conftest import ApiClient
from saha.core.models import AuditEntry
from saha.organizations.models import Organization
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    CustomField,
    FieldKind,
    Person,
)
from saha.supporters.tests.people_factories import PersonFactory, consent


@pytest.fixture
def rana(org_a: Organization) -> Person:
    return PersonFactory(
        organization=org_a,
        email="rana@example.org",
        given_name="Rana",
        family_name="Khoury",
        region="Beirut",
        locality="Hamra",
        custom_fields={"branch": "north"},
    )


def put(api: ApiClient, person: Person, body: Any) -> Any:
    return api.put(f"/api/v2/people/{person.uuid}", body)


def test_only_what_is_sent_changes(api: ApiClient, rana: Person) -> None:
    response = put(api, rana, {"given_name": "Rania"})
    assert response.status_code == 200
    assert response.json()["given_name"] == "Rania"
    rana.refresh_from_db()
    assert (rana.given_name, rana.family_name, rana.region) == ("Rania", "Khoury", "Beirut")
    assert AuditEntry.objects.get(action="supporters.person.updated").data["fields"] == [
        "given_name"
    ]


def test_a_field_sent_as_null_is_removed(api: ApiClient, rana: Person) -> None:
    response = put(api, rana, {"family_name": None, "postal_addresses": [{"locality": None}]})
    assert response.status_code == 200
    rana.refresh_from_db()
    assert rana.family_name == ""
    assert rana.locality == ""
    assert rana.region == "Beirut"


def test_postal_addresses_null_removes_the_address(api: ApiClient, rana: Person) -> None:
    body = put(api, rana, {"postal_addresses": None}).json()
    assert body["postal_addresses"] == []


def test_custom_fields_follow_the_organizations_fields(
    api: ApiClient, rana: Person, org_a: Organization
) -> None:
    CustomField.objects.create(organization=org_a, key="branch", labels={"en": "B"}, kind="text")
    CustomField.objects.create(
        organization=org_a, key="joined", labels={"en": "J"}, kind=FieldKind.DATE
    )
    response = put(api, rana, {"custom_fields": {"joined": "2024-05-01", "unknown": "x"}})
    assert response.json()["custom_fields"] == {"branch": "north", "joined": "2024-05-01"}
    response = put(api, rana, {"custom_fields": {"branch": None}})
    assert response.json()["custom_fields"] == {"joined": "2024-05-01"}
    bad = put(api, rana, {"custom_fields": {"joined": "someday"}})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_date"


def test_new_addresses_and_numbers_are_added(api: ApiClient, rana: Person) -> None:
    response = put(
        api,
        rana,
        {
            "email_addresses": [{"address": "rana.k@example.org"}],
            "phone_numbers": [{"number": "+96171123456"}],
        },
    )
    body = response.json()
    assert [e["address"] for e in body["email_addresses"]] == [
        "rana@example.org",
        "rana.k@example.org",
    ]
    assert body["phone_numbers"][0]["number"] == "+96171123456"
    assert AuditEntry.objects.filter(action="supporters.person.email_added").count() == 1


def test_an_address_of_another_person_is_409(
    api: ApiClient, rana: Person, org_a: Organization
) -> None:
    PersonFactory(organization=org_a, email="sami@example.org")
    response = put(api, rana, {"email_addresses": [{"address": "sami@example.org"}]})
    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


def test_unsubscribe_by_put_writes_the_ledger_as_the_unsubscribe_link_does(
    api: ApiClient, rana: Person
) -> None:
    consent(rana, Channel.EMAIL)
    response = put(
        api, rana, {"email_addresses": [{"address": "rana@example.org", "status": "unsubscribed"}]}
    )
    assert response.status_code == 200
    assert response.json()["email_addresses"][0]["status"] == "unsubscribed"
    record = ConsentRecord.objects.filter(person=rana).latest("id")
    assert record.status == ConsentStatus.WITHDRAWN
    assert record.source == ConsentSource.API
    assert record.source_ref.startswith("api:test token")
    state = ConsentState.objects.get(person=rana, channel=Channel.EMAIL, purpose="updates")
    assert state.status == ConsentStatus.WITHDRAWN
    # A second unsubscribe proves nothing new.
    put(api, rana, {"email_addresses": [{"address": "rana@example.org", "status": "unsubscribed"}]})
    assert ConsentRecord.objects.filter(person=rana, status=ConsentStatus.WITHDRAWN).count() == 1


def test_subscribe_by_put_records_consent_naming_the_token(api: ApiClient, rana: Person) -> None:
    response = put(
        api, rana, {"email_addresses": [{"address": "rana@example.org", "status": "subscribed"}]}
    )
    assert response.json()["email_addresses"][0]["status"] == "subscribed"
    record = ConsentRecord.objects.get(person=rana)
    assert record.source == ConsentSource.API
    assert "test token" in record.wording


def test_a_phone_status_sets_sms_consent(api: ApiClient, rana: Person) -> None:
    put(api, rana, {"phone_numbers": [{"number": "+96171123456", "status": "subscribed"}]})
    assert ConsentState.objects.get(person=rana, channel=Channel.SMS).status == "granted"


@pytest.mark.parametrize("field", ["email_addresses", "phone_numbers"])
def test_opposite_statuses_on_one_channel_are_400_conflicting_status(
    api: ApiClient, rana: Person, field: str
) -> None:
    # Consent is kept per channel: "a subscribed, b unsubscribed" cannot both hold.
    key = "address" if field == "email_addresses" else "number"
    values = (
        ("rana@example.org", "rana.k@example.org")
        if key == "address"
        else ("+96171123456", "+96171123457")
    )
    body = {
        field: [
            {key: values[0], "status": "subscribed"},
            {key: values[1], "status": "unsubscribed"},
        ]
    }
    response = put(api, rana, body)
    assert response.status_code == 400
    assert response.json()["code"] == "conflicting_status"
    assert not ConsentRecord.objects.exists()
    assert rana.emails.count() == 1


def test_one_status_and_no_status_on_one_channel_is_that_status(
    api: ApiClient, rana: Person
) -> None:
    body = {
        "email_addresses": [
            {"address": "rana@example.org"},
            {"address": "rana.k@example.org", "status": "subscribed"},
        ]
    }
    assert put(api, rana, body).status_code == 200
    assert ConsentState.objects.get(person=rana, channel=Channel.EMAIL).status == "granted"


def test_languages_spoken_null_removes_the_language(api: ApiClient, rana: Person) -> None:
    put(api, rana, {"languages_spoken": ["fr"]})
    rana.refresh_from_db()
    assert rana.language == "fr"
    put(api, rana, {"languages_spoken": ["de"]})  # none Saha speaks: unchanged
    rana.refresh_from_db()
    assert rana.language == "fr"
    put(api, rana, {"languages_spoken": None})
    rana.refresh_from_db()
    assert rana.language == ""


@pytest.mark.parametrize(
    "body",
    [
        [1],
        "text",
        {"given_name": True},
        {"given_name": {"a": 1}},
        {"email_addresses": [None]},
        {"phone_numbers": [{"number": None}]},
        {"languages_spoken": "ar"},
        {"custom_fields": "x"},
        {"postal_addresses": [{"country": "1"}]},
        {"custom_fields": {"branch": "\ud800"}},
        {"custom_fields": {"\udfff": "x"}},
        {"email_addresses": [{"address": "a@b.org", "status": None}]},
    ],
)
def test_bad_input_is_400_never_500(api: ApiClient, rana: Person, body: Any) -> None:
    response = put(api, rana, body)
    assert response.status_code == 400
    assert response.json()["code"]


def test_an_unknown_person_is_404(api: ApiClient) -> None:
    response = api.put("/api/v2/people/00000000-0000-0000-0000-000000000000/", {"given_name": "x"})
    assert response.status_code == 404


def test_a_background_put_answers_200_empty(
    api: ApiClient, rana: Person, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(
            f"/api/v2/people/{rana.uuid}?background_request=true", {"given_name": "R"}
        )
    assert response.json() == {}
    rana.refresh_from_db()
    assert rana.given_name == "R"
