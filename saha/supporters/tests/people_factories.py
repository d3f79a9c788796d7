"""Factories and helpers for the supporters' service tests.

`PersonFactory(organization=org, email=..., phone=..., tags=[...])` builds a
person directly (for tests that need exact dates); tests of sign-up
behaviour go through `upsert_person` itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import factory
import pytest
from django.db import connection, connections

from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentStatus,
    Person,
    PersonEmail,
    PersonPhone,
    Source,
    Tag,
    Tagging,
)
from saha.supporters.text import normalize_name
from saha.testing.factories import OrganizationFactory

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL=postgres://...): SQLite runs one writer at a time, "
    "so concurrent writers never race there",
)


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    source = Source.FORM
    name_key = factory.LazyAttribute(lambda p: normalize_name(f"{p.given_name} {p.family_name}"))

    @factory.post_generation
    def email(self, create: bool, address: str | None, **kwargs: Any) -> None:
        if create and address:
            EmailFactory(person=self, address=address, is_primary=True)

    @factory.post_generation
    def phone(self, create: bool, number: str | None, **kwargs: Any) -> None:
        if create and number:
            PhoneFactory(person=self, number=number, is_primary=True)

    @factory.post_generation
    def tags(self, create: bool, names: Sequence[str] | None, **kwargs: Any) -> None:
        for name in names or ():
            tag, _ = Tag.objects.get_or_create(organization=self.organization, name=name)
            Tagging.objects.create(person=self, tag=tag)


class EmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonEmail

    person = factory.SubFactory(PersonFactory)
    organization = factory.SelfAttribute("person.organization")
    address = factory.Sequence(lambda n: f"person{n}@example.org")


class PhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonPhone

    person = factory.SubFactory(PersonFactory)
    organization = factory.SelfAttribute("person.organization")
    number = factory.Sequence(lambda n: f"+9613{n:06d}")


def consent(
    person: Person,
    channel: str = Channel.EMAIL,
    status: str = ConsentStatus.GRANTED,
    *,
    source: str = ConsentSource.MANUAL,
    wording: str = "Yes, keep me informed.",
    **extra: Any,
) -> ConsentRecord | None:
    """Record a consent change through the real ledger."""
    grant = ConsentGrant(channel=channel, wording=wording, source=source, status=status, **extra)
    return record_consent(person=person, grant=grant)


def run_at_once(count: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run `work(i)` in `count` threads released together; returns results and errors."""
    barrier = threading.Barrier(count)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = work(index)
            with lock:
                results.append(outcome)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors
