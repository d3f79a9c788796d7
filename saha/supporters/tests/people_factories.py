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
from django.urls import reverse

from saha.core.models import AuditEntry
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
from saha.supporters.services import PersonData, upsert_person
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


def receive_csv(
    persona: Any, text: str | bytes, name: str = "people.csv", encoding: str = "auto"
) -> Any:
    """Upload a CSV as `persona` would, in chunks: a DRAFT import batch."""
    from saha.supporters import importing

    data = text.encode() if isinstance(text, str) else text
    return importing.receive_file(
        organization=persona.organization,
        actor=persona.user,
        name=name,
        chunks=[data[i : i + 1000] for i in range(0, len(data), 1000)],
        encoding=encoding,
    )


def start_import(persona: Any, batch: Any, **overrides: Any) -> Any:
    """Start a batch with its guessed columns, attested, without queuing a task."""
    from saha.supporters import importing

    options = {
        "mapping": batch.mapping,
        "tags": [],
        "language": "",
        "consent_email": False,
        "consent_sms": False,
        "consent_wording": "",
        "lawful_basis": "consent",
        "attested": True,
        **overrides,
    }
    return importing.start_import(batch=batch, actor=persona.user, enqueue=False, **options)


# --- Pages -------------------------------------------------------------------


def url(name: str, organization: Any, **kwargs: Any) -> str:
    return reverse(f"supporters:{name}", kwargs={"slug": organization.slug, **kwargs})


def make_person(organization: Any, **fields: Any) -> Person:
    """A person through the real sign-up path, as a web form would add them."""
    fields.setdefault("email", f"p{Person.objects.count() + 1}-{id(fields)}@example.org")
    consents = fields.pop("consents", ())
    return upsert_person(
        organization=organization,
        actor="test",
        data=PersonData(consents=consents, **fields),
        source=Source.FORM,
    ).person


def grant(channel: str = Channel.EMAIL, status: str = ConsentStatus.GRANTED) -> ConsentGrant:
    return ConsentGrant(
        channel=channel, status=status, wording="Keep me informed.", source=ConsentSource.FORM
    )


def audited(action: str, person: Person | None = None) -> list[AuditEntry]:
    entries = AuditEntry.objects.filter(action=action)
    if person is not None:
        entries = entries.filter(target_id=str(person.pk))
    return list(entries)


def own_queries(context: Any) -> list[str]:
    """The queries of the supporters' tables: the page's own work, without the session's."""
    return [q["sql"] for q in context.captured_queries if "supporters_" in q["sql"]]
