"""Reminders before a shift (or a need without shifts): 24 hours and 2 hours before.

Each reminder is claimed once, by a conditional UPDATE of the row's
`reminders_sent` (as events claim theirs): only one tick, of any number of
workers, moves the list, and only that one sends. Each message has a key
naming the assignment, the reminder and the start it counts from, so a task
run twice sends nothing twice and a need moved to another day is reminded
again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from saha.events.models import EventStatus
from saha.volunteers import notices
from saha.volunteers.models import Assignment, AssignmentStatus, Need, Shift
from saha.volunteers.needs import REMINDERS

BATCH = 500


@dataclass(frozen=True)
class Due:
    kind: str  # "shift" or "need"
    pk: int
    minutes: int
    starts: str  # the start it counts from, ISO 8601


def _happening() -> Q:
    """Needs whose event is not cancelled (a campaign's need has no event)."""
    return Q(event__isnull=True) | Q(event__status=EventStatus.PUBLISHED)


def _claim(
    model: type[Shift] | type[Need], rows: Iterable[Shift | Need], now: dt.datetime, kind: str
) -> list[Due]:
    due = []
    for row in rows:
        for minutes in REMINDERS:
            if minutes in row.reminders_sent or now < row.starts_at - dt.timedelta(minutes=minutes):
                continue
            sent = [*row.reminders_sent, minutes]
            claimed = model.objects.filter(
                pk=row.pk, reminders_sent=row.reminders_sent, starts_at=row.starts_at
            ).update(reminders_sent=sent)
            if claimed:
                row.reminders_sent = sent
                due.append(Due(kind, row.pk, minutes, row.starts_at.isoformat()))
    return due


def claim_due_reminders(now: dt.datetime | None = None) -> list[Due]:
    now = now or timezone.now()
    horizon = now + dt.timedelta(minutes=max(REMINDERS))
    shifts = Shift.objects.filter(
        starts_at__gt=now,
        starts_at__lte=horizon,
        need__in=Need.objects.filter(_happening()),
    ).only("pk", "starts_at", "reminders_sent")
    needs = (
        Need.objects.filter(_happening(), starts_at__gt=now, starts_at__lte=horizon)
        .exclude(Exists(Shift.objects.filter(need=OuterRef("pk"))))
        .only("pk", "starts_at", "reminders_sent")
    )
    return _claim(Shift, shifts, now, "shift") + _claim(Need, needs, now, "need")


def remind(due: Due) -> int:
    """Send one claimed reminder to every volunteer with a place; safe to run twice."""
    rows = Assignment.objects.filter(status=AssignmentStatus.ACCEPTED).select_related("person")
    if due.kind == "shift":
        rows = rows.filter(shift_id=due.pk)
    else:
        rows = rows.filter(need_id=due.pk, shift__isnull=True)
    told, after = 0, 0
    while True:
        batch = list(rows.filter(pk__gt=after).order_by("pk")[:BATCH])
        if not batch:
            return told
        for assignment in batch:
            notices.reminder(assignment, due.minutes, due.starts)
            told += 1
        after = batch[-1].pk
