"""The gate's headcount: who came in, kept as a counter rather than counted at each scan.

At a large gathering the banner on every gate phone shows how many are in after
each scan. Counting the check-ins each time costs more with every person let
in (the whole crowd, at every scan, from every gate); instead each check-in adds
one to a random shard of `CheckInCount` in its own transaction, and the banner
sums a handful of rows. The shards spread the writes: forty gates scanning at
once rarely meet on one row, and never hold it longer than their commit.

An event's rows are made on its first check-ins, so no code that creates events
needs to know about them; the migration that added them counted the check-ins
made before. Check-ins are never deleted on their own, only with their event,
which deletes these rows too.
"""

from __future__ import annotations

import random

from django.db import IntegrityError, transaction
from django.db.models import F

from saha.events.models import CheckInCount

SHARDS = 8
WALK_IN = "walk-in"


def add(event_id: int, *, method: str) -> None:
    """One more person in, inside the check-in's transaction (rolled back with it)."""
    walk_in = int(method == WALK_IN)
    shard = random.randrange(SHARDS)  # spreading writes, not a secret
    row = CheckInCount.objects.filter(event_id=event_id, shard=shard)
    more = {"checked_in": F("checked_in") + 1, "walk_ins": F("walk_ins") + walk_in}
    if row.update(**more):
        return
    try:
        with transaction.atomic():  # another gate may make this shard at the same moment
            CheckInCount.objects.create(
                event_id=event_id, shard=shard, checked_in=1, walk_ins=walk_in
            )
    except IntegrityError:
        row.update(**more)
