"""Matching: for one need, the organization's active offers of its capability, ranked, each
with the reasons for its place.

The score is the sum of five parts (at most 100), all computed by the database so that
only the `limit` best rows ever reach Python:

- fit (30): the capability offered; for a resource, offers without enough units left
  (`quantity - committed >= min_quantity`) are not candidates at all;
- time (30 or 15): free for the whole of one of the need's times (its shifts, or its
  own span), or for part of it; dates and daily windows are read in the event's time
  zone (the organization's for a campaign's need);
- place (up to 20): distance when both have coordinates (an equirectangular
  approximation, exact enough within a country), else the same locality (folded
  key), else the same region;
- reliability (0 to 20): the share of past assignments with attendance recorded that
  were attended; a newcomer gets half, neutral;
- already committed (-40): invited or accepted on another need at an overlapping time
  (the row stays, with the reason, so the coordinator sees why).

People already invited to, accepting, waiting on or having declined this need are
left out. The statement joins the pool of offers to the dates, the attendance records
and the other commitments, each grouped once by the database and hash-joined, instead
of a subquery per offer: that is what keeps 100,000 offers within half a second on
PostgreSQL (docs/performance-scripts.md). The reasons' texts are then written in Python for
the rows shown; their points are the database's.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Power, Sqrt
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from saha.supporters.models import Person
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Availability,
    Need,
    Offer,
    OfferedCapability,
    OfferStatus,
    Unit,
)

# Points. The parts add up to at most 100 (a committed person loses COMMITTED).
CAPABILITY = 30
FREE_WHOLE, FREE_PART, NOT_FREE = 30, 15, 0
NEAR, SAME_LOCALITY, SAME_REGION = 20, 15, 8
RANGE_KM = 30.0  # distance points fall from NEAR at 0 km to none at this distance
# RELIABLE x the share of past assignments attended; a newcomer gets half.
RELIABLE, NEWCOMER = 20, 10
COMMITTED = -40

KM_PER_DEGREE = 111.195
DAY_END = dt.time(23, 59)
# A need spread over more local days than this (a month-long campaign need) is matched
# on dates only: one test per day would make the query grow with the calendar.
MAX_SEGMENTS = 31
# Who is already answered for on this need: not a candidate again.
ON_THIS_NEED = (
    AssignmentStatus.INVITED,
    AssignmentStatus.ACCEPTED,
    AssignmentStatus.WAITING,
    AssignmentStatus.DECLINED,
)
BUSY = (AssignmentStatus.INVITED, AssignmentStatus.ACCEPTED)


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    points: float


@dataclass
class Candidate:
    offer: Offer
    person: Person
    offered: OfferedCapability
    score: float
    reasons: list[Reason] = field(default_factory=list)

    @property
    def free(self) -> int | None:
        """Units of the resource not yet committed (None for a skill or an untold quantity)."""
        if self.offered.quantity is None:
            return None
        return self.offered.quantity - self.offered.committed


@dataclass(frozen=True)
class Segment:
    """A piece of the need's time within one local day."""

    day: dt.date
    start: dt.time
    end: dt.time


# --- the need's time -------------------------------------------------------------------


def need_zone(need: Need) -> zoneinfo.ZoneInfo:
    name = need.event.time_zone if need.event is not None else need.organization.time_zone
    return zoneinfo.ZoneInfo(name)


def need_intervals(need: Need) -> list[tuple[dt.datetime, dt.datetime]]:
    """Its shifts' times when it has shifts, else its own."""
    shifts = [(s.starts_at, s.ends_at) for s in need.shifts.all()]
    return shifts or [(need.starts_at, need.ends_at)]


def local_segments(
    intervals: Iterable[tuple[dt.datetime, dt.datetime]], zone: zoneinfo.ZoneInfo
) -> list[Segment] | None:
    """The intervals cut at local midnights; None when they cover too many days."""
    found: set[Segment] = set()
    for start, end in intervals:
        first, last = start.astimezone(zone), end.astimezone(zone)
        day = first.date()
        while day <= last.date():
            begin = _clock(first) if day == first.date() else dt.time(0)
            until = _clock(last) if day == last.date() else DAY_END
            # A piece of nothing at midnight (ending at 00:00) is not a day of the need.
            if until > begin or first == last:
                found.add(Segment(day, begin, until))
            if len(found) > MAX_SEGMENTS:
                return None
            day += dt.timedelta(days=1)
    return sorted(found, key=lambda s: (s.day, s.start, s.end))


def _clock(moment: dt.datetime) -> dt.time:
    return moment.time().replace(second=0, microsecond=0)


