"""Calendar files: read back by an independent parser (icalendar) to the same
instants and wall times in every zone, Arabic text intact, and lines that any
client can unfold: 75 octets at most, CRLF, never cut inside a character."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event, Timezone

from saha.events.ics import CalendarEvent, calendar, event_file_name

NOW = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
ARABIC_SUMMARY = "اجتماع عام، في ساحة البلدة; مع نقاش, وأسئلة\nوأجوبة \\ للجميع"
ARABIC_DESCRIPTION = (
    "نلتقي أمام البلدية، ثم نسير معًا إلى الحديقة العامة; أحضروا الماء, والقبعات.\n"
    "السطر الثاني: «لا تنسوا» البطاقات\r\nالسطر الثالث" * 3
)


def make(time_zone: str, start: datetime, hours: float = 2, **fields: object) -> CalendarEvent:
    values: dict[str, object] = {
        "uid": f"{time_zone}-{start:%Y%m%d%H%M}@saha.example",
        "start": start,
        "end": start + timedelta(hours=hours),
        "time_zone": time_zone,
        "summary": "Town hall",
        **fields,
    }
    return CalendarEvent(**values)  # type: ignore[arg-type]


def parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def only_event(data: bytes) -> Event:
    (event,) = parse(data).walk("VEVENT")
    return event


def vtimezone(data: bytes, tzid: str) -> Timezone:
    (zone,) = [z for z in parse(data).walk("VTIMEZONE") if str(z["TZID"]) == tzid]
    return zone


def physical_lines(data: bytes) -> list[bytes]:
    assert data.endswith(b"\r\n")
    return data[:-2].split(b"\r\n")


@pytest.mark.parametrize(
    ("zone", "wall_start", "wall_end", "hours"),
    [
        ("Asia/Beirut", datetime(2025, 6, 7, 18, 30), datetime(2025, 6, 7, 20, 30), 2),
        # The night clocks go forward: 22:00 CET to 04:00 CEST is five hours.
        ("Europe/Paris", datetime(2025, 3, 29, 22, 0), datetime(2025, 3, 30, 4, 0), 5),
        # The night clocks go back: 23:00 EDT to 03:00 EST is five hours.
        ("America/New_York", datetime(2025, 11, 1, 23, 0), datetime(2025, 11, 2, 3, 0), 5),
        ("UTC", datetime(2025, 12, 31, 23, 0), datetime(2026, 1, 1, 1, 0), 2),
    ],
)
def test_start_and_end_come_back_as_the_same_instants_and_wall_times(
    zone: str, wall_start: datetime, wall_end: datetime, hours: int
) -> None:
    tz = ZoneInfo(zone)
    start = wall_start.replace(tzinfo=tz)
    end = wall_end.replace(tzinfo=tz)
    assert (start.utcoffset() != end.utcoffset()) == (zone in ("Europe/Paris", "America/New_York"))
    # given an event whose aware datetimes are in UTC, as the database hands them out
    event = make(zone, start.astimezone(UTC), hours=0, end=end.astimezone(UTC))

    # when
    parsed = only_event(calendar([event], name="Saha", now=NOW))

    # then
    for got, instant, wall in ((parsed.start, start, wall_start), (parsed.end, end, wall_end)):
        assert got == instant
        assert got.replace(tzinfo=None) == wall
        assert got.utcoffset() == instant.utcoffset()
    assert (parsed.end.astimezone(UTC) - parsed.start.astimezone(UTC)).total_seconds() == (
        hours * 3600
    )


@pytest.mark.parametrize("zone", ["Asia/Beirut", "Europe/Paris", "America/New_York", "UTC"])
def test_the_vtimezone_alone_gives_zoneinfos_offsets_across_the_span(zone: str) -> None:
    tz = ZoneInfo(zone)
    first = datetime(2025, 1, 10, 19, 0, tzinfo=tz)
    last = datetime(2025, 12, 20, 19, 0, tzinfo=tz)
    data = calendar([make(zone, first), make(zone, last)], name="Saha", now=NOW)

    # Built from our observances only, not looked up by name.
    from_file = vtimezone(data, zone).to_tz(lookup_tzid=False)

    moment = first - timedelta(days=300)
    while moment < last + timedelta(days=300):
        wall = moment.astimezone(tz).replace(tzinfo=None)
        if (
            wall.replace(tzinfo=tz, fold=0).utcoffset()
            == wall.replace(tzinfo=tz, fold=1).utcoffset()
        ):  # skip the repeated and skipped hours: no single answer
            assert from_file.utcoffset(wall) == moment.astimezone(tz).utcoffset(), wall
        moment += timedelta(hours=7)


def test_a_zone_without_transitions_is_one_standard_block() -> None:
    data = calendar([make("UTC", NOW)], name="Saha", now=NOW)

    zone = vtimezone(data, "UTC")

    assert [c.name for c in zone.subcomponents] == ["STANDARD"]
    assert zone.subcomponents[0]["TZOFFSETTO"].td == timedelta(0)


def test_the_second_pass_of_a_repeated_hour_is_written_in_utc() -> None:
    # 01:30 on 2 November 2025 happens twice in New York; a TZID wall time
    # means the first, so the second can only be said in UTC.
    second = datetime(2025, 11, 2, 1, 30, fold=1, tzinfo=ZoneInfo("America/New_York"))
    data = calendar([make("America/New_York", second)], name="Saha", now=NOW)

    assert b"DTSTART:20251102T063000Z\r\n" in data
    # PEP 495: a fold=1 datetime never equals one in another zone, so compare in UTC
    assert only_event(data).start == second.astimezone(UTC)


def test_arabic_text_with_separators_and_newlines_survives() -> None:
    event = make(
        "Asia/Beirut",
        datetime(2025, 6, 7, 18, 0, tzinfo=ZoneInfo("Asia/Beirut")),
        summary=ARABIC_SUMMARY,
        description=ARABIC_DESCRIPTION,
        location="ساحة الشهداء، بيروت; لبنان",
    )

    data = calendar([event], name="حملة الحديقة، ٢٠٢٥", now=NOW)
    parsed_calendar = parse(data)
    parsed = only_event(data)

    assert str(parsed["SUMMARY"]) == ARABIC_SUMMARY
    assert str(parsed["DESCRIPTION"]) == ARABIC_DESCRIPTION.replace("\r\n", "\n")
    assert str(parsed["LOCATION"]) == "ساحة الشهداء، بيروت; لبنان"
    assert str(parsed_calendar["X-WR-CALNAME"]) == "حملة الحديقة، ٢٠٢٥"
    assert "SUMMARY:اجتماع عام، في ساحة البلدة\\; مع نقاش\\, وأسئلة\\nوأجوبة \\\\ للجميع" in (
        unfold(data)
    )


def unfold(data: bytes) -> str:
    return data.decode("utf-8").replace("\r\n ", "")


def test_every_line_is_at_most_75_octets_crlf_terminated_and_whole_utf8() -> None:
    event = make(
        "Asia/Beirut",
        datetime(2025, 6, 7, 18, 0, tzinfo=ZoneInfo("Asia/Beirut")),
        summary="ب" * 200,
        description=ARABIC_DESCRIPTION + "é" * 101 + "🌳" * 40 + "x" * 150,
        location="مَدْرَسَةُ الحَيِّ" * 10,
    )

    data = calendar([event], name="Saha", now=NOW)

    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    lines = physical_lines(data)
    assert any(line.startswith(b" ") for line in lines)  # something was folded
    for line in lines:
        assert len(line) <= 75, line
        line.decode("utf-8")  # raises if a fold cut a character in two
    assert str(only_event(data)["SUMMARY"]) == "ب" * 200


def test_a_cancelled_event_says_so_with_a_higher_sequence() -> None:
    start = datetime(2025, 6, 7, 18, 0, tzinfo=ZoneInfo("Asia/Beirut"))
    published = make("Asia/Beirut", start)
    cancelled = make(
        "Asia/Beirut",
        start,
        status="CANCELLED",
        sequence=published.sequence + 1,
        last_modified=datetime(2025, 6, 1, 12, 0, tzinfo=UTC),
    )

    before = only_event(calendar([published], name="Saha", now=NOW))
    after_bytes = calendar([cancelled], name="Saha", method="PUBLISH", now=NOW)
    after = only_event(after_bytes)

    assert b"\r\nSTATUS:CANCELLED\r\n" in after_bytes
    assert str(after["UID"]) == str(before["UID"])
    assert after["SEQUENCE"] > before["SEQUENCE"]
    assert str(before["STATUS"]) == "CONFIRMED"
    assert str(parse(after_bytes)["METHOD"]) == "PUBLISH"
    # DTSTAMP follows the change, not the clock
    assert after.decoded("DTSTAMP") == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert after.decoded("LAST-MODIFIED") == datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_two_events_in_two_zones_give_two_vtimezones() -> None:
    beirut = make("Asia/Beirut", datetime(2025, 6, 7, 18, 0, tzinfo=ZoneInfo("Asia/Beirut")))
    paris = make("Europe/Paris", datetime(2025, 6, 8, 18, 0, tzinfo=ZoneInfo("Europe/Paris")))
    also_beirut = make("Asia/Beirut", datetime(2025, 7, 7, 18, 0, tzinfo=ZoneInfo("Asia/Beirut")))

    parsed = parse(calendar([beirut, paris, also_beirut], name="Saha", now=NOW))

    assert sorted(str(z["TZID"]) for z in parsed.walk("VTIMEZONE")) == [
        "Asia/Beirut",
        "Europe/Paris",
    ]
    assert len(parsed.walk("VEVENT")) == 3
    assert not parsed.get_missing_tzids()


def test_calendar_header_and_every_event_field() -> None:
    event = make(
        "Asia/Beirut",
        datetime(2025, 6, 7, 18, 0, tzinfo=ZoneInfo("Asia/Beirut")),
        description="Bring water",
        location="Martyrs' Square",
        url="https://saha.example/e/town-hall",
        geo=(33.8959, 35.5077),
    )

    data = calendar([event], name="Saha events", now=NOW)
    parsed = parse(data)
    parsed_event = only_event(data)

    assert data.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert data.endswith(b"END:VEVENT\r\nEND:VCALENDAR\r\n")
    assert str(parsed["PRODID"]) == "-//Saha//Saha//EN"
    assert str(parsed["CALSCALE"]) == "GREGORIAN"
    assert "METHOD" not in parsed
    assert parsed_event.decoded("DTSTAMP") == NOW
    assert str(parsed_event["URL"]) == "https://saha.example/e/town-hall"
    assert parsed_event.decoded("GEO") == (33.8959, 35.5077)
    assert parsed_event["SEQUENCE"] == 0
    assert calendar([event], name="Saha events", now=NOW) == data  # deterministic


@pytest.mark.parametrize(
    "fields",
    [
        {"start": datetime(2025, 6, 7, 18, 0)},  # naive
        {"time_zone": "Mars/Olympus_Mons"},
        {"status": "POSTPONED"},
        {"url": "https://saha.example/a b"},
        {"end": datetime(2025, 6, 7, 17, 0, tzinfo=UTC)},  # before the start
        {"geo": (91.0, 0.0)},
        {"sequence": -1},
    ],
)
def test_values_a_calendar_cannot_carry_are_refused(fields: dict[str, object]) -> None:
    values: dict[str, object] = {
        "uid": "1@saha.example",
        "start": datetime(2025, 6, 7, 18, 0, tzinfo=UTC),
        "end": datetime(2025, 6, 7, 20, 0, tzinfo=UTC),
        "time_zone": "Asia/Beirut",
        "summary": "Town hall",
        **fields,
    }
    with pytest.raises(ValueError):
        CalendarEvent(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("summary", "file_name"),
    [
        ("Town Hall: Café & Parks!", "town-hall-cafe-parks.ics"),
        ("اجتماع ٢٠٢٥", "2025.ics"),
        ("اجتماع", "event.ics"),
        ("../../etc/passwd", "etc-passwd.ics"),
        ("x" * 200, "x" * 60 + ".ics"),
    ],
)
def test_event_file_name_is_safe_ascii(summary: str, file_name: str) -> None:
    assert event_file_name(summary) == file_name


def test_a_feed_tells_clients_how_often_to_come_back_and_its_zone() -> None:
    beirut = make("Asia/Beirut", datetime(2025, 6, 7, 18, 0, tzinfo=ZoneInfo("Asia/Beirut")))

    data = calendar(
        [beirut], name="Saha", now=NOW, refresh=timedelta(hours=1), time_zone="Asia/Beirut"
    )
    parsed = parse(data)

    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in data
    assert parsed.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert str(parsed["X-PUBLISHED-TTL"]) == "PT1H"
    assert str(parsed["X-WR-TIMEZONE"]) == "Asia/Beirut"
    assert b"REFRESH-INTERVAL" not in calendar([beirut], name="Saha", now=NOW)


@pytest.mark.parametrize(
    ("refresh", "text"),
    [
        (timedelta(minutes=30), "PT30M"),
        (timedelta(days=1), "P1D"),
        (timedelta(days=1, hours=2, seconds=5), "P1DT2H5S"),
    ],
)
def test_refresh_durations(refresh: timedelta, text: str) -> None:
    data = calendar([], name="Saha", now=NOW, refresh=refresh)
    assert f"\r\nX-PUBLISHED-TTL:{text}\r\n".encode() in data
    assert parse(data).decoded("REFRESH-INTERVAL") == refresh


@pytest.mark.parametrize(
    "fields", [{"refresh": timedelta(seconds=5)}, {"time_zone": "Mars/Olympus_Mons"}]
)
def test_feed_values_a_calendar_cannot_carry_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        calendar([], name="Saha", now=NOW, **fields)  # type: ignore[arg-type]
