"""Audiences and broadcasts for the outbox's tests, written through the real services."""

from __future__ import annotations

from typing import Any

from django.db import connection

from saha.messaging import broadcasts
from saha.messaging.broadcasts import BroadcastData
from saha.messaging.models import Broadcast
from saha.supporters.bulk import reserve_ids
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    Person,
    PersonEmail,
    PersonPhone,
)


def crowd(
    organization: Any,
    count: int,
    *,
    channel: str = Channel.EMAIL,
    language: str = "en",
    start: int = 0,
) -> list[int]:
    """`count` people who agreed to hear from us on `channel`, written in bulk (fast)."""
    ids = reserve_ids(Person, count)
    Person.objects.bulk_create(
        Person(
            pk=pk,
            organization=organization,
            given_name=f"P{start + n}",
            name_key=f"p{start + n}",
            language=language,
        )
        for n, pk in enumerate(ids)
    )
    if channel == Channel.EMAIL:
        PersonEmail.objects.bulk_create(
            PersonEmail(
                organization=organization,
                person_id=pk,
                address=f"p{start + n}@example.org",
                is_primary=True,
            )
            for n, pk in enumerate(ids)
        )
    else:
        PersonPhone.objects.bulk_create(
            PersonPhone(
                organization=organization,
                person_id=pk,
                number=f"+3319900{start + n:04d}",
                is_primary=True,
            )
            for n, pk in enumerate(ids)
        )
    records = ConsentRecord.objects.bulk_create(
        ConsentRecord(
            organization=organization,
            person_id=pk,
            channel=channel,
            status=ConsentStatus.GRANTED,
            source=ConsentSource.IMPORT,
        )
        for pk in ids
    )
    if connection.vendor == "sqlite" and records and records[0].pk is None:
        records = list(ConsentRecord.objects.filter(person_id__in=ids, channel=channel))
    ConsentState.objects.bulk_create(
        ConsentState(person_id=r.person_id, channel=channel, status=ConsentStatus.GRANTED, record=r)
        for r in records
    )
    return ids


def broadcast(
    organization: Any,
    actor: Any = None,
    *,
    channel: str = Channel.EMAIL,
    versions: dict[str, tuple[str, str]] | None = None,
    fallback: str = "en",
    segment: Any = None,
    urgent: bool = False,
) -> Broadcast:
    """A draft with a version per language: {language: (subject, body)}."""
    made = broadcasts.create_broadcast(
        actor=actor,
        organization=organization,
        data=BroadcastData(
            name="Call to the rally",
            channel=channel,
            segment=segment,
            fallback_language=fallback,
            urgent=urgent,
        ),
    )
    for language, (subject, body) in (
        versions or {"en": ("Rally", "Hello {{ given_name | friend }}")}
    ).items():
        broadcasts.save_version(
            actor=actor, broadcast=made, language=language, subject=subject, body=body
        )
    return made
