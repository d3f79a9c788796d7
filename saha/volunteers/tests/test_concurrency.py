"""Two people at the same instant: the last seat of a van, the last place of a need, the
last place of a shift are each given once. PostgreSQL only (SQLite has one writer at a
time, so nothing races there); each race is run a few times, two threads released by
one barrier."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from saha.core.errors import DomainError
from saha.supporters.services import PersonData
from saha.supporters.tests.people_factories import postgres_only
from saha.testing.concurrency import at_once
from saha.volunteers import services
from saha.volunteers.models import Assignment, AssignmentStatus, Need, Shift
from saha.volunteers.tests.helpers import make_event, make_need, make_offer, offered

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]
ROUNDS = 5


def codes(results: list[Any]) -> list[str]:
    return sorted(r.code if isinstance(r, DomainError) else type(r).__name__ for r in results)


def test_two_coordinators_giving_the_last_seat_of_a_van_give_it_once(org_a: Any) -> None:
    event = make_event(org_a)
    for n in range(ROUNDS):
        van = make_offer(org_a, n, {"driver": 8})
        seats = offered(van, "driver")
        base, left, right = (make_need(org_a, "driver", event=event) for _ in range(3))
        services.assign(actor="test", need=base, offered=seats, quantity=7)
        results = at_once(
            partial(services.assign, actor="a", need=left, offered=seats, quantity=1),
            partial(services.assign, actor="b", need=right, offered=seats, quantity=1),
        )
        assert codes(results) == ["Assignment", "not_enough_left"], results
        assert offered(van, "driver").committed == 8
        taken = Assignment.objects.filter(need__in=[left, right], status=AssignmentStatus.ACCEPTED)
        assert taken.count() == 1


def test_two_coordinators_giving_the_same_van_to_the_same_need_make_one_assignment(
    org_a: Any,
) -> None:
    event = make_event(org_a)
    for n in range(ROUNDS):
        van = make_offer(org_a, n, {"driver": 8})
        seats = offered(van, "driver")
        need = make_need(org_a, "driver", event=event, wanted=3, min_quantity=8)
        results = at_once(
            partial(services.assign, actor="a", need=need, offered=seats),
            partial(services.assign, actor="b", need=need, offered=seats),
        )
        assert all(isinstance(r, Assignment) for r in results), results
        assert results[0].pk == results[1].pk
        assert offered(van, "driver").committed == 8
        assert Need.objects.get(pk=need.pk).filled == 1


def test_two_coordinators_filling_the_last_place_of_a_need_fill_it_once(org_a: Any) -> None:
    event = make_event(org_a)
    for n in range(ROUNDS):
        need = make_need(org_a, event=event, wanted=1)
        one, two = make_offer(org_a, 2 * n), make_offer(org_a, 2 * n + 1)
        results = at_once(
            partial(services.assign, actor="a", need=need, offered=offered(one, "stewarding")),
            partial(services.assign, actor="b", need=need, offered=offered(two, "stewarding")),
        )
        assert codes(results) == ["Assignment", "need_full"], results
        assert Need.objects.get(pk=need.pk).filled == 1
        assert Assignment.objects.filter(need=need).count() == 1


def test_two_volunteers_answering_yes_for_the_last_place_take_it_once(org_a: Any) -> None:
    event = make_event(org_a)
    for n in range(ROUNDS):
        need = make_need(org_a, event=event, wanted=1)
        services.invite(
            actor="test", need=need, offers=[make_offer(org_a, 2 * n), make_offer(org_a, 2 * n + 1)]
        )
        first, second = Assignment.objects.filter(need=need).order_by("pk")
        results = at_once(
            partial(services.respond, assignment=first, accept=True),
            partial(services.respond, assignment=second, accept=True),
        )
        assert codes(results) == ["Assignment", "need_full"], results
        assert Need.objects.get(pk=need.pk).filled == 1


def test_two_volunteers_signing_up_for_the_last_place_of_a_shift_one_waits(org_a: Any) -> None:
    event = make_event(org_a)
    for n in range(ROUNDS):
        need = make_need(org_a, event=event, wanted=10)
        shift = services.add_shift(
            actor="test", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=1
        )
        results = at_once(
            partial(
                services.sign_up_for_shift,
                shift=shift,
                data=PersonData(email=f"a{n}@example.org"),
            ),
            partial(
                services.sign_up_for_shift,
                shift=shift,
                data=PersonData(email=f"b{n}@example.org"),
            ),
        )
        assert sorted(r.status for r in results) == ["accepted", "waiting"], results
        assert Shift.objects.get(pk=shift.pk).taken == 1
        assert Need.objects.get(pk=need.pk).filled == 1


def test_two_cancellations_at_once_promote_two_people_waiting(org_a: Any) -> None:
    need = make_need(org_a, wanted=10)
    shift = services.add_shift(
        actor="test", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=2
    )
    rows = [
        services.sign_up_for_shift(shift=shift, data=PersonData(email=f"s{n}@example.org"))
        for n in range(5)
    ]
    assert [r.status for r in rows] == ["accepted"] * 2 + ["waiting"] * 3
    results = at_once(
        lambda: services.release(actor="a", assignment=rows[0]),
        lambda: services.release(actor="b", assignment=rows[1]),
    )
    assert results == [True, True]
    statuses = list(Assignment.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["cancelled", "cancelled", "accepted", "accepted", "waiting"]
    assert Shift.objects.get(pk=shift.pk).taken == 2
