"""The volunteers' services: capabilities seeded once, offers through `upsert_person` under
the anonymous rule, needs and shifts, invitations sent once, answers and assignments that
never overfill a need, a shift or a van, and attendance."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from saha.core.errors import DomainError
from saha.core.models import AuditEntry
from saha.messaging.models import Delivery, Message
from saha.supporters.models import Person, PersonEmail, Source
from saha.supporters.services import PersonData
from saha.volunteers import services
from saha.volunteers.capabilities import DEFAULT_KEYS
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Availability,
    Capability,
    Need,
    Offer,
    OfferedCapability,
    OfferStatus,
    Shift,
)
from saha.volunteers.tests.helpers import capability, make_need, make_offer, offered

pytestmark = pytest.mark.django_db


def need_row(need: Need) -> Need:
    return Need.objects.get(pk=need.pk)


def messages_for(person: Person) -> list[str]:
    return list(
        Delivery.objects.filter(person=person)
        .order_by("pk")
        .values_list("message__template", flat=True)
    )


class TestCapabilities:
    def test_seeded_once_with_names_in_three_languages(self, org_a: Any) -> None:
        first = services.ensure_capabilities(org_a)
        again = services.ensure_capabilities(org_a)
        assert [c.pk for c in first] == [c.pk for c in again]
        assert [c.key for c in first] == list(DEFAULT_KEYS)
        assert all(set(c.names) == {"ar", "en", "fr"} for c in first)
        driver = next(c for c in first if c.key == "driver")
        assert driver.is_resource and driver.unit == "seats"
        seeded = AuditEntry.objects.filter(action="volunteers.capabilities.seeded")
        assert seeded.count() == 1

    def test_a_default_removed_does_not_come_back(self, org_a: Any) -> None:
        services.ensure_capabilities(org_a)
        Capability.objects.filter(organization=org_a, key="cooking").delete()
        keys = [c.key for c in services.ensure_capabilities(org_a)]
        assert "cooking" not in keys and len(keys) == len(DEFAULT_KEYS) - 1

    def test_an_organization_adds_and_renames_its_own(self, org_a: Any, owner: Any) -> None:
        boat = services.add_capability(
            actor=owner.user,
            organization=org_a,
            names={"en": "Boat", "ar": "قارب"},
            kind="resource",
            unit="seats",
        )
        again = services.add_capability(
            actor=owner.user, organization=org_a, names={"en": " Boat "}, kind="skill", unit="m2"
        )
        assert (boat.key, boat.unit, boat.is_resource) == ("boat", "seats", True)
        assert (again.key, again.unit, again.names) == ("boat-2", "people", {"en": "Boat"})
        assert boat.position > max(c.position for c in services.ensure_capabilities(org_a)[:11])
        with pytest.raises(DomainError) as error:
            services.add_capability(
                actor=owner.user, organization=org_a, names={"en": " "}, kind="skill"
            )
        assert error.value.code == "name_needed"
        services.update_capability(
            actor=owner.user, capability=boat, names={"fr": "Bateau"}, active=False
        )
        boat.refresh_from_db()
        assert boat.names == {"fr": "Bateau"} and not boat.active
        assert boat not in services.active_capabilities(org_a)
        actions = AuditEntry.objects.values_list("action", flat=True)
        assert {"volunteers.capability.added", "volunteers.capability.changed"} <= set(actions)

    def test_each_organization_has_its_own(self, org_a: Any, org_b: Any) -> None:
        services.ensure_capabilities(org_a)
        services.ensure_capabilities(org_b)
        assert Capability.objects.filter(organization=org_b).count() == len(DEFAULT_KEYS)


class TestOffers:
    def test_an_offer_makes_the_person_with_what_and_when(self, org_a: Any) -> None:
        day = dt.date(2030, 5, 1)
        offer = services.submit_offer(
            organization=org_a,
            data=PersonData(email="rima@example.org", given_name="Rima", language="ar"),
            offered={
                capability(org_a, "driver").pk: (9, "Minibus"),
                capability(org_a, "first-aid").pk: (5, ""),
            },
            availability=[
                services.AvailabilityWindow(day, day, dt.time(9), dt.time(13)),
                services.AvailabilityWindow(day, day + dt.timedelta(days=3)),
            ],
            locality="Ras  Beyrouth",
            anonymous=True,
            notify=False,
        )
        assert offer.person.source == Source.VOLUNTEER and offer.language == "ar"
        assert offer.locality_key == "ras beyrouth"
        assert offered(offer, "driver").quantity == 9
        assert offered(offer, "first-aid").quantity is None  # a skill has no quantity
        assert Availability.objects.filter(offer=offer).count() == 2
        assert AuditEntry.objects.filter(action="volunteers.offer.created").count() == 1

    def test_typed_again_by_anyone_a_known_offer_is_not_changed_but_its_owner_is_sent_the_link(
        self, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        first = make_offer(org_a, 1, {"driver": 9})
        with django_capture_on_commit_callbacks(execute=True):
            again = make_offer(org_a, 1, {"cooking": None}, anonymous=True, notify=True)
        assert again.pk == first.pk
        assert [row.capability.key for row in again.capabilities.all()] == ["driver"]
        assert messages_for(first.person) == ["volunteers/messages/offer_link"]
        with django_capture_on_commit_callbacks(execute=True):
            make_offer(org_a, 1, {"cooking": None}, anonymous=True, notify=True)
        assert Delivery.objects.count() == 1  # at most hourly

    def test_a_stranger_cannot_attach_a_phone_to_a_known_supporter(self, org_a: Any) -> None:
        make_offer(org_a, 1)
        services.submit_offer(
            organization=org_a,
            data=PersonData(email="v1@example.org", phone="+9613123456"),
            offered={capability(org_a, "cooking").pk: (None, "")},
            availability=[],
            anonymous=True,
            notify=False,
        )
        assert Person.objects.get().phones.count() == 0

    def test_a_member_or_the_owner_replaces_it(self, org_a: Any, owner: Any) -> None:
        offer = make_offer(org_a, 1, {"driver": 9, "stewarding": None})
        make_offer(org_a, 1, {"driver": 12}, actor=owner.user)
        assert [(r.capability.key, r.quantity) for r in offer.capabilities.all()] == [
            ("driver", 12)
        ]
        services.update_offer(
            offer=offer,
            offered={capability(org_a, "cooking").pk: (None, "")},
            availability=[],
            notes="Vegetarian",
        )
        offer.refresh_from_db()
        assert offer.notes == "Vegetarian"
        assert [r.capability.key for r in offer.capabilities.all()] == ["cooking"]

    @pytest.mark.parametrize(
        ("gives", "windows", "code"),
        [
            ({}, [], "no_capability"),
            ({"driver": None}, [], "quantity_needed"),
            (
                {"cooking": None},
                [services.AvailabilityWindow(dt.date(2030, 1, 2), dt.date(2030, 1, 1))],
                "window_ends_before",
            ),
            (
                {"cooking": None},
                [services.AvailabilityWindow(dt.date(2030, 1, 1), dt.date(2030, 1, 1), dt.time(9))],
                "window_times",
            ),
        ],
    )
    def test_bad_input_is_refused_with_a_code(
        self, org_a: Any, gives: dict[str, Any], windows: list[Any], code: str
    ) -> None:
        with pytest.raises(DomainError) as error:
            services.submit_offer(
                organization=org_a,
                data=PersonData(email="x@example.org"),
                offered={capability(org_a, k).pk: (q, "") for k, q in gives.items()},
                availability=windows,
            )
        assert error.value.code == code
        assert not Person.objects.exists()

    def test_another_organizations_capability_is_refused(self, org_a: Any, org_b: Any) -> None:
        with pytest.raises(DomainError) as error:
            services.submit_offer(
                organization=org_a,
                data=PersonData(email="x@example.org"),
                offered={capability(org_b, "cooking").pk: (None, "")},
                availability=[],
            )
        assert error.value.code == "unknown_capability"

    def test_units_promised_cannot_be_taken_back_by_an_update(self, org_a: Any) -> None:
        offer = make_offer(org_a, 1, {"driver": 9})
        need = make_need(org_a, "driver", min_quantity=8)
        services.assign(actor="test", need=need, offered=offered(offer, "driver"))
        for gives in ({"driver": 6}, {"cooking": None}):
            with pytest.raises(DomainError) as error:
                services.update_offer(
                    offer=offer,
                    offered={capability(org_a, k).pk: (q, "") for k, q in gives.items()},
                    availability=[],
                )
            assert error.value.code == "units_committed"
        assert offered(offer, "driver").quantity == 9

    def test_withdrawing_declines_open_invitations_and_keeps_places(self, org_a: Any) -> None:
        offer = make_offer(org_a, 1)
        accepted_on = make_need(org_a)
        invited_on = make_need(org_a, event=accepted_on.event)
        services.assign(actor="test", need=accepted_on, offered=offered(offer, "stewarding"))
        services.invite(actor="test", need=invited_on, offers=[offer])
        assert services.withdraw_offer(offer=offer)
        assert not services.withdraw_offer(offer=offer)
        statuses = dict(Assignment.objects.values_list("need_id", "status"))
        assert statuses == {accepted_on.pk: "accepted", invited_on.pk: "declined"}
        assert Offer.objects.get().status == OfferStatus.WITHDRAWN


class TestNeeds:
    def test_a_need_takes_the_events_place_and_leaves_an_audit_row(self, org_a: Any) -> None:
        need = make_need(org_a, "driver", min_quantity=8)
        assert need.min_quantity == 8 and need.filled == 0
        assert AuditEntry.objects.filter(action="volunteers.need.created").exists()
        skill = make_need(org_a, min_quantity=3, event=need.event)
        assert skill.min_quantity is None  # only resources count units

    def test_a_need_belongs_to_its_organizations_event(self, org_a: Any, org_b: Any) -> None:
        need = make_need(org_a)
        with pytest.raises(DomainError):
            services.create_need(
                actor="test",
                organization=org_b,
                capability=capability(org_b, "cooking"),
                wanted=1,
                starts_at=need.starts_at,
                ends_at=need.ends_at,
                event=need.event,
            )

    def test_wanted_cannot_go_below_those_in_and_more_places_go_to_those_waiting(
        self, org_a: Any
    ) -> None:
        need = make_need(org_a, wanted=1)
        first = services.sign_up_for_need(need=need, data=PersonData(email="a@example.org"))
        second = services.sign_up_for_need(need=need, data=PersonData(email="b@example.org"))
        assert (first.status, second.status) == ("accepted", "waiting")
        with pytest.raises(DomainError) as error:
            services.update_need(actor="test", need=need, wanted=0)
        assert error.value.code in ("wanted", "below_filled")
        services.update_need(actor="test", need=need, wanted=2)
        second.refresh_from_db()
        assert second.status == "accepted" and need_row(need).filled == 2

    def test_closing_stops_answers_and_a_shift_with_volunteers_stays(self, org_a: Any) -> None:
        need = make_need(org_a)
        shift = services.add_shift(
            actor="test", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=2
        )
        services.sign_up_for_shift(shift=shift, data=PersonData(email="a@example.org"))
        with pytest.raises(DomainError) as error:
            services.remove_shift(actor="test", shift=shift)
        assert error.value.code == "shift_has_volunteers"
        assert services.close_need(actor="test", need=need)
        assert not services.close_need(actor="test", need=need)
        with pytest.raises(DomainError) as error:
            services.sign_up_for_shift(shift=shift, data=PersonData(email="b@example.org"))
        assert error.value.code == "sign_up_closed"
        empty = services.add_shift(
            actor="test", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=1
        )
        assert services.remove_shift(actor="test", shift=empty)
        assert not Shift.objects.filter(pk=empty.pk).exists()


class TestInvitations:
    def test_inviting_twice_invites_and_writes_once(
        self, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        need = make_need(org_a)
        offers = [make_offer(org_a, n) for n in range(3)]
        with django_capture_on_commit_callbacks(execute=True):
            assert services.invite(actor="test", need=need, offers=offers) == 3
            assert services.invite(actor="test", need=need, offers=offers) == 0
        assert Assignment.objects.filter(status=AssignmentStatus.INVITED).count() == 3
        assert Message.objects.filter(template="volunteers/messages/invited").count() == 3
        assert Delivery.objects.count() == 3
        assert need_row(need).filled == 0  # an invitation holds no place

    def test_other_organizations_and_withdrawn_offers_are_not_invited(
        self, org_a: Any, org_b: Any
    ) -> None:
        need = make_need(org_a)
        theirs = make_offer(org_b, 1)
        gone = make_offer(org_a, 2)
        services.withdraw_offer(offer=gone)
        assert services.invite(actor="test", need=need, offers=[theirs, gone]) == 0

    def test_accepting_fills_declining_gives_back_and_a_full_need_says_so(self, org_a: Any) -> None:
        need = make_need(org_a, wanted=1)
        one, two = make_offer(org_a, 1), make_offer(org_a, 2)
        services.invite(actor="test", need=need, offers=[one, two])
        first, second = Assignment.objects.order_by("pk")
        assert services.respond(assignment=first, accept=True).status == "accepted"
        assert services.respond(assignment=first, accept=True).status == "accepted"  # again
        assert need_row(need).filled == 1
        with pytest.raises(DomainError) as error:
            services.respond(assignment=second, accept=True)
        assert error.value.code == "need_full"
        second.refresh_from_db()
        assert second.status == "invited"
        services.respond(assignment=first, accept=False)
        assert need_row(need).filled == 0
        assert services.respond(assignment=second, accept=True).status == "accepted"

    def test_a_resource_commits_its_units_on_accepting(self, org_a: Any) -> None:
        need = make_need(org_a, "driver", min_quantity=8)
        van = make_offer(org_a, 1, {"driver": 9})
        services.invite(actor="test", need=need, offers=[van])
        row = services.respond(assignment=Assignment.objects.get(), accept=True)
        assert row.quantity == 8 and offered(van, "driver").committed == 8
        services.respond(assignment=row, accept=False)
        assert offered(van, "driver").committed == 0


class TestAssign:
    def test_a_van_is_shared_between_needs_until_its_seats_run_out(self, org_a: Any) -> None:
        van = make_offer(org_a, 1, {"driver": 8})
        seats = offered(van, "driver")
        morning = make_need(org_a, "driver")
        evening = make_need(org_a, "driver", event=morning.event)
        services.assign(actor="test", need=morning, offered=seats, quantity=7)
        with pytest.raises(DomainError) as error:
            services.assign(actor="test", need=evening, offered=seats, quantity=2)
        assert error.value.code == "not_enough_left"
        assert not Assignment.objects.filter(need=evening).exists()
        services.assign(actor="test", need=evening, offered=seats, quantity=1)
        assert offered(van, "driver").committed == 8

    def test_fewer_units_than_the_need_asks_are_refused(self, org_a: Any) -> None:
        need = make_need(org_a, "driver", min_quantity=8)
        van = make_offer(org_a, 1, {"driver": 12})
        with pytest.raises(DomainError) as error:
            services.assign(actor="test", need=need, offered=offered(van, "driver"), quantity=4)
        assert error.value.code == "too_few_units"

    def test_a_full_need_is_refused_and_the_same_assignment_twice_is_one(self, org_a: Any) -> None:
        need = make_need(org_a, wanted=1)
        one, two = make_offer(org_a, 1), make_offer(org_a, 2)
        row = services.assign(actor="test", need=need, offered=offered(one, "stewarding"))
        again = services.assign(actor="test", need=need, offered=offered(one, "stewarding"))
        assert row.pk == again.pk and need_row(need).filled == 1
        with pytest.raises(DomainError) as error:
            services.assign(actor="test", need=need, offered=offered(two, "stewarding"))
        assert error.value.code == "need_full"

    def test_the_wrong_capability_is_refused(self, org_a: Any) -> None:
        need = make_need(org_a)
        cook = make_offer(org_a, 1, {"cooking": None})
        with pytest.raises(DomainError) as error:
            services.assign(actor="test", need=need, offered=offered(cook, "cooking"))
        assert error.value.code == "wrong_capability"

    def test_release_gives_back_the_place_and_the_units(
        self, org_a: Any, owner: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        need = make_need(org_a, "driver", wanted=1)
        van = make_offer(org_a, 1, {"driver": 9})
        with django_capture_on_commit_callbacks(execute=True):
            row = services.assign(actor=owner.user, need=need, offered=offered(van, "driver"))
            assert services.release(actor=owner.user, assignment=row)
            assert not services.release(actor=owner.user, assignment=row)
        assert need_row(need).filled == 0 and offered(van, "driver").committed == 0
        assert messages_for(van.person) == [
            "volunteers/messages/assigned",
            "volunteers/messages/released",
        ]
        actions = set(AuditEntry.objects.values_list("action", flat=True))
        assert {"volunteers.assignment.assigned", "volunteers.assignment.released"} <= actions


class TestShiftSignUp:
    def test_a_place_if_one_is_left_else_the_waiting_list_and_cancelling_promotes_the_first(
        self, org_a: Any, django_capture_on_commit_callbacks: Any
    ) -> None:
        need = make_need(org_a, wanted=5)
        shift = services.add_shift(
            actor="test", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=1
        )
        with django_capture_on_commit_callbacks(execute=True):
            rows = [
                services.sign_up_for_shift(shift=shift, data=PersonData(email=f"s{n}@example.org"))
                for n in range(3)
            ]
        assert [r.status for r in rows] == ["accepted", "waiting", "waiting"]
        assert Shift.objects.get(pk=shift.pk).taken == 1 and need_row(need).filled == 1
        with django_capture_on_commit_callbacks(execute=True):
            services.release(actor="volunteer link", assignment=rows[0], notify=False)
        statuses = list(Assignment.objects.order_by("pk").values_list("status", flat=True))
        assert statuses == ["cancelled", "accepted", "waiting"]
        assert Shift.objects.get(pk=shift.pk).taken == 1
        promoted = AuditEntry.objects.get(action="volunteers.assignment.promoted")
        assert promoted.target_id == str(rows[1].pk)
        assert messages_for(rows[1].person) == [
            "volunteers/messages/waiting",
            "volunteers/messages/promoted",
        ]

    def test_the_same_person_twice_is_one_sign_up(self, org_a: Any) -> None:
        need = make_need(org_a)
        shift = services.add_shift(
            actor="test", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=3
        )
        first = services.sign_up_for_shift(shift=shift, data=PersonData(email="a@example.org"))
        again = services.sign_up_for_shift(shift=shift, data=PersonData(email="a@example.org"))
        assert first.pk == again.pk and Shift.objects.get(pk=shift.pk).taken == 1
        assert PersonEmail.objects.count() == 1

    def test_a_resource_or_a_past_need_takes_no_public_sign_up(self, org_a: Any) -> None:
        vans = make_need(org_a, "driver")
        past = timezone.now() - dt.timedelta(days=1)
        over = make_need(org_a, event=vans.event, starts_at=past, ends_at=past)
        for need in (vans, over):
            with pytest.raises(DomainError) as error:
                services.sign_up_for_need(need=need, data=PersonData(email="a@example.org"))
            assert error.value.code == "sign_up_closed"


class TestAttendance:
    def test_hours_default_to_the_shifts_length_and_only_those_in_are_marked(
        self, org_a: Any, owner: Any
    ) -> None:
        need = make_need(org_a)
        shift = services.add_shift(
            actor="test",
            need=need,
            starts_at=need.starts_at,
            ends_at=need.starts_at + dt.timedelta(hours=2, minutes=30),
            capacity=1,
        )
        came = services.sign_up_for_shift(shift=shift, data=PersonData(email="a@example.org"))
        waiting = services.sign_up_for_shift(shift=shift, data=PersonData(email="b@example.org"))
        row = services.record_attendance(actor=owner.user, assignment=came, attended=True)
        assert row.attended is True and row.hours == Decimal("2.50")
        row = services.record_attendance(
            actor=owner.user, assignment=came, attended=True, hours=Decimal("1.25")
        )
        assert row.hours == Decimal("1.25")
        row = services.record_attendance(actor=owner.user, assignment=came, attended=False)
        assert row.attended is False and row.hours is None
        with pytest.raises(DomainError) as error:
            services.record_attendance(actor=owner.user, assignment=waiting, attended=True)
        assert error.value.code == "not_accepted"
        assert AuditEntry.objects.filter(action="volunteers.assignment.attendance").count() == 3


def test_offered_capability_rows_keep_their_units_consistent(org_a: Any) -> None:
    """The database refuses more units committed than offered, whatever the code does."""
    from django.db import IntegrityError, transaction

    van = make_offer(org_a, 1, {"driver": 4})
    with pytest.raises(IntegrityError), transaction.atomic():
        OfferedCapability.objects.filter(pk=offered(van, "driver").pk).update(committed=5)
