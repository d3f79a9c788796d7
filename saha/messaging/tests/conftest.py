"""Fixtures of the messaging tests: a clean memory provider, English pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def memory_provider_sent() -> Iterator[list[Any]]:
    """What the memory provider accepted during the test, emptied before and after."""
    from saha.messaging.providers import console

    console.sent.clear()
    yield console.sent
    console.sent.clear()


@pytest.fixture(autouse=True)
def queued_tasks(settings: Any) -> None:
    """Tasks wait in the database queue: each test runs the worker's steps itself,
    so it can look between them (the immediate backend would run the whole send
    inside `request_send`)."""
    from saha.testing.factories import DATABASE_TASKS

    settings.TASKS = DATABASE_TASKS


@pytest.fixture
def english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
