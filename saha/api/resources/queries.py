"""Queries: the organization's saved segments, as Action Network shows its queries.

Read-only. `saha:total_people` is how many people the segment selects now,
counted by the segment code the broadcasts use. A segment's criteria name tags
by row id, which the API never shows, so the definition itself is not given.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from saha.api import filters, hal
from saha.supporters import segments
from saha.supporters.models import Segment

FILTERS = {
    "name": filters.Field("name"),
    "modified_date": filters.Field("modified_at", **filters.DATE),  # type: ignore[arg-type]
    "created_date": filters.Field("created_at", **filters.DATE),  # type: ignore[arg-type]
}


def query_url(segment: Segment) -> str:
    return hal.url(f"queries/{segment.uuid}")


def with_totals(rows: list[Segment]) -> Iterable[Segment]:
    """A page of segments with their counts, in one query for the whole page."""
    if not rows:
        return rows
    totals = segments.counts(rows[0].organization, rows)
    for row in rows:
        row.api_total_people = totals.get(row.pk, 0)  # type: ignore[attr-defined]
    return rows


def render_query(segment: Segment) -> dict[str, Any]:
    total = getattr(segment, "api_total_people", None)
    if total is None:
        total = segments.counts(segment.organization, [segment])[segment.pk]
    return {
        "identifiers": hal.identifiers(segment),
        "created_date": hal.timestamp(segment.created_at),
        "modified_date": hal.timestamp(segment.modified_at),
        "origin_system": "Saha",
        "name": segment.name,
        "saha:total_people": total,
        "_links": {"self": hal.link(query_url(segment))},
    }
