"""Events: answering (RSVP), giving a place back, and coming through the gate.

Capacity: an RSVP takes a place with one conditional UPDATE on the event row
(`confirmed < capacity`), the last statement of its transaction, so the row
is locked for the shortest time and no count can ever pass the capacity,
whatever arrives at once. A cancellation hands its place straight to the
first person waiting, in the same transaction: the place is never free for a
newcomer to take ahead of the waiting list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import django.dispatch
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.campaigns import partners as campaign_partners
from saha.core import audit
from saha.core.errors import Conflict, DomainError
from saha.events import headcount, tickets
from saha.events.models import (
    CheckIn,
    CoHost,
    Event,
    EventStatus,
    Rsvp,
    RsvpShare,
    RsvpStatus,
)
from saha.supporters.models import Person, Source
from saha.supporters.services import PersonData, upsert_person

# Sent inside the transaction each time an RSVP that already stood changes status:
# cancelled (by anyone, from a ticket page too), back after cancelling, promoted from
# the waiting list. A new RSVP is Rsvp's post_save instead. Arguments: `rsvp_id`,
# `organization_id`, `status` (the new one). Receivers run in the transaction, so
# what they write is committed or rolled back with the change.
rsvp_status_changed = django.dispatch.Signal()


def _status_changed(row: Rsvp, status: str) -> None:
    rsvp_status_changed.send(
        sender=Rsvp, rsvp_id=row.pk, organization_id=row.organization_id, status=status
    )


class EventClosed(DomainError):
    status = 409


class EventFull(Conflict):
    pass


@dataclass(frozen=True)
class RsvpResult:
    rsvp: Rsvp
    created: bool  # False: the same person had already answered
    person_created: bool = False  # a new supporter: nobody else's data is involved


def rsvp(
    *,
    event: Event,
    data: PersonData,
    actor: Any = None,
    share_with: Mapping[int, str] | None = None,
    partners: Mapping[int, str] | None = None,
    source: str = "form",
    notify: bool = True,
    anonymous: bool = False,
    person_source: str = Source.EVENT,
) -> RsvpResult:
    """Answer "I'm coming" for a person found or created from `data`.

    The same person answering again gets their RSVP back, unchanged; someone
    who had cancelled comes back in the queue like a newcomer.

    `anonymous`: typed into the public form, by anyone. For a supporter already
    known, it then adds no contact (`upsert_person(anonymous=True)`) and shares
    nothing with co-hosts: only the person, through their own ticket, can.

    `partners`: the campaign partners whose box was ticked (organization id ->
    the box's exact words). Once the RSVP stands, what was typed (nothing the
    host knew) joins each one's own supporters, whoever typed it: that copies
    nothing of the host's, so it needs no such care.

    `person_source`: where a supporter created here came from (the API says "api").
    """
    if event.status != EventStatus.PUBLISHED or event.ends_at < timezone.now():
        raise EventClosed("event_closed", _("This event no longer takes answers."))
    typed = data
    local_day = timezone.localtime(event.starts_at, _zone(event)).date()
    data = _with_phone_day(data, local_day)
    found = upsert_person(
        organization=event.organization,
        actor=actor or "rsvp",
        data=data,
        source=person_source,
        source_ref=f"event:{event.pk}",
        anonymous=anonymous,
    )
    person = found.person
    if anonymous and not found.created:
        share_with = None
    with transaction.atomic():
        row, created = _row(event, person, data.language, source)
        # The same answer again: whoever typed this person's address learns nothing more
        # and changes nothing; sharing with a co-host is only for the answer made now.
        again = not created and row.status != RsvpStatus.CANCELLED
        if not again:
            _share(event, row, share_with)
            row.status = _take_place(event)
            row.modified_at = timezone.now()
            Rsvp.objects.filter(pk=row.pk).update(status=row.status, modified_at=row.modified_at)
            if not created:  # back after cancelling
                _status_changed(row, row.status)
    # After the transaction that took the place: the event's row is not held meanwhile.
    _share_with_partners(event, typed, partners, actor)
    if again:
        return RsvpResult(row, created=False, person_created=found.created)
    if notify:
        _notify(row, "confirmed" if row.status == RsvpStatus.CONFIRMED else "waiting")
    return RsvpResult(row, created=True, person_created=found.created)


def _zone(event: Event) -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(event.time_zone)


def _with_phone_day(data: PersonData, day: Any) -> PersonData:
    from dataclasses import replace

    return replace(data, phone_collected_for=day) if data.phone else data


def _row(event: Event, person: Person, language: str, source: str) -> tuple[Rsvp, bool]:
    """The person's RSVP row, created with a fresh code if they have none."""
    existing = Rsvp.objects.select_for_update().filter(event=event, person=person).first()
    if existing is not None:
        return existing, False
    for _attempt in range(5):
        try:
            with transaction.atomic():
                created = Rsvp.objects.create(
                    organization_id=event.organization_id,
                    event=event,
                    person=person,
                    status=RsvpStatus.CANCELLED,  # until a place is taken, below
                    language=language or person.language,
                    code=tickets.new_code(),
                    source=source,
                )
            return created, True
        except IntegrityError:
            # The same person at the same moment, or (rarely) a code already used.
            existing = Rsvp.objects.select_for_update().filter(event=event, person=person).first()
            if existing is not None:
                return existing, False
    raise Conflict("rsvp_busy", _("Please try again in a moment."))


