"""Needs and shifts, posted by organizers on an event or a campaign.

"20 stewards, Sunday 10:00-14:00, at the square"; "3 vans with at least 8
seats". `wanted` counts people for a skill and offers for a resource; with
shifts, it counts the places over all of them (a person on two shifts fills
two), and each accepted volunteer takes a place of the need and of their shift.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import DomainError
from saha.organizations.models import Organization
from saha.volunteers import places
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Capability,
    Need,
    NeedStatus,
    Shift,
)
from saha.volunteers.offers import fold_locality

EDITABLE = (
    "titles",
    "descriptions",
    "wanted",
    "min_quantity",
    "starts_at",
    "ends_at",
    "location",
    "locality",
    "latitude",
    "longitude",
    "public_sign_up",
)
# Reminders of a shift or a need without shifts, in minutes before it starts.
REMINDERS = (24 * 60, 2 * 60)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _check_parent(organization: Organization, event: Any, campaign: Any) -> None:
    if event is None and campaign is None:
        raise DomainError("need_parent", _("A need belongs to an event or a campaign."))
    for parent in (event, campaign):
        if parent is not None and parent.organization_id != organization.pk:
            raise DomainError("not_found", _("No such event or campaign."), status=404)


def _check_times(starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    if ends_at < starts_at:
        raise DomainError("ends_before", _("The end cannot be before the start."))


def _check_counts(capability: Capability, wanted: int, min_quantity: int | None) -> None:
    if wanted < 1:
        raise DomainError("wanted", _("Ask for at least one."))
    if min_quantity is not None and min_quantity < 1:
        raise DomainError("min_quantity", _("The least per offer must be at least one."))


def reminders_past(starts_at: dt.datetime, now: dt.datetime) -> list[int]:
    """Reminders whose time has passed: not sent late."""
    return [m for m in REMINDERS if now >= starts_at - dt.timedelta(minutes=m)]


def create_need(
    *,
    actor: Any,
    organization: Organization,
    capability: Capability,
    wanted: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    event: Any = None,
    campaign: Any = None,
    min_quantity: int | None = None,
    titles: dict[str, str] | None = None,
    descriptions: dict[str, str] | None = None,
    location: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    public_sign_up: bool = True,
    locality: str = "",
) -> Need:
    """A new open need. The place defaults to the event's (its point on the map, and its
    address's last part as the locality matching compares)."""
    if capability.organization_id != organization.pk:
        raise DomainError("not_found", _("No such capability."), status=404)
    _check_parent(organization, event, campaign)
    _check_times(starts_at, ends_at)
    _check_counts(capability, wanted, min_quantity)
    if event is not None and latitude is None and longitude is None:
        latitude, longitude = event.latitude, event.longitude
    if not locality and event is not None:
        locality = (event.address or "").split(",")[-1]
    need = Need(
        organization=organization,
        event=event,
        campaign=campaign,
        capability=capability,
        titles={k: v for k, v in (titles or {}).items() if v},
        descriptions={k: v for k, v in (descriptions or {}).items() if v},
        wanted=wanted,
        min_quantity=min_quantity if capability.is_resource else None,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        locality_key=fold_locality(locality),
        latitude=latitude,
        longitude=longitude,
        public_sign_up=public_sign_up,
        reminders_sent=reminders_past(starts_at, timezone.now()),
        created_by=_user(actor),
    )
    with transaction.atomic():
        need.full_clean(exclude=["organization", "created_by", "event", "campaign", "capability"])
        need.save()
        audit.log(actor, "volunteers.need.created", need, {"capability": capability.key})
    return need


