"""Signing, confirming and counting: one signature per person, a counter that is right
after any mix of signatures and confirmations at once, and stays right after erasure."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from django.core import mail
from django.db import connections

from saha.messaging import outbox
from saha.petitions import services
from saha.petitions.models import SHARDS, Petition, PetitionStatus, Signature, SignatureCount
from saha.supporters.models import Person
from saha.supporters.services import PersonData, erase_person
from saha.supporters.tests.people_factories import postgres_only

pytestmark = pytest.mark.django_db


def make_petition(organization: Any, **fields: Any) -> Petition:
    slug = fields.pop("slug", "beach")
    values = {"titles": {"en": "Keep the beach open", "ar": "أبقوا الشاطئ مفتوحًا"}, **fields}
    petition = services.create_petition(actor=None, organization=organization, slug=slug, **values)
    services.set_status(actor=None, petition=petition, status=PetitionStatus.OPEN)
    return petition


def sign(petition: Petition, n: int, **data: Any) -> services.SignResult:
    person = PersonData(email=f"s{n}@example.org", given_name=f"S{n}", language="en", **data)
    return services.sign(petition=petition, data=person)


def test_a_new_petition_has_its_counter_shards(org_a: Any) -> None:
    petition = make_petition(org_a)
    assert SignatureCount.objects.filter(petition=petition).count() == SHARDS
    assert services.count(petition) == services.Count(verified=0, unverified=0)


def test_a_missing_counter_shard_is_made_rather_than_the_signature_lost(org_a: Any) -> None:
    petition = make_petition(org_a)
    SignatureCount.objects.filter(petition=petition).delete()  # as a petition made by hand
    for n in range(3):
        sign(petition, n)
    assert services.count(petition) == services.recount(petition)
    assert services.count(petition).unverified == 3


def test_signing_twice_is_one_signature_and_the_link_confirms_once(
    org_a: Any, django_capture_on_commit_callbacks: Any
) -> None:
    petition = make_petition(org_a)
    with django_capture_on_commit_callbacks(execute=True):
        first = sign(petition, 1)
        again = sign(petition, 1)
    assert first.created and not again.created
    assert again.signature.pk == first.signature.pk
    assert services.count(petition) == services.Count(verified=0, unverified=1)
    outbox.drain(budget_seconds=5)
    [message] = mail.outbox
    token = services.confirmation_token(first.signature)
    assert f"/s/{token}/" in message.body
    found = services.read_confirmation(token)
    assert found is not None and found.pk == first.signature.pk
    assert services.confirm(signature=found)
    assert not services.confirm(signature=found)  # clicked twice
    assert services.count(petition) == services.Count(verified=1, unverified=0)
    assert services.read_confirmation(token[:-1] + ("A" if token[-1] != "A" else "B")) is None


def test_the_public_count_follows_the_petitions_setting(org_a: Any) -> None:
    petition = make_petition(org_a)
    sign(petition, 1)
    services.confirm(signature=sign(petition, 2).signature)
    assert services.count(petition).public(petition) == 1
    petition.count_unverified = True
    assert services.count(petition).public(petition) == 2


def test_erasing_a_signer_keeps_the_count_and_forgets_them(org_a: Any, owner: Any) -> None:
    petition = make_petition(org_a, show_signers=True)
    signed = sign(petition, 1)
    services.confirm(signature=signed.signature)
    Signature.objects.filter(pk=signed.signature.pk).update(show_name=True)
    assert [s.pk for s in services.recent_signers(petition)] == [signed.signature.pk]
    erase_person(actor=owner.user, person=Person.objects.get(pk=signed.signature.person_id))
    assert services.count(petition).public(petition) == 1
    assert services.recent_signers(petition) == []
    assert Signature.objects.get().person is None


def test_a_closed_petition_takes_no_signature(org_a: Any) -> None:
    petition = make_petition(org_a)
    services.set_status(actor=None, petition=petition, status=PetitionStatus.CLOSED)
    with pytest.raises(services.PetitionClosed):
        sign(petition, 1)
    assert not Signature.objects.exists()


def test_a_stranger_typing_a_supporters_email_changes_nothing_of_theirs(org_a: Any) -> None:
    petition = make_petition(org_a)
    sign(petition, 1, phone="+961 3 123 456")
    other = make_petition(org_a, slug="other")
    services.sign(
        petition=other,
        data=PersonData(email="s1@example.org", phone="+961 3 999 999", given_name="Someone"),
    )
    person = Person.objects.get()
    assert person.given_name == "S1"
    assert [p.number for p in person.phones.all()] == ["+9613123456"]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_counter_is_right_after_a_mixed_load_at_once(org_a: Any) -> None:
    """Threads sign (a third of them with an address another thread also signs with),
    and confirm some at once: one signature per address, and the counter's shards add
    up to the number of distinct confirmed signers."""
    petition = make_petition(org_a)
    threads, per_thread = 24, 15
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def load(index: int) -> None:
        rng = random.Random(index)
        try:
            barrier.wait(timeout=30)
            for _n in range(per_thread):
                # the same 120 addresses come from several threads at once
                address = rng.randrange(threads * per_thread // 3)
                result = sign(petition, address)
                if rng.random() < 0.6:
                    services.confirm(signature=result.signature)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=load, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=180)
    assert errors == []
    signatures = Signature.objects.filter(petition=petition)
    assert signatures.count() == signatures.values("person").distinct().count()
    assert services.count(petition) == services.recount(petition)
    assert services.count(petition).verified == signatures.filter(verified_at__isnull=False).count()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_signatures_at_once_with_the_same_email_are_one(org_a: Any) -> None:
    petition = make_petition(org_a)
    for round_ in range(10):
        results = _at_once(2, lambda: sign(petition, 1000 + round_))  # noqa: B023
        assert sorted(r.created for r in results) == [False, True]
        assert results[0].signature.pk == results[1].signature.pk
    assert Signature.objects.filter(petition=petition).count() == 10
    assert services.count(petition) == services.Count(verified=0, unverified=10)


def _at_once(count: int, work: Any) -> list[Any]:
    """`work()` in `count` threads released together; their results."""
    barrier = threading.Barrier(count)
    results: list[Any] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(work())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_a_supporters_phone_typed_by_a_stranger_gives_nothing_of_theirs(org_a: Any) -> None:
    from saha.supporters.services import upsert_person

    alice = upsert_person(
        organization=org_a,
        actor="test",
        data=PersonData(phone="+961 71 123 456", given_name="AliceSecret", locality="Hiddenville"),
        source="import",
    ).person
    petition = make_petition(org_a, show_signers=True)
    result = services.sign(
        petition=petition,
        data=PersonData(email="zed@example.org", phone="+961 71 123 456", given_name="Zed"),
        show_name=True,
    )
    signature = result.signature
    assert signature.person_id != alice.pk  # found by email only, a new person
    assert not signature.person.phones.exists()  # the number stays Alice's alone
    services.confirm(signature=signature)
    shown = [(s.given_name, s.locality) for s in services.recent_signers(petition)]
    assert shown == [("Zed", "")]


def test_names_are_shown_only_once_confirmed(org_a: Any) -> None:
    petition = make_petition(org_a, show_signers=True, count_unverified=True)
    signature = sign(petition, 1, locality="Tyre").signature
    Signature.objects.filter(pk=signature.pk).update(show_name=True)
    assert services.recent_signers(petition) == []
    services.confirm(signature=signature)
    assert [s.given_name for s in services.recent_signers(petition)] == ["S1"]


def test_erasure_forgets_what_they_typed_and_what_waits_to_be_taken_in(
    org_a: Any, owner: Any
) -> None:
    from saha.petitions import intake
    from saha.petitions.models import PendingSignature

    petition = make_petition(org_a)
    signed = services.sign(
        petition=petition,
        data=PersonData(email="rania@example.org", given_name="Rania", locality="Tyre"),
        comment="I am Rania from Tyre, 70123456",
    ).signature
    other = make_petition(org_a, slug="other")
    intake.accept(petition=other, data=PersonData(email="rania@example.org"))
    erase_person(actor=owner.user, person=Person.objects.get())
    signed.refresh_from_db()
    assert (signed.comment, signed.given_name, signed.locality, signed.person) == (
        "",
        "",
        "",
        None,
    )
    assert not PendingSignature.objects.exists()
    assert services.count(petition).unverified == 1


def test_merging_two_signers_keeps_one_signature_each_and_the_count_right(
    org_a: Any, owner: Any
) -> None:
    from saha.supporters.services import merge_people

    both = make_petition(org_a)
    only_other = make_petition(org_a, slug="other")
    kept = sign(both, 1).signature
    twice = sign(both, 2).signature
    services.confirm(signature=twice)
    moved = sign(only_other, 2).signature
    merge_people(
        actor=owner.user,
        kept=Person.objects.get(pk=kept.person_id),
        other=Person.objects.get(pk=twice.person_id),
    )
    assert Signature.objects.filter(petition=both).count() == 1
    assert services.count(both) == services.recount(both)
    moved.refresh_from_db()
    assert moved.person_id == kept.person_id


def test_one_mailbox_signs_once_whatever_its_aliases(org_a: Any) -> None:
    petition = make_petition(org_a)
    first = services.sign(petition=petition, data=PersonData(email="Rania.K@gmail.com"))
    for alias in ("raniak+1@gmail.com", "r.a.n.i.a.k+news@googlemail.com"):
        again = services.sign(petition=petition, data=PersonData(email=alias))
        assert not again.created and again.signature.pk == first.signature.pk
    assert Signature.objects.count() == 1
    assert services.count(petition).unverified == 1
    assert services.mailbox_of("A.B+x@example.org") == "a.b@example.org"  # dots matter there
