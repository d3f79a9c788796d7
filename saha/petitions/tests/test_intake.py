"""Accepting signatures with one write each, and taking them in: nothing twice, nothing
lost, whatever arrives at once and however many workers take in."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connections

from saha.core.errors import DomainError
from saha.messaging import outbox
from saha.petitions import intake, services
from saha.petitions.models import PendingSignature, PetitionStatus, Signature
from saha.petitions.tests.test_sign import make_petition
from saha.supporters.consent import ConsentGrant
from saha.supporters.models import ConsentRecord
from saha.supporters.services import PersonData
from saha.supporters.tests.people_factories import postgres_only

pytestmark = pytest.mark.django_db


def data(n: int, **extra: Any) -> PersonData:
    return PersonData(email=f"s{n}@example.org", given_name=f"S{n}", language="ar", **extra)


def test_an_accepted_signature_is_one_row_until_taken_in(org_a: Any) -> None:
    petition = make_petition(org_a)
    grant = ConsentGrant(channel="email", wording="Send me news.", source="form")
    intake.accept(petition=petition, data=data(1, consents=[grant]), show_name=True, comment="Yes")
    assert PendingSignature.objects.count() == 1 and not Signature.objects.exists()
    assert intake.take_in() == 1
    signature = Signature.objects.get()
    assert (signature.show_name, signature.comment, signature.language) == (True, "Yes", "ar")
    assert ConsentRecord.objects.get().wording == "Send me news."
    assert not PendingSignature.objects.exists()
    assert services.count(petition).unverified == 1


def test_the_same_address_twice_is_one_signature_and_one_more_link(
    org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    petition = make_petition(org_a)
    intake.accept(petition=petition, data=data(1))
    intake.accept(petition=petition, data=data(1))
    with django_capture_on_commit_callbacks(execute=True):
        assert intake.take_in() == 2
    assert Signature.objects.count() == 1
    assert services.count(petition).unverified == 1
    outbox.drain(budget_seconds=5)
    assert len(mail.outbox) == 2  # the link, and the link again for the second answer


def test_bad_addresses_are_refused_before_anything_is_written(org_a: Any) -> None:
    petition = make_petition(org_a)
    for bad in (PersonData(email="not-an-address"), PersonData(email=""), data(1, phone="12")):
        with pytest.raises(DomainError):
            intake.accept(petition=petition, data=bad)
    assert not PendingSignature.objects.exists()


def test_what_was_accepted_before_a_closing_or_deadline_still_counts(org_a: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    petition = make_petition(org_a)
    intake.accept(petition=petition, data=data(1))
    services.set_status(actor=None, petition=petition, status=PetitionStatus.CLOSED)
    # one received after the closing (as if accepted just before, stored just after)
    PendingSignature.objects.create(
        petition=petition,
        data={"person": {"email": "s2@example.org", "given_name": "S2"}},
        received_at=timezone.now() + dt.timedelta(seconds=1),
    )
    assert intake.take_in() == 2
    assert list(Signature.objects.values_list("person__emails__address", flat=True)) == [
        "s1@example.org"
    ]
    assert not PendingSignature.objects.exists()


def test_a_row_that_breaks_is_set_aside_and_the_others_go_on(org_a: Any) -> None:
    petition = make_petition(org_a)
    PendingSignature.objects.create(
        petition=petition, data={"person": {"email": "x@example.org", "bogus": 1}}
    )
    intake.accept(petition=petition, data=data(1))
    assert intake.take_in() == 2
    assert Signature.objects.count() == 1
    broken = PendingSignature.objects.get()
    assert broken.failed_at is not None and "bogus" in broken.error
    assert intake.take_in() == 0  # not retried ahead of the others


def test_accepting_wakes_the_worker_once_for_a_burst(
    org_a: Any, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    petition = make_petition(org_a)
    woken: list[int] = []

    class Counting:
        module_path = "saha.petitions.tasks.take_in_signatures"

        def enqueue(self) -> None:
            woken.append(1)

        def get_backend(self) -> Any:
            return type("Immediate", (), {"supports_defer": False})()

    monkeypatch.setattr("saha.petitions.tasks.take_in_signatures", Counting())
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            intake.accept(petition=petition, data=data(n))
    assert woken == [1]


def test_the_worker_takes_everything_in_and_lets_the_next_burst_wake_it(
    org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    petition = make_petition(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        intake.accept(petition=petition, data=data(1))  # runs the task at once (tests)
    assert Signature.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        intake.accept(petition=petition, data=data(2))
    assert Signature.objects.count() == 2


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_accepting_and_taking_in_at_once_count_each_signer_once(org_a: Any) -> None:
    """Twenty threads accept (many addresses twice, from different threads) while two
    workers take in: one signature per address, and the counter agrees with them."""
    petition = make_petition(org_a)
    addresses, threads = 150, 20
    stop = threading.Event()
    errors: list[BaseException] = []

    def accept(index: int) -> None:
        try:
            for n in range(index, addresses * 2, threads):
                intake.accept(petition=petition, data=data(n % addresses))
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def worker() -> None:
        try:
            while not stop.is_set():
                intake.take_in(limit=50)
            intake.take_in(limit=10_000)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=worker) for _ in range(2)]
    senders = [threading.Thread(target=accept, args=(i,)) for i in range(threads)]
    for thread in workers + senders:
        thread.start()
    for thread in senders:
        thread.join(timeout=120)
    stop.set()
    for thread in workers:
        thread.join(timeout=120)
    assert errors == []
    assert not PendingSignature.objects.exists()
    assert Signature.objects.filter(petition=petition).count() == addresses
    assert services.count(petition) == services.recount(petition)
    assert services.count(petition).unverified == addresses


def test_healthz_tells_the_operator_what_waits_and_what_was_set_aside(
    org_a: Any, client: Any
) -> None:
    petition = make_petition(org_a)
    intake.accept(petition=petition, data=data(1))
    PendingSignature.objects.create(petition=petition, data={"person": {"bogus": 1}})
    report = client.get("/healthz").json()["petitions"]
    assert report["pending"] == 2 and report["set_aside"] == 0
    assert report["oldest_pending_seconds"] >= 0
    intake.take_in()
    report = client.get("/healthz").json()["petitions"]
    assert (report["pending"], report["set_aside"]) == (0, 1)
