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

from saha.core import audit
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
    """Change an event; a new time or place is announced to everyone who answered."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    news = [name for name in NEWS_FIELDS if name in fields and fields[name] != getattr(event, name)]
    with transaction.atomic():
        for name, value in fields.items():
            setattr(event, name, value)
        event.modified_at = timezone.now()
        if news:
            event.revision += 1
        event.full_clean(exclude=["organization", "created_by"])
        event.save()
        audit.log(actor, "events.event.changed", event, {"fields": sorted(fields)})
        if news and event.status == EventStatus.PUBLISHED:
            from saha.events.tasks import tell_attendees

            enqueue_on_commit(tell_attendees, event.pk, "changed", f"r{event.revision}")
    return event


def publish(*, actor: Any, event: Event) -> bool:
    changed = Event.objects.filter(pk=event.pk, status=EventStatus.DRAFT).update(
        status=EventStatus.PUBLISHED, modified_at=timezone.now()
    )
    if changed:
        event.status = EventStatus.PUBLISHED
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
    copy = Event.objects.create(
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
    audit.log(actor, "events.event.duplicated", copy, {"from": event.pk})
    return copy


def add_co_host(*, actor: Any, event: Event, co_host: Organization) -> bool:
    """Name another organization as co-host; attendees may then share their RSVP with it."""
    if co_host.pk == event.organization_id:
        return False
    _link, created = CoHost.objects.get_or_create(
        event=event,
        co_host=co_host,
        organization_id=event.organization_id,
        defaults={"added_by": actor if getattr(actor, "is_authenticated", False) else None},
    )
    if created:
        audit.log(actor, "events.co_host.added", event, {"organization": co_host.slug})
    return created


def remove_co_host(*, actor: Any, event: Event, co_host: Organization) -> bool:
    """The co-host no longer sees anyone, whatever boxes were ticked (the shares stay recorded,
    so naming it again restores exactly what attendees agreed to)."""
    removed, _kinds = CoHost.objects.filter(event=event, co_host=co_host).delete()
    if removed:
        audit.log(actor, "events.co_host.removed", event, {"organization": co_host.slug})
    return bool(removed)


def claim_due_reminders(now: dt.datetime | None = None) -> list[tuple[int, int]]:
    """(event id, minutes before) for each reminder now due, each claimed once."""
    now = now or timezone.now()
    horizon = now + dt.timedelta(days=8)
    due = []
    upcoming = Event.objects.filter(
        status=EventStatus.PUBLISHED, starts_at__gt=now, starts_at__lte=horizon
    ).only("pk", "starts_at", "reminders", "reminders_sent")
    for event in upcoming:
        for minutes in event.reminders:
            if minutes in event.reminders_sent:
                continue
            if now < event.starts_at - dt.timedelta(minutes=minutes):
                continue
            # The claim: only one tick (of any number of workers) moves the list.
            claimed = Event.objects.filter(pk=event.pk, reminders_sent=event.reminders_sent).update(
                reminders_sent=[*event.reminders_sent, minutes]
            )
            if claimed:
                event.reminders_sent = [*event.reminders_sent, minutes]
                due.append((event.pk, minutes))
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
