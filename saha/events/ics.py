"""RFC 5545 calendar files for events, written without the events models.

Callers map their rows to `CalendarEvent`; `calendar()` turns them into the
bytes of a `.ics` file. Each zone used gets a VTIMEZONE computed from zoneinfo
over the span of its events, so clients that don't know IANA names (or know an
older tz database) still read the right instants.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["CalendarEvent", "calendar", "event_file_name"]

Status = Literal["CONFIRMED", "CANCELLED"]

_STATUSES = ("CONFIRMED", "CANCELLED")
_FOLD_AT = 75  # octets per physical line, CRLF excluded (RFC 5545 §3.1)
_MARGIN = timedelta(days=366)
# Offsets change at most a few times a year; a step this short cannot hide a
# change and its reversal between two probes.
_SCAN_STEP = 6 * 3600
_TOKEN = re.compile(r"[A-Za-z0-9-]+")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_NOT_IN_URI = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    start: datetime
    end: datetime
    time_zone: str
    summary: str
    description: str = ""
    location: str = ""
    url: str = ""
    status: Status = "CONFIRMED"
    sequence: int = 0
    last_modified: datetime | None = None
    geo: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if not self.uid:
            raise ValueError("uid is required")
        for name in ("start", "end", "last_modified"):
            value = getattr(self, name)
            if value is not None and value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")
        if self.end < self.start:
            raise ValueError("end is before start")
        _check_zone(self.time_zone)  # unknown names fail here, not mid-file
        if self.status not in _STATUSES:
            raise ValueError(f"status must be one of {_STATUSES}")
        if self.sequence < 0:
            raise ValueError("sequence must not be negative")
        if _NOT_IN_URI.search(self.url):
            raise ValueError("url must not contain spaces or control characters")
        if self.geo is not None:
            lat, lon = self.geo
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError("geo is out of range")


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def calendar(
    events: Iterable[CalendarEvent],
    *,
    name: str,
    prodid: str = "-//Saha//Saha//EN",
    method: str | None = None,
    now: datetime | None = None,
    refresh: timedelta | None = None,
    time_zone: str | None = None,
) -> bytes:
    """Return a VCALENDAR as UTF-8 bytes with CRLF line endings.

    DTSTAMP is each event's `last_modified`, else `now`, else the current time,
    so the output is deterministic once either is given.

    A subscribed feed gives `refresh`, how often clients should fetch it again
    (REFRESH-INTERVAL, RFC 7986, and X-PUBLISHED-TTL, which Outlook and Apple
    read), and may give `time_zone` (X-WR-TIMEZONE), the zone a client without
    a zone of its own shows it in. Every event carries its own zone anyway.
    """
    events = list(events)
    if method is not None and not _TOKEN.fullmatch(method):
        raise ValueError("method must be an iCalendar token such as PUBLISH")
    if refresh is not None and refresh < timedelta(minutes=1):
        raise ValueError("refresh must be at least a minute")
    if time_zone is not None:
        _check_zone(time_zone)
    stamp = now if now is not None else datetime.now(UTC)
    if stamp.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{_text(prodid)}",
        "CALSCALE:GREGORIAN",
    ]
    if method is not None:
        lines.append(f"METHOD:{method.upper()}")
    lines.append(f"X-WR-CALNAME:{_text(name)}")
    if time_zone is not None:
        lines.append(f"X-WR-TIMEZONE:{time_zone}")
    if refresh is not None:
        lines.append(f"REFRESH-INTERVAL;VALUE=DURATION:{_duration(refresh)}")
        lines.append(f"X-PUBLISHED-TTL:{_duration(refresh)}")
    for zone_name in sorted({event.time_zone for event in events}):
        in_zone = [event for event in events if event.time_zone == zone_name]
        lines.extend(
            _vtimezone(
                zone_name,
                min(event.start for event in in_zone) - _MARGIN,
                max(event.end for event in in_zone) + _MARGIN,
            )
        )
    for event in events:
        lines.extend(_vevent(event, stamp))
    lines.append("END:VCALENDAR")
    return b"".join(_fold(line) for line in lines)


def event_file_name(summary: str) -> str:
    """Return an ASCII file name for one event's `.ics`, e.g. `town-hall.ics`.

    Letters without an ASCII form (Arabic) drop out; digits in any script are
    kept as ASCII digits. A summary with nothing left gives `event.ics`.
    """
    chars = []
    for char in unicodedata.normalize("NFKD", summary):
        digit = unicodedata.decimal(char, None)
        if digit is not None:
            chars.append(str(digit))
        elif char.isascii() and char.isalnum():
            chars.append(char.lower())
        else:
            chars.append("-")
    slug = re.sub(r"-+", "-", "".join(chars)).strip("-")[:60].rstrip("-")
    return f"{slug or 'event'}.ics"


def _vevent(event: CalendarEvent, now: datetime) -> list[str]:
    tzid = event.time_zone
    lines = [
        "BEGIN:VEVENT",
        f"UID:{_text(event.uid)}",
        f"DTSTAMP:{_utc(event.last_modified or now)}",
        f"DTSTART{_zoned(event.start, tzid)}",
    ]
    # RFC 5545 §3.6.1: without DTEND a timed event ends when it starts, and
    # DTEND itself must be later than DTSTART.
    if event.end > event.start:
        lines.append(f"DTEND{_zoned(event.end, tzid)}")
    lines.append(f"SUMMARY:{_text(event.summary)}")
    if event.description:
        lines.append(f"DESCRIPTION:{_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{_text(event.location)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.geo is not None:
        lines.append(f"GEO:{event.geo[0]:.6f};{event.geo[1]:.6f}")
    lines.append(f"STATUS:{event.status}")
    lines.append(f"SEQUENCE:{event.sequence}")
    if event.last_modified is not None:
        lines.append(f"LAST-MODIFIED:{_utc(event.last_modified)}")
    lines.append("END:VEVENT")
    return lines


def _vtimezone(zone_name: str, first: datetime, last: datetime) -> list[str]:
    """One VTIMEZONE whose observances hold from `first` to `last` and on.

    The first observance opens at `first` with the offset then in force; each
    later one is a transition found in zoneinfo, with a fixed DTSTART.
    """
    zone = ZoneInfo(zone_name)
    begin, stop = int(first.timestamp()), int(last.timestamp())
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone_name}"]
    initial = _offset(zone, begin)
    lines.extend(_observance(zone, begin, initial, initial))
    previous = initial
    for moment in _transitions(zone, begin, stop):
        current = _offset(zone, moment)
        lines.extend(_observance(zone, moment, previous, current))
        previous = current
    lines.append("END:VTIMEZONE")
    return lines


def _transitions(zone: ZoneInfo, begin: int, stop: int) -> Iterator[int]:
    """Yield the POSIX seconds at which the zone's UTC offset changes."""
    probe, offset = begin, _offset(zone, begin)
    while probe < stop:
        following = min(probe + _SCAN_STEP, stop)
        if _offset(zone, following) != offset:
            low, high = probe, following
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            yield high
            offset = _offset(zone, high)
            following = high
        probe = following


