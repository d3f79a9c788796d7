"""The committed OpenAPI schema (docs/api/openapi.yaml) is what the code generates,
and it describes every route under /api/v2/ with each method the view answers.

`api_routes()` enumerates the URLconf; the isolation and no-500 tests use it too,
so a route added later is covered without touching them.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.drainage import GENERATOR_STATS
from rest_framework.views import APIView

from saha.api.schema import public_path

COMMITTED = Path(__file__).resolve().parents[3] / "docs" / "api" / "openapi.yaml"
METHODS = ("get", "post", "put", "delete", "patch")
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    regex: str  # as written in the URLconf: ^api/v2/people/(?P<id>[^/]+)/?$
    view: type[APIView]

    @property
    def arguments(self) -> list[str]:
        return _GROUP.findall(self.regex)

    @property
    def methods(self) -> list[str]:
        return [method for method in METHODS if hasattr(self.view, method)]

    @property
    def template(self) -> str:
        """/api/v2/people/{id}: the path as the schema names it."""
        path = _GROUP.sub(lambda match: "{" + match.group(1) + "}", self.regex)
        path = path.removeprefix("^").removesuffix("$").removesuffix("/?")
        return public_path("/" + path)

    def path(self, **values: str) -> str:
        """The address with its arguments filled in."""
        path = self.template
        for name, value in values.items():
            path = path.replace("{" + name + "}", value)
        assert "{" not in path, f"{self.regex}: unfilled argument in {path}"
        return path

    def segments_before(self) -> dict[str, str]:
        """Each argument and the collection it follows: {"id": "people"}."""
        found: dict[str, str] = {}
        parts = self.template.strip("/").split("/")
        for previous, part in itertools.pairwise(parts):
            if part.startswith("{"):
                found[part.strip("{}")] = previous
        return found


def api_routes() -> list[Route]:
    """Every API view under ^api/v2 (the JSON 404 catch-all is a plain function)."""
    found: list[Route] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            regex = prefix + entry.pattern.regex.pattern.removeprefix("^")
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, regex)
                continue
            view = (
                getattr(entry.callback, "view_class", None)
                if isinstance(entry, URLPattern)
                else None
            )
            if regex.startswith("api/v2") and view is not None and issubclass(view, APIView):
                found.append(Route("^" + regex, view))

    walk(get_resolver().url_patterns, "")
    return found


def generate(tmp_path: Path) -> str:
    target = tmp_path / "openapi.yaml"
    call_command("spectacular", file=str(target), validate=True, lang="en")
    return target.read_text()


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return yaml.safe_load(generate(tmp_path_factory.mktemp("schema")))


def test_the_committed_schema_is_the_generated_one(tmp_path: Path) -> None:
    assert COMMITTED.read_text() == generate(tmp_path), "run make schema and commit the file"


def test_generation_is_deterministic(tmp_path: Path) -> None:
    first = generate(tmp_path)
    assert generate(tmp_path) == first


def test_the_schema_generates_without_warnings_or_errors(tmp_path: Path) -> None:
    GENERATOR_STATS.reset()
    generate(tmp_path)
    warnings = sorted(getattr(GENERATOR_STATS, "_warn_cache", {}))
    errors = sorted(getattr(GENERATOR_STATS, "_error_cache", {}))
    assert errors == []
    assert warnings == []


def test_every_api_route_and_method_is_in_the_schema(schema: dict[str, Any]) -> None:
    routes = api_routes()
    assert routes, "no API views found under ^api/v2"
    missing = [
        f"{method.upper()} {route.template}"
        for route in routes
        for method in route.methods
        if method not in schema["paths"].get(route.template, {})
    ]
    assert missing == []


def test_paths_are_written_without_a_trailing_slash_and_tagged(schema: dict[str, Any]) -> None:
    for path, item in schema["paths"].items():
        assert path.startswith("/api/v2") and not path.endswith("/"), path
        for method in METHODS:
            if method in item:
                assert item[method]["tags"] and item[method]["tags"] != ["api"], path
                assert item[method]["operationId"], path


def test_operation_ids_are_unique(schema: dict[str, Any]) -> None:
    ids = [
        item[method]["operationId"]
        for item in schema["paths"].values()
        for method in METHODS
        if method in item
    ]
    assert len(ids) == len(set(ids))


def test_every_operation_takes_the_token_and_only_public_helpers_go_without(
    schema: dict[str, Any],
) -> None:
    assert schema["components"]["securitySchemes"]["osdiToken"]["name"] == "OSDI-API-Token"
    public = {
        (route.template, "post")
        for route in api_routes()
        if getattr(route.view, "public_helper", False) and "post" in route.methods
    }
    assert public, "no public helper found"
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                security = item[method]["security"]
                assert {"osdiToken": []} in security, f"{method} {path}"
                assert ({} in security) == ((path, method) in public), f"{method} {path}"
