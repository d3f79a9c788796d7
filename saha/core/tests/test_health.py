from __future__ import annotations

import pytest
from django.db import DatabaseError

from saha.core import health


@pytest.mark.django_db
def test_healthz_reports_database_queue_and_workers(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert set(body["queue"]) == {"depth", "oldest_waiting_seconds", "running"}
    assert body["workers"] == 0
    assert "no-cache" in response.headers["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_gone(client, monkeypatch) -> None:
    def unreachable() -> None:
        raise DatabaseError("connection refused")

    class Broken:
        def __enter__(self) -> None:
            unreachable()

        def __exit__(self, *exc: object) -> None:
            return None

    monkeypatch.setattr(health.connection, "cursor", lambda: Broken())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