def _covers(segment: Segment) -> Q:
    return (
        Q(starts_on__lte=segment.day, ends_on__gte=segment.day)
        & (Q(from_time__isnull=True) | Q(from_time__lte=segment.start))
        & (Q(to_time__isnull=True) | Q(to_time__gte=segment.end))
    )


def _meets(segment: Segment) -> Q:
    return (
        Q(starts_on__lte=segment.day, ends_on__gte=segment.day)
        & (Q(from_time__isnull=True) | Q(from_time__lt=segment.end))
        & (Q(to_time__isnull=True) | Q(to_time__gt=segment.start))
    )


def covers(row: Availability, segment: Segment) -> bool:
    """`_covers` in Python, for the reasons."""
    return (
        row.starts_on <= segment.day <= row.ends_on
        and (row.from_time is None or row.from_time <= segment.start)
        and (row.to_time is None or row.to_time >= segment.end)
    )


def meets(row: Availability, segment: Segment) -> bool:
    return (
        row.starts_on <= segment.day <= row.ends_on
        and (row.from_time is None or row.from_time < segment.end)
        and (row.to_time is None or row.to_time > segment.start)
    )


@dataclass
class NeedTime:
    """What the query needs to know of the need's time."""

    intervals: list[tuple[dt.datetime, dt.datetime]]
    zone: zoneinfo.ZoneInfo
    segments: list[Segment] | None
    first_day: dt.date
    last_day: dt.date

    @classmethod
    def of(cls, need: Need) -> NeedTime:
        intervals = need_intervals(need)
        zone = need_zone(need)
        return cls(
            intervals=intervals,
            zone=zone,
            segments=local_segments(intervals, zone),
            first_day=min(s for s, _e in intervals).astimezone(zone).date(),
            last_day=max(e for _s, e in intervals).astimezone(zone).date(),
        )

    def whole(self) -> Q | None:
        if not self.segments:
            return None
        return reduce(or_, (_covers(s) for s in self.segments))

    def part(self) -> Q:
        if not self.segments:
            return Q(starts_on__lte=self.last_day, ends_on__gte=self.first_day)
        return reduce(or_, (_meets(s) for s in self.segments))


# --- the ranking query -----------------------------------------------------------------


def _pool(need: Need) -> QuerySet[OfferedCapability]:
    """Every active offer of the need's capability with enough left, minus the people
    already answered for on this need."""
    pool = OfferedCapability.objects.filter(
        organization_id=need.organization_id,
        capability_id=need.capability_id,
        offer__status=OfferStatus.ACTIVE,
    )
    if need.capability.is_resource:
        least = need.min_quantity or 1
        units = Q(quantity__gte=F("committed") + least)
        pool = pool.filter(units if need.min_quantity else units | Q(quantity__isnull=True))
    # NOT IN (a hashed list of a few people), not an anti-join: placed after the sort,
    # an anti-join made PostgreSQL sort every candidate instead of keeping the best.
    answered = Assignment.objects.filter(need=need, status__in=ON_THIS_NEED).values("person_id")
    return pool.exclude(offer__person_id__in=answered)


def _dates(need: Need, when: NeedTime) -> QuerySet[Availability]:
    """Per offer with dates on the need's days: FREE_WHOLE or FREE_PART (or NOT_FREE, when
    those dates are at other hours)."""
    whole, part = when.whole(), when.part()
    cases = [When(part, then=Value(FREE_PART))]
    if whole is not None:
        cases.insert(0, When(whole, then=Value(FREE_WHOLE)))
    return (
        Availability.objects.filter(
            organization_id=need.organization_id,
            starts_on__lte=when.last_day,
            ends_on__gte=when.first_day,
        )
        .values("offer_id")
        .annotate(best=Max(Case(*cases, default=Value(NOT_FREE))))
    )


def _offer_km(need: Need) -> Any:
    """Distance in km from the need to the offer, as an SQL expression (arithmetic and a
    square root, which SQLite gets from Django)."""
    lat0, lon0 = float(need.latitude), float(need.longitude)  # type: ignore[arg-type]
    shrink = math.cos(math.radians(lat0))
    north = (Cast("offer__latitude", FloatField()) - Value(lat0)) * Value(KM_PER_DEGREE)
    east = (Cast("offer__longitude", FloatField()) - Value(lon0)) * Value(KM_PER_DEGREE * shrink)
    return Sqrt(Power(north, 2) + Power(east, 2))


