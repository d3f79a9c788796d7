"""The gate's headcount: kept with each check-in, not recounted at each scan, right under load.

The banner's "checked in" and "walk-ins" are sums over a few shard rows moved
by each check-in in its own transaction; these tests hold them equal to the
check-ins actually stored, through repeats, refusals, walk-ins, many gates at
once, and the check-ins made before the counter existed.
"""

from __future__ import annotations

import importlib
import io
from functools import partial
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import QuerySet
from django.test.utils import CaptureQueriesContext

from saha.core import audit
from saha.core.errors import DomainError
from saha.events import gate, headcount
from saha.events.models import CheckIn, CheckInCount, Event, Rsvp
from saha.events.tests.test_gate import gate_rsvp
from saha.events.tests.test_rsvp import answer, make_event
from saha.supporters.services import PersonData
from saha.supporters.tests.people_factories import postgres_only
from saha.testing.concurrency import at_once

pytestmark = pytest.mark.django_db


def stored(event: Event) -> tuple[int, int]:
    """What the check-in rows themselves say: (checked in, walk-ins)."""
    rows = CheckIn.objects.filter(event=event)
    return rows.count(), rows.filter(method=headcount.WALK_IN).count()


def shown(event: Event) -> tuple[int, int]:
    counted = gate.counts(event)
    return counted.checked_in, counted.walk_ins


def admit(event: Event, rsvp: Rsvp, actor: Any, nonce: str, method: str = "scan") -> Any:
    return gate.admit(event=event, rsvp=rsvp, actor=actor, nonce=nonce, method=method)


def walk_in(event: Event, actor: Any, n: int, nonce: str) -> Any:
    person = PersonData(given_name=f"W{n}", email=f"w{n}@example.org")
    return gate.add_walk_in(event=event, data=person, actor=actor, nonce=nonce)


def test_nobody_in_yet_counts_zero_without_any_row(org_a: Any) -> None:
    event = make_event(org_a)
    assert shown(event) == (0, 0) and not CheckInCount.objects.exists()


def test_repeats_and_refusals_move_nothing(org_a: Any, checkin_staff: Any) -> None:
    event = make_event(org_a, capacity=4)
    rows = [answer(event, n).rsvp for n in range(3)]  # and a place left for one walk-in
    staff = checkin_staff.user
    admit(event, rows[0], staff, "a")
    admit(event, rows[0], staff, "a")  # the same request retried
    assert admit(event, rows[0], staff, "b").already  # the same ticket scanned again
    admit(event, rows[1], staff, "c", method="code")
    walk_in(event, staff, 1, "w1")
    walk_in(event, staff, 1, "w1")  # the walk-in form sent twice
    with pytest.raises(DomainError):  # full now: refused, and its transaction undone
        walk_in(event, staff, 2, "w2")
    assert shown(event) == stored(event) == (3, 1)


def test_the_banner_still_reads_in_one_query(org_a: Any, checkin_staff: Any) -> None:
    event = make_event(org_a)
    for n in range(20):
        admit(event, answer(event, n).rsvp, checkin_staff.user, f"n{n}")
    with CaptureQueriesContext(connection) as queries:
        counted = gate.counts(event)
    assert len(queries) == 1 and counted.checked_in == 20
    assert CheckInCount.objects.filter(event=event).count() <= headcount.SHARDS


def test_another_events_check_ins_are_not_counted(org_a: Any, checkin_staff: Any) -> None:
    event, other = make_event(org_a), make_event(org_a, slug="other")
    admit(other, gate_rsvp(other, "rima@example.org", "Rima"), checkin_staff.user, "x")
    assert shown(event) == (0, 0) and shown(other) == (1, 0)


def test_deleting_an_event_takes_its_headcount(org_a: Any, checkin_staff: Any) -> None:
    event = make_event(org_a)
    admit(event, answer(event, 1).rsvp, checkin_staff.user, "a")
    Event.objects.filter(pk=event.pk).delete()
    assert not CheckInCount.objects.exists()


