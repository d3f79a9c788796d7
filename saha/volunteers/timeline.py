"""A person's volunteering on their timeline: their offer, each need they were asked for
or signed up to, and whether they came."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from saha.supporters.models import Person
from saha.supporters.timeline import LIMIT, Moment, register
from saha.volunteers.models import Assignment, AssignmentStatus, OfferedCapability, OfferStatus
from saha.volunteers.texts import capability_name, need_title


def _status_text(status: str) -> str:
    texts: dict[str, str] = {
        AssignmentStatus.INVITED: _("Asked to volunteer: %(need)s"),
        AssignmentStatus.ACCEPTED: _("Volunteering: %(need)s"),
        AssignmentStatus.DECLINED: _("Could not volunteer: %(need)s"),
        AssignmentStatus.WAITING: _("On a volunteers' waiting list: %(need)s"),
        AssignmentStatus.CANCELLED: _("Volunteer place cancelled: %(need)s"),
    }
    return texts.get(status, "%(need)s")


@register
def volunteering(person: Person) -> Iterable[Moment]:
    """Two queries whoever the person is: what they offer (with the offer), and where they
    were asked or signed up."""
    offered = list(
        OfferedCapability.objects.filter(offer__person=person)
        .select_related("offer", "capability__organization")
        .order_by("capability__position", "pk")
    )
    if offered:  # an offer always gives something
        offer = offered[0].offer
        what = ", ".join(
            f"{capability_name(row.capability)} ({row.quantity})"
            if row.quantity
            else str(capability_name(row.capability))
            for row in offered
        )
        yield Moment(when=offer.created_at, kind="volunteer", text=_("Offered help"), detail=what)
        if offer.status == OfferStatus.WITHDRAWN:
            yield Moment(
                when=offer.modified_at, kind="volunteer", text=_("Withdrew their offer of help")
            )
    rows = (
        Assignment.objects.filter(person=person)
        .select_related("need__organization", "need__capability__organization", "shift")
        .order_by("-created_at")[:LIMIT]
    )
    for row in rows:
        yield from _assignment_moments(row)


def _assignment_moments(row: Assignment) -> Iterable[Moment]:
    title = str(need_title(row.need))
    yield Moment(
        when=row.responded_at or row.created_at,
        kind="volunteer",
        text=_status_text(row.status) % {"need": title},
    )
    if row.attended is not None:
        ended = row.shift.ends_at if row.shift is not None else row.need.ends_at
        text = (
            _("Came to volunteer: %(need)s") if row.attended else _("Did not come: %(need)s")
        ) % {"need": title}
        detail = _("%(hours)s hours") % {"hours": row.hours} if row.hours else ""
        yield Moment(when=ended, kind="volunteer", text=text, detail=detail)
