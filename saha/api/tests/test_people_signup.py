"""POST /people: the person signup helper, with a token, in the background, and public."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from saha.api.models import ApiSettings
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
    PersonEmail,
    PersonPhone,
    PrivacySettings,
    Tag,
    Tagging,
)
from saha.supporters.tests.people_factories import PersonFactory, consent


def signup_body(email: str = "rana@example.org", **person: Any) -> dict[str, Any]:
    return {"person": {"email_addresses": [{"address": email}], **person}}


def test_a_signup_creates_the_person_and_answers_it(api: ApiClient, org_a: Organization) -> None:
    body = signup_body(
        given_name="Rana",
        phone_numbers=[{"number": "+961 71 123 456"}],
        postal_addresses=[{"locality": "Hamra", "region": "Beirut", "country": "lb"}],
        languages_spoken=["ar"],
    )
    body["add_tags"] = ["volunteer", "beirut"]

    response = api.post("/api/v2/people", body)

    assert response.status_code == 200
    data = response.json()
    person = Person.objects.get()
    assert person.organization == org_a
    assert person.source == "api"
    assert person.source_ref.startswith("api:test token")
    assert (person.given_name, person.locality, person.country) == ("Rana", "Hamra", "LB")
    assert person.language == "ar"
    assert data["identifiers"][0] == f"saha:{person.uuid}"
    assert data["email_addresses"][0]["address"] == "rana@example.org"
    assert data["phone_numbers"][0]["number"] == "+96171123456"
    assert sorted(Tagging.objects.values_list("tag__name", flat=True)) == ["beirut", "volunteer"]
    assert data["_links"]["curies"]


def test_a_signup_of_a_known_email_updates_the_same_person(
    api: ApiClient, org_a: Organization
) -> None:
    # given a person who signed up through a web form
    first = api.post("/api/v2/people", signup_body(given_name="Rana"))
    assert first.status_code == 200

    # when an integration sends the same address (in another case) with more
    second = api.post(
        "/api/v2/people",
        signup_body(
            "RANA@example.org",
            given_name="Rania",
            family_name="Khoury",
            phone_numbers=[{"number": "+96171123456"}],
        ),
    )

    # then it is the same person, updated, with one creation in the audit log
    assert second.status_code == 200
    assert Person.objects.count() == 1
    person = Person.objects.get()
    assert (person.given_name, person.family_name) == ("Rania", "Khoury")
    assert person.phones.get().number == "+96171123456"
    assert second.json()["identifiers"] == first.json()["identifiers"]
    assert AuditEntry.objects.filter(action="supporters.person.created").count() == 1
    # one row for the blanks the sign-up filled (family name, phone), as every form's
    # sign-up leaves; one for the field the token's data overwrote (given name)
    assert AuditEntry.objects.filter(action="supporters.person.updated").count() == 2


def test_a_signup_matches_by_phone_when_the_email_is_new(
    api: ApiClient, org_a: Organization
) -> None:
    known = PersonFactory(organization=org_a, phone="+96171123456")
    api.post(
        "/api/v2/people",
        signup_body("new@example.org", phone_numbers=[{"number": "+96171123456"}]),
    )
    assert Person.objects.count() == 1
    assert PersonEmail.objects.get().person == known


def test_a_subscribed_email_goes_to_the_consent_ledger_with_source_api(
    api: ApiClient, org_a: Organization
) -> None:
    body = {"person": {"email_addresses": [{"address": "a@example.org", "status": "subscribed"}]}}
    response = api.post("/api/v2/people", body)

    assert response.json()["email_addresses"][0]["status"] == "subscribed"
    record = ConsentRecord.objects.get()
    assert record.channel == Channel.EMAIL
    assert record.status == ConsentStatus.GRANTED
    assert record.source == ConsentSource.API
    assert record.source_ref.startswith("api:test token")
    assert "test token" in record.wording


def test_an_email_without_a_status_records_no_consent(api: ApiClient) -> None:
    response = api.post("/api/v2/people", signup_body())
    assert response.json()["email_addresses"][0]["status"] == "unsubscribed"
    assert not ConsentRecord.objects.exists()


def test_remove_tags_removes_them_with_an_audit_row(api: ApiClient, org_a: Organization) -> None:
    PersonFactory(organization=org_a, email="rana@example.org", tags=["old", "kept"])
    body = signup_body()
    body["remove_tags"] = ["old", "never-existed"]
    assert api.post("/api/v2/people", body).status_code == 200
    assert list(Tagging.objects.values_list("tag__name", flat=True)) == ["kept"]
    assert AuditEntry.objects.filter(action="supporters.person.untagged").count() == 1


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "required"),
        ({"person": {}}, "no_contact"),
        ({"person": "rana"}, "invalid"),
        ([1, 2], "invalid"),
        ({"person": {"email_addresses": [{"address": "not an address"}]}}, "invalid_email"),
        ({"person": {"phone_numbers": [{"number": "12"}]}}, "invalid_phone"),
        ({"person": {"email_addresses": {"address": "a@b.org"}}}, "not_a_list"),
        (
            {"person": {"email_addresses": [{"address": "a@b.org"}], "given_name": "x" * 5000}},
            "max_length",
        ),
        ({"person": {"email_addresses": [{"address": "a@b.org"}], "given_name": ["x"]}}, "invalid"),
        (
            {"person": {"email_addresses": [{"address": "a@b.org", "status": "maybe"}]}},
            "invalid_choice",
        ),
        (
            {"person": {"email_addresses": [{"address": "a\ud800@b.org"}]}},
            "surrogate_characters_not_allowed",
        ),
        ({"person": {"email_addresses": [{"address": "a@b.org"}]}, "add_tags": "x"}, "not_a_list"),
        (
            {"person": {"email_addresses": [{"address": "a@b.org"}], "custom_fields": {"a": [1]}}},
            "invalid_custom_field",
        ),
        (
            {
                "person": {
                    "email_addresses": [{"address": "a@b.org"}],
                    "postal_addresses": [{"country": "Lebanon"}],
                }
            },
            "max_length",
        ),
    ],
)
def test_bad_input_is_a_400_with_a_code(api: ApiClient, body: Any, code: str) -> None:
    response = api.post("/api/v2/people", body)
    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Person.objects.exists()


def test_a_body_that_is_not_json_is_400(api: ApiClient) -> None:
    response = api.post("/api/v2/people", "{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"


def test_a_background_signup_answers_200_empty_and_writes(
    api: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    # The test settings run a task as soon as it is enqueued, on commit.
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v2/people?background_request=true", signup_body())
    assert response.status_code == 200
    assert response.json() == {}
    assert PersonEmail.objects.filter(address="rana@example.org").exists()


def test_a_refused_background_signup_is_audited(
    api: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v2/people?background_request=true", {"person": {}})
    assert response.json() == {}
    assert not Person.objects.exists()
    assert AuditEntry.objects.get(action="api.background.refused").data["code"] == "no_contact"


# --- The public helper -------------------------------------------------------------


@pytest.fixture
def public_on(org_a: Organization) -> Organization:
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    return org_a


def anonymous() -> ApiClient:
    return ApiClient(None)


def test_the_public_helper_signs_up_when_the_organization_allows_it(
    public_on: Organization,
) -> None:
    response = anonymous().post("/api/v2/people?organization=org-a", signup_body(given_name="Rana"))
    assert response.status_code == 200
    assert response.json() == {}
    person = Person.objects.get()
    assert person.organization == public_on
    assert person.source == "api"


@pytest.mark.parametrize("slug", ["org-a", "no-such-org", "", "x" * 500])
def test_the_public_helper_says_200_empty_and_does_nothing_when_off(
    org_a: Organization, slug: str
) -> None:
    ApiSettings.objects.create(organization=org_a, public_helpers=False)
    response = anonymous().post(f"/api/v2/people?organization={slug}", signup_body())
    assert response.status_code == 200
    assert response.json() == {}
    assert not Person.objects.exists()


@pytest.mark.parametrize(
    "body", [{"person": {}}, "{not json", [1], {"person": {"given_name": "x" * 9000}}]
)
def test_the_public_helper_says_200_empty_to_bad_data(public_on: Organization, body: Any) -> None:
    response = anonymous().post("/api/v2/people?organization=org-a", body)
    assert response.status_code == 200
    assert response.json() == {}


def test_the_public_helper_cannot_read(public_on: Organization) -> None:
    assert anonymous().get("/api/v2/people?organization=org-a").status_code == 401


def test_a_stranger_changes_nothing_of_a_known_person(public_on: Organization) -> None:
    # given a supporter with a name, a phone, tags and consent
    known = PersonFactory(
        organization=public_on,
        email="rana@example.org",
        phone="+96171123456",
        given_name="Rana",
        tags=["member"],
    )
    consent(known, Channel.EMAIL)

    # when a stranger types her address with other data on another website
    body = signup_body(
        given_name="Mallory",
        phone_numbers=[{"number": "+96171999999", "status": "subscribed"}],
    )
    body["person"]["email_addresses"][0]["status"] = "unsubscribed"
    body["remove_tags"] = ["member"]
    anonymous().post("/api/v2/people?organization=org-a", body)

    # then her name, consent and tags stay, and the stranger's number is not hers
    known.refresh_from_db()
    assert known.given_name == "Rana"
    assert Tagging.objects.filter(person=known, tag__name="member").exists()
    assert not PersonPhone.objects.filter(number="+96171999999").exists()
    assert ConsentRecord.objects.filter(person=known).count() == 1
    assert not ConsentRecord.objects.filter(status=ConsentStatus.WITHDRAWN).exists()


def test_the_public_helper_is_rate_limited_per_address(
    public_on: Organization, settings: Any
) -> None:
    settings.SAHA_API_PUBLIC_HELPER_PER_MINUTE = 2
    client = anonymous()
    for n in range(4):
        response = client.post(
            "/api/v2/people?organization=org-a", signup_body(f"p{n}@example.org")
        )
        assert response.status_code == 200
        assert response.json() == {}
    assert Person.objects.count() == 2


def test_the_public_helper_tags_nobody(public_on: Organization) -> None:
    # given a supporter with one tag
    known = PersonFactory(organization=public_on, email="rana@example.org", tags=["member"])

    # when a stranger signs her up with tags to add and to remove, and signs up someone new
    for email in ("rana@example.org", "new@example.org"):
        body = signup_body(email)
        body["add_tags"] = ["member", "Board members", "spam-tag-xyz"]
        body["remove_tags"] = ["member"]
        anonymous().post("/api/v2/people?organization=org-a", body)

    # then nobody gains or loses a tagging, and no tag appears
    assert list(Tagging.objects.values_list("person", "tag__name")) == [(known.pk, "member")]
    assert list(Tag.objects.values_list("name", flat=True)) == ["member"]
    assert Person.objects.filter(emails__address="new@example.org").exists()


def test_a_stranger_cannot_resubscribe_someone_who_unsubscribed(public_on: Organization) -> None:
    # given a supporter who agreed, then unsubscribed
    known = PersonFactory(organization=public_on, email="antoine@example.org")
    consent(known, Channel.EMAIL, source=ConsentSource.FORM)
    consent(known, Channel.EMAIL, ConsentStatus.WITHDRAWN, wording="Unsubscribe")

    # when a stranger sends her address as subscribed
    body = signup_body("antoine@example.org")
    body["person"]["email_addresses"][0]["status"] = "subscribed"
    anonymous().post("/api/v2/people?organization=org-a", body)

    # then the ledger still says withdrawn, and holds nothing new
    assert ConsentRecord.objects.filter(person=known).count() == 2
    assert ConsentState.objects.get(person=known, channel=Channel.EMAIL).status == "withdrawn"


def test_a_person_the_public_helper_creates_may_be_subscribed(public_on: Organization) -> None:
    public_on.default_language = "fr"
    public_on.save()
    body = signup_body("new@example.org")
    body["person"]["email_addresses"][0]["status"] = "subscribed"

    anonymous().post("/api/v2/people?organization=org-a", body)

    record = ConsentRecord.objects.get()
    assert record.status == ConsentStatus.GRANTED
    assert (record.source, record.source_ref) == (ConsentSource.API, "api:public helper")
    assert record.language == "fr"


def test_under_double_opt_in_a_new_persons_consent_waits_for_confirmation(
    public_on: Organization,
) -> None:
    PrivacySettings.objects.update_or_create(
        organization=public_on, defaults={"email_double_opt_in": True}
    )
    body = signup_body("new@example.org")
    body["person"]["email_addresses"][0]["status"] = "subscribed"
    anonymous().post("/api/v2/people?organization=org-a", body)
    assert ConsentRecord.objects.get().status == ConsentStatus.PENDING


def test_the_public_helper_answers_200_empty_when_something_breaks(
    public_on: Organization, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("saha.api.resources.people.upsert_person", broken)
    response = anonymous().post("/api/v2/people?organization=org-a", signup_body())
    assert (response.status_code, response.json()) == (200, {})
    assert any(r.levelname == "ERROR" and r.exc_info for r in caplog.records)


def test_one_limit_counts_every_public_helper(public_on: Organization, settings: Any) -> None:
    # given a limit of 2 calls a minute, spent on another public helper
    settings.SAHA_API_PUBLIC_HELPER_PER_MINUTE = 2
    client = anonymous()
    for _n in range(2):
        client.post(f"/api/v2/events/{uuid.uuid4()}/attendances", signup_body())

    # then a sign-up from the same address does nothing
    client.post("/api/v2/people?organization=org-a", signup_body())
    assert not Person.objects.exists()


# --- Tags and consent with a token ----------------------------------------------------


def test_tags_added_by_a_signup_leave_the_organizer_pages_audit_rows(
    api: ApiClient, org_a: Organization
) -> None:
    PersonFactory(organization=org_a, email="rana@example.org", tags=["member"])
    body = signup_body()
    body["add_tags"] = ["member", "volunteer"]

    api.post("/api/v2/people", body)

    tagged = AuditEntry.objects.filter(action="supporters.person.tagged")
    assert [entry.data["tag"] for entry in tagged] == ["volunteer"]
    created = AuditEntry.objects.get(action="supporters.tag.created")
    assert created.data == {"tag": "volunteer"}
    assert created.actor_label.startswith("api:test token")


@pytest.mark.parametrize("background", ["", "?background_request=true"])
@pytest.mark.parametrize("key", ["add_tags", "remove_tags"])
def test_tags_through_the_helper_need_tags_write(
    org_a: Organization, make_api: Any, key: str, background: str
) -> None:
    writer = make_api(org_a, scope_list=["people:write"])
    body = signup_body()
    body[key] = ["volunteer"]
    response = writer.post(f"/api/v2/people{background}", body)
    assert response.status_code == 403
    assert response.json()["code"] == "missing_scope"
    assert "tags:write" in response.json()["error"]
    assert not Person.objects.exists()


def test_a_people_token_signs_up_without_tags_and_with_tags_write(
    org_a: Organization, make_api: Any
) -> None:
    people_only = make_api(org_a, scope_list=["people:write"])
    assert people_only.post("/api/v2/people", signup_body()).status_code == 200
    both = make_api(org_a, scope_list=["people:write", "tags:write"])
    body = signup_body("sami@example.org")
    body["add_tags"] = ["volunteer"]
    assert both.post("/api/v2/people", body).status_code == 200
    assert Tagging.objects.get().tag.name == "volunteer"


def test_a_tokens_consent_is_kept_in_the_organizations_language(
    api: ApiClient, org_a: Organization
) -> None:
    org_a.default_language = "en"
    org_a.save()
    body = {
        "person": {
            "email_addresses": [{"address": "a@example.org", "status": "subscribed"}],
            "phone_numbers": [{"number": "+96171123456", "status": "subscribed"}],
        }
    }
    api.post("/api/v2/people", body)

    records = ConsentRecord.objects.order_by("channel")
    assert [r.channel for r in records] == [Channel.EMAIL, Channel.SMS]
    for record in records:
        assert record.language == "en"
        assert record.source == ConsentSource.API
        assert record.source_ref.startswith("api:test token")
        assert "through the API (api:test token" in record.wording


@pytest.mark.parametrize(
    "status", ["spam complaint", "spam_complaint", "bouncing", "previous bounce"]
)
def test_statuses_that_are_ours_to_set_are_taken_and_change_nothing(
    api: ApiClient, status: str
) -> None:
    body = {"person": {"email_addresses": [{"address": "a@example.org", "status": status}]}}
    response = api.post("/api/v2/people", body)
    assert response.status_code == 200
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    ("sent", "kept"),
    [(["fr"], "fr"), (["EN-gb"], "en"), (["de", "ar"], "ar"), (["de"], ""), ([], "")],
)
def test_the_first_language_saha_speaks_is_the_persons(
    api: ApiClient, sent: list[str], kept: str
) -> None:
    api.post("/api/v2/people", signup_body(languages_spoken=sent))
    assert Person.objects.get().language == kept


def test_custom_fields_are_read_as_the_organizations_fields_say(
    api: ApiClient, org_a: Organization
) -> None:
    CustomField.objects.create(organization=org_a, key="joined", labels={}, kind=FieldKind.DATE)
    body = signup_body(custom_fields={"joined": "2024-05-01", "unknown": "x"})
    assert api.post("/api/v2/people", body).json()["custom_fields"] == {"joined": "2024-05-01"}
    bad = api.post("/api/v2/people", signup_body(custom_fields={"joined": "someday"}))
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_date")


def test_json_nested_too_deep_is_400(api: ApiClient) -> None:
    response = api.post("/api/v2/people", "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
