"""A token of organization A gets 404 on every resource of organization B.

Every route under ^api/v2 in the URLconf (those added later too) is filled
with B's rows and called with A's token (all scopes) in every method: the
answer is 404, the same as for an id that never existed, so it reveals
nothing. A route whose arguments this file cannot fill fails the test: add
its collection to COLLECTIONS. Writes are tried as background requests too
(`?background_request=true` must not answer `200 {}` for B's row). Collections
of A never list B's rows, and no write of A's token links A's rows to B's (a
tagging of B's person, an attendance of B's person at A's event...). Within
the organization, a token reaches only the resources its scopes name.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import pytest
from django.db.models import F, Model

from saha.api import scopes
from saha.api.hal import url
from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_hal_walk import World, make_world
from saha.api.tests.test_schema import Route, api_routes
from saha.events.models import Event, Rsvp
from saha.messaging.models import Broadcast
from saha.organizations.models import Organization
from saha.petitions.models import Petition, Signature
from saha.supporters.models import Person, Segment, Tag, Tagging

pytestmark = pytest.mark.django_db

# The collection an argument follows in the path, and the model whose uuid fills it.
COLLECTIONS: dict[str, type[Model]] = {
    "people": Person,
    "tags": Tag,
    "taggings": Tagging,
    "events": Event,
    "attendances": Rsvp,
    "petitions": Petition,
    "signatures": Signature,
    "messages": Broadcast,
    "queries": Segment,
}
# The link each kind of row goes by in a request body (`_links.osdi:person.href`).
LINK_RELS = {
    "osdi:person": ("people", Person),
    "osdi:tag": ("tags", Tag),
    "osdi:event": ("events", Event),
    "osdi:petition": ("petitions", Petition),
    "osdi:query": ("queries", Segment),
    "osdi:message": ("messages", Broadcast),
}
WRITE_METHODS = ("post", "put", "delete")
TRACES = ("org-b", "orgb")  # in every email and family name make_world gives B


@pytest.fixture
def unlimited(settings: Any) -> None:
    settings.SAHA_API_RATE_PER_MINUTE = 100_000


@pytest.fixture
def worlds(org_a: Organization, org_b: Organization) -> tuple[World, World]:
    return make_world(org_a), make_world(org_b)


def row_of(world: World, model: type[Model]) -> Model:
    return world.rows[model.__name__][0]


def fillings(route: Route, a: World, b: World) -> list[dict[str, str]]:
    """B's rows in every argument, then (for nested routes) each mix of A's and B's
    with at least one of B's. An argument after an unknown collection fails."""
    kinds = route.segments_before()
    unknown = {arg: kinds.get(arg) for arg in route.arguments if kinds.get(arg) not in COLLECTIONS}
    assert not unknown, f"{route.regex}: add the collection of {unknown} to COLLECTIONS"
    models = [COLLECTIONS[kinds[arg]] for arg in route.arguments]
    found = []
    for owners in itertools.product((a, b), repeat=len(models)):
        if b not in owners:
            continue
        values = [
            str(row_of(owner, model).uuid) for owner, model in zip(owners, models, strict=True)
        ]  # type: ignore[attr-defined]
        found.append(dict(zip(route.arguments, values, strict=True)))
    return found


def body_linking(world: World) -> dict[str, Any]:
    """A request body a write could accept, every link pointing at `world`'s rows."""
    person = row_of(world, Person)
    email = person.emails.first().address  # type: ignore[attr-defined]
    links = {
        rel: {"href": url(f"{collection}/{row_of(world, model).uuid}")}  # type: ignore[attr-defined]
        for rel, (collection, model) in LINK_RELS.items()
    }
    return {
        "person": {"email_addresses": [{"address": email}], "given_name": "Iso"},
        "email_addresses": [{"address": email}],
        "add_tags": [row_of(world, Tag).name],  # type: ignore[attr-defined]
        "name": "Isolation",
        "title": "Isolation",
        "subject": "Isolation",
        "_links": links,
    }


