"""The gate's headcount: who came in, kept as a counter rather than counted at each scan.

At a large gathering the banner on every gate phone shows how many are in after
each scan. Counting the check-ins each time costs more with every person let
in (the whole crowd, at every scan, from every gate); instead each check-in adds
one to a random one of SHARDS rows of `CheckInCount`, as the last statement of
the check-in's own transaction (a walk-in's adds its audit row after it), and
the banner sums those few rows. The shards split the waiting eightfold: a gate
waits only for another that drew the same row, and only until that one commits.
(A walk-in's transaction has taken the event's row for its place first, so
RSVPs wait for its counter too: one row lock among eight, held to a commit.)

An event's rows are made on its first check-ins, so no code that creates events
needs to know about them; the migration that added them counted the check-ins
made before. Check-ins are never deleted on their own, only with their event,
which deletes these rows too. Should the counters ever disagree with the rows
(check-ins written by other means, or by a web process still running the code
before the migration), `recount` puts them right, safely while gates scan:
`saha manage recount_headcounts`.
"""

from __future__ import annotations

import random
from typing import Any

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from saha.core import counters
from saha.events.models import CheckIn, CheckInCount, Event

SHARDS = 8
WALK_IN = "walk-in"


def add(event_id: int, *, method: str) -> None:
    """One more person in, inside the check-in's transaction (rolled back with it)."""
    shard = random.randrange(SHARDS)  # spreading writes, not a secret
    counters.add(
        CheckInCount, shard, {"event_id": event_id}, checked_in=1, walk_ins=int(method == WALK_IN)
    )


def per_event(rows: QuerySet[Any], aggregate: Count | Sum) -> Coalesce:
    """A subquery: `aggregate` over the rows of the outer query's event, 0 when none."""
    counted = rows.order_by().values("event_id").annotate(n=aggregate).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def recount(event_id: int) -> tuple[int, int]:
    """Put an event's counters right by the check-ins stored; the correction made
    (in, walk-ins), (0, 0) when they agreed.

    The rows and the shards are read in one statement, so in one snapshot, in
    which every committed check-in is both its row and its +1; the correction is
    then added like any check-in's. Check-ins made meanwhile are counted by their
    own transactions, so nothing needs to stop while this runs. Shard 0 is taken
    first and held to the commit: a second recount of the event waits, then
    reads the first one's correction, so a difference is never added twice.
    """
    if not Event.objects.filter(pk=event_id).exists():
        return (0, 0)
    here = CheckIn.objects.filter(event_id=OuterRef("pk"))
    shards = CheckInCount.objects.filter(event_id=OuterRef("pk"))
    with transaction.atomic():
        counters.add(CheckInCount, 0, {"event_id": event_id}, checked_in=0, walk_ins=0)  # the lock
        found = (
            Event.objects.filter(pk=event_id)
            .annotate(
                rows=per_event(here, Count("pk")),
                walk_in_rows=per_event(here.filter(method=WALK_IN), Count("pk")),
                counted=per_event(shards, Sum("checked_in")),
                counted_walk_ins=per_event(shards, Sum("walk_ins")),
            )
            .values("rows", "walk_in_rows", "counted", "counted_walk_ins")
            .get()
        )
        missing = (
            found["rows"] - found["counted"],
            found["walk_in_rows"] - found["counted_walk_ins"],
        )
        if missing != (0, 0):
            counters.add(
                CheckInCount,
                0,
                {"event_id": event_id},
                checked_in=missing[0],
                walk_ins=missing[1],
            )
    return missing
