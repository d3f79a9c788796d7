"""When a need or a shift happens, in its own time zone: the event's, else the
organization's. Formatted in the active language (pages, and messages, which the
worker renders in the person's)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.utils import formats

from saha.volunteers.models import Need, Shift


def zone_name(need: Need) -> str:
    return need.event.time_zone if need.event_id and need.event else need.organization.time_zone


@dataclass(frozen=True)
class Span:
    starts: dt.datetime  # local to `zone`
    ends: dt.datetime
    zone: str

    @property
    def text(self) -> str:
        start = formats.date_format(self.starts, "DATETIME_FORMAT")
        same_day = self.starts.date() == self.ends.date()
        end = (
            formats.time_format(self.ends, "TIME_FORMAT")
            if same_day
            else (formats.date_format(self.ends, "DATETIME_FORMAT"))
        )
        return f"{start} – {end}"

    def __str__(self) -> str:
        return self.text


def span(starts_at: dt.datetime, ends_at: dt.datetime, zone: str) -> Span:
    tz = zoneinfo.ZoneInfo(zone)
    return Span(starts_at.astimezone(tz), ends_at.astimezone(tz), zone)


def need_span(need: Need, shift: Shift | None = None) -> Span:
    """The shift's time if there is one, else the need's."""
    source: Need | Shift = shift if shift is not None else need
    return span(source.starts_at, source.ends_at, zone_name(need))
