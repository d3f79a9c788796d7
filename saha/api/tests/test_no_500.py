"""Nothing a client can send answers 500: property-based, over every operation of
the generated OpenAPI schema (those added later too).

For each operation hypothesis draws path ids (the organization's rows of the
right kind and of other kinds, random uuids, junk), query parameters (page,
per_page, OSDI filters, background_request), a body (from the operation's
request schema where it has one, shaped like OSDI, or any JSON: nested
objects, huge strings, nulls, numbers where strings go, right-to-left text and
NUL; or bytes that are no JSON at all), a content type and an Accept header.
The answer is below 500, is JSON, and on 4xx carries "error" and "code".

Set HYPOTHESIS_PROFILE=ci for a derandomized run (what CI does), or
SAHA_API_FUZZ_EXAMPLES to draw more examples locally.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import uuid
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django.db import transaction
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from saha.api.hal import url
from saha.api.models import ApiSettings
from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_hal_walk import World, make_world
from saha.api.tests.test_isolation import COLLECTIONS

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("SAHA_API_FUZZ_EXAMPLES", "12"))
settings.register_profile(
    "saha-api",
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("saha-api"), derandomize=True)
PROFILE = (
    "ci" if os.environ.get("HYPOTHESIS_PROFILE") == "ci" or os.environ.get("CI") else "saha-api"
)


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path template, operation) of the schema as the code generates it now."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in schema["paths"].items():
        for method in ("get", "post", "put", "delete", "patch"):
            if method in item:
                found.append((method, path, _resolved(item[method], schema)))
    return found


def _resolved(value: Any, schema: dict[str, Any], depth: int = 0) -> Any:
    """The operation with its $refs replaced by the components they name."""
    if isinstance(value, dict):
        if "$ref" in value and depth < 8:
            name = value["$ref"].rsplit("/", 1)[-1]
            return _resolved(schema["components"]["schemas"].get(name, {}), schema, depth + 1)
        return {key: _resolved(one, schema, depth) for key, one in value.items()}
    if isinstance(value, list):
        return [_resolved(one, schema, depth) for one in value]
    return value


OPERATIONS = operations()

# --- what clients send ----------------------------------------------------------

NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "مرحبا بالعالم",
        "\u202ereversed\u202c",
        "x" * 100_000,
        "ا" * 5000,
        "' OR 1=1 --",
        "null",
        "-1",
        "9" * 40,
        "1e309",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "\ud7ff\ue000\U0010ffff",
        "\ud800 lone surrogate",  # valid JSON ("\\ud800"), no valid UTF-8
        "2026-02-30T25:61:61Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "saha:not-a-uuid",
        "action_network:",
        "http://evil.example/api/v2/people/00000000-0000-0000-0000-000000000000",
    ]
)
TEXT = st.one_of(st.text(max_size=40), NASTY_TEXT)
LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
ANY_JSON = st.recursive(
    LEAF,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(TEXT, st.sampled_from(["person", "_links"])), children, max_size=4
        ),
    ),
    max_leaves=12,
)
OSDI_KEYS = [
    "person",
    "email_addresses",
    "phone_numbers",
    "postal_addresses",
    "given_name",
    "family_name",
    "languages_spoken",
    "custom_fields",
    "add_tags",
    "remove_tags",
    "identifiers",
    "_links",
    "osdi:person",
    "href",
    "address",
    "number",
    "status",
    "primary",
    "name",
    "title",
    "subject",
    "body",
    "from",
    "reply_to",
    "targets",
    "start_date",
    "end_date",
    "scheduled_start_date",
    "comments",
    "origin_system",
    "description",
]


def _osdi(leaf: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.sampled_from(OSDI_KEYS), children, max_size=5),
        ),
        max_leaves=15,
    )


def from_schema(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that fit the schema, mostly; a wrong type now and then."""
    if depth > 4 or not isinstance(schema, dict):
        return LEAF
    kind = schema.get("type")
    fitting: st.SearchStrategy[Any]
    if "enum" in schema:
        fitting = st.sampled_from([*schema["enum"]] or [None])
    elif kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        fitting = st.fixed_dictionaries(
            {},
            optional={name: from_schema(one, depth + 1) for name, one in properties.items()},
        )
    elif kind == "array":
        fitting = st.lists(from_schema(schema.get("items", {}), depth + 1), max_size=3)
    elif kind == "integer":
        fitting = st.integers(min_value=-(2**40), max_value=2**40)
    elif kind == "number":
        fitting = st.floats(allow_nan=False, allow_infinity=False)
    elif kind == "boolean":
        fitting = st.booleans()
    elif kind == "string" and schema.get("format") in ("date-time", "date"):
        fitting = st.one_of(st.datetimes().map(lambda d: d.isoformat() + "Z"), TEXT)
    elif kind == "string" and schema.get("format") == "email":
        fitting = st.one_of(st.emails(), TEXT)
    else:
        fitting = TEXT
    return st.one_of(fitting, fitting, fitting, LEAF)