def km_between(need: Need, offer: Offer) -> float:
    """`_offer_km` in Python."""
    lat0, lon0 = float(need.latitude), float(need.longitude)  # type: ignore[arg-type]
    north = (float(offer.latitude) - lat0) * KM_PER_DEGREE  # type: ignore[arg-type]
    east = (float(offer.longitude) - lon0) * KM_PER_DEGREE  # type: ignore[arg-type]
    return math.hypot(north, east * math.cos(math.radians(lat0)))


def _place_points(need: Need, region: str) -> Any:
    cases = []
    if need.latitude is not None and need.longitude is not None:
        near = Greatest(Value(0.0), Value(float(NEAR)) - _offer_km(need) * Value(NEAR / RANGE_KM))
        placed = Q(offer__latitude__isnull=False, offer__longitude__isnull=False)
        cases.append(When(placed, then=near))
    if need.locality_key:
        cases.append(When(offer__locality_key=need.locality_key, then=Value(float(SAME_LOCALITY))))
    if region:
        cases.append(When(offer__region__iexact=region, then=Value(float(SAME_REGION))))
    if not cases:
        return Value(0.0, output_field=FloatField())
    return Case(*cases, default=Value(0.0), output_field=FloatField())


def need_region(need: Need) -> str:
    """The region the need's locality lies in, as the offers there name it most: needs
    carry a place and a locality, not a region."""
    if not need.locality_key:
        return ""
    found = (
        Offer.objects.filter(organization_id=need.organization_id, locality_key=need.locality_key)
        .exclude(region="")
        .values("region")
        .annotate(n=Count("pk"))
        .order_by("-n", "region")
        .first()
    )
    return found["region"] if found else ""


def _records(need: Need) -> QuerySet[Assignment]:
    """Per person with attendance recorded: how many times they came, of how many.
    (Narrowing it, or the dates, to the offers of the capability was measured slower:
    the extra join costs more than the rows it saves, even for a rare capability.)"""
    return (
        Assignment.objects.filter(
            organization_id=need.organization_id,
            attended__isnull=False,
        )
        .values("person_id")
        .annotate(came=Count("pk", filter=Q(attended=True)), recorded=Count("pk"))
    )


def _busy(need: Need, when: NeedTime) -> QuerySet[Assignment]:
    """Invitations and acceptances on other needs whose time overlaps one of this need's."""
    start = min(s for s, _e in when.intervals)
    end = max(e for _s, e in when.intervals)
    overlaps = reduce(or_, (Q(busy_from__lt=e, busy_until__gt=s) for s, e in when.intervals))
    return (
        Assignment.objects.filter(
            organization_id=need.organization_id,
            status__in=BUSY,
            need__starts_at__lt=end,
            need__ends_at__gt=start,
        )
        .exclude(need_id=need.pk)
        .annotate(
            busy_from=Coalesce("shift__starts_at", "need__starts_at"),
            busy_until=Coalesce("shift__ends_at", "need__ends_at"),
        )
        .filter(overlaps)
    )


# Each part's points from the joined rows; only constants are written into the SQL.
# The place's points (the costliest: a distance per offer) are written once, in the
# score, and read back as the score less the others.
PART_SQL = {
    "fit": f"{float(CAPABILITY)}",
    "time": f"COALESCE(d.best, {float(NOT_FREE)})",
    "reliability": (
        f"CASE WHEN r.person_id IS NULL THEN {float(NEWCOMER)}"
        f" ELSE {float(RELIABLE)} * CAST(r.came AS FLOAT) / r.recorded END"
    ),
    "busy": f"CASE WHEN b.person_id IS NULL THEN 0.0 ELSE {float(COMMITTED)} END",
}
RANKING_SQL = """SELECT p.pk, {parts}, {score} AS score
FROM ({pool}) p
LEFT JOIN ({dates}) d ON d.offer_id = p.offer_id
LEFT JOIN ({records}) r ON r.person_id = p.person_ref
LEFT JOIN ({busy}) b ON b.person_id = p.person_ref
ORDER BY score DESC, p.pk
LIMIT %s"""


def ranking_sql(need: Need, when: NeedTime, region: str, limit: int) -> tuple[str, list[Any]]:
    """One statement: the pool of offers joined to what the other tables say of each
    (dates, attendance records, other commitments), each aggregated once.

    Written as a join of Django-built subqueries because the ORM cannot join a grouped
    subquery; a correlated subquery per offer instead ran one index probe per offer
    and table (several times slower at 100,000 offers)."""
    pool = (
        _pool(need)
        .annotate(person_ref=F("offer__person_id"), place_points=_place_points(need, region))
        .values("pk", "offer_id", "person_ref", "place_points")
    )
    parts = {
        "pool": pool,
        "dates": _dates(need, when),
        "records": _records(need),
        "busy": _busy(need, when).values("person_id").distinct(),
    }
    sql: dict[str, str] = {}
    params: list[Any] = []
    for name, queryset in parts.items():
        text, values = queryset.order_by().query.sql_with_params()
        sql[name] = text
        params.extend(values)
    columns = ", ".join(f"{expression} AS {part}_points" for part, expression in PART_SQL.items())
    score = " + ".join(["p.place_points", *(f"({e})" for e in PART_SQL.values())])
    return RANKING_SQL.format(parts=columns, score=score, **sql), [*params, limit]


