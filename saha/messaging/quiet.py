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
    """`now` if SMS may go now, else the end of the current quiet period (aware, UTC)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    local = now.astimezone(zone)
    if not is_quiet(local.time(), start, end):
        return now
    day = local.date()
    if local.time() >= end:  # past midnight's counterpart: the quiet ends tomorrow
        day += dt.timedelta(days=1)
    # fold=0 and a round trip through UTC settle a wall time that a DST change skipped.
    allowed = dt.datetime.combine(day, end, tzinfo=zone)
    return allowed.astimezone(dt.UTC)
