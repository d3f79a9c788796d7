"""Webhooks never reach private, loopback or link-local addresses (unless the operator
allows it), neither when the endpoint is made nor when a delivery is sent: a name that
resolved to a public address when checked cannot be swapped for a private one after."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from saha.api import manage, webhooks
from saha.api.models import DeliveryState, WebhookEndpoint
from saha.api.tests.conftest import Receiver, make_delivery
from saha.core.errors import DomainError

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.8.9.10/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.1/hook",
    "http://100.64.0.1/hook",  # shared address space (carrier NAT)
    "http://169.254.169.254/latest/meta-data",  # cloud metadata
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::]/hook",
    "http://[fe80::1]/hook",
    "http://[fc00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped loopback
    "http://[::ffff:169.254.169.254]/hook",
    "http://localhost/hook",  # a name that resolves to loopback
    "http://localhost:8000/hook",
]


@pytest.mark.parametrize("url", REFUSED)
def test_a_private_or_local_address_is_refused(url: str, settings: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.check_url(url)
    assert refused.value.code == "private_address"


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.org/hook", "bad_scheme"),
        ("file:///etc/passwd", "bad_scheme"),
        ("gopher://127.0.0.1:25/", "bad_scheme"),
        ("javascript:alert(1)", "bad_scheme"),
        ("http:///nohost", "bad_url"),
        ("http://[::1/hook", "bad_url"),
        ("http://example.org:99999/hook", "bad_url"),
        ("http://no-such-host.invalid/hook", "unknown_host"),
    ],
)
def test_what_is_not_an_http_address_is_refused(url: str, code: str, settings: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True  # refused whatever the operator allows
    with pytest.raises(webhooks.WebhookError) as refused:
        webhooks.check_url(url)
    assert refused.value.code == code


def test_a_public_address_is_accepted_and_pinned(settings: Any, monkeypatch: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = False
    monkeypatch.setattr(socket, "getaddrinfo", _resolves_to("93.184.215.14"))
    target = webhooks.check_url("https://hooks.example.org/in?x=1")
    assert (target.host, target.port, target.path) == ("hooks.example.org", 443, "/in?x=1")
    assert target.address == "93.184.215.14"


def test_a_name_resolving_to_a_public_and_a_private_address_is_refused(
    settings: Any, monkeypatch: Any
) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = False
    monkeypatch.setattr(socket, "getaddrinfo", _resolves_to("93.184.215.14", "10.0.0.5"))
    with pytest.raises(webhooks.WebhookError):
        webhooks.check_url("https://hooks.example.org/in")


def test_the_endpoint_form_refuses_loopback(settings: Any, org_a: Any) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = False
    with pytest.raises(DomainError) as refused:
        manage.create_endpoint(
            actor="test", organization=org_a, url="http://[::1]:9/x", event_types=["test"]
        )
    assert refused.value.code == "webhook_url_refused"
    assert not WebhookEndpoint.objects.exists()


def test_a_delivery_checks_the_address_again_when_it_is_sent(
    settings: Any,
    org_a: Any,
    receiver: Receiver,
) -> None:
    # given an endpoint accepted while the operator allowed private addresses
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    endpoint = manage.create_endpoint(
        actor="test", organization=org_a, url=receiver.url, event_types=["person.created"]
    ).endpoint
    delivery = make_delivery(endpoint)
    # when the setting is off by the time it is sent
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = False
    assert webhooks.attempt(delivery.pk) == DeliveryState.FAILED
    # then nothing reached the loopback server
    assert receiver.received == []
    delivery.refresh_from_db()
    assert delivery.last_status is None and delivery.last_error


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(
    settings: Any,
    org_a: Any,
    receiver: Receiver,
    monkeypatch: Any,
) -> None:
    # DNS rebinding: the first lookup says loopback (allowed here), a second would say
    # something else; the connection must use the address that was checked.
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    lookups: list[str] = []
    real = socket.getaddrinfo

    def rebinding(host: str, *args: Any, **kwargs: Any) -> Any:
        lookups.append(host)
        if host == "rebind.example" and len(lookups) > 1:
            return real("192.0.2.1", *args, **kwargs)  # TEST-NET: would never answer
        return real("127.0.0.1" if host == "rebind.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    status = webhooks.post(f"http://rebind.example:{receiver.port}/hook", b"{}", {}, timeout=2)
    assert status == 200
    # the name was looked up once; the connection only "resolved" the checked address
    assert lookups == ["rebind.example", "127.0.0.1"]
    assert receiver.received[0].headers["Host"] == f"rebind.example:{receiver.port}"


def _resolves_to(*addresses: str) -> Any:
    def fake(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))
            for address in addresses
        ]

    return fake
