"""The counters of coverage: a need's `filled`, a shift's `taken`, a resource's `committed`.

Each moves only through one conditional UPDATE whose WHERE clause is the rule
(`filled < wanted`, `taken < capacity`, `committed + n <= quantity`): the
database lets one writer at a time past the check, so two coordinators giving
away the last seat of a van, or two volunteers taking the last place of a
shift, give it once. Counters are always taken and given back in the same
order (need, shift, units), so two transactions never wait on each other
crosswise.

An ACCEPTED assignment holds one place of its need, one of its shift (if it
has one) and, for a resource, `quantity` units of its offered capability.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Need,
    NeedStatus,
    OfferedCapability,
    Shift,
)

# Waiting assignments tried, at most, when one place frees up.
PROMOTE_ATTEMPTS = 50


def need_full() -> Conflict:
    return Conflict("need_full", _("This need is already covered: thank you all the same."))


def shift_full() -> Conflict:
    return Conflict("shift_full", _("This shift is already full."))


def not_enough_left() -> Conflict:
    return Conflict("not_enough_left", _("Not enough of this offer is left for this need."))


def need_closed() -> DomainError:
    return DomainError("need_closed", _("This need no longer takes volunteers."), status=409)


def _one_more_in_need(need_id: int) -> bool:
    return bool(
        Need.objects.filter(pk=need_id, status=NeedStatus.OPEN, filled__lt=F("wanted")).update(
            filled=F("filled") + 1
        )
    )


def _one_more_in_shift(shift_id: int) -> bool:
    return bool(
        Shift.objects.filter(pk=shift_id, taken__lt=F("capacity")).update(taken=F("taken") + 1)
    )


def _commit_units(offered_id: int, quantity: int) -> bool:
    return bool(
        OfferedCapability.objects.filter(
            pk=offered_id, quantity__isnull=False, committed__lte=F("quantity") - quantity
        ).update(committed=F("committed") + quantity)
    )


def counts_units(offered_id: int | None) -> bool:
    """Whether the offered capability is a resource counted in units (a skill is not)."""
    if offered_id is None:
        return False
    return OfferedCapability.objects.filter(pk=offered_id, quantity__isnull=False).exists()


def take(*, need_id: int, shift_id: int | None, offered_id: int | None, quantity: int) -> None:
    """Take a place of the need, of the shift and the units, all or nothing; raises
    `need_full`, `need_closed`, `shift_full` or `not_enough_left`."""
    with transaction.atomic():
        if not _one_more_in_need(need_id):
            status = Need.objects.filter(pk=need_id).values_list("status", flat=True).first()
            raise need_closed() if status != NeedStatus.OPEN else need_full()
        if shift_id is not None and not _one_more_in_shift(shift_id):
            raise shift_full()
        if counts_units(offered_id) and not _commit_units(offered_id or 0, quantity):
            raise not_enough_left()


def try_take(*, need_id: int, shift_id: int | None, offered_id: int | None, quantity: int) -> str:
    """`take`, answering the error's code ("" when taken) instead of raising."""
    try:
        take(need_id=need_id, shift_id=shift_id, offered_id=offered_id, quantity=quantity)
    except DomainError as error:
        return error.code
    return ""


def give_back(assignment: Assignment) -> None:
    """What an accepted assignment held goes back (call when it stops being ACCEPTED)."""
    Need.objects.filter(pk=assignment.need_id, filled__gt=0).update(filled=F("filled") - 1)
    if assignment.shift_id is not None:
        Shift.objects.filter(pk=assignment.shift_id, taken__gt=0).update(taken=F("taken") - 1)
    if assignment.offered_id is not None:
        OfferedCapability.objects.filter(
            pk=assignment.offered_id, quantity__isnull=False, committed__gte=assignment.quantity
        ).update(committed=F("committed") - assignment.quantity)


def promote(*, need_id: int, shift_id: int | None, limit: int = 1) -> list[Assignment]:
    """Up to `limit` people waiting take the places now free, first come first served,
    those of the same shift first. Call inside the transaction that freed the place.

    Waiting rows are locked with SKIP LOCKED (PostgreSQL): a row held by someone
    else is that volunteer busy answering or cancelling, and waiting for it while
    holding the need's row could deadlock.
    """
    waiting = Assignment.objects.filter(need_id=need_id, status=AssignmentStatus.WAITING)
    same = (
        waiting.filter(shift_id=shift_id)
        if shift_id is not None
        else waiting.filter(shift__isnull=True)
    )
    promoted: list[Assignment] = []
    tried: set[int] = set()
    for queue in (same, waiting):
        if len(promoted) >= limit:
            break
        rows = list(
            queue.exclude(pk__in=tried)
            .select_for_update(skip_locked=True)
            .order_by("responded_at", "pk")[:PROMOTE_ATTEMPTS]
        )
        for row in rows:
            if len(promoted) >= limit:
                return promoted
            tried.add(row.pk)
            refused = try_take(
                need_id=need_id,
                shift_id=row.shift_id,
                offered_id=row.offered_id,
                quantity=row.quantity,
            )
            if refused in ("need_full", "need_closed"):
                return promoted  # nobody else can come in either
            if not refused:
                row.status, row.responded_at = AssignmentStatus.ACCEPTED, timezone.now()
                row.save(update_fields=["status", "responded_at"])
                audit.log("system", "volunteers.assignment.promoted", row, {"need": need_id})
                promoted.append(row)
    return promoted