def call(api: ApiClient, method: str, path: str, data: Any = None) -> Any:
    if method == "get":
        return api.get(path)
    if method == "delete":
        return api.delete(path)
    return getattr(api, method)(path, data)


def answer(response: Any) -> tuple[int, str]:
    try:
        code = response.json().get("code", "")
    except (ValueError, AttributeError):
        code = "<not json>"
    return response.status_code, code


def cross_links() -> list[str]:
    """Rows of one organization pointing at another's: what a leaking write leaves behind."""
    found = []
    checks = [
        (Tagging.objects.exclude(person__organization=F("tag__organization")), "tagging"),
        (Rsvp.objects.exclude(person__organization=F("event__organization")), "rsvp"),
        (Rsvp.objects.exclude(organization=F("event__organization")), "rsvp org"),
        (
            Signature.objects.exclude(person__organization=F("petition__organization")),
            "signature",
        ),
        (
            Broadcast.objects.exclude(segment=None).exclude(
                segment__organization=F("organization")
            ),
            "broadcast",
        ),
    ]
    for queryset, what in checks:
        found += [f"{what} {row.uuid}" for row in queryset]
    return found


def snapshot(organization: Organization) -> dict[str, Any]:
    """What B holds, to see that nothing A's token did changed it."""
    found: dict[str, Any] = {}
    for model in set(COLLECTIONS.values()):
        if model is Tagging:
            rows = Tagging.objects.filter(person__organization=organization)
        else:
            rows = model.objects.filter(organization=organization)  # type: ignore[attr-defined]
        found[model.__name__] = sorted(
            json.dumps(value, sort_keys=True, default=str) for value in rows.values()
        )
    return found


def probe(api: ApiClient, route: Route, values: dict[str, str], method: str, data: Any) -> str:
    """What is wrong with the answer to `method` on `route` filled with B's `values`
    (empty when nothing is): it must be the answer for ids that never existed and,
    with a body a write could take, "not found" (or "not allowed" whatever the id, as
    a DELETE of a person is). Writes are also tried as background requests, which
    must not answer `200 {}` for another's row."""
    never = {name: str(uuid.uuid4()) for name in values}
    for suffix in ("", "?background_request=true") if method != "get" else ("",):
        theirs = answer(call(api, method, route.path(**values) + suffix, data))
        nobody = answer(call(api, method, route.path(**never) + suffix, data))
        leaks = theirs != nobody or (data and theirs[0] not in (404, 405))
        readable = method == "get" and "get" in route.methods
        if leaks or (readable and theirs != (404, "not_found")):
            return f"{method.upper()} {route.path(**values)}{suffix}: {theirs} (never: {nobody})"
    return ""


def test_every_route_answers_404_to_a_token_of_another_organization(
    api: ApiClient, worlds: tuple[World, World], unlimited: None
) -> None:
    a, b = worlds
    routes = [route for route in api_routes() if route.arguments]
    assert routes, "no API route takes an id yet"
    before = snapshot(b.organization)
    problems = []
    for route in routes:
        for values in fillings(route, a, b):
            for method in ("get", "put", "post", "delete"):
                for data in (body_linking(a), {}):
                    if method in ("get", "delete") and data == {}:
                        continue
                    problems.append(probe(api, route, values, method, data))
    assert [problem for problem in problems if problem] == []
    assert snapshot(b.organization) == before
    assert cross_links() == []


def test_the_prefixed_forms_of_anothers_id_are_404_too(
    api: ApiClient, worlds: tuple[World, World], unlimited: None
) -> None:
    a, b = worlds
    for route in api_routes():
        if len(route.arguments) != 1 or "get" not in route.methods:
            continue
        (values,) = fillings(route, a, b)
        ((name, value),) = values.items()
        for form in (f"saha:{value}", f"action_network:{value}", value.upper()):
            response = api.get(route.path(**{name: form}))
            assert answer(response) == (404, "not_found"), f"{route.template} {form}"


