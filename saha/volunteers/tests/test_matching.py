"""Matching: who is proposed for a need, in what order, and why: capability and units,
free time (in the event's time zone), place, reliability, other commitments; and never
someone of another organization or who withdrew."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation

from saha.events.models import Event, EventStatus
from saha.supporters.models import Person
from saha.volunteers import matching
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Availability,
    Capability,
    CapabilityKind,
    Need,
    Offer,
    OfferedCapability,
    OfferStatus,
    Shift,
    Unit,
)

pytestmark = pytest.mark.django_db

BEIRUT = zoneinfo.ZoneInfo("Asia/Beirut")
SUNDAY = dt.date(2027, 3, 14)  # winter time in Beirut: UTC+2


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), BEIRUT)


@pytest.fixture(autouse=True)
def _english() -> Any:
    with translation.override("en"):
        yield


class World:
    """One organization's capabilities, an event on SUNDAY, and builders."""

    def __init__(self, organization: Any) -> None:
        self.organization = organization
        self.n = 0
        self.steward = self.capability("stewarding", "Stewarding")
        self.van = self.capability("driver", "Driver with a vehicle", resource=Unit.SEATS)
        self.event = Event.objects.create(
            organization=organization,
            slug=f"march-{organization.pk}",
            titles={"en": "March"},
            kind="march",
            starts_at=at(SUNDAY, 10),
            ends_at=at(SUNDAY, 14),
            time_zone="Asia/Beirut",
            status=EventStatus.PUBLISHED,
        )

    def capability(self, key: str, name: str, resource: str = "") -> Capability:
        return Capability.objects.create(
            organization=self.organization,
            key=key,
            names={"en": name},
            kind=CapabilityKind.RESOURCE if resource else CapabilityKind.SKILL,
            unit=resource or Unit.PEOPLE,
        )

    def need(self, capability: Capability | None = None, **fields: Any) -> Need:
        values = {
            "organization": self.organization,
            "event": self.event,
            "capability": capability or self.steward,
            "titles": {"en": "Stewards"},
            "wanted": 5,
            "starts_at": at(SUNDAY, 10),
            "ends_at": at(SUNDAY, 14),
            **fields,
        }
        return Need.objects.create(**values)

    def offer(
        self,
        name: str = "",
        *,
        capability: Capability | None = None,
        quantity: int | None = None,
        committed: int = 0,
        free: list[tuple[dt.date, dt.date, dt.time | None, dt.time | None]] | None = None,
        **fields: Any,
    ) -> Offer:
        self.n += 1
        person = Person.objects.create(
            organization=self.organization, given_name=name or f"V{self.n}", source="volunteer"
        )
        offer = Offer.objects.create(organization=self.organization, person=person, **fields)
        OfferedCapability.objects.create(
            organization=self.organization,
            offer=offer,
            capability=capability or self.steward,
            quantity=quantity,
            committed=committed,
        )
        for starts_on, ends_on, from_time, to_time in free or []:
            Availability.objects.create(
                organization=self.organization,
                offer=offer,
                starts_on=starts_on,
                ends_on=ends_on,
                from_time=from_time,
                to_time=to_time,
            )
        return offer

    def past(self, offer: Offer, *attended: bool) -> None:
        """Past assignments of the offer's person, attended or not."""
        old = self.need(starts_at=at(SUNDAY, 8) - dt.timedelta(days=60))
        old.ends_at = old.starts_at + dt.timedelta(hours=2)
        old.save(update_fields=["ends_at"])
        for came in attended:
            shift = Shift.objects.create(
                organization=self.organization,
                need=old,
                starts_at=old.starts_at,
                ends_at=old.ends_at,
                capacity=10,
            )
            Assignment.objects.create(
                organization=self.organization,
                need=old,
                shift=shift,
                person=offer.person,
                status=AssignmentStatus.ACCEPTED,
                attended=came,
            )


@pytest.fixture
def world(org_a: Any) -> World:
    return World(org_a)


def names(found: list[matching.Candidate]) -> list[str]:
    return [c.person.given_name for c in found]


def reason(candidate: matching.Candidate, code: str) -> matching.Reason:
    [found] = [r for r in candidate.reasons if r.code == code]
    return found


def by_name(found: list[matching.Candidate], name: str) -> matching.Candidate:
    [candidate] = [c for c in found if c.person.given_name == name]
    return candidate


def whole_day(day: dt.date = SUNDAY) -> list[tuple[dt.date, dt.date, None, None]]:
    return [(day, day, None, None)]


