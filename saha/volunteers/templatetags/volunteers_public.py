"""Template tags for other pages to carry volunteer forms and needs (an event's page, a
campaign's hub): `{% offer_form_for organization event=event as form %}` (or
`campaign=campaign`, or neither) and
`{% open_needs event=event as needs %}` (or `campaign=campaign`)."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import BooleanField, ExpressionWrapper, F, Q

from saha.organizations.models import Organization
from saha.volunteers import offers
from saha.volunteers.capabilities import active_capabilities
from saha.volunteers.forms import OfferForm
from saha.volunteers.models import Need, NeedStatus

register = template.Library()
MAX_NEEDS = 20


@register.simple_tag
def offer_form_for(
    organization: Organization, event: Any = None, campaign: Any = None
) -> OfferForm:
    """A blank offer form for the organization's capabilities, with one unticked box per
    partner of the campaigns of the page (the published `event` or `campaign` of the
    organization; the offer page checks it again when the form comes back). Its ids are
    its own (`offer_…`): the page carrying it has forms of its own with the same names."""
    parent = offers.embedded_in(
        organization,
        event=getattr(event, "pk", "") or "",
        campaign=getattr(campaign, "pk", "") or "",
    )
    return OfferForm(
        organization=organization,
        capabilities=active_capabilities(organization),
        partner_boxes=offers.partner_boxes(organization, parent),
        auto_id="offer_%s",
    )


@register.simple_tag
def open_needs(event: Any = None, campaign: Any = None) -> list[Need]:
    """The open needs of an event or a campaign taking public sign-ups, not yet covered
    first (each links to its page, `volunteers:need`)."""
    if event is None and campaign is None:
        return []
    needs = Need.objects.select_related("organization", "capability").filter(
        status=NeedStatus.OPEN, public_sign_up=True
    )
    needs = needs.filter(event=event) if event is not None else needs.filter(campaign=campaign)
    covered = ExpressionWrapper(Q(filled__gte=F("wanted")), output_field=BooleanField())
    return list(needs.order_by(covered, "starts_at", "pk")[:MAX_NEEDS])
