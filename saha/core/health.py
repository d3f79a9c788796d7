"""What /healthz reports: is the database there, and is the queue moving?

Apps add a section of their own (`register_section`): what an operator should
watch of them, in a few cheap, bounded queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Min
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from saha.core.models import WorkerHeartbeat

_SECTIONS: dict[str, Callable[[], dict[str, Any]]] = {}


def register_section(name: str, report: Callable[[], dict[str, Any]]) -> None:
    _SECTIONS[name] = report


def health() -> tuple[bool, dict[str, Any]]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        now = timezone.now()
        waiting = DBTaskResult.objects.ready()
        oldest = waiting.aggregate(oldest=Min("enqueued_at"))["oldest"]
        alive_since = now - dt.timedelta(seconds=settings.SAHA_WORKER_DEAD_AFTER_SECONDS)
        report = {
            "status": "ok",
            "database": "ok",
            "queue": {
                "depth": waiting.count(),
                "oldest_waiting_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0,
                "running": DBTaskResult.objects.running().count(),
            },
            "workers": WorkerHeartbeat.objects.filter(last_seen__gte=alive_since).count(),
        }
        for name, section in _SECTIONS.items():
            report[name] = section()
        return True, report
    except DatabaseError as exc:
        return False, {
            "status": "error",
            "database": "unreachable",
            "error": exc.__class__.__name__,
        }