class TestWhoIsACandidate:
    def test_only_active_offers_of_the_capability_in_the_needs_organization(
        self, world: World, org_b: Any
    ) -> None:
        need = world.need()
        world.offer("Steward")
        world.offer("Withdrawn", status=OfferStatus.WITHDRAWN)
        world.offer("Driver", capability=world.van, quantity=4)
        elsewhere = World(org_b)
        elsewhere.offer("Other organization's steward", free=whole_day())
        assert names(matching.candidates(need)) == ["Steward"]

    def test_a_resource_needs_enough_units_left(self, world: World) -> None:
        need = world.need(world.van, min_quantity=8, titles={"en": "Vans"})
        world.offer("Twelve", capability=world.van, quantity=12)
        world.offer("Eight", capability=world.van, quantity=8)
        world.offer("Six", capability=world.van, quantity=6)
        world.offer("Half taken", capability=world.van, quantity=12, committed=6)
        world.offer("Ten, two taken", capability=world.van, quantity=10, committed=2)
        found = matching.candidates(need)
        assert sorted(names(found)) == ["Eight", "Ten, two taken", "Twelve"]
        assert reason(by_name(found, "Eight"), "quantity").text == (
            "Offers 8 seats (needs at least 8)"
        )
        assert reason(by_name(found, "Ten, two taken"), "quantity").text == (
            "8 of 10 seats left (needs at least 8)"
        )
        assert by_name(found, "Ten, two taken").free == 8

    def test_a_resource_without_a_least_needs_one_unit_left(self, world: World) -> None:
        need = world.need(world.van)
        world.offer("One left", capability=world.van, quantity=4, committed=3)
        world.offer("None left", capability=world.van, quantity=4, committed=4)
        assert names(matching.candidates(need)) == ["One left"]

    def test_people_already_on_this_need_are_left_out_unless_cancelled(self, world: World) -> None:
        need = world.need()
        for status in ("invited", "accepted", "waiting", "declined", "cancelled"):
            offer = world.offer(status)
            Assignment.objects.create(
                organization=world.organization, need=need, person=offer.person, status=status
            )
        assert names(matching.candidates(need)) == ["cancelled"]

    def test_the_limit_is_kept(self, world: World) -> None:
        need = world.need()
        for _n in range(7):
            world.offer()
        assert len(matching.candidates(need, limit=3)) == 3
        assert len(matching.candidates(need)) == 7

    def test_a_need_nobody_offers_has_no_candidates(self, world: World) -> None:
        assert matching.candidates(world.need(world.van)) == []


class TestTime:
    def test_whole_then_part_then_not_free_then_no_dates(self, world: World) -> None:
        need = world.need()
        world.offer("Part", free=[(SUNDAY, SUNDAY, dt.time(11), dt.time(13))])
        world.offer("Whole", free=[(SUNDAY, SUNDAY, dt.time(9), dt.time(14))])
        world.offer("Evening", free=[(SUNDAY, SUNDAY, dt.time(15), dt.time(18))])
        world.offer("Silent")
        found = matching.candidates(need)
        assert names(found)[:2] == ["Whole", "Part"]
        assert reason(found[0], "available").text == "Free Sunday 09:00–14:00"
        assert reason(found[0], "available").points == matching.FREE_WHOLE
        assert reason(found[1], "partly_available").text == (
            "Free Sunday 11:00–13:00, part of the time"
        )
        assert reason(found[1], "partly_available").points == matching.FREE_PART
        assert reason(by_name(found, "Evening"), "not_available").points == 0
        assert reason(by_name(found, "Silent"), "no_dates").points == 0

    def test_a_range_of_days_without_window_covers_the_whole_need(self, world: World) -> None:
        need = world.need()
        world.offer(
            "Week",
            free=[(SUNDAY - dt.timedelta(days=3), SUNDAY + dt.timedelta(days=3), None, None)],
        )
        [candidate] = matching.candidates(need)
        assert reason(candidate, "available").text == "Free all day Sunday"

    def test_windows_are_read_in_the_events_time_zone(self, world: World) -> None:
        # 10:00-12:00 in Beirut is 08:00-10:00 UTC: a 09:00-13:00 window covers it only
        # when both are read in Beirut.
        need = world.need(starts_at=at(SUNDAY, 10), ends_at=at(SUNDAY, 12))
        world.offer("Nine to one", free=[(SUNDAY, SUNDAY, dt.time(9), dt.time(13))])
        [candidate] = matching.candidates(need)
        assert reason(candidate, "available").points == matching.FREE_WHOLE

    def test_the_local_day_counts_not_the_utc_one(self, world: World) -> None:
        monday = SUNDAY + dt.timedelta(days=1)
        # 00:30-02:00 on Monday in Beirut is still Sunday in UTC.
        need = world.need(starts_at=at(monday, 0, 30), ends_at=at(monday, 2))
        world.offer("Monday", free=whole_day(monday))
        world.offer("Sunday", free=whole_day(SUNDAY))
        found = matching.candidates(need)
        assert names(found) == ["Monday", "Sunday"]
        assert reason(found[0], "available").text == "Free all day Monday"
        assert reason(found[1], "not_available").points == 0

    def test_another_zone_for_another_event(self, world: World) -> None:
        world.event.time_zone = "America/New_York"
        world.event.save(update_fields=["time_zone"])
        new_york = zoneinfo.ZoneInfo("America/New_York")
        start = dt.datetime.combine(SUNDAY, dt.time(18), new_york)  # Monday 01:00 in Beirut
        need = world.need(starts_at=start, ends_at=start + dt.timedelta(hours=2))
        world.offer("Sunday evening", free=[(SUNDAY, SUNDAY, dt.time(17), dt.time(21))])
        [candidate] = matching.candidates(need)
        assert reason(candidate, "available").text == "Free Sunday 17:00–21:00"

    def test_with_shifts_being_free_for_one_shift_is_enough(self, world: World) -> None:
        need = world.need(starts_at=at(SUNDAY, 8), ends_at=at(SUNDAY, 18))
        for hour in (8, 14):
            Shift.objects.create(
                organization=world.organization,
                need=need,
                starts_at=at(SUNDAY, hour),
                ends_at=at(SUNDAY, hour + 4),
                capacity=5,
            )
        world.offer("Afternoon", free=[(SUNDAY, SUNDAY, dt.time(13), dt.time(19))])
        world.offer("Noon", free=[(SUNDAY, SUNDAY, dt.time(11), dt.time(13))])
        found = matching.candidates(need)
        assert names(found) == ["Afternoon", "Noon"]
        assert reason(found[0], "available").text == "Free Sunday 13:00–19:00"
        assert reason(found[1], "partly_available").points == matching.FREE_PART

    def test_a_long_campaign_need_is_matched_by_dates(self, world: World) -> None:
        need = world.need(
            event=None,
            campaign=_campaign(world.organization),
            starts_at=at(SUNDAY, 0),
            ends_at=at(SUNDAY, 0) + dt.timedelta(days=60),
        )
        later = SUNDAY + dt.timedelta(days=40)
        world.offer("In the middle", free=whole_day(later))
        world.offer("After", free=whole_day(SUNDAY + dt.timedelta(days=90)))
        found = matching.candidates(need)
        assert names(found) == ["In the middle", "After"]
        assert found[0].reasons[1].code == "partly_available"


