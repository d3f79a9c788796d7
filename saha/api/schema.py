"""What drf-spectacular needs to describe the API as clients see it.

Registered through SPECTACULAR_SETTINGS (PREPROCESSING_HOOKS, POSTPROCESSING_HOOKS);
importing the module for its hooks registers the token extension too. The committed file
(docs/api/openapi.yaml, `make schema`) must be the same on every machine, so
nothing here depends on the order views were registered in.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from saha.api.views.base import OsdiView

API_PREFIX = "/api/v2"
SECURITY_SCHEME = "osdiToken"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The OSDI-API-Token header (the `osdi-api-token` query parameter works too)."""

    target_class = "saha.api.auth.TokenAuthentication"
    name = SECURITY_SCHEME

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "apiKey", "in": "header", "name": "OSDI-API-Token"}


def language_codes() -> list[str]:
    """For ENUM_NAME_OVERRIDES: one name for a choice set several fields share, whatever
    order the views are read in (else drf-spectacular names it by a hash)."""
    return [code for code, _name in settings.LANGUAGES]


def public_path(path: str) -> str:
    """`/api/v2/people/{id}/` -> `/api/v2/people/{id}`: the form the API links to
    (every route also answers with the slash)."""
    return path.rstrip("/") or "/"


def resource_of(path: str) -> str:
    """The tag of an operation: the first segment after /api/v2 ("people"), or "entry point"."""
    rest = path.removeprefix(API_PREFIX).strip("/")
    return rest.split("/", 1)[0] if rest else "entry point"


# A view without its own docstring inherits OsdiView's, which speaks to us, not to integrators.
_INHERITED = {re.sub(r"\s+", " ", (OsdiView.__doc__ or "").strip())}


# (path, method) of the public helpers, found by `preprocess` for `postprocess`.
_public_helpers: set[tuple[str, str]] = set()


def preprocess(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """Only /api/v2 (the organizer pages are no API), in path order. Being a
    preprocessing hook also imports this module, which registers the token scheme."""
    chosen = [entry for entry in endpoints if entry[0].startswith(API_PREFIX)]
    _public_helpers.clear()
    for path, _regex, method, callback in chosen:
        if method == "POST" and getattr(getattr(callback, "cls", None), "public_helper", False):
            _public_helpers.add((public_path(path), "post"))
    return sorted(chosen, key=lambda entry: (entry[0], entry[2]))


def postprocess(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Paths without a trailing slash, operations tagged by resource, no inherited
    docstrings, and everything sorted so the output does not depend on registration order."""
    paths: dict[str, Any] = {}
    for path, item in result.get("paths", {}).items():
        address = public_path(path)
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            if operation.get("tags") in (None, [], ["api"]):
                operation["tags"] = [resource_of(address)]
            if "security" in operation:
                # The token extension and SECURITY in the settings both name the scheme.
                operation["security"] = _unique(operation["security"])
            if (address, method) in _public_helpers:
                # A public helper also takes a POST without a token, where the
                # organization allows it (and then always answers 200 {}).
                operation["security"] = _unique([*operation.get("security", []), {}])
            description = re.sub(r"\s+", " ", operation.get("description", "")).strip()
            if description in _INHERITED:
                operation.pop("description", None)
        paths.setdefault(address, {}).update(item)
    result["paths"] = {path: paths[path] for path in sorted(paths)}
    tags = sorted(
        {tag for item in paths.values() for op in _operations(item) for tag in op["tags"]}
    )
    result["tags"] = [{"name": tag} for tag in tags]
    components = result.get("components", {})
    for key, section in list(components.items()):
        if isinstance(section, dict):
            components[key] = {name: section[name] for name in sorted(section)}
    return result


def _unique(entries: list[Any]) -> list[Any]:
    unique: list[Any] = []
    for entry in entries:
        if entry not in unique:
            unique.append(entry)
    return unique


def _operations(item: dict[str, Any]) -> list[dict[str, Any]]:
    return [item[method] for method in HTTP_METHODS if method in item]
