"""Quiet hours: no SMS at night in the organization's time zone, unless urgent."""

from __future__ import annotations

import datetime as dt
import zoneinfo


def is_quiet(local: dt.time, start: dt.time, end: dt.time) -> bool:
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end  # overnight, e.g. 21:00 to 09:00


def next_allowed(now: dt.datetime, time_zone: str, start: dt.time, end: dt.time) -> dt.datetime:
    """`now` if SMS may go now, else the first moment after it that is not quiet (UTC).

    Daylight saving makes a wall time happen twice (autumn) or never (spring):
    every reading of the end time on the next days is tried, and the earliest
    one that lies ahead and is not itself quiet wins. In a spring gap that can
    be up to an hour after the true end: late, never early.
    """
    zone = zoneinfo.ZoneInfo(time_zone)
    local = now.astimezone(zone)
    if not is_quiet(local.time(), start, end):
        return now
    candidates = sorted(
        instant
        for days in (0, 1, 2)
        for fold in (0, 1)
        if (
            instant := dt.datetime.combine(local.date() + dt.timedelta(days=days), end)
            .replace(tzinfo=zone, fold=fold)
            .astimezone(dt.UTC)
        )
        > now
    )
    for instant in candidates:
        if not is_quiet(instant.astimezone(zone).time(), start, end):
            return instant
    return candidates[0]
