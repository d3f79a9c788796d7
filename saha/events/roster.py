"""What the organizer's pages read: the events an organization hosts or co-hosts, their
attendees (a co-host only those who agreed to be seen by it), and the counts.

Every read takes the viewing organization, and that decides what is visible:
a co-host's member never sees an attendee who did not tick its box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from saha.core.tenancy import is_row_id
from saha.events import tickets
from saha.events.models import CheckIn, CoHost, Event, EventStatus, Rsvp, RsvpStatus
from saha.organizations.models import Organization
from saha.supporters.models import Person

PAGE = 50
STATUS_FILTERS = ("confirmed", "waiting", "cancelled", "checked_in")


def events_for(organization: Organization) -> QuerySet[Event]:
    """Its own events and those it co-hosts."""
    # A co-host sees the host's event once it accepted and the event is announced,
    # never the host's drafts.
    co_hosted = (
        Event.objects.filter(
            co_host_links__co_host=organization, co_host_links__accepted_at__isnull=False
        )
        .exclude(status=EventStatus.DRAFT)
        .values("pk")
    )
    return (
        Event.objects.filter(Q(organization=organization) | Q(pk__in=co_hosted))
        .select_related("organization")
        .order_by("starts_at", "pk")
    )


def event_for(organization: Organization, pk: Any) -> Event:
    """One of its events or co-hosted events, else 404 (never saying which exists)."""
    if not is_row_id(pk):
        raise Http404
    found = events_for(organization).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def invitations_for(organization: Organization) -> list[CoHost]:
    """Other organizations' events it is asked to co-host and has not answered yet."""
    return list(
        CoHost.objects.filter(co_host=organization, accepted_at__isnull=True)
        .exclude(event__status__in=[EventStatus.CANCELLED, EventStatus.DRAFT])
        .select_related("event__organization")
        .order_by("event__starts_at")[:50]
    )


def co_hosts_of(event: Event) -> list[CoHost]:
    """The event's co-hosts, accepted or still asked, for its host's page."""
    return list(event.co_host_links.select_related("co_host").order_by("added_at", "pk"))


def public_co_hosts(event: Event) -> list[Organization]:
    """The co-hosts that accepted: named on the event page, one consent box each."""
    links = event.co_host_links.filter(accepted_at__isnull=False).select_related("co_host")
    return sorted((link.co_host for link in links), key=lambda org: org.name.casefold())


def hosts(event: Event, organization: Organization) -> bool:
    return event.organization_id == organization.pk


def visible_rsvps(event: Event, organization: Organization) -> QuerySet[Rsvp]:
    rsvps = Rsvp.objects.filter(event=event)
    if not hosts(event, organization):
        rsvps = rsvps.filter(shared_with=organization)
    return rsvps


def attendees(
    event: Event,
    organization: Organization,
    *,
    term: str = "",
    status: str = "",
    after: int | None = None,
) -> list[Rsvp]:
    """One page of answers, newest first, with person and check-in in the same query."""
    rsvps = visible_rsvps(event, organization).select_related("person", "check_in__checked_in_by")
    if status == "checked_in":
        rsvps = rsvps.filter(check_in__isnull=False)
    elif status in STATUS_FILTERS:
        rsvps = rsvps.filter(status=status)
    term = term.replace("\x00", "").strip()
    if term:
        people = Person.objects.filter(organization_id=event.organization_id).search(
            term, event.organization
        )
        code = tickets.normalize_code(term)
        rsvps = rsvps.filter(Q(person__in=people.values("pk")) | Q(code=code))
    if after is not None:
        rsvps = rsvps.filter(pk__lt=after)
    return list(rsvps.order_by("-pk")[:PAGE])


@dataclass(frozen=True)
class Tally:
    capacity: int | None
    confirmed: int
    waiting: int
    cancelled: int
    checked_in: int

    @property
    def percent_full(self) -> int | None:
        if not self.capacity:
            return None
        return min(100, round(100 * self.confirmed / self.capacity))

    @property
    def places_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.confirmed, 0)


def tally(event: Event) -> Tally:
    """The counts of one event in two indexed queries, however many answered."""
    return tallies([event])[event.pk]


def tallies(events: list[Event]) -> dict[int, Tally]:
    """The counts of a page of events, in two queries for the whole page."""
    ids = [event.pk for event in events]
    rows = (
        Rsvp.objects.filter(event_id__in=ids)
        .values_list("event_id", "status")
        .annotate(n=Count("pk"))
        .values_list("event_id", "status", "n")
    )
    counts: dict[int, dict[str, int]] = {pk: {} for pk in ids}
    for event_id, status, n in rows:
        counts[event_id][status] = n
    came = dict(
        CheckIn.objects.filter(event_id__in=ids)
        .values_list("event_id")
        .annotate(n=Count("pk"))
        .values_list("event_id", "n")
    )
    return {
        event.pk: Tally(
            capacity=event.capacity,
            confirmed=counts[event.pk].get(RsvpStatus.CONFIRMED, 0),
            waiting=counts[event.pk].get(RsvpStatus.WAITING, 0),
            cancelled=counts[event.pk].get(RsvpStatus.CANCELLED, 0),
            checked_in=came.get(event.pk, 0),
        )
        for event in events
    }
