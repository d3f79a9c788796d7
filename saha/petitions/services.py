"""Signing, confirming, counting.

A signature is one row per person per petition (a unique constraint decides
between two at once), made through `upsert_person` like every sign-up, as an
anonymous public form: a stranger typing a supporter's address adds nothing to
that supporter. Every signature is confirmed by a link sent to the signer's
email (double opt-in); the petition says whether unconfirmed ones count on its
public counter.

The counter: each signature adds one to a random shard of `SignatureCount`
(an indexed single-row UPDATE that never waits on other signatures' shards),
and a confirmation moves one from `unverified` to `verified`. The count is the
sum of the shards: exact at any size, and cheap to read.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.campaigns import partners as campaign_partners
from saha.core import audit, counters, signed_ids
from saha.core.errors import DomainError
from saha.organizations.models import Organization
from saha.petitions.models import SHARDS, Petition, PetitionStatus, Signature, SignatureCount
from saha.supporters.models import Channel, PersonPhone, Source
from saha.supporters.services import PersonData, upsert_person
from saha.supporters.text import normalize_email, normalize_phone

_VERIFY_SALT = b"saha.petitions.verify"


class PetitionClosed(DomainError):
    status = 409


@dataclass(frozen=True)
class SignResult:
    signature: Signature
    created: bool  # False: this person had signed already


@dataclass(frozen=True)
class Count:
    verified: int
    unverified: int

    def public(self, petition: Petition) -> int:
        return self.verified + (self.unverified if petition.count_unverified else 0)


# --- Petitions --------------------------------------------------------------------


def create_petition(
    *, actor: Any, organization: Organization, slug: str, **fields: Any
) -> Petition:
    """A draft petition with its counter's shards, made once, here."""
    with transaction.atomic():
        petition = Petition.objects.create(
            organization=organization,
            slug=slug,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            **fields,
        )
        SignatureCount.objects.bulk_create(
            SignatureCount(petition=petition, shard=n) for n in range(SHARDS)
        )
        audit.log(actor, "petitions.petition.created", petition)
    return petition


def set_status(*, actor: Any, petition: Petition, status: str) -> bool:
    """Open, or close, a petition; drafts open, open ones close, closed ones reopen."""
    allowed: dict[str, list[str]] = {
        PetitionStatus.OPEN: [PetitionStatus.DRAFT, PetitionStatus.CLOSED],
        PetitionStatus.CLOSED: [PetitionStatus.OPEN],
    }
    now = timezone.now()
    changed = Petition.objects.filter(pk=petition.pk, status__in=allowed.get(status, [])).update(
        status=status,
        modified_at=now,
        closed_at=now if status == PetitionStatus.CLOSED else None,
    )
    if changed:
        petition.status = status
        audit.log(actor, f"petitions.petition.{status}", petition)
    return bool(changed)


# --- Signing ----------------------------------------------------------------------


def sign(
    *,
    petition: Petition,
    data: PersonData,
    show_name: bool = False,
    comment: str = "",
    source: str = "form",
    source_ref: str = "",
    actor: Any = None,
    received_at: dt.datetime | None = None,
    partners: Mapping[int, str] | None = None,
    partners_language: str = "",
    anonymous: bool = True,
    person_source: str = Source.PETITION,
) -> SignResult:
    """Sign for the person found (by email only) or created from `data`.

    `received_at`: when the signature was accepted (`intake`); a deadline or a
    closing after that moment does not refuse it.

    `partners`: the campaign partners whose box was ticked (organization id ->
    the box's exact words). What was typed joins the own supporters of those
    that are still partners of a published campaign holding the petition now,
    whether or not this person had signed before: it copies nothing of the host's.

    `anonymous`: typed by anyone (the public form, the public API helper). Only the
    organization's own data (an API token) says False: a supporter found by email then
    gets what it adds, as from any organizer's tool. `person_source` names where a
    supporter created here came from ("api" through the API).
    """
    if not _takes(petition, received_at):
        raise PetitionClosed("petition_closed", _("This petition no longer takes signatures."))
    if not data.email:
        raise DomainError("email_required", _("Give your email address."))
    typed = data
    data = _without_others_phone(petition.organization, data)
    mailbox = mailbox_of(data.email)
    person = upsert_person(
        organization=petition.organization,
        actor=actor or "petition",
        data=data,
        source=person_source,
        source_ref=source_ref or f"petition:{petition.pk}",
        anonymous=anonymous,
    ).person
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                organization_id=petition.organization_id,
                petition=petition,
                person=person,
                show_name=show_name,
                mailbox=mailbox,
                given_name=data.given_name.strip()[:100],
                locality=data.locality.strip()[:100],
                comment=comment.strip()[:2000],
                language=data.language or person.language,
                source=source,
            )
            _add(petition.pk, unverified=1)
    except IntegrityError:  # signed before (this person or mailbox), or at the same moment
        earlier = Signature.objects.filter(petition=petition).filter(
            Q(person=person) | Q(mailbox=mailbox)
        )
        result = SignResult(earlier.order_by("pk").first() or earlier.get(), created=False)
    else:
        transaction.on_commit(lambda: send_confirmation(signature))
        result = SignResult(signature, created=True)
    _share_with_partners(petition, typed, partners, actor, partners_language)
    return result


