"""How volunteers answer what happens to people elsewhere: merging two records of one
person, and erasing one."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone

from saha.supporters.models import Person
from saha.supporters.services import people_merged, person_erasing
from saha.volunteers import places
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Availability,
    Offer,
    OfferedCapability,
    OfferStatus,
)

AREA_FIELDS = ("region", "locality", "locality_key", "latitude", "longitude", "notes", "language")


@receiver(people_merged, sender=Person)
def move_volunteering(sender: Any, kept: Person, other: Person, **kwargs: Any) -> None:
    """One offer per person: the kept person's stays, with the other's capabilities and
    availability added; the other's assignments become the kept person's, where both were
    on the same need (or shift) the one holding a place stays."""
    _merge_offers(kept, other)
    _merge_assignments(kept, other)


def _merge_offers(kept: Person, other: Person) -> None:
    theirs = Offer.objects.select_for_update().filter(person=other).first()
    if theirs is None:
        return
    mine = Offer.objects.select_for_update().filter(person=kept).first()
    if mine is None:
        Offer.objects.filter(pk=theirs.pk).update(person=kept)
        return
    for row in OfferedCapability.objects.filter(offer=theirs):
        same = OfferedCapability.objects.filter(offer=mine, capability_id=row.capability_id).first()
        if same is None:
            OfferedCapability.objects.filter(pk=row.pk).update(offer=mine)
            continue
        # Both offered it: one row, holding the units both had promised.
        committed = same.committed + row.committed
        quantity = None
        if same.quantity is not None or row.quantity is not None:
            quantity = max(same.quantity or 0, row.quantity or 0, committed)
        OfferedCapability.objects.filter(pk=same.pk).update(quantity=quantity, committed=committed)
        Assignment.objects.filter(offered=row).update(offered=same)
        row.delete()
    Availability.objects.filter(offer=theirs).update(offer=mine)
    filled = {name: getattr(theirs, name) for name in AREA_FIELDS if not getattr(mine, name)}
    if theirs.status == OfferStatus.ACTIVE:
        filled["status"] = OfferStatus.ACTIVE
    Offer.objects.filter(pk=mine.pk).update(**filled, modified_at=timezone.now())
    theirs.delete()


def _merge_assignments(kept: Person, other: Person) -> None:
    for row in Assignment.objects.select_for_update().filter(person=other).order_by("pk"):
        clash = Assignment.objects.filter(
            person=kept, need_id=row.need_id, shift_id=row.shift_id
        ).first()
        if clash is None:
            Assignment.objects.filter(pk=row.pk).update(person=kept)
        elif row.status == AssignmentStatus.ACCEPTED and clash.status != AssignmentStatus.ACCEPTED:
            clash.delete()
            Assignment.objects.filter(pk=row.pk).update(person=kept)
        else:
            if row.status == AssignmentStatus.ACCEPTED:
                places.give_back(row)  # one person counted once
            row.delete()


@receiver(person_erasing, sender=Person)
def forget_volunteer(sender: Any, person: Person, **kwargs: Any) -> None:
    """The offer goes; a place the person held on a need still to come goes back (to the
    first person waiting), and their assignments go with them."""
    from saha.volunteers.assignments import release

    now = timezone.now()
    holding = (AssignmentStatus.ACCEPTED, AssignmentStatus.WAITING, AssignmentStatus.INVITED)
    for row in Assignment.objects.filter(person=person, status__in=holding, need__ends_at__gte=now):
        release(actor="erasure", assignment=row, notify=False)
    Assignment.objects.filter(person=person).delete()
    Offer.objects.filter(person=person).delete()