def _campaign(organization: Any) -> Any:
    from saha.campaigns.models import Campaign

    return Campaign.objects.create(organization=organization, slug="c", titles={"en": "C"})


class TestPlace:
    def test_nearer_first_with_the_distance_said(self, world: World) -> None:
        need = world.need(latitude=Decimal("33.89000"), longitude=Decimal("35.50000"))
        # 0.0207 degrees of latitude is 2.3 km.
        world.offer("Near", latitude=Decimal("33.91070"), longitude=Decimal("35.50000"))
        world.offer("Far", latitude=Decimal("34.43000"), longitude=Decimal("35.84000"))
        world.offer("Nowhere")
        found = matching.candidates(need)
        assert names(found) == ["Near", "Nowhere", "Far"] or names(found)[0] == "Near"
        near = reason(found[0], "distance")
        assert near.text == "2.3 km away"
        assert near.points == pytest.approx(matching.NEAR * (1 - 2.3 / matching.RANGE_KM), abs=0.05)
        assert reason(by_name(found, "Far"), "distance").points == 0
        assert reason(by_name(found, "Nowhere"), "no_place").points == 0

    def test_the_same_locality_when_coordinates_are_missing(self, world: World) -> None:
        need = world.need(
            locality_key="hamra", latitude=Decimal("33.89"), longitude=Decimal("35.48")
        )
        world.offer("Hamra", locality="Hamra", locality_key="hamra", region="Beirut")
        world.offer("Achrafieh", locality="Achrafieh", locality_key="achrafieh", region="Beirut")
        world.offer("Tripoli", locality="Tripoli", locality_key="tripoli", region="North")
        found = matching.candidates(need)
        assert names(found) == ["Hamra", "Achrafieh", "Tripoli"]
        same = reason(found[0], "same_locality")
        assert (same.text, same.points) == (
            "Lives in Hamra, same as the need",
            matching.SAME_LOCALITY,
        )
        region = reason(found[1], "same_region")
        assert (region.text, region.points) == (
            "Lives in the region of Beirut",
            matching.SAME_REGION,
        )
        assert reason(found[2], "elsewhere").text == "Lives in Tripoli"


