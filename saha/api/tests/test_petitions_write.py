"""Creating and changing petitions through the API: the organizer's services (a draft
with its counter, the address from the title, audit rows, opening and closing as the
buttons do), Action Network's fields in and out, so what GET returns can be PUT back
without changing anything, and a 400 with a code for anything a client gets wrong."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_petitions import make_petition, sign
from saha.core.models import AuditEntry
from saha.petitions.models import Petition, PetitionStatus, SignatureCount

pytestmark = pytest.mark.django_db

ENGLISH = {"Accept-Language": "en"}


def new_petition(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Keep the beach open",
        "petition_text": "We ask the council to keep the beach open.",
        "target": [{"name": "The council"}, {"name": "The minister"}],
        "goal": 1000,
        **extra,
    }


def create(api: ApiClient, body: Any, path: str = "/api/v2/petitions") -> Any:
    return api.post(path, body, **ENGLISH)


def put(api: ApiClient, petition: Petition, body: Any, **headers: str) -> Any:
    return api.put(f"/api/v2/petitions/{petition.uuid}", body, **{**ENGLISH, **headers})


def read(api: ApiClient, petition: Petition, language: str) -> Any:
    path = f"/api/v2/petitions/{petition.uuid}"
    return api.client.get(path, headers=api._headers({"Accept-Language": language})).json()


def actions(petition: Petition) -> list[str]:
    rows = AuditEntry.objects.filter(target_type="petitions.petition", target_id=str(petition.pk))
    return list(rows.order_by("id").values_list("action", flat=True))


# --- POST /petitions -------------------------------------------------------------------


def test_a_new_petition_is_a_draft_with_its_counter(api: ApiClient, org_a: Any) -> None:
    response = create(api, new_petition())
    assert response.status_code == 200
    body = response.json()
    petition = Petition.objects.get(organization=org_a)
    assert body["identifiers"][0] == f"saha:{petition.uuid}"
    assert body["status"] == "draft" and body["browser_url"] is None
    assert body["name"] == "keep-the-beach-open"
    assert body["target"] == [{"name": "The council"}, {"name": "The minister"}]
    assert body["goal"] == 1000 and body["total_signatures"] == 0
    assert body["petition_text"] == body["description"] == new_petition()["petition_text"]
    assert body["saha:titles"] == {"en": "Keep the beach open"}
    assert SignatureCount.objects.filter(petition=petition).count() == 16
    assert actions(petition) == ["petitions.petition.created"]
    entry = AuditEntry.objects.get(action="petitions.petition.created")
    assert entry.actor_label.startswith("api:test token")


def test_a_new_petition_asked_open_is_opened(api: ApiClient, org_a: Any) -> None:
    body = create(api, new_petition(status="open")).json()
    petition = Petition.objects.get()
    assert body["status"] == "open" and body["browser_url"].endswith("/keep-the-beach-open/")
    assert actions(petition) == ["petitions.petition.created", "petitions.petition.open"]


def test_the_same_title_twice_gets_a_free_address(api: ApiClient) -> None:
    names = [create(api, new_petition()).json()["name"] for _n in range(2)]
    assert names == ["keep-the-beach-open", "keep-the-beach-open-2"]


def test_description_is_the_text_when_there_is_no_petition_text(api: ApiClient) -> None:
    body = new_petition(description="Short text")
    del body["petition_text"]
    assert create(api, body).json()["petition_text"] == "Short text"


def test_the_deadline_and_the_boxes(api: ApiClient, org_a: Any) -> None:
    body = create(
        api,
        new_petition(
            **{
                "saha:deadline": "2030-05-01T18:00:00",  # the organization's zone: Beirut
                "saha:count_unverified": True,
                "saha:show_signers": False,
                "saha:texts": {"ar": "نطالب"},
            }
        ),
    ).json()
    assert body["saha:deadline"] == "2030-05-01T15:00:00Z"
    assert body["saha:count_unverified"] is True and body["saha:show_signers"] is False
    assert set(body["saha:texts"]) == {"ar", "en"}


BAD_BODIES = [
    ([], "invalid"),
    ('"text"', "invalid"),  # a JSON string, not an object
    (new_petition(title=""), "title_required"),
    ({"petition_text": "No title"}, "title_required"),
    (new_petition(title="x" * 100_000), "max_length"),
    (new_petition(petition_text="x" * 100_000), "max_length"),
    (new_petition(title=["a"]), "invalid"),
    (new_petition(title="a\x00b"), "null_characters_not_allowed"),
    (new_petition(target="The council"), "not_a_list"),
    (new_petition(target=[{"name": "x" * 301}]), "max_length"),
    (new_petition(target=[{"name": str(n)} for n in range(51)]), "max_length"),
    (new_petition(target=[{}]), "required"),
    (new_petition(goal="many"), "invalid"),
    (new_petition(goal=-5), "min_value"),
    (new_petition(goal=10**30), "max_value"),
    (new_petition(status="closed"), "invalid_status"),
    (new_petition(status="signed"), "invalid_choice"),
    (new_petition(**{"saha:deadline": "1800-01-01T00:00:00Z"}), "out_of_range"),
    (new_petition(**{"saha:deadline": "9999-12-31T23:59:59Z"}), "out_of_range"),
    (new_petition(**{"saha:deadline": "tomorrow"}), "invalid"),
    (new_petition(**{"saha:deadline": 5}), "invalid"),
    (new_petition(**{"saha:titles": {"xx": "?"}}), "unknown_language"),
    (new_petition(**{"saha:texts": "text"}), "not_a_dict"),
    (new_petition(**{"saha:show_signers": "perhaps"}), "invalid"),
]


@pytest.mark.parametrize(("body", "code"), BAD_BODIES)
def test_bad_input_is_a_400_with_a_code(api: ApiClient, body: Any, code: str) -> None:
    response = create(api, body)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert not Petition.objects.exists()


def test_with_and_without_the_trailing_slash(api: ApiClient, org_a: Any) -> None:
    assert create(api, new_petition(), "/api/v2/petitions/").status_code == 200
    petition = Petition.objects.get()
    assert api.put(f"/api/v2/petitions/{petition.uuid}/", {"goal": 5}).status_code == 200
    assert api.put(f"/api/v2/petitions/{petition.uuid}", {"goal": 6}).status_code == 200


def test_writing_needs_the_write_scope(org_a: Any, make_api: Any) -> None:
    reader = make_api(org_a, scope_list=["petitions:read"])
    response = create(reader, new_petition())
    assert response.status_code == 403 and response.json()["code"] == "missing_scope"
    petition = make_petition(org_a)
    assert reader.put(f"/api/v2/petitions/{petition.uuid}", {"goal": 3}).status_code == 403
    assert (
        create(make_api(org_a, scope_list=["petitions:write"]), new_petition()).status_code == 200
    )


def test_a_background_create_answers_200_empty_and_lands_later(
    api: ApiClient, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = create(api, new_petition(), "/api/v2/petitions?background_request=true")
    assert response.status_code == 200 and response.json() == {}
    assert Petition.objects.get().titles == {"en": "Keep the beach open"}
    bad = create(api, new_petition(goal=-1), "/api/v2/petitions?background_request=true")
    assert bad.status_code == 400 and bad.json()["code"] == "min_value"


# --- PUT /petitions/{id} ----------------------------------------------------------------


def test_what_get_returns_put_back_changes_nothing(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(
        org_a,
        texts={"en": "We ask", "ar": "نطالب"},
        targets="The minister\nThe council",
        goal=500,
        deadline=dt.datetime(2030, 5, 1, 15, 0, 0, 123456, tzinfo=dt.UTC),
    )
    sign(petition, 1)
    for language in ("en", "ar", "fr"):  # fr: no French title, the fallback is shown
        before = read(api, petition, language)
        assert put(api, petition, before, **{"Accept-Language": language}).status_code == 200
        assert read(api, petition, language) == before
    assert "petitions.petition.updated" not in actions(petition)


def test_put_merges_only_the_fields_given(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a, targets="The minister", goal=500)
    body = put(api, petition, {"title": "Save the beach", "goal": 0}).json()
    assert body["saha:titles"] == {"en": "Save the beach", "ar": "أبقوا الشاطئ مفتوحًا"}
    assert body["goal"] is None and body["target"] == [{"name": "The minister"}]
    entry = AuditEntry.objects.get(action="petitions.petition.updated")
    assert entry.data == {"fields": ["goal", "titles"]}
    assert entry.actor_label.startswith("api:test token")


def test_the_text_is_written_in_the_requests_language(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a, texts={"en": "We ask"})
    put(api, petition, {"petition_text": "Nous demandons"}, **{"Accept-Language": "fr"})
    petition.refresh_from_db()
    assert petition.texts == {"en": "We ask", "fr": "Nous demandons"}
    put(api, petition, {"saha:texts": {"fr": None}, "saha:deadline": None, "target": []})
    petition.refresh_from_db()
    assert petition.texts == {"en": "We ask"} and petition.targets == ""


def test_a_petition_is_opened_closed_and_reopened(api: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a, status=PetitionStatus.DRAFT)
    assert put(api, petition, {"status": "open"}).json()["status"] == "open"
    assert put(api, petition, {"status": "open"}).status_code == 200  # already: no change
    assert put(api, petition, {"status": "closed"}).json()["status"] == "closed"
    assert put(api, petition, {"status": "open"}).json()["status"] == "open"
    assert actions(petition) == [
        "petitions.petition.created",
        "petitions.petition.open",
        "petitions.petition.closed",
        "petitions.petition.open",
    ]


@pytest.mark.parametrize(
    ("status", "wanted", "code"),
    [
        (PetitionStatus.DRAFT, "closed", "not_open"),
        (PetitionStatus.OPEN, "draft", "already_published"),
        (PetitionStatus.CLOSED, "draft", "already_published"),
    ],
)
def test_a_status_the_service_refuses_is_a_409(
    api: ApiClient, org_a: Any, status: str, wanted: str, code: str
) -> None:
    petition = make_petition(org_a, status=status)
    response = put(api, petition, {"status": wanted, "goal": 7})
    assert response.status_code == 409 and response.json()["code"] == code
    petition.refresh_from_db()
    assert petition.status == status and petition.goal is None  # the fields undone too


@pytest.mark.parametrize(("body", "code"), [c for c in BAD_BODIES if c[1] != "invalid_status"])
def test_bad_input_to_put_is_a_400_and_changes_nothing(
    api: ApiClient, org_a: Any, body: Any, code: str
) -> None:
    if body == {"petition_text": "No title"}:
        body = {"title": ""}  # a PUT merges: only removing the last title lacks one
    petition = make_petition(org_a, titles={"en": "Only"})
    response = put(api, petition, body)
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert "petitions.petition.updated" not in actions(petition)


def test_another_organizations_token_gets_404(api_b: ApiClient, org_a: Any) -> None:
    petition = make_petition(org_a)
    for raw in (str(petition.uuid), f"action_network:{petition.uuid}", "junk"):
        response = api_b.put(f"/api/v2/petitions/{raw}", {"status": "closed"})
        assert response.status_code == 404 and response.json()["code"] == "not_found"
    petition.refresh_from_db()
    assert petition.status == PetitionStatus.OPEN


def test_a_petition_made_by_b_is_bs_only(api: ApiClient, api_b: ApiClient, org_b: Any) -> None:
    body = create(api_b, new_petition()).json()
    assert Petition.objects.get().organization == org_b
    assert api.get("/api/v2/petitions").json()["total_records"] == 0
    assert api.get(body["_links"]["self"]["href"]).status_code == 404


def test_a_background_put_lands_later(
    api: ApiClient, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    petition = make_petition(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.put(
            f"/api/v2/petitions/{petition.uuid}?background_request=true", {"status": "closed"}
        )
    assert response.status_code == 200 and response.json() == {}
    petition.refresh_from_db()
    assert petition.status == PetitionStatus.CLOSED


def test_a_status_moved_by_another_request_first_is_a_409(
    api: ApiClient, org_a: Any, monkeypatch: Any
) -> None:
    """The service's conditional update found the petition no longer open."""
    from saha.petitions import services

    petition = make_petition(org_a)
    monkeypatch.setattr(services, "set_status", lambda **kwargs: False)
    response = put(api, petition, {"status": "closed"})
    assert response.status_code == 409 and response.json()["code"] == "status_changed"