def near_valid(world: World) -> st.SearchStrategy[Any]:
    """What a write takes, with any value swapped for something else now and then: the
    organization's own rows in the links, so the write gets past "not found"."""
    hrefs = [url(f"people/{row.uuid}") for row in world.rows.get("Person", [])]  # type: ignore[attr-defined]
    value = st.one_of(TEXT, LEAF)
    email = st.one_of(st.emails(), value)
    person = st.fixed_dictionaries(
        {"email_addresses": st.lists(st.fixed_dictionaries({"address": email}), max_size=2)},
        optional={
            "given_name": value,
            "family_name": value,
            "phone_numbers": st.lists(
                st.fixed_dictionaries({"number": st.one_of(st.just("+96171123456"), value)}),
                max_size=2,
            ),
            "postal_addresses": st.lists(
                st.fixed_dictionaries({}, optional={"country": value, "locality": value}),
                max_size=2,
            ),
            "languages_spoken": st.lists(st.one_of(st.sampled_from(["ar", "en", "fr"]), value)),
            "custom_fields": st.dictionaries(TEXT, value, max_size=3),
        },
    )
    return st.fixed_dictionaries(
        {},
        optional={
            "person": person,
            "add_tags": st.lists(value, max_size=3),
            "remove_tags": st.lists(value, max_size=3),
            "_links": st.fixed_dictionaries(
                {"osdi:person": st.fixed_dictionaries({"href": st.sampled_from(hrefs)})}
            )
            if hrefs
            else value,
            "name": value,
            "subject": value,
            "body": value,
            "targets": st.lists(st.fixed_dictionaries({"href": value}), max_size=2),
            "scheduled_start_date": st.one_of(st.datetimes().map(_utc), value),
            "comments": value,
        },
    )


def _utc(moment: Any) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def bodies(operation: dict[str, Any], world: World) -> st.SearchStrategy[bytes]:
    content = (operation.get("requestBody") or {}).get("content", {})
    shapes = [from_schema(one.get("schema", {})) for one in content.values()]
    as_json = st.one_of(near_valid(world), *shapes, _osdi(LEAF), ANY_JSON).map(
        lambda value: json.dumps(value).encode()
    )
    broken = st.sampled_from([b"", b"{", b"[1,", b"\xff\xfe", b"person=a&b=c", b"{}" * 1000])
    return st.one_of(as_json, broken, st.binary(max_size=64))


CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/hal+json",
        "application/json; charset=latin-1",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=xx",
        "application/xml",
        "",
    ]
)
ACCEPTS = st.sampled_from(["", "*/*", "application/json", "application/hal+json", "text/html"])
FILTER_FIELDS = st.sampled_from(
    [
        "email_address",
        "phone_number",
        "given_name",
        "family_name",
        "modified_date",
        "created_date",
        "name",
        "title",
        "status",
        "start_date",
        "identifier",
        "nope",
    ]
)
FILTERS = st.one_of(
    TEXT,
    st.builds(
        lambda field, op, value, quote_: f"{field} {op} {quote_}{value}{quote_}",
        FILTER_FIELDS,
        st.sampled_from(["eq", "gt", "lt", "ne", "EQ", "=", ""]),
        st.one_of(TEXT, st.datetimes().map(lambda d: d.isoformat())),
        st.sampled_from(["'", '"', ""]),
    ),
    st.builds(lambda a, b: f"{a} and {b}", TEXT, TEXT),
)
NUMBERS = st.one_of(st.integers(min_value=-5, max_value=10**12).map(str), TEXT)


@st.composite
def queries(draw: st.DrawFn) -> dict[str, str]:
    query = {}
    for name, values in (
        ("page", NUMBERS),
        ("per_page", NUMBERS),
        ("filter", FILTERS),
        ("background_request", st.sampled_from(["true", "1", "false", "yes"])),
        # which organization the public signup helper (no token) is for
        ("organization", st.one_of(st.just("org-a"), st.just("org-b"), TEXT)),
    ):
        if draw(st.booleans()):
            query[name] = draw(values).replace("\x00", "")  # no client sends NUL in a URL
    return query


