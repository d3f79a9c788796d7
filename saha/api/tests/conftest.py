"""API personas: a client holding a token of organization A (all scopes unless
asked otherwise), and one of organization B."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from saha.api import scopes
from saha.api.tokens import create_token
from saha.organizations.models import Organization


class ApiClient:
    """Django's test client speaking JSON with an OSDI-API-Token header."""

    def __init__(self, secret: str | None, organization: Organization | None = None) -> None:
        self.client = Client()
        self.secret = secret
        self.organization = organization

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        headers = {"OSDI-API-Token": self.secret} if self.secret else {}
        return {**headers, **extra}

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(_path(path), query or None, headers=self._headers({}))

    def _send(self, method: str, path: str, data: Any, headers: dict[str, str]) -> Any:
        content = data if isinstance(data, (str, bytes)) else json.dumps(data)
        call = getattr(self.client, method)
        return call(
            _path(path), content, content_type="application/json", headers=self._headers(headers)
        )

    def post(self, path: str, data: Any = None, **headers: str) -> Any:
        return self._send("post", path, {} if data is None else data, headers)

    def put(self, path: str, data: Any = None, **headers: str) -> Any:
        return self._send("put", path, {} if data is None else data, headers)

    def delete(self, path: str, **headers: str) -> Any:
        return self.client.delete(_path(path), headers=self._headers(headers))


def _path(path: str) -> str:
    """A path, or an absolute link as the API gives it (host dropped)."""
    if path.startswith("http"):
        path = "/" + path.split("/", 3)[3]
    return path if path.startswith("/") else f"/api/v2/{path}"


@pytest.fixture
def make_api() -> Callable[..., ApiClient]:
    def make(organization: Organization, *, scope_list: list[str] | None = None) -> ApiClient:
        new = create_token(
            actor="test",
            organization=organization,
            name="test token",
            scopes=scope_list or list(scopes.ALL_SCOPES),
        )
        return ApiClient(new.secret, organization)

    return make


@pytest.fixture
def api(org_a: Organization, make_api: Callable[..., ApiClient]) -> ApiClient:
    return make_api(org_a)


@pytest.fixture
def api_b(org_b: Organization, make_api: Callable[..., ApiClient]) -> ApiClient:
    return make_api(org_b)
