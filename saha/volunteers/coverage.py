"""The coverage board: every need of an event (or a campaign) with how much of it is
filled, the gaps first, in two queries however many needs and shifts there are."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, QuerySet

from saha.volunteers.models import AssignmentStatus, Need, NeedStatus, Shift


def percent(done: int, wanted: int) -> int:
    """Rounded down, so that 100% means full and nothing less shows as 100%."""
    return 100 if wanted <= 0 else min(100, 100 * done // wanted)


@dataclass
class ShiftCoverage:
    shift: Shift
    taken: int
    capacity: int

    @property
    def percent(self) -> int:
        return percent(self.taken, self.capacity)

    @property
    def full(self) -> bool:
        return self.taken >= self.capacity


@dataclass
class NeedCoverage:
    need: Need
    wanted: int
    filled: int
    invited: int  # invited, not answered yet
    waiting: int
    shifts: list[ShiftCoverage] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return max(0, self.wanted - self.filled)

    @property
    def percent(self) -> int:
        return percent(self.filled, self.wanted)

    @property
    def full(self) -> bool:
        return self.filled >= self.wanted

    @property
    def open(self) -> bool:
        return self.need.status == NeedStatus.OPEN

    def order(self) -> tuple[int, int, int, float, int]:
        """Open gaps first, the emptiest first (then the soonest), full ones, closed last."""
        rank = 2 if not self.open else (1 if self.full else 0)
        return (rank, self.percent, -self.missing, self.need.starts_at.timestamp(), self.need.pk)


def board(event: object | None = None, campaign: object | None = None) -> list[NeedCoverage]:
    """Every need of the event or the campaign, gaps first."""
    if (event is None) == (campaign is None):
        raise TypeError("board() takes an event or a campaign")
    parent = Q(event=event) if event is not None else Q(campaign=campaign)
    return sorted(_rows(Need.objects.filter(parent)), key=NeedCoverage.order)


def of_need(need: Need) -> NeedCoverage:
    """The same for one need."""
    [row] = _rows(Need.objects.filter(pk=need.pk))
    return row


def _rows(needs: QuerySet[Need]) -> list[NeedCoverage]:
    rows = needs.select_related("capability__organization", "organization", "event").annotate(
        invited_count=Count("assignments", filter=Q(assignments__status=AssignmentStatus.INVITED)),
        waiting_count=Count("assignments", filter=Q(assignments__status=AssignmentStatus.WAITING)),
    )
    shifts = Shift.objects.order_by("starts_at", "pk")
    rows = rows.prefetch_related(Prefetch("shifts", queryset=shifts))
    return [
        NeedCoverage(
            need=need,
            wanted=need.wanted,
            filled=need.filled,
            invited=need.invited_count,
            waiting=need.waiting_count,
            shifts=[ShiftCoverage(s, s.taken, s.capacity) for s in need.shifts.all()],
        )
        for need in rows
    ]


def totals(rows: list[NeedCoverage]) -> tuple[int, int]:
    """(filled, wanted) over the open needs."""
    open_rows = [row for row in rows if row.open]
    return sum(min(r.filled, r.wanted) for r in open_rows), sum(r.wanted for r in open_rows)
