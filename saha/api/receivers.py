"""Where webhook events come from: the audit log, and the rows no audit row names.

Every change staff or machines make writes an audit row inside its service's
transaction, so most events are read from `AuditEntry` as it is saved. What
people do themselves is not audit material (an RSVP or a signature on a public
form, a consent withdrawn from an unsubscribe link): those are read from the
rows themselves (`Rsvp` and `Signature` created, `ConsentRecord` withdrawn), and
an RSVP's every change of status from the events service's own signal.

Each event is written down at once, in the transaction of the change, as one
delivery per endpoint (`webhooks.record`: an outbox, committed or rolled back with
the change); what it says is rendered at the first attempt, from the rows as they
then stand. Within one transaction, the same event about the same row is told once.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from saha.api import hal, webhooks
from saha.api.models import WebhookEndpoint
from saha.core.models import AuditEntry
from saha.events.models import CheckIn, Rsvp, RsvpStatus
from saha.events.services import rsvp_status_changed
from saha.petitions.models import Signature
from saha.supporters.models import ConsentRecord, ConsentStatus, Person

log = logging.getLogger(__name__)

LISTENING_KEY = "api:webhooks:listening:{}"
LISTENING_SECONDS = 60

AUDITED: dict[str, str] = {
    "supporters.person.created": "person.created",
    "supporters.person.updated": "person.updated",
    "supporters.person.email_added": "person.updated",
    "supporters.person.email_removed": "person.updated",
    "supporters.person.phone_added": "person.updated",
    "supporters.person.phone_removed": "person.updated",
    "supporters.person.merged": "person.updated",
    # No "events.rsvp.cancelled": `rsvp_status_changed` tells every cancel, audited or not.
    "events.check_in.created": "checkin.created",
    "volunteers.offer.created": "offer.created",
}


class _WakeUp:
    """The on-commit callback that asks for the deliveries of one event to be sent.

    It also marks the event as told in this transaction: it lives exactly as long as
    the rows it names (a savepoint rolled back drops both).
    """

    def __init__(self, key: tuple[str, int, str], delivery_ids: list[int]) -> None:
        self.key = key
        self.delivery_ids = delivery_ids

    def __call__(self) -> None:
        webhooks.wake(self.delivery_ids)


def listening(organization_id: int) -> bool:
    """Whether the organization has an active endpoint: most have none, and then a write
    pays nothing more than this cache read. Remembered for LISTENING_SECONDS and forgotten
    when an endpoint changes (in every process with a shared cache such as Redis; with the
    local-memory cache, another process may see a new endpoint up to a minute late)."""
    key = LISTENING_KEY.format(organization_id)
    found = cache.get(key)
    if found is None:
        found = WebhookEndpoint.objects.filter(
            organization_id=organization_id, is_active=True
        ).exists()
        cache.set(key, found, LISTENING_SECONDS)
    return bool(found)


@receiver(post_save, sender=WebhookEndpoint, dispatch_uid="api.webhooks.endpoint_saved")
@receiver(post_delete, sender=WebhookEndpoint, dispatch_uid="api.webhooks.endpoint_deleted")
def forget_listening(sender: Any, instance: WebhookEndpoint, **kwargs: Any) -> None:
    cache.delete(LISTENING_KEY.format(instance.organization_id))


def tell(event_type: str, organization_id: int | None, pk: Any) -> None:
    """Write down `event_type` about row `pk` for every subscribed endpoint, in the current
    transaction, and wake the sender once it commits (once per transaction and event)."""
    if organization_id is None or not listening(organization_id):
        return
    key = (event_type, organization_id, str(pk))
    if _told(key):
        return
    made = webhooks.record(organization_id=organization_id, event_type=event_type, object_id=key[2])
    if made:
        # robust: if the wake-up fails, the periodic task sends them a minute later.
        transaction.on_commit(_WakeUp(key, made), robust=True)


def _told(key: tuple[str, int, str]) -> bool:
    """Whether this transaction already wrote this event down.

    The wake-up callbacks waiting for this commit are the record: Django drops those
    of a savepoint rolled back, just as the database drops its rows, so a callback
    still waiting means its deliveries are still there (written in a savepoint open
    now, or released into this one). After a commit the list is empty again.
    """
    waiting = getattr(connection, "run_on_commit", [])
    return any(getattr(entry[1], "key", None) == key for entry in waiting)


@receiver(post_save, sender=AuditEntry, dispatch_uid="api.webhooks.audit")
def on_audit(sender: Any, instance: AuditEntry, created: bool, **kwargs: Any) -> None:
    event_type = AUDITED.get(instance.action) if created else None
    if event_type is not None and instance.target_id:
        tell(event_type, instance.organization_id, instance.target_id)


@receiver(post_save, sender=Rsvp, dispatch_uid="api.webhooks.rsvp")
def on_rsvp(sender: Any, instance: Rsvp, created: bool, **kwargs: Any) -> None:
    if created:
        tell("attendance.created", instance.organization_id, instance.pk)


@receiver(rsvp_status_changed, dispatch_uid="api.webhooks.rsvp_status")
def on_rsvp_status(sender: Any, rsvp_id: int, organization_id: int, **kwargs: Any) -> None:
    tell("attendance.updated", organization_id, rsvp_id)


@receiver(post_save, sender=Signature, dispatch_uid="api.webhooks.signature")
def on_signature(sender: Any, instance: Signature, created: bool, **kwargs: Any) -> None:
    if created:
        tell("signature.created", instance.organization_id, instance.pk)


@receiver(post_save, sender=ConsentRecord, dispatch_uid="api.webhooks.consent")
def on_consent(sender: Any, instance: ConsentRecord, created: bool, **kwargs: Any) -> None:
    if created and instance.status == ConsentStatus.WITHDRAWN:
        tell("contact.unsubscribed", instance.organization_id, instance.pk)


# --- What each event says -------------------------------------------------------------


def render_event(event_type: str, pk: Any) -> dict[str, Any] | None:
    """The event's `data`, read now (at the first attempt, from committed rows); None if
    there is nothing to tell any more."""
    return RENDERERS[event_type](pk)


def _resource(module: str, name: str) -> Any:
    """A render function of saha.api.resources, or None where it is missing."""
    import importlib

    try:
        return getattr(importlib.import_module(f"saha.api.resources.{module}"), name)
    except (ImportError, AttributeError):
        log.warning("saha.api.resources.%s.%s is missing: a minimal payload is sent", module, name)
        return None


def _minimal(row: Any) -> dict[str, Any]:
    created = getattr(row, "created_at", None)
    modified = getattr(row, "modified_at", None) or created
    return {
        "identifiers": hal.identifiers(row),
        "created_date": hal.timestamp(created) if created else None,
        "modified_date": hal.timestamp(modified) if modified else None,
    }


def person_data(person: Person) -> dict[str, Any]:
    render = _resource("people", "render_person")
    return render(person) if render else _minimal(person)


def attendance_data(rsvp: Rsvp) -> dict[str, Any]:
    render = _resource("events", "render_attendance")
    return render(rsvp) if render else _minimal(rsvp)


def _person(pk: Any) -> dict[str, Any] | None:
    person = Person.objects.filter(pk=pk).first()
    return None if person is None else {"osdi:person": person_data(person)}


def _signature(pk: Any) -> dict[str, Any] | None:
    row = Signature.objects.select_related("petition", "person").filter(pk=pk).first()
    if row is None:
        return None
    render = _resource("petitions", "render_signature")
    return {"osdi:signature": render(row) if render else _minimal(row)}


def _attendance(pk: Any) -> dict[str, Any] | None:
    row = Rsvp.objects.select_related("event", "person").filter(pk=pk).first()
    if row is None or row.person_id is None:
        return None
    return {"osdi:attendance": attendance_data(row)}


def _new_attendance(pk: Any) -> dict[str, Any] | None:
    # An RSVP cancelled before it was first told: its cancel (attendance.updated,
    # told too) says all there is to say.
    if Rsvp.objects.filter(pk=pk, status=RsvpStatus.CANCELLED).exists():
        return None
    return _attendance(pk)


def _checkin(pk: Any) -> dict[str, Any] | None:
    row = CheckIn.objects.select_related("rsvp__event", "rsvp__person").filter(pk=pk).first()
    if row is None:
        return None
    return {
        "check_in": {
            "created_date": hal.timestamp(row.checked_in_at),
            "method": row.method,
        },
        "osdi:attendance": attendance_data(row.rsvp),
    }


def _offer(pk: Any) -> dict[str, Any] | None:
    from saha.volunteers.models import Offer

    offer = (
        Offer.objects.select_related("person", "organization")
        .prefetch_related("capabilities__capability__organization")
        .filter(pk=pk)
        .first()
    )
    if offer is None:
        return None
    return {
        # No notes: free text a volunteer wrote to the organizers, not to other systems.
        "offer": {
            "created_date": hal.timestamp(offer.created_at),
            "modified_date": hal.timestamp(offer.modified_at),
            "status": offer.status,
            "region": offer.region,
            "locality": offer.locality,
            "capabilities": [
                {
                    "key": offered.capability.key,
                    "name": offered.capability.name,
                    "quantity": offered.quantity,
                    "details": offered.details,
                }
                for offered in offer.capabilities.all()
            ],
        },
        "osdi:person": person_data(offer.person),
    }


def _unsubscribe(pk: Any) -> dict[str, Any] | None:
    record = ConsentRecord.objects.select_related("person").filter(pk=pk).first()
    if record is None:
        return None
    return {
        "unsubscribe": {
            "created_date": hal.timestamp(record.created_at),
            "channel": record.channel,
            "purpose": record.purpose,
            "source": record.source,
        },
        "osdi:person": person_data(record.person),
    }


RENDERERS = {
    "person.created": _person,
    "person.updated": _person,
    "signature.created": _signature,
    "attendance.created": _new_attendance,
    "attendance.updated": _attendance,
    "checkin.created": _checkin,
    "offer.created": _offer,
    "contact.unsubscribed": _unsubscribe,
}
