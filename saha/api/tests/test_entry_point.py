from __future__ import annotations

from typing import Any

from saha.api import scopes
from saha.api.models import ApiToken
from saha.api.tests.conftest import ApiClient
from saha.api.tokens import revoke_token
from saha.core.models import AuditEntry


def test_the_entry_point_links_every_collection_with_a_title(api: ApiClient) -> None:
    response = api.get("/api/v2/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/hal+json")
    body = response.json()
    assert body["max_pagesize"] == 25
    for rel in ("people", "tags", "events", "petitions", "messages", "queries"):
        link = body["_links"][f"osdi:{rel}"]
        assert link["href"].endswith(f"/api/v2/{rel}")
        assert link["title"]
    assert body["_links"]["curies"][0]["name"] == "osdi"


def test_the_path_works_with_and_without_a_trailing_slash(api: ApiClient) -> None:
    assert api.get("/api/v2").status_code == 200
    assert api.get("/api/v2/").status_code == 200


def test_the_token_is_read_from_the_header_in_any_case_or_the_query(api: ApiClient) -> None:
    lower = api.client.get("/api/v2", headers={"osdi-api-token": api.secret})
    query = api.client.get("/api/v2", {"osdi-api-token": api.secret})
    assert lower.status_code == query.status_code == 200


def test_no_token_is_401_with_a_code(db: Any) -> None:
    response = ApiClient(None).get("/api/v2/")
    assert response.status_code == 401
    assert response.json()["code"] == "no_token"


def test_a_wrong_or_revoked_token_is_401(api: ApiClient) -> None:
    assert ApiClient("saha_nope").get("/api/v2/").json()["code"] == "invalid_token"
    revoke_token(actor="test", token=ApiToken.objects.get())
    response = api.get("/api/v2/")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


def test_an_unknown_address_under_the_api_is_a_json_404(api: ApiClient) -> None:
    response = api.get("/api/v2/nothing/here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_every_call_is_audited_under_the_token_name(api: ApiClient) -> None:
    api.get("/api/v2/")
    entry = AuditEntry.objects.filter(action="api.call").get()
    assert entry.organization == api.organization
    assert entry.actor_label.startswith("api:test token")
    assert entry.data["status"] == 200


def test_over_the_rate_limit_is_429_with_retry_after(api: ApiClient, settings: Any) -> None:
    settings.SAHA_API_RATE_PER_MINUTE = 2
    assert api.get("/api/v2/").status_code == 200
    assert api.get("/api/v2/").status_code == 200
    response = api.get("/api/v2/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["code"] == "rate_limited"


def test_scopes_are_read_and_write_per_resource() -> None:
    assert scopes.allows(["people:write"], "people", write=False)
    assert not scopes.allows(["people:read"], "people", write=True)
    assert not scopes.allows(["tags:write"], "people", write=False)


def test_a_bare_day_with_eq_means_that_whole_day() -> None:
    import datetime as dt

    from saha.api import filters

    fields = {"modified_date": filters.Field("modified_at", **filters.DATE)}
    q = filters.parse("modified_date eq '2026-11-25'", fields)
    assert dict(q.children) == {
        "modified_at__gte": dt.datetime(2026, 11, 25, tzinfo=dt.UTC),
        "modified_at__lt": dt.datetime(2026, 11, 26, tzinfo=dt.UTC),
    }


def test_a_throttled_call_is_audited_too(api: ApiClient, settings: Any) -> None:
    settings.SAHA_API_RATE_PER_MINUTE = 1
    api.get("/api/v2/")
    api.get("/api/v2/")
    statuses = sorted(e.data["status"] for e in AuditEntry.objects.filter(action="api.call"))
    assert statuses == [200, 429]


def test_a_lone_surrogate_echoed_in_an_error_is_json_not_a_500(api: ApiClient) -> None:
    response = api.post("/api/v2/messages", '{"subject": "s", "body": "b", "type": "\\ud800"}')
    assert response.status_code == 400
    assert response.json()["code"]


def test_the_curie_points_at_the_osdi_documentation(api: ApiClient) -> None:
    [curie] = api.get("/api/v2/").json()["_links"]["curies"]
    assert curie == {
        "name": "osdi",
        "href": "https://opensupporter.github.io/osdi-docs/{rel}.html",
        "templated": True,
    }
