"""Taking signatures in at viral speed: the request writes one row, the worker does the rest.

A signing request checks what it can without the database (the petition is
open, the email address and phone number are well formed) and INSERTs one
`PendingSignature`: that is the signature accepted, durable, at the price of
the cheapest write there is. The worker then takes each row in, one short
transaction per row (`services.sign`: the person, the signature, a counter
shard, the confirmation email), and deletes it in the same transaction: a
crash takes nothing in twice and loses nothing. Two rows for the same address
become one signature there, by the unique constraint.

The worker is woken at most once every few seconds however many requests
arrive (a cache flag), and every minute regardless (`tasks.take_in_signatures`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from saha.core.errors import DomainError
from saha.petitions import services
from saha.petitions.models import PendingSignature, Petition
from saha.supporters.consent import ConsentGrant
from saha.supporters.services import InvalidContact, PersonData
from saha.supporters.text import normalize_email, normalize_phone

logger = logging.getLogger("saha.petitions")
AWAKE_KEY = "saha:petitions:intake-awake"
AWAKE_SECONDS = 3


def accept(
    *,
    petition: Petition,
    data: PersonData,
    show_name: bool = False,
    comment: str = "",
    source_ref: str = "",
    partners: Mapping[int, str] | None = None,
    source: str = "form",
) -> PendingSignature:
    """Accept a signature: checked, written once, taken in by the worker in a moment.

    `partners`: the campaign partners whose box was ticked, organization id -> the
    exact words of the box. They travel with the signature; which of them may
    still receive it is decided when it is taken in.

    `source`: what the signature says it came through ("api" for the public API helper).
    """
    if not petition.is_open:
        raise services.PetitionClosed(
            "petition_closed", _("This petition no longer takes signatures.")
        )
    if not data.email or normalize_email(data.email) is None:
        raise InvalidContact("invalid_email", _("This email address is not valid."))
    if data.phone and normalize_phone(data.phone) is None:
        raise InvalidContact("invalid_phone", _("This phone number is not valid."))
    packed = {
        "person": asdict(data),
        "show_name": show_name,
        "comment": comment.strip()[:2000],
        "source_ref": source_ref[:300],
        "source": source[:20],
    }
    if partners:
        packed["partners"] = {str(org_id): str(words) for org_id, words in partners.items()}
        # The language the boxes were shown in, kept with their words.
        packed["partners_language"] = get_language() or ""
    pending = PendingSignature.objects.create(petition=petition, data=packed)
    transaction.on_commit(wake)
    return pending


def wake() -> None:
    """Queue the worker, unless it was queued a moment ago (one cache write, no query)."""
    from saha.petitions.tasks import take_in_signatures

    try:
        first = cache.add(AWAKE_KEY, 1, timeout=AWAKE_SECONDS)
    except Exception:  # the cache is down: wake it anyway, a few extra tasks do no harm
        first = True
    if first and not _queued(take_in_signatures.module_path):
        take_in_signatures.enqueue()


def _queued(task_path: str) -> bool:
    """A run already waits in the database queue: another would only wait behind it."""
    from django_tasks_db.models import DBTaskResult

    from saha.petitions.tasks import take_in_signatures

    if not take_in_signatures.get_backend().supports_defer:
        return False  # the immediate backend (development, tests): it runs now
    return DBTaskResult.objects.ready().filter(task_path=task_path).exists()


def take_in(limit: int = 500) -> int:
    """Turn up to `limit` pending rows into signatures, oldest first; any number of
    workers at once (each row is locked, others skip it)."""
    taken = 0
    while taken < limit:
        with transaction.atomic():
            row = (
                PendingSignature.objects.select_for_update(skip_locked=True)
                .filter(failed_at__isnull=True)
                .select_related("petition__organization")
                .order_by("id")
                .first()
            )
            if row is None:
                break
            if _take(row):
                row.delete()
        taken += 1
    return taken


def _take(row: PendingSignature) -> bool:
    """Take one row in; False when it could not be (it is then set aside, not retried)."""
    try:
        with transaction.atomic():
            result = services.sign(
                petition=row.petition,
                data=_unpack(dict(row.data["person"])),
                show_name=bool(row.data.get("show_name")),
                comment=str(row.data.get("comment", "")),
                source_ref=str(row.data.get("source_ref", "")),
                source=str(row.data.get("source") or "form"),
                received_at=row.received_at,
                partners=_partners(row.data.get("partners")),
                partners_language=str(row.data.get("partners_language") or ""),
            )
    except DomainError as error:
        # Refused (an address no longer valid, a petition closed before it came):
        # the signer was thanked for the attempt, and nothing more can be done.
        logger.info("Signature %s not taken in: %s", row.pk, error.code)
        return True
    except Exception as error:  # a bug must not stop every signature behind this one
        logger.exception("Signature %s could not be taken in; set aside", row.pk)
        PendingSignature.objects.filter(pk=row.pk).update(
            failed_at=timezone.now(), error=f"{type(error).__name__}: {error}"[:2000]
        )
        return False
    if not result.created and result.signature.verified_at is None:
        signature = result.signature
        transaction.on_commit(lambda: services.send_confirmation(signature, again=True))
    return True


def _unpack(values: dict[str, Any]) -> PersonData:
    consents = [ConsentGrant(**grant) for grant in values.pop("consents", [])]
    values.pop("phone_collected_for", None)
    return PersonData(**{**values, "consents": consents, "tags": tuple(values.get("tags", ()))})


def _partners(values: Any) -> dict[int, str]:
    """The ticked partners as packed by `accept`: {"<organization id>": "<words>"}."""
    if not isinstance(values, dict):
        return {}
    return {
        int(org_id): words
        for org_id, words in values.items()
        if str(org_id).isdigit() and isinstance(words, str) and words
    }


# At most this many pending rows are counted for /healthz: a flood must not make the
# health check itself slow.
HEALTH_COUNT_CAP = 10_000


def health() -> dict[str, Any]:
    """For /healthz: how much waits to be taken in, how long the oldest has waited, and
    how many rows were set aside (each needs an operator's look)."""
    waiting = PendingSignature.objects.filter(failed_at__isnull=True)
    oldest = waiting.order_by("id").values_list("received_at", flat=True).first()
    age = (timezone.now() - oldest).total_seconds() if oldest else 0
    return {
        "pending": waiting.order_by()[: HEALTH_COUNT_CAP + 1].count(),
        "oldest_pending_seconds": round(age, 1),
        "set_aside": PendingSignature.objects.filter(failed_at__isnull=False).count(),
    }
