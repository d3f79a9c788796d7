"""The coverage board: every need of an event or a campaign with filled / wanted, the gaps
first, per shift taken / capacity, invitations not answered, in two queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from saha.volunteers import coverage
from saha.volunteers.models import Assignment, Need, NeedStatus, Shift
from saha.volunteers.tests.test_matching import SUNDAY, World, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(org_a: Any) -> World:
    return World(org_a)


def titled(world: World, title: str, wanted: int, filled: int, **fields: Any) -> Need:
    return world.need(titles={"en": title}, wanted=wanted, filled=filled, **fields)


def titles(rows: list[coverage.NeedCoverage]) -> list[str]:
    return [row.need.titles["en"] for row in rows]


class TestBoard:
    def test_gaps_first_emptiest_first_then_full_then_closed(self, world: World) -> None:
        titled(world, "Full", 4, 4)
        titled(world, "Half", 4, 2)
        titled(world, "Empty", 3, 0)
        titled(world, "Closed", 5, 1, status=NeedStatus.CLOSED)
        titled(world, "Almost", 10, 9)
        rows = coverage.board(event=world.event)
        assert titles(rows) == ["Empty", "Half", "Almost", "Full", "Closed"]
        half = rows[1]
        assert (half.filled, half.wanted, half.missing, half.percent) == (2, 4, 2, 50)
        assert rows[3].full and rows[3].percent == 100

    def test_nothing_short_of_full_shows_100_percent(self, world: World) -> None:
        titled(world, "Nearly", 250, 249)
        [row] = coverage.board(event=world.event)
        assert row.percent == 99 and not row.full

    def test_a_tie_goes_to_the_bigger_gap_then_the_sooner(self, world: World) -> None:
        titled(world, "Later", 2, 0, starts_at=at(SUNDAY, 12))
        titled(world, "Sooner", 2, 0, starts_at=at(SUNDAY, 9))
        titled(world, "Bigger", 20, 0, starts_at=at(SUNDAY, 13))
        assert titles(coverage.board(event=world.event)) == ["Bigger", "Sooner", "Later"]

    def test_shifts_and_invitations_not_answered(self, world: World) -> None:
        need = titled(world, "Stewards", 6, 3)
        for hour, taken in ((10, 3), (12, 0)):
            Shift.objects.create(
                organization=world.organization,
                need=need,
                starts_at=at(SUNDAY, hour),
                ends_at=at(SUNDAY, hour + 2),
                capacity=3,
                taken=taken,
            )
        for status in ("invited", "invited", "waiting", "declined", "accepted"):
            offer = world.offer()
            Assignment.objects.create(
                organization=world.organization, need=need, person=offer.person, status=status
            )
        [row] = coverage.board(event=world.event)
        assert (row.invited, row.waiting) == (2, 1)
        assert [(s.taken, s.capacity, s.full) for s in row.shifts] == [(3, 3, True), (0, 3, False)]
        assert row.shifts[0].percent == 100

    def test_only_the_events_needs(self, world: World, org_b: Any) -> None:
        titled(world, "Ours", 2, 0)
        other_event = World(org_b)
        other_event.need(titles={"en": "Theirs"})
        assert titles(coverage.board(event=world.event)) == ["Ours"]

    def test_a_campaigns_needs(self, world: World) -> None:
        from saha.campaigns.models import Campaign

        campaign = Campaign.objects.create(
            organization=world.organization, slug="c", titles={"en": "C"}
        )
        titled(world, "Campaign need", 3, 1, event=None, campaign=campaign)
        titled(world, "Event need", 3, 1)
        assert titles(coverage.board(campaign=campaign)) == ["Campaign need"]

    def test_totals_count_open_needs(self, world: World) -> None:
        titled(world, "A", 4, 4)
        titled(world, "B", 6, 1)
        titled(world, "Closed", 9, 0, status=NeedStatus.CLOSED)
        assert coverage.totals(coverage.board(event=world.event)) == (5, 10)

    def test_two_queries_however_many_needs_and_shifts(
        self, world: World, django_assert_num_queries: Any
    ) -> None:
        for n in range(12):
            need = titled(world, f"N{n}", 5, n % 5)
            for hour in (8, 10, 12):
                Shift.objects.create(
                    organization=world.organization,
                    need=need,
                    starts_at=at(SUNDAY, hour),
                    ends_at=at(SUNDAY, hour) + dt.timedelta(hours=2),
                    capacity=2,
                )
        with django_assert_num_queries(2):
            rows = coverage.board(event=world.event)
            [(row.need.title, row.need.capability.name, len(row.shifts)) for row in rows]
        assert len(rows) == 12

    def test_one_need(self, world: World) -> None:
        need = titled(world, "One", 3, 3)
        row = coverage.of_need(need)
        assert row.full and row.need.pk == need.pk
