"""Background work of events: telling attendees, and reminders before the start."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from saha.core.jobs import periodic
from saha.events import organizer

BATCH = 500


@task()
def tell_attendees(event_id: int, what: str, version: str) -> int:
    """Send `what` (changed, cancelled, reminder) to each attendee; safe to run twice."""
    from saha.messaging.services import preferred_channel, send_transactional

    told = 0
    after = 0
    while True:
        batch = list(organizer.attendees_to_tell(event_id, what).filter(pk__gt=after)[:BATCH])
        if not batch:
            return told
        for rsvp in batch:
            person = rsvp.person
            send_transactional(
                person,
                f"events/messages/{what}",
                {"rsvp_id": rsvp.pk, "event_id": event_id},
                preferred_channel(person),
                key=f"event:{event_id}:{what}:{version}:{rsvp.pk}",
                urgent=what == "cancelled",
            )
            told += 1
        after = batch[-1].pk


@periodic(every=dt.timedelta(minutes=5))
@task()
def send_due_reminders() -> int:
    due = organizer.claim_due_reminders()
    for event_id, minutes, revision in due:
        tell_attendees.enqueue(event_id, "reminder", f"m{minutes}-r{revision}")
    return len(due)
