from __future__ import annotations

import pytest
from django.test import RequestFactory

from saha.core.request import client_ip


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "203.0.113.9", "10.0.0.1"),  # no proxy trusted: a header proves nothing
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "198.51.100.7, 203.0.113.9", "203.0.113.9"),  # the client wrote the first
        (2, "198.51.100.7, 203.0.113.9", "198.51.100.7"),
        (2, "203.0.113.9", "10.0.0.1"),  # came around the proxies
        (1, "not-an-address", "10.0.0.1"),
        (1, "[2001:db8::1]", "2001:db8::1"),
    ],
)
def test_client_address_behind_proxies(settings, proxies, forwarded, expected) -> None:
    settings.SAHA_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_sign_in_limits_count_the_client_not_the_proxy(client, settings) -> None:
    from django.core.cache import cache
    from django.urls import reverse

    from saha.testing.factories import PASSWORD, UserFactory

    settings.SAHA_PROXY_COUNT = 1
    cache.clear()
    for n in range(10):
        client.post(
            reverse("account_login"),
            {"login": f"x{n}@example.org", "password": "wrong"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    # another visitor behind the same proxy still signs in
    user = UserFactory()
    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert response.status_code == 302
    cache.clear()
