"""What volunteers' messages need, loaded from the ids the outbox keeps.

Messages carry only ids (the outbox stores their context as JSON); the worker
renders them in the person's language, with the need's time and place as
they are when the message is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from saha.volunteers import tokens
from saha.volunteers.models import Assignment, Offer
from saha.volunteers.when import Span, need_span

register = template.Library()


@dataclass(frozen=True)
class AssignmentView:
    assignment: Assignment
    title: str
    when: Span
    where: str
    page_url: str
    accept_url: str
    decline_url: str
    unit: str  # for a resource: what the quantity counts ("seats"), else ""


@register.simple_tag
def assignment_view(assignment_id: int) -> AssignmentView | None:
    row = (
        Assignment.objects.select_related(
            "need__organization", "need__event", "need__capability", "shift"
        )
        .filter(pk=assignment_id)
        .first()
    )
    if row is None:
        return None
    need = row.need
    where = need.location or (need.event.venue_name if need.event else "")
    return AssignmentView(
        assignment=row,
        title=need.title,
        when=need_span(need, row.shift),
        where=where,
        page_url=tokens.respond_url(row.pk),
        accept_url=tokens.respond_url(row.pk, "accept"),
        decline_url=tokens.respond_url(row.pk, "decline"),
        unit=str(need.capability.get_unit_display()) if need.capability.is_resource else "",
    )


@dataclass(frozen=True)
class OfferView:
    offer: Offer
    capabilities: list[str]
    page_url: str


@register.simple_tag
def offer_view(offer_id: int) -> OfferView | None:
    offer = Offer.objects.select_related("organization").filter(pk=offer_id).first()
    if offer is None:
        return None
    offered = offer.capabilities.select_related("capability__organization").order_by(
        "capability__position", "pk"
    )
    names = [
        f"{row.capability.name} ({row.quantity})" if row.quantity else row.capability.name
        for row in offered
    ]
    return OfferView(offer=offer, capabilities=names, page_url=tokens.offer_url(offer.pk))
