"""Remembering, after an erasure, that a contact withdrew: a keyed hash and nothing else.

Erasing a person deletes their consent ledger, and with it the proof that
they withdrew. Without a trace, the next import of an old spreadsheet would
subscribe them again. So when a person who withdrew on a channel is erased,
each of their addresses (email) or numbers (SMS) on that channel leaves a
`Suppression`: an HMAC of the organization and the contact, keyed with the
secret key. An import never grants consent to a suppressed contact; the
person's own new sign-up (a form, the API, a confirmation) lifts it.

Keys: digests are made with SECRET_KEY and checked against it and
SECRET_KEY_FALLBACKS, so a rotation keeps them while the old key is listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils.crypto import salted_hmac

from saha.supporters.models import (
    Channel,
    ConsentState,
    ConsentStatus,
    Person,
    PersonEmail,
    PersonPhone,
    Suppression,
)

SALT = "saha.supporters.suppression"


def _digests(organization_id: int, contact: str) -> list[str]:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [
        salted_hmac(
            SALT, f"{organization_id}:{contact}", secret=secret, algorithm="sha256"
        ).hexdigest()
        for secret in secrets
    ]


def contacts_of(person: Person, channel: str) -> list[str]:
    if channel == Channel.EMAIL:
        return list(PersonEmail.objects.filter(person=person).values_list("address", flat=True))
    return list(PersonPhone.objects.filter(person=person).values_list("number", flat=True))


def remember_withdrawals(person: Person) -> int:
    """Before an erasure: suppress the contacts of every channel the person withdrew from."""
    withdrawn = set(
        ConsentState.objects.filter(person=person, status=ConsentStatus.WITHDRAWN).values_list(
            "channel", flat=True
        )
    )
    rows = [
        Suppression(
            organization_id=person.organization_id,
            channel=channel,
            digest=_digests(person.organization_id, contact)[0],
        )
        for channel in sorted(withdrawn)
        for contact in contacts_of(person, channel)
    ]
    Suppression.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def suppressed(organization_id: int, channel: str, contacts: Iterable[str]) -> set[str]:
    """Which of these contacts withdrew on this channel before being erased."""
    by_digest: dict[str, str] = {}
    for contact in contacts:
        for digest in _digests(organization_id, contact):
            by_digest[digest] = contact
    if not by_digest:
        return set()
    found = Suppression.objects.filter(
        organization_id=organization_id, channel=channel, digest__in=list(by_digest)
    ).values_list("digest", flat=True)
    return {by_digest[digest] for digest in found}


def lift(organization_id: int, channel: str, contacts: Iterable[str]) -> None:
    """The person signed up again themselves: their new consent stands."""
    digests = [d for contact in contacts for d in _digests(organization_id, contact)]
    if digests:
        Suppression.objects.filter(
            organization_id=organization_id, channel=channel, digest__in=digests
        ).delete()
