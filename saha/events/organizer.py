"""What organizers do to an event, and what attendees are told about it.

A change of time or place bumps the event's revision and tells everyone who
answered; a cancellation tells them too. Both go through a task that walks
the RSVPs in batches: telling 10,000 people must not happen inside a request.
Each message has a key naming the event, the revision (or reminder) and the
RSVP, so a task run twice sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import DomainError
from saha.core.jobs import enqueue_on_commit
from saha.events.models import CoHost, Event, EventStatus, Rsvp, RsvpStatus
from saha.organizations.models import Organization

# A change to any of these is news for the people coming.
NEWS_FIELDS = ("starts_at", "ends_at", "venue_name", "address", "private_location")
EDITABLE = (
    "titles",
    "descriptions",
    "kind",
    "time_zone",
    "latitude",
    "longitude",
    "capacity",
    "waiting_list",
    "visibility",
    "reminders",
    *NEWS_FIELDS,
)


def create_event(*, actor: Any, organization: Organization, slug: str, **fields: Any) -> Event:
    """A new event, as a draft: nobody sees it until it is published."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    event = Event(
        organization=organization,
        slug=slug,
        status=EventStatus.DRAFT,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        **fields,
    )
    with transaction.atomic():
        event.full_clean(exclude=["organization", "created_by"])
        event.save()
        audit.log(actor, "events.event.created", event)
    return event


def update_event(*, actor: Any, event: Event, **fields: Any) -> Event:
    """Change an event; a new time or place is announced to everyone who answered.

    The row is locked and only the fields changed here are written: the count
    of places taken and the status move under RSVPs and cancellations at the
    same moment, and an edit must not put back what it read before them.
    """
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    with transaction.atomic():
        current = Event.objects.select_for_update().get(pk=event.pk)
        if current.status == EventStatus.CANCELLED:
            raise DomainError("event_cancelled", _("A cancelled event cannot be changed."))
        news = [n for n in NEWS_FIELDS if n in fields and fields[n] != getattr(current, n)]
        for name in ("confirmed", "status", "revision", "reminders_sent"):
            setattr(event, name, getattr(current, name))
        for name, value in fields.items():
            setattr(event, name, value)
        event.modified_at = timezone.now()
        changed = [*fields, "modified_at"]
        if news:
            event.revision += 1
            changed.append("revision")
        if "starts_at" in news or "reminders" in fields:
            # Reminders count from the (new) start; those already due are not sent late.
            past = _reminders_past(event, timezone.now())
            kept = [m for m in event.reminders_sent if "starts_at" not in news and m in past]
            event.reminders_sent = sorted(set(past) | set(kept), reverse=True)
            changed.append("reminders_sent")
        event.full_clean(exclude=["organization", "created_by"])
        event.save(update_fields=changed)
        audit.log(actor, "events.event.changed", event, {"fields": sorted(fields)})
        if "capacity" in fields or "waiting_list" in fields:
            from saha.events.services import fill_free_places

            fill_free_places(event)
        if news and event.status == EventStatus.PUBLISHED:
            from saha.events.tasks import tell_attendees

            enqueue_on_commit(tell_attendees, event.pk, "changed", f"r{event.revision}")
    return event


def _reminders_past(event: Event, now: dt.datetime) -> list[int]:
    return [m for m in event.reminders if now >= event.starts_at - dt.timedelta(minutes=m)]


def publish(*, actor: Any, event: Event) -> bool:
    with transaction.atomic():
        changed = Event.objects.filter(pk=event.pk, status=EventStatus.DRAFT).update(
            status=EventStatus.PUBLISHED, modified_at=timezone.now()
        )
        if changed:
            event.status = EventStatus.PUBLISHED
            # Reminders whose time has passed before publication are not sent late.
            Event.objects.filter(pk=event.pk).update(
                reminders_sent=_reminders_past(event, timezone.now())
            )
            audit.log(actor, "events.event.published", event)
    return bool(changed)


def cancel_event(*, actor: Any, event: Event) -> bool:
    """Cancel for everybody; those who answered are told (once, however often pressed)."""
    with transaction.atomic():
        changed = (
            # A draft was never announced: it is deleted, not cancelled (which would show it).
            Event.objects.filter(pk=event.pk, status=EventStatus.PUBLISHED).update(
                status=EventStatus.CANCELLED, revision=F("revision") + 1, modified_at=timezone.now()
            )
        )
        if changed:
            event.refresh_from_db()
            audit.log(actor, "events.event.cancelled", event)
            from saha.events.tasks import tell_attendees

            enqueue_on_commit(tell_attendees, event.pk, "cancelled", "cancelled")
    return bool(changed)