def _observance(zone: ZoneInfo, moment: int, before: int, after: int) -> list[str]:
    local = datetime.fromtimestamp(moment, zone)
    kind = "DAYLIGHT" if local.dst() else "STANDARD"
    # DTSTART is the wall time of the onset as read before it (§3.6.5).
    onset = datetime.fromtimestamp(moment, UTC) + timedelta(seconds=before)
    return [
        f"BEGIN:{kind}",
        f"DTSTART:{onset:%Y%m%dT%H%M%S}",
        f"TZOFFSETFROM:{_offset_text(before)}",
        f"TZOFFSETTO:{_offset_text(after)}",
        f"TZNAME:{_text(local.tzname() or _offset_text(after))}",
        f"END:{kind}",
    ]


def _offset(zone: ZoneInfo, moment: int) -> int:
    offset = datetime.fromtimestamp(moment, zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return int(offset.total_seconds())


def _offset_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _zoned(moment: datetime, tzid: str) -> str:
    """`;TZID=…:wall-time`, or a UTC value where the wall time is ambiguous.

    A wall time that occurs twice (clocks going back) is read as its first
    occurrence (§3.3.5), so the second one can only be written in UTC.
    """
    local = moment.astimezone(ZoneInfo(tzid))
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return f":{_utc(moment)}"
    return f";TZID={tzid}:{local:%Y%m%dT%H%M%S}"


def _duration(span: timedelta) -> str:
    """A positive DURATION (§3.3.6), e.g. `PT1H`, `P1DT30M`."""
    seconds = int(span.total_seconds())
    days, seconds = divmod(seconds, 86400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
    date = f"{days}D" if days else ""
    return f"P{date}T{time}" if time else f"P{date}"


def _utc(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _text(value: str) -> str:
    """Escape a TEXT value (§3.3.11); other control characters are dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\n", "\\n")
    return _CONTROL.sub("", value)


def _fold(line: str) -> bytes:
    """Fold one content line at 75 octets, never inside a UTF-8 sequence."""
    pieces: list[bytes] = []
    current = bytearray()
    for unit in _units(line):
        encoded = unit.encode("utf-8")
        if len(current) + len(encoded) > _FOLD_AT:
            pieces.append(bytes(current))
            current = bytearray(b" ")  # the leading space counts toward the 75
        current += encoded
    pieces.append(bytes(current))
    return b"\r\n".join(pieces) + b"\r\n"


def _units(line: str) -> Iterator[str]:
    """Split a line where folding may fall.

    Legal anywhere between characters, a fold inside an escape (`\\;`) or
    between a letter and its marks (Arabic harakat) can trip lax parsers, so
    those stay together while short.
    """
    unit = ""
    for char in line:
        joins = unit == "\\" or unicodedata.combining(char)
        if unit and joins and len((unit + char).encode("utf-8")) <= 16:
            unit += char
            continue
        if unit:
            yield unit
        unit = char
    if unit:
        yield unit