def _ranked(need: Need, when: NeedTime, region: str, limit: int) -> list[dict[str, Any]]:
    sql, params = ranking_sql(need, when, region, limit)
    serial = connection.vendor == "postgresql"
    # A transaction only where the setting needs one: on SQLite it would take the
    # write lock (BEGIN IMMEDIATE) for a read.
    with transaction.atomic() if serial else nullcontext(), connection.cursor() as cursor:
        if serial:
            # Parallel workers each build their own copy of the grouped tables' hashes
            # and start slowly: measured, one process was as fast at the median and far
            # steadier (docs/performance-scripts.md). For this statement only.
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        if serial:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
    for row in rows:
        row["score"] = float(row["score"])
        for part in PART_SQL:
            row[f"{part}_points"] = float(row[f"{part}_points"])
        others = sum(row[f"{part}_points"] for part in PART_SQL)
        row["place_points"] = round(row["score"] - others, 6)
    return rows


# --- the candidates and their reasons --------------------------------------------------


def candidates(need: Need, *, limit: int = 50) -> list[Candidate]:
    """The `limit` best offers for the need, best first, each with its reasons."""
    when = NeedTime.of(need)
    region = need_region(need)
    rows = _ranked(need, when, region, limit)
    if not rows:
        return []
    loaded = _load([row["pk"] for row in rows], when)
    people = [offered.offer.person_id for offered in loaded.values()]
    counts = attendance_counts(people)
    busy = _busy_by_person(need, when, people)
    result = []
    for row in rows:
        offered = loaded[row["pk"]]
        explain = _Explain(need, when, region, offered, row)
        reasons = [
            explain.fit(),
            explain.time(),
            explain.place(),
            explain.reliability(counts.get(offered.offer.person_id)),
            *explain.busy(busy.get(offered.offer.person_id, [])),
        ]
        result.append(
            Candidate(
                offer=offered.offer,
                person=offered.offer.person,
                offered=offered,
                score=round(row["score"], 1),
                reasons=[r for r in reasons if r is not None],
            )
        )
    return result


def _load(ids: Sequence[int], when: NeedTime) -> dict[int, OfferedCapability]:
    # Dates still to come (or on the need's days, for a past need): none means "no dates".
    since = min(when.first_day, timezone.localdate(timezone=when.zone))
    dates = Availability.objects.filter(ends_on__gte=since).order_by("starts_on", "from_time", "pk")
    found = (
        OfferedCapability.objects.filter(pk__in=ids)
        .select_related("offer__person")
        .prefetch_related(Prefetch("offer__availability", queryset=dates, to_attr="dates"))
    )
    return {offered.pk: offered for offered in found}