def path_ids(world: World, collection: str | None) -> st.SearchStrategy[str]:
    model = COLLECTIONS.get(collection or "")
    own = [str(row.uuid) for row in world.rows.get(model.__name__, [])] if model else []  # type: ignore[attr-defined]
    others = sorted(world.uuids())
    # The organization's own rows of the right kind half the time, so writes get through.
    choices = []
    if own:
        choices += [st.sampled_from(own)] * 3
        choices += [st.sampled_from([f"saha:{one}" for one in own])]
    if others:
        choices.append(st.sampled_from(others))
    choices += [st.just(str(uuid.uuid4())), st.text(min_size=1, max_size=30), NASTY_TEXT]
    return st.one_of(*choices).filter(lambda value: value.strip("/.") != "")


def collection_before(template: str) -> dict[str, str]:
    parts = template.strip("/").split("/")
    return {
        part.strip("{}"): previous
        for previous, part in itertools.pairwise(parts)
        if part.startswith("{")
    }


@pytest.fixture
def unlimited(settings: Any) -> None:
    settings.SAHA_API_RATE_PER_MINUTE = 1_000_000
    settings.SAHA_API_PUBLIC_HELPER_LIMIT = 1_000_000
    settings.SAHA_API_PUBLIC_HELPER_PER_MINUTE = 1_000_000


@pytest.fixture
def world(org_a: Any, org_b: Any) -> World:
    """A's rows, B's too; A takes unauthenticated POSTs to its public helpers, so those
    paths are drawn as well."""
    ApiSettings.objects.update_or_create(organization=org_a, defaults={"public_helpers": True})
    make_world(org_b, people=1)
    return make_world(org_a, people=3)


def _raw(text: str) -> bytes:
    """The bytes a client puts in a URL: a lone surrogate becomes invalid UTF-8."""
    return text.encode("utf-8", "surrogatepass")


def check(response: Any, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code}"
    try:
        data = json.loads(response.content or b"null")
    except ValueError:
        raise AssertionError(f"{where}: {response.status_code} is not JSON") from None
    assert data is not None, f"{where}: empty body"
    if 400 <= response.status_code < 500:
        assert isinstance(data, dict) and "error" in data and "code" in data, f"{where}: {data}"


@pytest.mark.parametrize(
    ("method", "template", "operation"),
    OPERATIONS,
    ids=[f"{method.upper()} {template}" for method, template, _op in OPERATIONS],
)
def test_no_request_answers_500(
    method: str,
    template: str,
    operation: dict[str, Any],
    api: ApiClient,
    world: World,
    unlimited: None,
) -> None:
    kinds = collection_before(template)

    @settings(parent=settings.get_profile(PROFILE))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        path = template
        for name in re.findall(r"\{(\w+)\}", template):
            value = data.draw(path_ids(world, kinds.get(name)), label=name)
            path = path.replace("{" + name + "}", quote(_raw(value), safe=":"))
        if data.draw(st.booleans(), label="trailing slash"):
            path += "/"
        query = data.draw(queries(), label="query")
        raw = {name: _raw(value) for name, value in query.items()}
        address = f"{path}?{urlencode(raw)}" if query else path
        anonymous = method == "post" and data.draw(st.integers(0, 4), label="no token") == 0
        headers = {} if anonymous else {"OSDI-API-Token": api.secret or ""}
        accept = data.draw(ACCEPTS, label="accept")
        if accept:
            headers["Accept"] = accept
        extra: dict[str, Any] = {}
        if method in ("post", "put", "patch"):
            extra["data"] = data.draw(bodies(operation, world), label="body")
            extra["content_type"] = data.draw(CONTENT_TYPES, label="content type")
        # A savepoint per request, as each request has its own transaction when served:
        # a database error in one example must not poison the next ones.
        with transaction.atomic():
            response = api.client.generic(method.upper(), address, headers=headers, **extra)
        event(f"status {response.status_code}")
        check(response, f"{method.upper()} {address}")

    run()


@pytest.mark.parametrize(
    "path", ["/api/v2%0A", "/api/v2/people%0A", "/api/v2/nothing%0Ahere", "/api/v2/people/%0A"]
)
def test_an_address_with_a_line_break_is_a_json_404(api: ApiClient, path: str) -> None:
    """Found by the test above: `.` in the catch-all `^api/v2/.*$` stops at a line break,
    so these fell through to Django's HTML page."""
    response = api.get(path)
    assert response.status_code == 404
    check(response, path)


@pytest.mark.parametrize("path", ["/api/v2/tags/a%00b", "/api/v2/people/%00", "/api/v2/x%00"])
def test_an_address_with_a_nul_is_a_json_404(api: ApiClient, path: str) -> None:
    """Found by the test above on PostgreSQL, which refuses NUL in text: the call's audit
    row (its path) must not carry it."""
    with transaction.atomic():
        response = api.get(path)
    assert response.status_code == 404
    check(response, path)
