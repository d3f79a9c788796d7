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
from dataclasses import asdict
from typing import Any

from django.core.cache import cache
from django.db import transaction
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
) -> PendingSignature:
    """Accept a signature: checked, written once, taken in by the worker in a moment."""
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
    }
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
    if first:
        take_in_signatures.enqueue()


def take_in(limit: int = 500) -> int:
    """Turn up to `limit` pending rows into signatures, oldest first; any number of
    workers at once (each row is locked, others skip it)."""
    taken = 0
    while taken < limit:
        with transaction.atomic():
            row = (
                PendingSignature.objects.select_for_update(skip_locked=True)
                .select_related("petition__organization")
                .order_by("id")
                .first()
            )
            if row is None:
                break
            _take(row)
            row.delete()
        taken += 1
    return taken


def _take(row: PendingSignature) -> None:
    data = _unpack(row.data["person"])
    try:
        with transaction.atomic():
            result = services.sign(
                petition=row.petition,
                data=data,
                show_name=bool(row.data.get("show_name")),
                comment=row.data.get("comment", ""),
                source_ref=row.data.get("source_ref", ""),
            )
    except DomainError as error:
        # Closed since, or refused: the signer was told nothing else could happen.
        logger.info("Signature %s not taken in: %s", row.pk, error.code)
        return
    if not result.created and result.signature.verified_at is None:
        signature = result.signature
        transaction.on_commit(lambda: services.send_confirmation(signature, again=True))


def _unpack(values: dict[str, Any]) -> PersonData:
    consents = [ConsentGrant(**grant) for grant in values.pop("consents", [])]
    values.pop("phone_collected_for", None)
    return PersonData(**{**values, "consents": consents, "tags": tuple(values.get("tags", ()))})
