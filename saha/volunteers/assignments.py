"""People on needs: invited by a coordinator, accepting or declining by link, signing up
for a shift on the public page, assigned directly, released, and then attending.

Every change of state takes or gives back places through `places` (conditional
UPDATEs) inside the transaction that changes the assignment's row, which is
locked first. The volunteer is told by message once the transaction commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import DomainError
from saha.supporters.models import Person, Source
from saha.supporters.services import PersonData, upsert_person
from saha.volunteers import notices, places
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Need,
    NeedStatus,
    Offer,
    OfferedCapability,
    OfferStatus,
    Shift,
)
from saha.volunteers.offers import share_with_partners

MAX_HOURS = Decimal("999.99")


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _check_shift(need: Need, shift: Shift | None) -> None:
    if shift is not None and shift.need_id != need.pk:
        raise DomainError("not_found", _("No such shift."), status=404)


def _check_open(need: Need) -> None:
    if need.status != NeedStatus.OPEN:
        raise places.need_closed()


def _unit_quantity(need: Need, offered: OfferedCapability | None, quantity: int | None) -> int:
    """Units one assignment commits: for a resource, as asked, else the need's least per
    offer, else one; one person for a skill."""
    if offered is None or offered.quantity is None:
        return 1
    chosen = quantity or need.min_quantity or 1
    if chosen < 1 or (need.min_quantity and chosen < need.min_quantity):
        raise DomainError(
            "too_few_units",
            _("This need asks for at least %(n)d per offer.") % {"n": need.min_quantity or 1},
        )
    return chosen


def _row(need: Need, shift: Shift | None, person: Person) -> Assignment | None:
    """The person's assignment on this need (and shift), locked, if there is one."""
    return (
        Assignment.objects.select_for_update().filter(need=need, shift=shift, person=person).first()
    )


def _create(need: Need, shift: Shift | None, person: Person, **fields: Any) -> Assignment | None:
    """A new row, or None when the same person's row appeared meanwhile (unique)."""
    try:
        with transaction.atomic():
            return Assignment.objects.create(
                organization_id=need.organization_id,
                need=need,
                shift=shift,
                person=person,
                **fields,
            )
    except IntegrityError:
        return None


def _set(row: Assignment, status: str, **fields: Any) -> None:
    row.status, row.responded_at = status, timezone.now()
    for name, value in fields.items():
        setattr(row, name, value)
    row.save(update_fields=["status", "responded_at", *fields])


def _take(row: Assignment) -> None:
    places.take(
        need_id=row.need_id, shift_id=row.shift_id, offered_id=row.offered_id, quantity=row.quantity
    )


def _give_back_and_promote(row: Assignment) -> list[Assignment]:
    places.give_back(row)
    return places.promote(need_id=row.need_id, shift_id=row.shift_id)


# --- Invitations and answers ---------------------------------------------------------


def invite(*, actor: Any, need: Need, offers: Sequence[Offer], shift: Shift | None = None) -> int:
    """Invite each offer's person (once: anyone already on the need, in any state, is
    left alone); each gets one message with their accept and decline link. Returns how
    many were invited now."""
    _check_shift(need, shift)
    _check_open(need)
    offered_by_offer = {
        row.offer_id: row
        for row in OfferedCapability.objects.filter(
            offer__in=[offer.pk for offer in offers], capability_id=need.capability_id
        )
    }
    invited = 0
    for offer in offers:
        if offer.organization_id != need.organization_id or offer.status != OfferStatus.ACTIVE:
            continue
        offered = offered_by_offer.get(offer.pk)
        if offered is None and need.capability.is_resource:
            continue  # a resource is invited with the units it offers
        with transaction.atomic():
            row = _create(
                need,
                shift,
                offer.person,
                offered=offered,
                status=AssignmentStatus.INVITED,
                quantity=_unit_quantity(need, offered, None),
                invited_by=_user(actor),
            )
            if row is None:
                continue
            audit.log(actor, "volunteers.assignment.invited", row, {"need": need.pk})
            notices.assignment(row, "invited")
        invited += 1
    return invited


