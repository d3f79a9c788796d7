"""Counters split over shard rows, for counts that many writers move at once.

A petition's signatures and an event's check-ins are counted this way: each
change adds to one row of a few (chosen at random by the caller), so writers
rarely wait on one another, and a reader sums the rows. The model has a
`shard` field, the fields counted, and a unique constraint on its owner and
`shard`. A shard's row is made by the first change that finds it missing, so
no row needs to exist beforehand; two writers making the same row at once
both count.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F


def add(model: type[models.Model], shard: int, owner: dict[str, Any], **deltas: int) -> None:
    """Add `deltas` to the owner's `shard` row, in the caller's transaction.

    With all deltas 0 it still takes (or makes) the row: its lock, held to the
    commit, makes other writers of that shard wait.
    """
    row = model._default_manager.filter(shard=shard, **owner)
    more = {field: F(field) + delta for field, delta in deltas.items()}
    if row.update(**more):
        return
    try:
        with transaction.atomic():  # another writer may make this shard at the same moment
            model._default_manager.create(shard=shard, **owner, **deltas)
    except IntegrityError:
        if not row.update(**more):  # the row that was in the way is gone: never lose a count
            raise