def test_the_migration_counts_the_check_ins_made_before_it(org_a: Any, checkin_staff: Any) -> None:
    event = make_event(org_a)
    admit(event, answer(event, 1).rsvp, checkin_staff.user, "a")
    walk_in(event, checkin_staff.user, 2, "w")
    quiet = make_event(org_a, slug="quiet")
    CheckInCount.objects.all().delete()  # as before the migration

    migration = importlib.import_module("saha.events.migrations.0006_headcount")
    assert migration.Migration.operations[-1].code is migration.count_earlier_check_ins
    state = MigrationExecutor(connection).loader.project_state(("events", "0006_headcount"))
    migration.count_earlier_check_ins(state.apps, None)  # with the models as they were then

    assert shown(event) == stored(event) == (2, 1) and shown(quiet) == (0, 0)
    admit(event, answer(event, 3).rsvp, checkin_staff.user, "b")  # and it goes on from there
    assert shown(event) == (3, 1)


def test_a_walk_in_undone_after_its_check_in_is_not_counted(
    org_a: Any, checkin_staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk-in's audit row comes after its check-in: when it fails, the whole
    walk-in is undone, its +1 with it."""
    event = make_event(org_a)
    real_log = audit.log

    def failing(actor: Any, action: str, *args: Any, **kwargs: Any) -> Any:
        if action == "events.walk_in.added":
            raise RuntimeError("the audit table is unreachable")
        return real_log(actor, action, *args, **kwargs)

    added: list[str] = []
    real_add = headcount.add

    def counted(event_id: int, *, method: str) -> None:
        added.append(method)
        real_add(event_id, method=method)

    monkeypatch.setattr(audit, "log", failing)
    monkeypatch.setattr(headcount, "add", counted)
    with pytest.raises(RuntimeError):
        walk_in(event, checkin_staff.user, 1, "w1")
    assert added == [headcount.WALK_IN]  # the +1 was made, then undone with the rest
    assert shown(event) == stored(event) == (0, 0)


def test_a_shard_made_by_another_gate_in_between_is_added_to(
    org_a: Any, checkin_staff: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No row for the shard, then another gate makes it before this one can: the
    INSERT fails on the unique shard, and the count goes on the other gate's row."""
    event = make_event(org_a)
    monkeypatch.setattr(headcount.random, "randrange", lambda n: 3)
    CheckInCount.objects.create(event=event, shard=3, checked_in=1)  # the other gate's
    real_update = QuerySet.update
    calls: list[int] = []

    def before_it_was_there(rows: QuerySet[Any], **fields: Any) -> int:
        calls.append(1)
        return 0 if len(calls) == 1 else real_update(rows, **fields)

    monkeypatch.setattr(QuerySet, "update", before_it_was_there)
    headcount.add(event.pk, method="scan")
    assert len(calls) == 2  # the UPDATE that found nothing, and the one after the INSERT failed
    [row] = CheckInCount.objects.filter(event=event)
    assert (row.shard, row.checked_in, row.walk_ins) == (3, 2, 0)


def test_a_shard_that_can_be_neither_made_nor_found_is_an_error(
    org_a: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never a count silently lost: the INSERT failed on the unique shard, and yet the
    UPDATE after it finds no row."""
    event = make_event(org_a)
    monkeypatch.setattr(headcount.random, "randrange", lambda n: 3)
    CheckInCount.objects.create(event=event, shard=3)
    monkeypatch.setattr(QuerySet, "update", lambda rows, **fields: 0)
    with pytest.raises(IntegrityError):
        headcount.add(event.pk, method="scan")


class TestRecount:
    def test_counters_that_agree_are_left_alone(self, org_a: Any, checkin_staff: Any) -> None:
        event = make_event(org_a)
        admit(event, answer(event, 1).rsvp, checkin_staff.user, "a")
        assert headcount.recount(event.pk) == (0, 0)
        assert shown(event) == (1, 0)

    def test_check_ins_written_by_other_means_are_counted(
        self, org_a: Any, checkin_staff: Any
    ) -> None:
        event = make_event(org_a)
        admit(event, answer(event, 1).rsvp, checkin_staff.user, "a")
        for n, method in ((2, "scan"), (3, headcount.WALK_IN)):  # as old code would have
            rsvp = answer(event, n).rsvp
            CheckIn.objects.create(
                organization=org_a, event=event, rsvp=rsvp, nonce=f"old-{n}", method=method
            )
        CheckInCount.objects.filter(event=event).update(checked_in=5)  # and a wrong count
        assert headcount.recount(event.pk) == (-2, 1)
        assert shown(event) == stored(event) == (3, 1)
        assert headcount.recount(event.pk) == (0, 0)

    def test_an_event_that_does_not_exist(self) -> None:
        assert headcount.recount(10**9) == (0, 0)

    def test_the_command_checks_every_event_and_says_what_it_put_right(
        self, org_a: Any, checkin_staff: Any
    ) -> None:
        right, wrong = make_event(org_a), make_event(org_a, slug="wrong")
        admit(right, answer(right, 1).rsvp, checkin_staff.user, "a")
        CheckIn.objects.create(
            organization=org_a, event=wrong, rsvp=answer(wrong, 2).rsvp, nonce="x", method="scan"
        )
        out = io.StringIO()
        call_command("recount_headcounts", stdout=out)
        assert out.getvalue().splitlines() == [
            f"event #{wrong.pk}: +1 checked in, +0 walk-ins",
            "Events checked: 2; corrected: 1.",
        ]
        assert shown(wrong) == (1, 0)
        out = io.StringIO()
        call_command("recount_headcounts", "--event", str(right.pk), stdout=out)
        assert out.getvalue() == "Events checked: 1; corrected: 0.\n"
        with pytest.raises(CommandError, match=r"no event with the id: 999998, 999999$"):
            call_command(
                "recount_headcounts", "--event=999999", f"--event={right.pk}", "--event=999998"
            )
        out = io.StringIO()
        call_command("recount_headcounts", f"--event={right.pk}", f"--event={right.pk}", stdout=out)
        assert out.getvalue() == "Events checked: 1; corrected: 0.\n"  # once, named twice


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_forty_gates_at_once_count_everyone_once(org_a: Any, checkin_staff: Any) -> None:
    """Forty gates let forty people in at the same instant, on an event nobody has
    entered yet: every shard is made by a race, and the count still equals the rows."""
    event = make_event(org_a)
    rows = [answer(event, n).rsvp for n in range(40)]

    def scan(n: int) -> None:
        # every fourth gate sends its request twice, as a weak network does
        for _ in range(1 if n % 4 else 2):
            admit(event, rows[n], checkin_staff.user, f"gate-{n}")

    results = at_once(*(partial(scan, n) for n in range(len(rows))))
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert shown(event) == stored(event) == (40, 0)
    assert CheckInCount.objects.filter(event=event).count() <= headcount.SHARDS


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_recounts_at_once_while_gates_scan_correct_once(org_a: Any, checkin_staff: Any) -> None:
    """Ten check-ins the counters never saw; then four recounts run at once while
    twenty gates let people in: the difference is added once, the gates' +1s all land."""
    event = make_event(org_a)
    for n in range(10):
        CheckIn.objects.create(
            organization=org_a, event=event, rsvp=answer(event, n).rsvp, nonce=f"old-{n}"
        )
    rows = [answer(event, 100 + n).rsvp for n in range(20)]
    gates = [
        partial(admit, event, rsvp, checkin_staff.user, f"gate-{n}") for n, rsvp in enumerate(rows)
    ]
    results = at_once(*gates, *[partial(headcount.recount, event.pk)] * 4)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert sorted(results[len(rows) :]) == [(0, 0)] * 3 + [(10, 0)]
    assert shown(event) == stored(event) == (30, 0)
