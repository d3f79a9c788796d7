"""The gate: find who is at the door, let them in once, add walk-ins, count.

Staff find an attendee three ways: the QR code on the ticket (its signed
token), the short code typed by hand, or a search by name, email, phone or
code. Every lookup is scoped to one event: a ticket for another event, even of
the same organization, is simply not found, so the gate leaks nothing.

Letting someone in is `services.check_in`, idempotent by the client's nonce.
A walk-in is an RSVP (source "walk-in") followed by a check-in, in one
transaction. A walk-in takes a place like anyone: when the event is full the
walk-in is refused (`event_full`), never put on the waiting list, since the
people waiting asked first and the capacity is usually the venue's limit.
Walk-ins get no ticket email (they are already in); they are matched to an
existing supporter by email or phone like every sign-up.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Sum
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError
from saha.events import services, tickets
from saha.events.headcount import WALK_IN, per_event
from saha.events.models import CheckIn, CheckInCount, Event, EventStatus, Rsvp, RsvpStatus
from saha.supporters.models import Person
from saha.supporters.services import PersonData
from saha.supporters.text import normalize_name, phone_digits

SEARCH_LIMIT = 20
SEARCH_MIN_LENGTH = 2
METHODS = ("scan", "code", "search", WALK_IN)


class NotFound(DomainError):
    status = 404


# --- finding someone -------------------------------------------------------------


def _rsvps(event: Event) -> QuerySet[Rsvp]:
    return Rsvp.objects.select_related("person", "check_in__checked_in_by").filter(event=event)


def token_from(scanned: str) -> str:
    """The token in what the camera read: the bare token, or a whole ticket URL."""
    scanned = scanned.replace("\x00", "").strip()
    if "/t/" in scanned:
        scanned = scanned.rsplit("/t/", 1)[1].split("/", 1)[0]
    return scanned[:200]


def find_by_token(event: Event, scanned: str) -> Rsvp:
    rsvp_id = tickets.read_ticket(token_from(scanned))
    found = _rsvps(event).filter(pk=rsvp_id).first() if rsvp_id is not None else None
    if found is None:
        raise NotFound("not_found", _("This ticket is not on this event's list."))
    return found


def find_by_code(event: Event, typed: str) -> Rsvp:
    """By the short code; a typed (or pasted) ticket token is read as a scan."""
    code = tickets.normalize_code(typed)
    found = _rsvps(event).filter(code=code).first() if code else None
    if found is None and tickets.read_ticket(token_from(typed)) is not None:
        return find_by_token(event, typed)
    if found is None:
        raise NotFound("not_found", _("No ticket with this code for this event."))
    return found


def find_by_id(event: Event, rsvp_id: Any) -> Rsvp:
    """From a search result's button: the id is checked against this event."""
    try:
        pk = int(rsvp_id)
    except (TypeError, ValueError):
        pk = 0
    # Only whom a search can show: an id walked by hand finds nobody who cancelled.
    listed = _rsvps(event).filter(status__in=[RsvpStatus.CONFIRMED, RsvpStatus.WAITING])
    found = listed.filter(pk=pk).first() if 0 < pk <= 2**63 - 1 else None
    if found is None:
        raise NotFound("not_found", _("This person is not on this event's list."))
    return found


def _looks_like_code(code: str) -> bool:
    return len(code) == tickets.CODE_LENGTH and all(ch in tickets.CODE_ALPHABET for ch in code)


def search(event: Event, term: str, *, limit: int = SEARCH_LIMIT) -> list[Rsvp]:
    """Attendees (coming or waiting) whose name, email, phone or code matches, in one query.

    A name matches from the start of the given or the family name; an email from
    its start; a phone whole or by its last digits (`PersonQuerySet.search`).
    Everything is scoped to the event's RSVPs (index `rsvp_by_status`), so the
    cost grows with one event's size, not the organization's.
    """
    term = term.replace("\x00", "").strip()[:100]
    if len(term) < SEARCH_MIN_LENGTH:
        return []
    match = Q()
    code = tickets.normalize_code(term)
    if _looks_like_code(code):
        match |= Q(code=code)
    if "@" in term or len(phone_digits(term)) >= 4:
        people = Person.objects.filter(organization_id=event.organization_id).search(
            term, event.organization
        )
        match |= Q(person__in=people.values("pk"))
    else:
        key = normalize_name(term)
        if key:
            match |= Q(person__name_key__startswith=key) | Q(person__name_key__contains=f" {key}")
    if not match:
        return []
    found = (
        _rsvps(event)
        .filter(match, status__in=(RsvpStatus.CONFIRMED, RsvpStatus.WAITING))
        .order_by("person__name_key", "pk")
    )
    return list(found[:limit])