def _share_with_partners(
    petition: Petition,
    typed: PersonData,
    ticked: Mapping[int, str] | None,
    actor: Any,
    language: str,
) -> None:
    """The ticked partners among those the campaigns holding the petition have now (a
    partner removed since the form was shown receives nothing)."""
    if not ticked:
        return
    boxes = [
        box
        for box in campaign_partners.boxes_for(petition=petition)
        if box.organization.pk != petition.organization_id
    ]
    campaign_partners.share(
        boxes=boxes,
        ticked=ticked,
        data=typed,
        source=f"petition:{petition.pk}",
        actor=actor,
        language=language or None,
    )


def mailbox_of(email: str) -> str:
    """The inbox an address reaches: "A.B+x@gmail.com" and "ab@gmail.com" are one."""
    address = normalize_email(email) or email.strip().casefold()
    local, _at, domain = address.rpartition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"[:254]


def _takes(petition: Petition, received_at: dt.datetime | None) -> bool:
    if received_at is None:
        return petition.is_open
    if petition.deadline is not None and received_at > petition.deadline:
        return False
    if petition.status == PetitionStatus.OPEN:
        return True
    closed_at = petition.closed_at
    return (
        petition.status == PetitionStatus.CLOSED
        and closed_at is not None
        and (received_at < closed_at)
    )


def _without_others_phone(organization: Organization, data: PersonData) -> PersonData:
    """The form finds a signer by email only: a phone number already on file (someone
    else's, or theirs) is not taken from it, so typing a supporter's number with
    one's own address gives nothing of theirs and tells nothing about them."""
    phone = normalize_phone(data.phone) if data.phone else None
    if phone is None:
        return replace(data, phone="") if data.phone else data
    taken = PersonPhone.objects.filter(organization=organization, number=phone.number).exists()
    return replace(data, phone="") if taken else data


def send_confirmation(signature: Signature, *, again: bool = False) -> None:
    """The confirmation link, by email; sent again at most once an hour."""
    from saha.messaging.services import send_transactional

    if signature.person is None or signature.verified_at is not None:
        return
    suffix = f"again:{timezone.now():%Y%m%d%H}" if again else "first"
    send_transactional(
        signature.person,
        "petitions/messages/confirm",
        {"signature_id": signature.pk, "petition_id": signature.petition_id},
        Channel.EMAIL,
        key=f"signature:{signature.pk}:confirm:{suffix}",
        urgent=True,
    )


def confirmation_token(signature: Signature) -> str:
    return signed_ids.make(_VERIFY_SALT, signature.pk)


def read_confirmation(token: str) -> Signature | None:
    signature_id = signed_ids.read(_VERIFY_SALT, token)
    if signature_id is None:
        return None
    return (
        Signature.objects.select_related("petition__organization").filter(pk=signature_id).first()
    )


def confirm(*, signature: Signature) -> bool:
    """The signer followed the link: counted as confirmed, once however often clicked."""
    with transaction.atomic():
        now = timezone.now()
        moved = Signature.objects.filter(pk=signature.pk, verified_at__isnull=True).update(
            verified_at=now
        )
        if moved:
            _add(signature.petition_id, verified=1, unverified=-1)
            signature.verified_at = now
    return bool(moved)


def _add(petition_id: int, *, verified: int = 0, unverified: int = 0) -> None:
    """One random shard moves: signatures at once rarely meet on a row, and never wait long."""
    shard = random.randrange(SHARDS)  # spreading writes, not a secret
    counters.add(
        SignatureCount,
        shard,
        {"petition_id": petition_id},
        verified=verified,
        unverified=unverified,
    )


def count(petition: Petition) -> Count:
    totals = SignatureCount.objects.filter(petition=petition).aggregate(
        verified=Sum("verified"), unverified=Sum("unverified")
    )
    return Count(verified=totals["verified"] or 0, unverified=totals["unverified"] or 0)


def recount(petition: Petition) -> Count:
    """The count from the signatures themselves (for checks and repairs; not on a hot path)."""
    signatures = Signature.objects.filter(petition=petition)
    verified = signatures.filter(verified_at__isnull=False).count()
    return Count(verified=verified, unverified=signatures.count() - verified)


def recent_signers(petition: Petition, limit: int = 10) -> list[Signature]:
    """Those who agreed to be shown, newest first: first name and locality only."""
    if not petition.show_signers:
        return []
    # Confirmed ones only, whatever is counted: a name is shown once its owner said so.
    signatures = Signature.objects.filter(
        petition=petition, show_name=True, person__isnull=False, verified_at__isnull=False
    ).exclude(given_name="")
    return list(
        signatures.only("pk", "created_at", "given_name", "locality").order_by("-id")[:limit]
    )