def _share(event: Event, row: Rsvp, share_with: Mapping[int, str] | None) -> None:
    """Record each co-host whose box was ticked (organization id -> the box's exact words);
    a share is never taken back silently, and an id that is not a co-host is ignored."""
    if not share_with:
        return
    co_hosts = CoHost.objects.filter(
        event=event, co_host_id__in=list(share_with), accepted_at__isnull=False
    ).values_list("co_host_id", flat=True)
    for organization_id in co_hosts:
        RsvpShare.objects.get_or_create(
            rsvp=row,
            co_host_id=organization_id,
            organization_id=event.organization_id,
            defaults={"wording": share_with[organization_id]},
        )


def _share_with_partners(
    event: Event, typed: PersonData, ticked: Mapping[int, str] | None, actor: Any
) -> None:
    """The ticked partners among those the campaigns holding the event have now."""
    if not ticked:
        return
    boxes = [
        box
        for box in campaign_partners.boxes_for(event=event)
        if box.organization.pk != event.organization_id
    ]
    campaign_partners.share(
        boxes=boxes, ticked=ticked, data=typed, source=f"event:{event.pk}", actor=actor
    )


def _take_place(event: Event) -> str:
    """Confirmed if a place is left (taken atomically), else waiting or full."""
    if _one_more(event.pk):
        return RsvpStatus.CONFIRMED
    # The organizer may have changed it since `event` was read: the row decides.
    if Event.objects.filter(pk=event.pk).values_list("waiting_list", flat=True).get():
        return RsvpStatus.WAITING
    raise EventFull("event_full", _("This event is full."))


def _one_more(event_id: int) -> bool:
    """Take a place if one is left, by the row's own capacity: one conditional UPDATE."""
    free = Q(capacity__isnull=True) | Q(confirmed__lt=F("capacity"))
    return bool(Event.objects.filter(free, pk=event_id).update(confirmed=F("confirmed") + 1))


def cancel_rsvp(*, rsvp: Rsvp, actor: Any = None) -> Rsvp | None:
    """Give the place back; returns the RSVP promoted from the waiting list, if any."""
    promoted = None
    with transaction.atomic():
        row = Rsvp.objects.select_for_update().get(pk=rsvp.pk)
        if row.status == RsvpStatus.CANCELLED:
            return None
        was_confirmed = row.status == RsvpStatus.CONFIRMED
        Rsvp.objects.filter(pk=row.pk).update(
            status=RsvpStatus.CANCELLED, modified_at=timezone.now()
        )
        _status_changed(row, RsvpStatus.CANCELLED)
        if was_confirmed:
            promoted = _hand_over_place(row.event_id)
        # Staff and machines (an API token's label) leave a row; an attendee's own
        # choice from their ticket page does not.
        if _is_staff_or_machine(actor):
            audit.log(actor, "events.rsvp.cancelled", row)
    rsvp.status = RsvpStatus.CANCELLED
    if promoted is not None:
        _notify(promoted, "promoted")
    return promoted


def _is_staff_or_machine(actor: Any) -> bool:
    return isinstance(actor, str) or getattr(actor, "is_authenticated", False)


def _hand_over_place(event_id: int) -> Rsvp | None:
    """The freed place goes to the first person waiting, if the event is still on and the
    place is really free (the capacity may have been lowered below the people coming)."""
    Event.objects.filter(pk=event_id, confirmed__gt=0).update(confirmed=F("confirmed") - 1)
    event = Event.objects.only("pk", "status", "capacity", "confirmed").get(pk=event_id)
    if event.status != EventStatus.PUBLISHED:
        return None
    promoted = _promote(event, limit=1)
    return promoted[0] if promoted else None