def update_need(*, actor: Any, need: Need, **fields: Any) -> Need:
    """Change a need. Its row is locked and only the fields named are written: `filled`
    moves under volunteers at the same moment. More places wanted go first to the
    people waiting."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    with transaction.atomic():
        current = Need.objects.select_for_update().get(pk=need.pk)
        for name in ("filled", "status", "reminders_sent"):
            setattr(need, name, getattr(current, name))
        locality = fields.pop("locality", None)
        changed = list(fields)
        for name, value in fields.items():
            setattr(need, name, value)
        if locality is not None:
            need.locality_key = fold_locality(locality)
            changed.append("locality_key")
        if not need.capability.is_resource:
            need.min_quantity = None
        _check_times(need.starts_at, need.ends_at)
        _check_counts(need.capability, need.wanted, need.min_quantity)
        if need.wanted < current.filled:
            raise DomainError(
                "below_filled",
                _("%(n)d volunteers are already in: release some first.") % {"n": current.filled},
                status=409,
            )
        if "starts_at" in fields and fields["starts_at"] != current.starts_at:
            need.reminders_sent = reminders_past(need.starts_at, timezone.now())
            changed.append("reminders_sent")
        need.modified_at = timezone.now()
        need.full_clean(exclude=["organization", "created_by", "event", "campaign", "capability"])
        need.save(update_fields=[*changed, "modified_at"])
        audit.log(actor, "volunteers.need.changed", need, {"fields": sorted(changed)})
        if need.wanted > current.filled:
            _fill_free_places(need)
    return need


def _fill_free_places(need: Need) -> list[Assignment]:
    from saha.volunteers import notices

    free = Need.objects.filter(pk=need.pk).values_list("wanted", "filled").get()
    promoted = places.promote(need_id=need.pk, shift_id=None, limit=free[0] - free[1])
    for row in promoted:
        notices.assignment(row, "promoted")
    return promoted


def close_need(*, actor: Any, need: Need) -> bool:
    """No more volunteers for it; those already in stay in."""
    with transaction.atomic():
        changed = Need.objects.filter(pk=need.pk, status=NeedStatus.OPEN).update(
            status=NeedStatus.CLOSED, modified_at=timezone.now()
        )
        if changed:
            need.status = NeedStatus.CLOSED
            audit.log(actor, "volunteers.need.closed", need)
    return bool(changed)


def reopen_need(*, actor: Any, need: Need) -> bool:
    with transaction.atomic():
        changed = Need.objects.filter(pk=need.pk, status=NeedStatus.CLOSED).update(
            status=NeedStatus.OPEN, modified_at=timezone.now()
        )
        if changed:
            need.status = NeedStatus.OPEN
            audit.log(actor, "volunteers.need.reopened", need)
            _fill_free_places(need)
    return bool(changed)


def add_shift(
    *, actor: Any, need: Need, starts_at: dt.datetime, ends_at: dt.datetime, capacity: int
) -> Shift:
    _check_times(starts_at, ends_at)
    if capacity < 1:
        raise DomainError("capacity", _("A shift needs at least one place."))
    with transaction.atomic():
        shift = Shift.objects.create(
            organization_id=need.organization_id,
            need=need,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            reminders_sent=reminders_past(starts_at, timezone.now()),
        )
        audit.log(
            actor,
            "volunteers.shift.added",
            shift,
            {"need": need.pk, "capacity": capacity},
            organization=need.organization,
        )
    return shift


def remove_shift(*, actor: Any, shift: Shift) -> bool:
    """A shift nobody is on (accepted, invited or waiting) goes; one with volunteers is
    refused: release them first, so each is told and the need's count stays right."""
    with transaction.atomic():
        locked = Shift.objects.select_for_update().filter(pk=shift.pk).first()
        if locked is None:
            return False
        active = (AssignmentStatus.ACCEPTED, AssignmentStatus.INVITED, AssignmentStatus.WAITING)
        if Assignment.objects.filter(shift=locked, status__in=active).exists():
            raise DomainError(
                "shift_has_volunteers",
                _("Volunteers are on this shift: release them first."),
                status=409,
            )
        audit.log(
            actor,
            "volunteers.shift.removed",
            locked,
            {"need": locked.need_id},
            organization=locked.need.organization,
        )
        locked.delete()
    return True
