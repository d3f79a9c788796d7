"""The public signature helper reads its petition once in a few seconds, and still
stops at once when the petition closes or the organization turns helpers off."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saha.api import manage
from saha.api.models import ApiSettings
from saha.api.tests.conftest import ApiClient
from saha.api.tests.test_attendances import helper_body
from saha.api.tests.test_petitions import make_petition
from saha.petitions import services
from saha.petitions.models import PendingSignature, Petition, PetitionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def petition(org_a: Any) -> Petition:
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    return make_petition(org_a)


def sign(petition: Petition, n: int) -> list[str]:
    """The SQL one anonymous signature ran."""
    with CaptureQueriesContext(connection) as queries:
        response = ApiClient(None).post(
            f"/api/v2/petitions/{petition.uuid}/signatures", helper_body(f"s{n}@example.org")
        )
    assert response.status_code == 200 and response.json() == {}
    return [query["sql"] for query in queries.captured_queries]


def reads_petition(sql: list[str]) -> bool:
    return any('FROM "petitions_petition"' in q or 'FROM "api_apisettings"' in q for q in sql)


def test_the_petition_and_the_helpers_flag_are_one_query_then_none(petition: Petition) -> None:
    first = sign(petition, 1)
    assert sum('FROM "petitions_petition"' in q for q in first) == 1
    assert not any(q.startswith('SELECT 1 AS "a" FROM "api_apisettings"') for q in first)
    assert [reads_petition(sign(petition, n)) for n in (2, 3)] == [False, False]
    assert PendingSignature.objects.count() == 3


def test_closing_the_petition_stops_the_helper_at_once(
    petition: Petition, django_capture_on_commit_callbacks: Any
) -> None:
    sign(petition, 1)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_status(actor=None, petition=petition, status=PetitionStatus.CLOSED)
    sign(petition, 2)
    assert PendingSignature.objects.count() == 1


def test_the_answer_is_forgotten_only_when_the_change_commits(
    petition: Petition, django_capture_on_commit_callbacks: Any
) -> None:
    sign(petition, 1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.set_status(actor=None, petition=petition, status=PetitionStatus.CLOSED)
    assert callbacks, "the cache is to be cleared on commit, not before"
    sign(petition, 2)  # not committed yet: the remembered answer still holds
    for callback in callbacks:
        callback()
    sign(petition, 3)
    assert PendingSignature.objects.count() == 2


def test_turning_the_helpers_off_on_the_settings_page_stops_them_at_once(
    petition: Petition, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sign(petition, 1)
    with django_capture_on_commit_callbacks(execute=True):
        manage.set_public_helpers(actor=None, organization=org_a, enabled=False)
    sign(petition, 2)
    assert PendingSignature.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        manage.set_public_helpers(actor=None, organization=org_a, enabled=True)
    sign(petition, 3)
    assert PendingSignature.objects.count() == 2


def test_deleting_the_settings_stops_the_helpers_at_once(
    petition: Petition, org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    sign(petition, 1)
    with django_capture_on_commit_callbacks(execute=True):
        ApiSettings.objects.filter(organization=org_a).delete()
    sign(petition, 2)
    assert PendingSignature.objects.count() == 1


def test_a_change_made_elsewhere_shows_when_the_remembered_row_expires(
    petition: Petition,
) -> None:
    sign(petition, 1)
    # Another process closed it: this one's cache still says open, for a few seconds.
    Petition.objects.filter(pk=petition.pk).update(status=PetitionStatus.CLOSED)
    sign(petition, 2)
    assert PendingSignature.objects.count() == 2
    cache.clear()  # what PUBLIC_ROW_SECONDS does
    sign(petition, 3)
    assert PendingSignature.objects.count() == 2


def test_a_deadline_stops_the_helper_even_while_the_row_is_remembered(
    petition: Petition, monkeypatch: pytest.MonkeyPatch
) -> None:
    Petition.objects.filter(pk=petition.pk).update(deadline=timezone.now() + timedelta(hours=1))
    sign(petition, 1)
    later = timezone.now() + timedelta(hours=2)
    monkeypatch.setattr("saha.petitions.models.timezone.now", lambda: later)
    sign(petition, 2)
    assert PendingSignature.objects.count() == 1


def test_an_unknown_or_closed_petition_is_remembered_too(org_a: Any) -> None:
    ApiSettings.objects.create(organization=org_a, public_helpers=True)
    closed = make_petition(org_a, status=PetitionStatus.CLOSED)
    assert reads_petition(sign(closed, 1))
    assert not reads_petition(sign(closed, 2))
    assert not PendingSignature.objects.exists()
