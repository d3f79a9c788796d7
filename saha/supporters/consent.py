"""The consent ledger: append a change, derive the current status, confirm a double opt-in.

`record_consent` is the only writer of `ConsentRecord` and `ConsentState`
outside the bulk import (which writes the same rows in batches). The
confirmation email of a double opt-in is sent by the messaging app, which
connects to `double_opt_in_requested`; the link it sends carries
`confirmation_token(record)` and lands on `confirm_consent`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import django.dispatch
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import DomainError
from saha.supporters import suppression
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    Person,
    PrivacySettings,
)

# Consent given by the person themselves on our own pages. Not the API: an
# integration may push an old list through it, as an import would.
OWN_SOURCES = (ConsentSource.FORM, ConsentSource.CONFIRMATION, ConsentSource.PREFERENCES)

# Sent after commit with `record` (a PENDING email consent) and `token`.
double_opt_in_requested = django.dispatch.Signal()

CONFIRMATION_SALT = "saha.supporters.consent.confirm"
CONFIRMATION_MAX_AGE = 60 * 60 * 24 * 30


@dataclass(frozen=True)
class ConsentGrant:
    """What a sign-up form, an import or the API says a person agreed to."""

    channel: str
    wording: str
    source: str
    source_ref: str = ""
    language: str = ""
    purpose: str = DEFAULT_PURPOSE
    status: str = ConsentStatus.GRANTED


def current_status(person: Person, channel: str, purpose: str = DEFAULT_PURPOSE) -> str | None:
    state = ConsentState.objects.filter(person=person, channel=channel, purpose=purpose).first()
    return state.status if state else None


def record_consent(
    *, person: Person, grant: ConsentGrant, actor: Any = None
) -> ConsentRecord | None:
    """Append a change to the ledger and update the current status.

    Returns None when nothing changed: the same status with the same words is
    already current, so importing a file twice does not grow the ledger. A
    grant by email through a form or the API becomes PENDING when the
    organization asks for double opt-in.
    """
    status = grant.status
    if (
        status == ConsentStatus.GRANTED
        and grant.channel == Channel.EMAIL
        and grant.source in (ConsentSource.FORM, ConsentSource.API)
        and double_opt_in(person.organization_id)
    ):
        status = ConsentStatus.PENDING
    with transaction.atomic():
        # The person's row is the lock: a first grant has no state row to lock
        # yet, and two at once would both insert one.
        Person.objects.select_for_update().filter(pk=person.pk).exists()
        state = (
            ConsentState.objects.select_for_update()
            .select_related("record")
            .filter(person=person, channel=grant.channel, purpose=grant.purpose)
            .first()
        )
        if _nothing_to_record(person, grant, status, state):
            return None
        record = ConsentRecord.objects.create(
            organization_id=person.organization_id,
            person=person,
            channel=grant.channel,
            purpose=grant.purpose,
            status=status,
            source=grant.source,
            source_ref=grant.source_ref[:300],
            wording=grant.wording,
            language=grant.language[:8],
            actor=actor if getattr(actor, "is_authenticated", False) else None,
        )
        _set_state(person, record, state)
        # A change of consent is a change of the person, for whoever syncs by
        # modified date (an unsubscribe must reach the other systems).
        Person.objects.filter(pk=person.pk).update(modified_at=record.created_at)
        if grant.source == ConsentSource.MANUAL:
            # A member changed someone's consent by hand: the ledger holds the
            # proof, the audit log shows who did it among the other actions.
            audit.log(
                actor,
                "supporters.consent.recorded",
                person,
                {"channel": record.channel, "status": record.status},
            )
        if status == ConsentStatus.PENDING:
            token = confirmation_token(record)
            transaction.on_commit(
                lambda: double_opt_in_requested.send(
                    sender=ConsentRecord, record=record, token=token
                )
            )
    return record


def _nothing_to_record(
    person: Person, grant: ConsentGrant, status: str, state: ConsentState | None
) -> bool:
    """Whether this change would change nothing, or is one the person's own choice overrides."""
    if state is not None:
        if state.status == status and state.record.wording == grant.wording:
            return True
        if state.status == ConsentStatus.GRANTED and status == ConsentStatus.PENDING:
            return True  # already confirmed; asking again would only annoy
        if state.status == ConsentStatus.WITHDRAWN and grant.source == ConsentSource.IMPORT:
            return True  # a person's own withdrawal outranks an old spreadsheet
    if status == ConsentStatus.WITHDRAWN:
        return False
    contacts = suppression.contacts_of(person, grant.channel)
    if grant.source in OWN_SOURCES:
        # The person came back by themselves: their new choice stands, once it
        # is final (a pending double opt-in lifts nothing: anyone can type an
        # address into a form; `confirm_consent` lifts it).
        if status == ConsentStatus.GRANTED:
            suppression.lift(person.organization_id, grant.channel, contacts)
        return False
    # Withdrew, then was erased: an old spreadsheet (or a list pushed through
    # the API) cannot bring them back.
    return grant.source in (ConsentSource.IMPORT, ConsentSource.API) and bool(
        suppression.suppressed(person.organization_id, grant.channel, contacts)
    )


