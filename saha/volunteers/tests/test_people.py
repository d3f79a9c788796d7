"""Volunteering and the rest of a person's record: segment criteria, the timeline, merging
two records of one person, and erasing one."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone, translation

from saha.supporters import segments
from saha.supporters.models import Person
from saha.supporters.services import PersonData, erase_person, merge_people
from saha.supporters.timeline import timeline
from saha.volunteers import services
from saha.volunteers.models import Assignment, AssignmentStatus, Availability, Need, Offer, Shift
from saha.volunteers.tests.helpers import capability, make_event, make_need, make_offer, offered

pytestmark = pytest.mark.django_db


def emails(people: Any) -> set[str]:
    return {person.emails.get().address for person in people}


class TestSegments:
    def test_offered_capability_counts_active_offers_of_the_organizations_own(
        self, org_a: Any, org_b: Any
    ) -> None:
        make_offer(org_a, 1, {"driver": 9})
        make_offer(org_a, 2, {"cooking": None, "driver": 4})
        make_offer(org_a, 3, {"cooking": None})
        gone = make_offer(org_a, 4, {"driver": 7})
        services.withdraw_offer(offer=gone)
        make_offer(org_b, 5, {"driver": 9})
        driver = capability(org_a, "driver")
        found = segments.matching(org_a, {"offered_capability": [driver.pk]})
        assert emails(found) == {"v1@example.org", "v2@example.org"}
        theirs = capability(org_b, "driver")
        assert not segments.matching(org_a, {"offered_capability": [theirs.pk]}).exists()
        assert not segments.matching(org_a, {"offered_capability": "x"}).exists()

    def test_the_form_field_lists_the_capabilities_by_name(self, org_a: Any) -> None:
        criterion = segments.criterion("offered_capability")
        assert criterion is not None
        services.ensure_capabilities(org_a)
        field = criterion.form_field(org_a)
        with translation.override("en"):
            labels = [label for _value, label in field.choices]
        assert "Driver with a vehicle" in labels
        cleaned = field.clean([str(capability(org_a, "driver").pk)])
        assert criterion.to_json(cleaned) == [capability(org_a, "driver").pk]

    def test_volunteered_at_an_event_means_a_place_on_one_of_its_needs(
        self, org_a: Any, org_b: Any
    ) -> None:
        need = make_need(org_a, wanted=1)
        other_event = make_event(org_a, slug="other")
        services.sign_up_for_need(need=need, data=PersonData(email="in@example.org"))
        services.sign_up_for_need(need=need, data=PersonData(email="waits@example.org"))
        make_need(org_a, event=other_event)
        found = segments.matching(org_a, {"volunteered_at": [need.event_id]})
        assert emails(found) == {"in@example.org"}
        assert not segments.matching(org_a, {"volunteered_at": [other_event.pk]}).exists()
        assert not segments.matching(org_b, {"volunteered_at": [need.event_id]}).exists()


class TestTimeline:
    def test_the_offer_each_need_and_attendance_appear(self, org_a: Any, owner: Any) -> None:
        offer = make_offer(org_a, 1, {"driver": 9})
        need = make_need(org_a, "driver", min_quantity=8)
        row = services.assign(actor=owner.user, need=need, offered=offered(offer, "driver"))
        services.record_attendance(
            actor=owner.user, assignment=row, attended=True, hours=Decimal("3")
        )
        with translation.override("en"):
            moments = [m for m in timeline(offer.person) if m.kind == "volunteer"]
        texts = [str(m.text) for m in moments]
        assert "Offered help" in texts
        assert "Volunteering: Stewards at the entrance" in texts
        assert "Came to volunteer: Stewards at the entrance" in texts
        offered_moment = next(m for m in moments if str(m.text) == "Offered help")
        assert offered_moment.detail == "Driver with a vehicle (9)"


class TestMerge:
    def test_the_kept_offer_stays_with_both_capabilities_and_the_units_promised(
        self, org_a: Any, owner: Any
    ) -> None:
        kept = make_offer(org_a, 1, {"driver": 4, "cooking": None})
        other = make_offer(org_a, 2, {"driver": 9, "first-aid": None})
        Availability.objects.create(
            organization=org_a,
            offer=other,
            starts_on=dt.date(2030, 1, 1),
            ends_on=dt.date(2030, 1, 2),
        )
        need = make_need(org_a, "driver", min_quantity=8)
        services.assign(actor="t", need=need, offered=offered(other, "driver"))
        merge_people(actor=owner.user, kept=kept.person, other=other.person)
        offer = Offer.objects.get()
        assert offer.pk == kept.pk
        keys = sorted(offer.capabilities.values_list("capability__key", flat=True))
        assert keys == ["cooking", "driver", "first-aid"]
        van = offered(offer, "driver")
        assert (van.quantity, van.committed) == (9, 8)
        assignment = Assignment.objects.get()
        assert assignment.person_id == kept.person_id and assignment.offered_id == van.pk
        assert offer.availability.count() == 1

    def test_an_offer_of_the_other_moves_when_the_kept_person_had_none(
        self, org_a: Any, owner: Any
    ) -> None:
        other = make_offer(org_a, 2)
        kept = services.sign_up_for_need(
            need=make_need(org_a), data=PersonData(email="k@example.org")
        ).person
        merge_people(actor=owner.user, kept=kept, other=other.person)
        assert Offer.objects.get().person_id == kept.pk

    def test_both_on_one_need_is_one_place_the_one_holding_it_stays(
        self, org_a: Any, owner: Any
    ) -> None:
        need = make_need(org_a, wanted=3)
        shift = services.add_shift(
            actor="t", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=3
        )
        kept = make_offer(org_a, 1)
        other = make_offer(org_a, 2)
        services.invite(actor="t", need=need, offers=[kept], shift=shift)
        services.sign_up_for_shift(shift=shift, data=PersonData(email="v2@example.org"))
        merge_people(actor=owner.user, kept=kept.person, other=other.person)
        [row] = Assignment.objects.all()
        assert row.person_id == kept.person_id and row.status == AssignmentStatus.ACCEPTED
        assert Need.objects.get(pk=need.pk).filled == 1
        assert Shift.objects.get(pk=shift.pk).taken == 1

    def test_both_holding_a_place_count_once(self, org_a: Any, owner: Any) -> None:
        need = make_need(org_a, wanted=3)
        for email in ("a@example.org", "b@example.org"):
            services.sign_up_for_need(need=need, data=PersonData(email=email))
        one, two = Person.objects.order_by("pk")
        merge_people(actor=owner.user, kept=one, other=two)
        assert Assignment.objects.count() == 1
        assert Need.objects.get(pk=need.pk).filled == 1


class TestErasure:
    def test_the_offer_goes_and_the_place_goes_to_the_first_waiting(
        self, org_a: Any, owner: Any
    ) -> None:
        offer = make_offer(org_a, 1, {"stewarding": None, "driver": 9})
        need = make_need(org_a, wanted=1)
        services.assign(actor="t", need=need, offered=offered(offer, "stewarding"))
        waiting = services.sign_up_for_need(need=need, data=PersonData(email="w@example.org"))
        past = timezone.now() - dt.timedelta(days=10)
        old = make_need(
            org_a, event=make_event(org_a, slug="old", starts_at=past, ends_at=past), wanted=5
        )
        Assignment.objects.create(
            organization=org_a,
            need=old,
            person=offer.person,
            status=AssignmentStatus.ACCEPTED,
        )
        Need.objects.filter(pk=old.pk).update(filled=1)
        erase_person(actor=owner.user, person=offer.person)
        assert not Offer.objects.exists()
        waiting.refresh_from_db()
        assert waiting.status == AssignmentStatus.ACCEPTED
        assert Need.objects.get(pk=need.pk).filled == 1
        assert Need.objects.get(pk=old.pk).filled == 1  # what happened stays counted
        assert list(Assignment.objects.values_list("person__emails__address", flat=True)) == [
            "w@example.org"
        ]