def _promote(event: Event, *, limit: int) -> list[Rsvp]:
    """Up to `limit` people waiting, in the order they answered, each taking a place by
    the same conditional UPDATE as an RSVP: never more than the capacity.

    The waiting rows are locked in turn, waiting for any other holder: whoever holds
    a waiting row (an answer sent again, the gate) never then waits on the event row,
    so this cannot deadlock, and nobody waiting is skipped for a newcomer.
    """
    promoted: list[Rsvp] = []
    after = 0
    while len(promoted) < limit:
        row = (
            Rsvp.objects.select_for_update()
            .filter(event_id=event.pk, status=RsvpStatus.WAITING, person__isnull=False)
            .filter(pk__gt=after)
            .order_by("id")
            .first()
        )
        if row is None or not _one_more(event.pk):
            break
        after = row.pk
        row.status, row.modified_at = RsvpStatus.CONFIRMED, timezone.now()
        Rsvp.objects.filter(pk=row.pk).update(status=row.status, modified_at=row.modified_at)
        _status_changed(row, row.status)
        promoted.append(row)
    return promoted


def fill_free_places(event: Event) -> list[Rsvp]:
    """After the capacity was raised (or removed): the people waiting get the new places,
    first come first served, and are told. Call inside the transaction that changed it."""
    if event.status != EventStatus.PUBLISHED:
        return []
    current = Event.objects.only("capacity", "confirmed").get(pk=event.pk)
    free = None if current.capacity is None else current.capacity - current.confirmed
    if free is not None and free <= 0:
        return []
    promoted = _promote(event, limit=free if free is not None else 10_000)
    for row in promoted:
        _notify(row, "promoted")
    return promoted


@dataclass(frozen=True)
class CheckInResult:
    check_in: CheckIn
    already: bool  # True: this person had come through before (another scan)


def check_in(
    *, event: Event, rsvp: Rsvp, actor: Any, nonce: str, method: str = "scan"
) -> CheckInResult:
    """Let a confirmed attendee in. The same request sent twice (same nonce) is one
    check-in; a second scan of the same ticket says when, and by whom, the first was."""
    if rsvp.event_id != event.pk:
        raise DomainError("other_event", _("This ticket is for another event."), status=404)
    if rsvp.status != RsvpStatus.CONFIRMED:
        raise DomainError("not_confirmed", _("This person is not on the list of attendees."))
    nonce = nonce.replace("\x00", "")[:64]  # PostgreSQL refuses NUL in text

    def _same_request(earlier: CheckIn) -> CheckInResult:
        # A retried request gets its first answer; a nonce reused for someone else is
        # refused (answering with that other person's check-in would let a stranger in).
        if earlier.rsvp_id != rsvp.pk:
            raise Conflict("nonce_reused", _("This request was already used. Please try again."))
        return CheckInResult(earlier, already=False)

    same_request = CheckIn.objects.filter(event=event, nonce=nonce).first()
    if same_request is not None:
        return _same_request(same_request)
    try:
        with transaction.atomic():
            made = CheckIn.objects.create(
                organization_id=event.organization_id,
                event=event,
                rsvp=rsvp,
                nonce=nonce,
                method=method,
                checked_in_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            # No name in the audit row: the RSVP's id is enough to find who it was.
            audit.log(actor, "events.check_in.created", made, {"rsvp": rsvp.pk, "method": method})
            headcount.add(event.pk, method=method)  # last: its row is locked until the commit
        return CheckInResult(made, already=False)
    except IntegrityError:
        earlier = CheckIn.objects.filter(event=event, nonce=nonce).first()
        if earlier is not None:  # the same request, twice at once
            return _same_request(earlier)
        return CheckInResult(CheckIn.objects.get(rsvp=rsvp), already=True)


def send_ticket_again(*, rsvp: Rsvp) -> None:
    """The ticket (or the waiting-list notice) once more, to the address on file only; at
    most once an hour, however often the form is sent with this person's address."""
    if rsvp.status == RsvpStatus.CANCELLED:
        return
    hour = timezone.now().strftime("%Y%m%d%H")
    what = "confirmed" if rsvp.status == RsvpStatus.CONFIRMED else "waiting"
    _notify(rsvp, what, key=f"rsvp:{rsvp.pk}:again:{hour}")


def _notify(row: Rsvp, what: str, key: str = "") -> None:
    """The ticket (or the waiting-list notice) by email, else by SMS; once per change."""
    from saha.messaging.services import preferred_channel, send_transactional

    person = row.person
    if person is None:
        return
    channel = preferred_channel(person)
    transaction.on_commit(
        lambda: send_transactional(
            person,
            f"events/messages/{what}",
            {"rsvp_id": row.pk, "event_id": row.event_id},
            channel,
            key=key or f"rsvp:{row.pk}:{what}:{row.modified_at.isoformat()}",
        )
    )