def attendance_counts(person_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """{person id: (attended, recorded)} for people with attendance recorded."""
    rows = (
        Assignment.objects.filter(person_id__in=list(person_ids), attended__isnull=False)
        .values("person_id")
        .annotate(came=Count("pk", filter=Q(attended=True)), recorded=Count("pk"))
    )
    return {row["person_id"]: (row["came"], row["recorded"]) for row in rows}


def reliability(person_ids: Iterable[int]) -> dict[int, float | None]:
    """{person id: share of past assignments with attendance recorded that were attended},
    None for someone with none recorded yet."""
    ids = list(person_ids)
    counts = attendance_counts(ids)
    return {pk: (counts[pk][0] / counts[pk][1] if pk in counts else None) for pk in ids}


def _busy_by_person(
    need: Need, when: NeedTime, people: Sequence[int]
) -> dict[int, list[Assignment]]:
    found: dict[int, list[Assignment]] = {}
    rows = (
        _busy(need, when)
        .filter(person_id__in=people)
        .select_related("need__capability", "need__organization", "need__event")
        .order_by(F("busy_from"), "pk")
    )
    for assignment in rows:
        found.setdefault(assignment.person_id, []).append(assignment)
    return found


class _Explain:
    """The words for one candidate's points."""

    def __init__(
        self,
        need: Need,
        when: NeedTime,
        region: str,
        offered: OfferedCapability,
        row: dict[str, Any],
    ) -> None:
        self.need, self.when, self.region = need, when, region
        self.offered, self.offer, self.row = offered, offered.offer, row

    def fit(self) -> Reason:
        capability = self.need.capability
        points = self.row["fit_points"]
        if not capability.is_resource:
            return Reason("capability", _("Offers %(name)s") % {"name": capability.name}, points)
        unit = _unit_label(capability.unit)
        quantity = self.offered.quantity
        if quantity is None:
            text = _("Offers %(name)s (how many %(unit)s not said)") % {
                "name": capability.name,
                "unit": unit,
            }
            return Reason("quantity_unknown", text, points)
        values = {"left": quantity - self.offered.committed, "quantity": quantity, "unit": unit}
        if self.offered.committed:
            text = _("%(left)s of %(quantity)s %(unit)s left") % values
        else:
            text = _("Offers %(quantity)s %(unit)s") % values
        if self.need.min_quantity:
            text = _("%(offer)s (needs at least %(least)s)") % {
                "offer": text,
                "least": self.need.min_quantity,
            }
        return Reason("quantity", text, points)

    def time(self) -> Reason:
        points = self.row["time_points"]
        rows: list[Availability] = getattr(self.offer, "dates", [])
        for test, code in ((covers, "available"), (meets, "partly_available")):
            for segment in self.when.segments or []:
                match = next((r for r in rows if test(r, segment)), None)
                if match is not None:
                    return Reason(code, self._free(code, segment, match), points)
        if self.when.segments is None and rows:
            return Reason("partly_available", _("Free on some of these days"), points)
        if not rows:
            return Reason("no_dates", _("Gave no dates still to come: ask"), points)
        return Reason("not_available", _("Not free at that time"), points)

    def _free(self, code: str, segment: Segment, row: Availability) -> str:
        day = formats.date_format(segment.day, "l")
        if row.from_time is None and row.to_time is None:
            if code == "available":
                return _("Free all day %(day)s") % {"day": day}
            return _("Free all day %(day)s, part of the time") % {"day": day}
        window = {
            "day": day,
            "start": _hm(row.from_time or dt.time(0)),
            "end": _hm(row.to_time or DAY_END),
        }
        if code == "available":
            return _("Free %(day)s %(start)s–%(end)s") % window
        return _("Free %(day)s %(start)s–%(end)s, part of the time") % window

    def place(self) -> Reason | None:
        points = self.row["place_points"]
        need, offer = self.need, self.offer
        both = None not in (need.latitude, need.longitude, offer.latitude, offer.longitude)
        if both:
            km = km_between(need, offer)
            text = _("%(km)s km away") % {"km": formats.number_format(round(km, 1), 1)}
            return Reason("distance", text, points)
        if need.locality_key and offer.locality_key == need.locality_key:
            text = _("Lives in %(place)s, same as the need") % {"place": offer.locality}
            return Reason("same_locality", text, points)
        if self.region and offer.region.casefold() == self.region.casefold():
            text = _("Lives in the region of %(region)s") % {"region": offer.region}
            return Reason("same_region", text, points)
        if offer.locality or offer.region:
            text = _("Lives in %(place)s") % {"place": offer.locality or offer.region}
            return Reason("elsewhere", text, points)
        return Reason("no_place", _("Gave no place"), points)

    def reliability(self, counts: tuple[int, int] | None) -> Reason:
        points = self.row["reliability_points"]
        if counts is None:
            return Reason("newcomer", _("No past shifts recorded yet"), points)
        came, recorded = counts
        text = ngettext(
            "Came to %(came)s of %(recorded)s past shift",
            "Came to %(came)s of %(recorded)s past shifts",
            recorded,
        ) % {"came": came, "recorded": recorded}
        return Reason("reliability", text, points)

    def busy(self, assignments: list[Assignment]) -> list[Reason]:
        if not assignments:
            return []
        first = assignments[0]
        start, end = first.busy_from, first.busy_until  # type: ignore[attr-defined]
        zone = self.when.zone
        text = _("Already committed %(start)s–%(end)s to %(need)s") % {
            "start": _hm(start.astimezone(zone).time()),
            "end": _hm(end.astimezone(zone).time()),
            "need": first.need.title,
        }
        return [Reason("committed", text, self.row["busy_points"])]


def _unit_label(unit: str) -> str:
    # Not `get_unit_display()`, which hashes every lazy choice label at each call.
    return str(Unit(unit).label)


def _hm(moment: dt.time) -> str:
    return formats.time_format(moment, "H:i")
