"""A signed-in session's activity is recorded at most once a minute, at once when it moves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from saha.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, owner):  # type: ignore[no-untyped-def]
    response = client.post(
        reverse("account_login"), {"login": owner.user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def session_row() -> UserSession:
    return UserSession.objects.get()


def usersession_writes(client, **headers) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("organizations:home"), **headers).status_code == 302
    return sum(
        1
        for query in queries.captured_queries
        if "usersessions_usersession" in query["sql"]
        and query["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))
    )


def test_the_first_request_of_a_session_records_it(signed_in) -> None:
    UserSession.objects.all().delete()  # what allauth's sign-in wrote: the request must write it
    assert usersession_writes(signed_in) == 1
    row = session_row()
    assert row.ip == "127.0.0.1"
    assert row.session_key == signed_in.session.session_key


def test_requests_within_the_minute_write_nothing(signed_in) -> None:
    usersession_writes(signed_in)
    seen = session_row().last_seen_at
    assert [usersession_writes(signed_in) for _ in range(3)] == [0, 0, 0]
    assert session_row().last_seen_at == seen


def test_after_the_minute_the_activity_is_written_again(signed_in) -> None:
    usersession_writes(signed_in)
    long_ago = timezone.now() - timedelta(hours=1)
    UserSession.objects.update(last_seen_at=long_ago)
    cache.clear()  # what the cache's expiry does after SAHA_SESSION_ACTIVITY_SECONDS
    assert usersession_writes(signed_in) == 1
    assert session_row().last_seen_at > long_ago


def test_a_new_address_or_browser_is_written_at_once(signed_in) -> None:
    usersession_writes(signed_in)
    assert usersession_writes(signed_in, REMOTE_ADDR="10.1.2.3") == 1
    assert session_row().ip == "10.1.2.3"
    assert usersession_writes(signed_in, REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Phone") == 1
    assert session_row().user_agent == "Phone"
    assert usersession_writes(signed_in, REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Phone") == 0


def test_zero_seconds_writes_on_every_request(signed_in, settings) -> None:
    settings.SAHA_SESSION_ACTIVITY_SECONDS = 0
    usersession_writes(signed_in)
    assert [usersession_writes(signed_in) for _ in range(2)] == [1, 1]


def test_anonymous_requests_record_nothing(client) -> None:
    client.get(reverse("account_login"))
    assert not UserSession.objects.exists()


class BrokenCache:
    def get(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionError("the cache is down")

    set = get


def test_a_broken_cache_writes_every_time_and_fails_no_page(signed_in, monkeypatch) -> None:
    monkeypatch.setattr("saha.accounts.middleware.cache", BrokenCache())
    assert [usersession_writes(signed_in) for _ in range(2)] == [1, 1]