def collection_routes() -> list[Route]:
    return [route for route in api_routes() if not route.arguments and "get" in route.methods]


def every_page(api: ApiClient, path: str) -> list[str]:
    texts, href = [], path
    for _page in range(50):
        response = api.get(href)
        assert response.status_code == 200, href
        texts.append(response.content.decode())
        href = response.json().get("_links", {}).get("next", {}).get("href")
        if not href:
            break
    return texts


def test_no_collection_of_a_lists_a_row_of_b(
    api: ApiClient, worlds: tuple[World, World], unlimited: None
) -> None:
    a, b = worlds
    routes = collection_routes()
    nested = [
        route
        for route in api_routes()
        if route.arguments and "get" in route.methods and not route.template.endswith("}")
    ]
    paths = [route.path() for route in routes]
    # and the collections under A's rows (a person's taggings, an event's attendances)
    for route in nested:
        kinds = route.segments_before()
        paths.append(
            route.path(
                **{arg: str(row_of(a, COLLECTIONS[kinds[arg]]).uuid) for arg in route.arguments}
            )  # type: ignore[attr-defined]
        )
    assert paths
    for path in paths:
        for text in every_page(api, path):
            leaked = {value for value in b.uuids() if value in text}
            leaked |= {trace for trace in TRACES if trace in text.casefold()}
            assert not leaked, f"{path} shows B's {leaked}"


def test_a_filter_naming_bs_person_finds_nothing(
    api: ApiClient, worlds: tuple[World, World], unlimited: None
) -> None:
    _a, b = worlds
    person = row_of(b, Person)
    email = person.emails.first().address  # type: ignore[attr-defined]
    if not any(route.template == "/api/v2/people" for route in collection_routes()):
        pytest.skip("no people collection yet")
    response = api.get("/api/v2/people", filter=f"email_address eq '{email}'")
    assert response.status_code == 200
    assert response.json()["total_records"] == 0


def test_writes_of_a_naming_bs_rows_link_nothing_across(
    api: ApiClient, worlds: tuple[World, World], unlimited: None
) -> None:
    """POST and PUT on A's own rows and collections, every link in the body to B's rows."""
    a, b = worlds
    before = snapshot(b.organization)
    for route in api_routes():
        kinds = route.segments_before()
        values = {arg: str(row_of(a, COLLECTIONS[kinds[arg]]).uuid) for arg in route.arguments}  # type: ignore[attr-defined]
        for method in ("post", "put"):
            if method in route.methods:
                response = call(api, method, route.path(**values), body_linking(b))
                assert response.status_code < 500, f"{method} {route.template}"
    assert cross_links() == []
    assert snapshot(b.organization) == before


def test_a_token_reaches_only_the_resources_its_scopes_name(
    make_api: Any, worlds: tuple[World, World], unlimited: None
) -> None:
    """Every route, with the organization's own rows: without the route's scope 403, and a
    read scope does not write."""
    a, _b = worlds
    problems = []
    for route in api_routes():
        resource = getattr(route.view, "resource", None)
        if resource is None:
            continue
        kinds = route.segments_before()
        values = {arg: str(row_of(a, COLLECTIONS[kinds[arg]]).uuid) for arg in route.arguments}  # type: ignore[attr-defined]
        others = [scope for scope in scopes.ALL_SCOPES if not scope.startswith(f"{resource}:")]
        for scope_list, allowed in ((others, ()), ([f"{resource}:read"], ("get",))):
            client = make_api(a.organization, scope_list=scope_list)
            for method in route.methods:
                if method in allowed:
                    continue
                response = call(client, method, route.path(**values), {})
                if answer(response) != (403, "missing_scope"):
                    problems.append(
                        f"{method.upper()} {route.template} {scope_list[:1]}: {answer(response)}"
                    )
    assert problems == []
