"""API personas: a client holding a token of organization A (all scopes unless
asked otherwise), and one of organization B. For webhooks: a loopback HTTP server
that records what it is sent (`receiver`), and endpoints and deliveries to send."""

from __future__ import annotations

import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from saha.api import manage, scopes, webhooks
from saha.api.models import WebhookDelivery, WebhookEndpoint
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


# --- Webhooks -------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A loopback HTTP server answering each POST with the next of `statuses` (then 200)."""

    port: int
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(port=0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            if state.delay:
                time.sleep(state.delay)
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def make_endpoint(organization: Any, url: str, events: list[str] | None = None) -> Any:
    return manage.create_endpoint(
        actor="test",
        organization=organization,
        url=url,
        event_types=events or ["person.created"],
    ).endpoint


def make_delivery(endpoint: WebhookEndpoint, event_type: str = "person.created") -> Any:
    event_id = uuid.uuid4()
    return WebhookDelivery.objects.create(
        organization_id=endpoint.organization_id,
        endpoint=endpoint,
        event_id=event_id,
        event_type=event_type,
        payload=webhooks.envelope(event_id, event_type, {"hello": "مرحبا"}),
    )