def respond(*, assignment: Assignment, accept: bool, actor: Any = None) -> Assignment:
    """The volunteer's answer, by link. Accepting takes a place (the need full: DomainError
    `need_full`); declining after accepting gives it back to the first person waiting."""
    promoted: list[Assignment] = []
    with transaction.atomic():
        row = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("need")
            .get(pk=assignment.pk)
        )
        if accept:
            if row.status == AssignmentStatus.ACCEPTED:
                return row
            if row.status == AssignmentStatus.CANCELLED:
                raise DomainError(
                    "assignment_cancelled",
                    _("This place was cancelled. Ask the organizers if you can still help."),
                    status=409,
                )
            _check_open(row.need)
            _take(row)
            _set(row, AssignmentStatus.ACCEPTED)
        else:
            if row.status in (AssignmentStatus.DECLINED, AssignmentStatus.CANCELLED):
                return row
            if row.status == AssignmentStatus.ACCEPTED:
                promoted = _give_back_and_promote(row)
            _set(row, AssignmentStatus.DECLINED)
        audit.log(
            actor or "volunteer link",
            "volunteers.assignment.accepted" if accept else "volunteers.assignment.declined",
            row,
            {"need": row.need_id},
        )
        if accept:
            notices.assignment(row, "confirmed")
        for other in promoted:
            notices.assignment(other, "promoted")
    return row


def assign(
    *,
    actor: Any,
    need: Need,
    offered: OfferedCapability,
    quantity: int | None = None,
    shift: Shift | None = None,
) -> Assignment:
    """A coordinator puts an offer on the need directly. Guarded by the need's places
    (`need_full`) and, for a resource, by the units left (`not_enough_left`)."""
    _check_shift(need, shift)
    _check_open(need)
    if offered.organization_id != need.organization_id:
        raise DomainError("not_found", _("No such offer."), status=404)
    if offered.capability_id != need.capability_id:
        raise DomainError("wrong_capability", _("This offer does not give what the need asks."))
    offer = Offer.objects.select_related("person").get(pk=offered.offer_id)
    if offer.status != OfferStatus.ACTIVE:
        raise DomainError("offer_withdrawn", _("This offer was withdrawn."), status=409)
    units = _unit_quantity(need, offered, quantity)
    with transaction.atomic():
        row = _row(need, shift, offer.person) or _create(
            need, shift, offer.person, status=AssignmentStatus.INVITED, quantity=units
        )
        if row is None:  # made at this moment by another coordinator: wait for theirs
            row = _row(need, shift, offer.person)
        assert row is not None
        if row.status == AssignmentStatus.ACCEPTED:
            return row
        row.offered, row.quantity = offered, units
        _take(row)
        _set(
            row, AssignmentStatus.ACCEPTED, offered=offered, quantity=units, invited_by=_user(actor)
        )
        audit.log(
            actor, "volunteers.assignment.assigned", row, {"need": need.pk, "quantity": units}
        )
        notices.assignment(row, "assigned")
    return row


def release(*, actor: Any, assignment: Assignment, notify: bool = True) -> bool:
    """Cancel: the place and the units go back, to the first person waiting if any.
    `notify`: tell the volunteer (not when they cancelled themselves)."""
    with transaction.atomic():
        row = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if row.status in (AssignmentStatus.CANCELLED, AssignmentStatus.DECLINED):
            return False
        promoted = _give_back_and_promote(row) if row.status == AssignmentStatus.ACCEPTED else []
        _set(row, AssignmentStatus.CANCELLED)
        audit.log(actor, "volunteers.assignment.released", row, {"need": row.need_id})
        if notify:
            notices.assignment(row, "released")
        for other in promoted:
            notices.assignment(other, "promoted")
    assignment.status = AssignmentStatus.CANCELLED
    return True


# --- Public sign-up ----------------------------------------------------------------


def _takes_sign_ups(need: Need, shift: Shift | None) -> None:
    from saha.campaigns.models import CampaignStatus
    from saha.events.models import EventStatus

    now = timezone.now()
    ends = shift.ends_at if shift is not None else need.ends_at
    closed = (
        need.status != NeedStatus.OPEN
        or not need.public_sign_up
        or need.capability.is_resource
        or ends < now
        or (need.event is not None and need.event.status != EventStatus.PUBLISHED)
        or (
            need.event is None
            and (need.campaign is None or need.campaign.status != CampaignStatus.PUBLISHED)
        )
    )
    if closed:
        raise DomainError("sign_up_closed", _("This need no longer takes sign-ups."), status=409)