def delete_draft(*, actor: Any, event: Event) -> bool:
    """A draft nobody has seen goes away; a published event can only be cancelled."""
    with transaction.atomic():
        audit.log(actor, "events.event.deleted", event, {"slug": event.slug})
        deleted, _kinds = Event.objects.filter(pk=event.pk, status=EventStatus.DRAFT).delete()
        if not deleted:
            transaction.set_rollback(True)
    return bool(deleted)


def duplicate(*, actor: Any, event: Event, slug: str, starts_at: dt.datetime) -> Event:
    """A draft copy at another time: same texts, place and settings, nobody answered yet."""
    length = event.ends_at - event.starts_at
    with transaction.atomic():
        copy = _copy(actor, event, slug, starts_at, length)
        audit.log(actor, "events.event.duplicated", copy, {"from": event.pk})
    return copy


def _copy(actor: Any, event: Event, slug: str, starts_at: dt.datetime, length: Any) -> Event:
    return Event.objects.create(
        organization_id=event.organization_id,
        slug=slug,
        titles=dict(event.titles),
        descriptions=dict(event.descriptions),
        kind=event.kind,
        starts_at=starts_at,
        ends_at=starts_at + length,
        time_zone=event.time_zone,
        venue_name=event.venue_name,
        address=event.address,
        latitude=event.latitude,
        longitude=event.longitude,
        private_location=event.private_location,
        capacity=event.capacity,
        waiting_list=event.waiting_list,
        visibility=event.visibility,
        reminders=list(event.reminders),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )


def add_co_host(*, actor: Any, event: Event, co_host: Organization) -> bool:
    """Ask another organization to co-host: it is named, and attendees may share with it,
    only once one of its own members accepts (`accept_co_hosting`)."""
    if co_host.pk == event.organization_id:
        return False
    _link, created = CoHost.objects.get_or_create(
        event=event,
        co_host=co_host,
        organization_id=event.organization_id,
        defaults={"added_by": actor if getattr(actor, "is_authenticated", False) else None},
    )
    if created:
        audit.log(actor, "events.co_host.asked", event, {"organization": co_host.slug})
    return created


def accept_co_hosting(*, actor: Any, event: Event, co_host: Organization) -> bool:
    """The co-host's member says yes: from now on it is named and its box is offered."""
    accepted = CoHost.objects.filter(event=event, co_host=co_host, accepted_at__isnull=True).update(
        accepted_at=timezone.now(),
        accepted_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if accepted:
        _log_both(actor, "events.co_host.accepted", event, co_host)
    return bool(accepted)


def remove_co_host(*, actor: Any, event: Event, co_host: Organization) -> bool:
    """The host removes a co-host, or the co-host leaves (or declines): it no longer sees
    anyone, whatever boxes were ticked. The shares stay recorded, so asking it again
    restores exactly what attendees agreed to. Both organizations' logs say so."""
    with transaction.atomic():
        removed, _kinds = CoHost.objects.filter(event=event, co_host=co_host).delete()
        if removed:
            _log_both(actor, "events.co_host.removed", event, co_host)
    return bool(removed)


def _log_both(actor: Any, action: str, event: Event, co_host: Organization) -> None:
    data = {"organization": co_host.slug, "host": event.organization.slug}
    audit.log(actor, action, event, data)
    audit.log(actor, action, event, data, organization=co_host)


def claim_due_reminders(now: dt.datetime | None = None) -> list[tuple[int, int, int]]:
    """(event id, minutes before, revision) for each reminder now due, each claimed once.
    The revision names the start it counts from: a postponed event is reminded again."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=8)
    due = []
    upcoming = Event.objects.filter(
        status=EventStatus.PUBLISHED, starts_at__gt=now, starts_at__lte=horizon
    ).only("pk", "starts_at", "reminders", "reminders_sent", "revision")
    for event in upcoming:
        for minutes in event.reminders:
            if minutes in event.reminders_sent:
                continue
            if now < event.starts_at - dt.timedelta(minutes=minutes):
                continue
            # The claim: only one tick (of any number of workers) moves the list.
            # The revision too: a postponement in between makes this claim fail, not
            # send a reminder for the old start.
            claimed = Event.objects.filter(
                pk=event.pk, reminders_sent=event.reminders_sent, revision=event.revision
            ).update(reminders_sent=[*event.reminders_sent, minutes])
            if claimed:
                event.reminders_sent = [*event.reminders_sent, minutes]
                due.append((event.pk, minutes, event.revision))
    return due


def attendees_to_tell(event_id: int, what: str) -> Any:
    statuses = [RsvpStatus.CONFIRMED]
    if what in ("changed", "cancelled"):
        statuses.append(RsvpStatus.WAITING)
    return (
        Rsvp.objects.filter(event_id=event_id, status__in=statuses, person__isnull=False)
        .select_related("person")
        .order_by("id")
    )