class TestReliability:
    def test_the_share_attended_counts_and_a_newcomer_is_neutral(self, world: World) -> None:
        need = world.need()
        steady = world.offer("Steady")
        world.past(steady, True, True, True, True, False)
        flaky = world.offer("Flaky")
        world.past(flaky, True, False, False, False, False)
        world.offer("New")
        found = matching.candidates(need)
        assert names(found) == ["Steady", "New", "Flaky"]
        came = reason(found[0], "reliability")
        assert (came.text, came.points) == ("Came to 4 of 5 past shifts", 16)
        assert reason(found[1], "newcomer").points == matching.NEWCOMER
        assert reason(found[2], "reliability").points == 4

    def test_reliability_of_people(self, world: World) -> None:
        one, two = world.offer(), world.offer()
        world.past(one, True, False)
        assert matching.reliability([one.person_id, two.person_id]) == {
            one.person_id: 0.5,
            two.person_id: None,
        }


class TestCommittedElsewhere:
    def test_an_overlapping_commitment_costs_points_and_says_so(self, world: World) -> None:
        need = world.need()
        other = world.need(
            titles={"en": "Stewards at the gate"},
            starts_at=at(SUNDAY, 10),
            ends_at=at(SUNDAY, 12),
        )
        later = world.need(starts_at=at(SUNDAY, 15), ends_at=at(SUNDAY, 17))
        busy = world.offer("Busy")
        invited = world.offer("Invited")
        declined = world.offer("Declined")
        later_one = world.offer("Later")
        for offer, on, status in (
            (busy, other, "accepted"),
            (invited, other, "invited"),
            (declined, other, "declined"),
            (later_one, later, "accepted"),
        ):
            Assignment.objects.create(
                organization=world.organization, need=on, person=offer.person, status=status
            )
        found = matching.candidates(need)
        assert set(names(found[:2])) == {"Declined", "Later"}
        committed = reason(by_name(found, "Busy"), "committed")
        assert committed.text == "Already committed 10:00–12:00 to Stewards at the gate"
        assert committed.points == matching.COMMITTED
        assert reason(by_name(found, "Invited"), "committed").points == matching.COMMITTED

    def test_a_shift_elsewhere_counts_by_its_own_time(self, world: World) -> None:
        need = world.need(starts_at=at(SUNDAY, 10), ends_at=at(SUNDAY, 11))
        other = world.need(starts_at=at(SUNDAY, 8), ends_at=at(SUNDAY, 18))
        shift = Shift.objects.create(
            organization=world.organization,
            need=other,
            starts_at=at(SUNDAY, 15),
            ends_at=at(SUNDAY, 17),
            capacity=3,
        )
        offer = world.offer("Afternoon shift")
        Assignment.objects.create(
            organization=world.organization,
            need=other,
            shift=shift,
            person=offer.person,
            status="accepted",
        )
        [candidate] = matching.candidates(need)
        assert not [r for r in candidate.reasons if r.code == "committed"]


class TestExplained:
    def test_the_score_is_the_sum_of_the_reasons_points(self, world: World) -> None:
        need = world.need(
            locality_key="hamra", latitude=Decimal("33.89"), longitude=Decimal("35.5")
        )
        for n in range(4):
            offer = world.offer(
                f"P{n}",
                locality="Hamra",
                locality_key="hamra",
                latitude=Decimal("33.9") if n % 2 else None,
                longitude=Decimal("35.51") if n % 2 else None,
                free=whole_day() if n < 2 else None,
            )
            if n == 3:
                world.past(offer, True, False, True)
        for candidate in matching.candidates(need):
            assert candidate.score == pytest.approx(
                sum(r.points for r in candidate.reasons), abs=0.06
            )
            assert {r.code for r in candidate.reasons} >= {"capability"}
            assert all(r.text for r in candidate.reasons)

    def test_reasons_are_translated(self, world: World) -> None:
        need = world.need()
        world.offer(free=whole_day())
        with translation.override("fr"):
            [candidate] = matching.candidates(need)
        assert reason(candidate, "available").text != "Free all day Sunday"

    def test_a_constant_number_of_queries(
        self, world: World, django_assert_max_num_queries: Any
    ) -> None:
        need = world.need(latitude=Decimal("33.89"), longitude=Decimal("35.5"))
        other = world.need(titles={"en": "Other"})
        for n in range(30):
            offer = world.offer(
                free=whole_day(), latitude=Decimal("33.9"), longitude=Decimal("35.5")
            )
            if n % 3 == 0:
                world.past(offer, True)
            if n % 5 == 0:
                Assignment.objects.create(
                    organization=world.organization,
                    need=other,
                    person=offer.person,
                    status="accepted",
                )
        need = Need.objects.get(pk=need.pk)
        # The ranking, its transaction and (PostgreSQL) its setting: 5; the region, the
        # shifts, the rows shown with their dates, attendance and commitments: 6.
        with django_assert_max_num_queries(13):
            found = matching.candidates(need, limit=30)
            [r.text for c in found for r in c.reasons]
        assert len(found) == 30