def sign_up_for_shift(
    *,
    shift: Shift,
    data: PersonData,
    actor: Any = None,
    anonymous: bool = True,
    partners: Mapping[int, str] | None = None,
) -> Assignment:
    """A volunteer signs up on the public page: confirmed if a place is left in the shift
    and the need, else on the waiting list. The same person again changes nothing and
    gets their message again (at most hourly).

    `partners`: the partner boxes ticked on the need's page (organization id -> the
    box's exact words), for the published campaigns that are the need's campaign or
    hold its event: what was typed joins each one's own supporters, in the sign-up's
    transaction."""
    return _sign_up(
        need=shift.need, shift=shift, data=data, actor=actor, anonymous=anonymous, partners=partners
    )


def sign_up_for_need(
    *,
    need: Need,
    data: PersonData,
    actor: Any = None,
    anonymous: bool = True,
    partners: Mapping[int, str] | None = None,
) -> Assignment:
    """The same, for a need that has no shifts."""
    return _sign_up(
        need=need, shift=None, data=data, actor=actor, anonymous=anonymous, partners=partners
    )


def _sign_up(
    *,
    need: Need,
    shift: Shift | None,
    data: PersonData,
    actor: Any,
    anonymous: bool,
    partners: Mapping[int, str] | None,
) -> Assignment:
    _takes_sign_ups(need, shift)
    found = upsert_person(
        organization=need.organization,
        actor=actor or "volunteer sign-up",
        data=data,
        source=Source.VOLUNTEER,
        source_ref=f"need:{need.pk}",
        anonymous=anonymous,
    )
    with transaction.atomic():
        row = earlier = _row(need, shift, found.person)
        if row is None:
            row = _create(need, shift, found.person, status=AssignmentStatus.CANCELLED)
            row = row or _row(need, shift, found.person)
        assert row is not None
        # Before any place is taken: the need's counters stay locked the least time.
        share_with_partners(
            need.organization,
            [need.event, need.campaign],
            ticked=partners,
            data=data,
            source=f"need:{need.pk}",
            actor=actor or "volunteer sign-up",
        )
        # A public form typed by anyone never reopens what a known supporter declined
        # or a coordinator released: the person is sent their own link instead.
        typed_by_anyone = anonymous and not found.created and earlier is not None
        if typed_by_anyone or row.status in (
            AssignmentStatus.ACCEPTED,
            AssignmentStatus.WAITING,
            AssignmentStatus.INVITED,
        ):
            notices.assignment_again(row)
            return row
        refused = places.try_take(
            need_id=need.pk, shift_id=row.shift_id, offered_id=None, quantity=1
        )
        if refused == "need_closed":
            raise places.need_closed()
        status = AssignmentStatus.WAITING if refused else AssignmentStatus.ACCEPTED
        _set(row, status, offered=None, quantity=1)
        audit.log(
            actor or "volunteer sign-up",
            "volunteers.assignment.signed_up",
            row,
            {"need": need.pk, "shift": row.shift_id, "status": status},
        )
        notices.assignment(row, "confirmed" if status == AssignmentStatus.ACCEPTED else "waiting")
    return row


# --- Attendance -------------------------------------------------------------------


def _length_in_hours(row: Assignment) -> Decimal:
    span: dt.timedelta = (
        row.shift.ends_at - row.shift.starts_at
        if row.shift is not None
        else row.need.ends_at - row.need.starts_at
    )
    return min(MAX_HOURS, Decimal(span.total_seconds() / 3600).quantize(Decimal("0.01")))


def record_attendance(
    *, actor: Any, assignment: Assignment, attended: bool, hours: Decimal | None = None
) -> Assignment:
    """After the shift: came or not, and hours given (by default the shift's length)."""
    with transaction.atomic():
        row = (
            Assignment.objects.select_for_update(of=("self",))
            .select_related("need", "shift")
            .get(pk=assignment.pk)
        )
        if row.status != AssignmentStatus.ACCEPTED:
            raise DomainError(
                "not_accepted", _("Only a volunteer who had a place can be marked."), status=409
            )
        if hours is not None and not (Decimal(0) <= Decimal(hours) <= MAX_HOURS):
            raise DomainError("hours", _("Give the hours as a number between 0 and 999."))
        if not attended:
            hours = None
        elif hours is None:
            hours = _length_in_hours(row)
        row.attended, row.hours = attended, hours
        row.save(update_fields=["attended", "hours"])
        audit.log(
            actor,
            "volunteers.assignment.attendance",
            row,
            {"attended": attended, "hours": str(hours) if hours is not None else None},
        )
    return row