# --- letting someone in ------------------------------------------------------------


def _open_gate(event: Event) -> None:
    if event.status != EventStatus.PUBLISHED:
        raise Conflict("event_not_open", _("This event is not open: nobody can be checked in."))


def admit(
    *, event: Event, rsvp: Rsvp, actor: Any, nonce: str, method: str
) -> services.CheckInResult:
    """Check in a found attendee; a waiting or cancelled answer is refused with its own code."""
    _open_gate(event)
    if not nonce.strip():
        raise DomainError("no_nonce", _("This request has no identifier. Reload the page."))
    if rsvp.status == RsvpStatus.WAITING:
        raise Conflict("waiting_list", _("This person is on the waiting list, not coming."))
    if rsvp.status == RsvpStatus.CANCELLED:
        raise Conflict("cancelled", _("This person cancelled their place."))
    method = method if method in METHODS else "code"
    return services.check_in(event=event, rsvp=rsvp, actor=actor, nonce=nonce, method=method)


def add_walk_in(
    *, event: Event, data: PersonData, actor: Any, nonce: str
) -> services.CheckInResult:
    """Someone who did not answer comes to the gate: an RSVP and a check-in, or neither.

    With the same nonce twice (a retried form), the same person is found by
    their email or phone and the same check-in comes back.
    """
    _open_gate(event)
    if not nonce.strip():
        raise DomainError("no_nonce", _("This request has no identifier. Reload the page."))
    with transaction.atomic():
        answered = services.rsvp(
            event=event, data=data, actor=actor, source=WALK_IN, notify=False, anonymous=True
        )
        row = answered.rsvp
        if row.status != RsvpStatus.CONFIRMED:
            # The last place went while they stood at the gate (or they wait already):
            # undo the answer, the person and all, and say the event is full.
            raise Conflict("event_full", _("This event is full: no walk-ins can be added."))
        result = services.check_in(event=event, rsvp=row, actor=actor, nonce=nonce, method=WALK_IN)
        # Every walk-in is audited, a new answer or not: a record of attending can matter.
        audit.log(actor, "events.walk_in.added", row, {"event": event.pk, "new": answered.created})
    return result


# --- what the banner and the counter show ------------------------------------------


@dataclass(frozen=True)
class Counts:
    confirmed: int  # coming, walk-ins included
    checked_in: int
    waiting: int
    walk_ins: int

    def as_dict(self) -> dict[str, int]:
        return {
            "confirmed": self.confirmed,
            "checked_in": self.checked_in,
            "waiting": self.waiting,
            "walk_ins": self.walk_ins,
        }


def counts(event: Event) -> Counts:
    """All four numbers in one query: the event's place counter, the headcount's
    few shards (`headcount.py`) and the indexed count of the waiting list."""
    shards = CheckInCount.objects.filter(event_id=OuterRef("pk"))
    row = (
        Event.objects.filter(pk=event.pk)
        .annotate(
            checked_in=per_event(shards, Sum("checked_in")),
            walk_ins=per_event(shards, Sum("walk_ins")),
            waiting=per_event(
                Rsvp.objects.filter(event_id=OuterRef("pk"), status=RsvpStatus.WAITING),
                Count("pk"),
            ),
        )
        .values("confirmed", "checked_in", "walk_ins", "waiting")
        .get()
    )
    return Counts(**row)


def person_name(rsvp: Rsvp) -> str:
    person = rsvp.person
    name = person.display_name if person is not None else ""
    return name or _("(name not given)")


def staff_name(check_in: CheckIn) -> str:
    user = check_in.checked_in_by
    return user.get_full_name() if user is not None else _("someone no longer on the team")


def local_time(event: Event, moment: Any) -> str:
    """HH:MM in the event's own time zone: what the people at the gate read on their watches."""
    local = timezone.localtime(moment, zoneinfo.ZoneInfo(event.time_zone))
    return formats.time_format(local, "H:i")