def _set_state(person: Person, record: ConsentRecord, state: ConsentState | None) -> None:
    if state is None:
        ConsentState.objects.create(
            person=person,
            channel=record.channel,
            purpose=record.purpose,
            status=record.status,
            record=record,
            updated_at=record.created_at,
        )
    else:
        state.status, state.record, state.updated_at = record.status, record, record.created_at
        state.save(update_fields=["status", "record", "updated_at"])


def double_opt_in(organization_id: int) -> bool:
    return PrivacySettings.objects.filter(
        organization_id=organization_id, email_double_opt_in=True
    ).exists()


def confirmation_token(record: ConsentRecord) -> str:
    return signing.dumps({"r": record.pk, "p": record.person_id}, salt=CONFIRMATION_SALT)


def pending_record(token: str) -> ConsentRecord | None:
    """The PENDING consent a confirmation link names, or None if the link is not valid.

    By record alone: after a merge the record belongs to the kept person, and
    the link must still work (the token is signed, so its id is ours).
    """
    from saha.core.tenancy import is_row_id

    if len(token) > 500:  # ours are under 100 characters
        return None
    try:
        payload = signing.loads(token, salt=CONFIRMATION_SALT, max_age=CONFIRMATION_MAX_AGE)
        record_id = payload["r"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if not is_row_id(record_id):
        return None
    return (
        ConsentRecord.objects.select_related("person", "organization")
        .filter(pk=record_id, status=ConsentStatus.PENDING)
        .first()
    )


def confirm_consent(token: str) -> ConsentRecord:
    """The person followed the link of a double opt-in: their email consent is granted."""
    pending = pending_record(token)
    if pending is None:
        raise DomainError("consent_link_invalid", _("This confirmation link is not valid."))
    with transaction.atomic():
        state = (
            ConsentState.objects.select_for_update()
            .filter(person=pending.person, channel=pending.channel, purpose=pending.purpose)
            .first()
        )
        if state is not None and state.record_id != pending.pk:
            # Confirmed already, or withdrawn since: the later choice stands.
            return ConsentRecord.objects.get(pk=state.record_id)
        record = ConsentRecord.objects.create(
            organization_id=pending.organization_id,
            person=pending.person,
            channel=pending.channel,
            purpose=pending.purpose,
            status=ConsentStatus.GRANTED,
            source=ConsentSource.CONFIRMATION,
            source_ref=f"confirms:{pending.pk}",
            wording=pending.wording,
            language=pending.language,
            created_at=timezone.now(),
        )
        _set_state(pending.person, record, state)
        suppression.lift(
            pending.organization_id,
            pending.channel,
            suppression.contacts_of(pending.person, pending.channel),
        )
        audit.log(
            "person", "supporters.consent.confirmed", pending.person, {"channel": record.channel}
        )
    return record


def recompute_states(person: Person) -> None:
    """Rebuild the current status from the ledger (after a merge moved records)."""
    ConsentState.objects.filter(person=person).delete()
    latest: dict[tuple[str, str], ConsentRecord] = {}
    for record in ConsentRecord.objects.filter(person=person).order_by("created_at", "id"):
        latest[(record.channel, record.purpose)] = record
    for record in latest.values():
        _set_state(person, record, None)


# The consent boxes a public sign-up form shows, by field name.
FORM_CONSENT_FIELDS = {"consent_email": Channel.EMAIL, "consent_sms": Channel.SMS}


def ticked_consents(form: Any, *, source_ref: str) -> list[ConsentGrant]:
    """The grants of a valid public form's ticked consent boxes, each with the words of its
    label in the language the page was shown in. A box ticked without the address it
    is about (SMS without a phone) agrees to nothing we can use."""
    data = form.cleaned_data
    contact = {Channel.EMAIL: data.get("email"), Channel.SMS: data.get("phone")}
    return [
        ConsentGrant(
            channel=channel,
            wording=str(form.fields[name].label),
            source=ConsentSource.FORM,
            source_ref=source_ref,
            language=get_language() or data["language"],
        )
        for name, channel in FORM_CONSENT_FIELDS.items()
        if data.get(name) and contact[channel]
    ]
