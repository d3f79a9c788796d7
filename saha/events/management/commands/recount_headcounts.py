"""`saha manage recount_headcounts`: check the gates' counters against the check-ins.

Safe while gates scan (see `saha.events.headcount.recount`). Run it after an
upgrade during which check-ins were made, or whenever the gate's banner and the
event's page disagree on how many came.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from saha.events import headcount
from saha.events.models import CheckIn, CheckInCount, Event


class Command(BaseCommand):
    help = "Check each event's gate counters against its check-ins, and put them right."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--event",
            type=int,
            action="append",
            dest="events",
            metavar="ID",
            help="only this event (by its id; may be given more than once)",
        )

    def handle(self, *args: Any, events: list[int] | None = None, **options: Any) -> None:
        if events is not None:
            events = sorted(set(events))
            known = set(Event.objects.filter(pk__in=events).values_list("pk", flat=True))
            if unknown := [str(pk) for pk in events if pk not in known]:
                raise CommandError(f"no event with the id: {', '.join(unknown)}")
        else:
            came = set(CheckIn.objects.values_list("event_id", flat=True).distinct())
            counted = set(CheckInCount.objects.values_list("event_id", flat=True).distinct())
            events = sorted(came | counted)
        corrected = 0
        for event_id in events:
            try:
                missing, walk_ins = headcount.recount(event_id)
            except DatabaseError as error:
                raise CommandError(f"event #{event_id}: {error}") from error
            if (missing, walk_ins) != (0, 0):
                corrected += 1
                self.stdout.write(
                    f"event #{event_id}: {missing:+d} checked in, {walk_ins:+d} walk-ins"
                )
        self.stdout.write(f"Events checked: {len(events)}; corrected: {corrected}.")
