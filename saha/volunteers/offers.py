"""Offers: what one person gives the organization, when, and where.

One offer per person per organization. The public form is typed by anyone, so
for a supporter already known with an offer it changes nothing: the real
owner gets their signed link by message (at most hourly) and updates the offer
there (`update_offer`). The page after the form is the same whatever was typed.

On an event's page or a campaign's hub the form is one of the campaign's forms:
it shows one unticked box per partner of the published campaigns it is on
(`partner_boxes`), and the typed details reach a partner only when its box was
ticked (`submit_offer(partners=...)`, through `saha.campaigns.partners.share`).
A need's sign-up form does the same (`assignments`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.campaigns import partners as campaign_partners
from saha.campaigns.models import Campaign, CampaignStatus
from saha.core import audit
from saha.core.errors import DomainError
from saha.core.tenancy import is_row_id
from saha.events.models import Event, EventStatus
from saha.organizations.models import Organization
from saha.supporters.models import Source
from saha.supporters.services import PersonData, upsert_person
from saha.supporters.text import clean_text, normalize_name
from saha.volunteers import notices
from saha.volunteers.models import (
    Assignment,
    AssignmentStatus,
    Availability,
    Capability,
    Offer,
    OfferedCapability,
    OfferStatus,
)

MAX_QUANTITY = 100_000
MAX_WINDOWS = 10
# Capability id -> (quantity for a resource, else None; details).
Offered = Mapping[int, tuple[int | None, str]]


@dataclass(frozen=True)
class AvailabilityWindow:
    """From one day to another, with an optional daily time window (both times or none)."""

    starts_on: dt.date
    ends_on: dt.date
    from_time: dt.time | None = None
    to_time: dt.time | None = None


def fold_locality(value: str) -> str:
    """A place as matching compares it: case, diacritics and Arabic letter forms folded."""
    return normalize_name(value or "")[:100]


# --- Where a form stands, and its partner boxes --------------------------------------


def embedded_in(
    organization: Organization, *, event: object = "", campaign: object = ""
) -> Event | Campaign | None:
    """The published event or campaign of the organization a form names by id (its
    hidden field, a query string, a reference recorded); anything else: None."""
    if is_row_id(event):
        found = Event.objects.filter(
            organization=organization, pk=str(event), status=EventStatus.PUBLISHED
        ).first()
        if found is not None:
            return found
    if is_row_id(campaign):
        return Campaign.objects.filter(
            organization=organization, pk=str(campaign), status=CampaignStatus.PUBLISHED
        ).first()
    return None


def reference(parent: Event | Campaign | None) -> str:
    """ "event:<id>", "campaign:<id>", or "" (the standalone form)."""
    if parent is None:
        return ""
    return f"{'event' if isinstance(parent, Event) else 'campaign'}:{parent.pk}"


def _from_reference(organization: Organization, source_ref: str) -> Event | Campaign | None:
    kind, _sep, pk = source_ref.partition(":")
    if kind not in ("event", "campaign"):
        return None
    return embedded_in(organization, **{kind: pk})


def partner_boxes(
    organization: Organization, *parents: Event | Campaign | None
) -> list[campaign_partners.PartnerBox]:
    """One box per accepted partner of the published campaigns that are `parents` or hold
    them (an event, a campaign: a need may have both), each organization once and never
    the organization itself. A parent of another organization offers nothing."""
    found: dict[int, campaign_partners.PartnerBox] = {}
    for parent in parents:
        if parent is None or parent.organization_id != organization.pk:
            continue
        if isinstance(parent, Event):
            boxes = campaign_partners.boxes_for(event=parent)
        else:
            boxes = campaign_partners.boxes_for(campaign=parent)
        for box in boxes:
            pk = box.organization.pk
            if pk == organization.pk:
                continue
            known = found.get(pk)
            if known is not None:
                ids = sorted({*known.campaign_ids, *box.campaign_ids})
                box = replace(known, campaign_ids=tuple(ids))
            found[pk] = box
    return sorted(found.values(), key=lambda box: box.organization.name.casefold())


def share_with_partners(
    organization: Organization,
    parents: Sequence[Event | Campaign | None],
    *,
    ticked: Mapping[int, str] | None,
    data: PersonData,
    source: str,
    actor: Any,
) -> int:
    """What was typed, to each ticked partner among the boxes the form has now (a box
    forged, or of a partner gone since the page was shown, shares nothing)."""
    if not ticked:
        return 0
    return campaign_partners.share(
        boxes=partner_boxes(organization, *parents),
        ticked=ticked,
        data=data,
        source=source,
        actor=actor,
    )


# --- Offers -------------------------------------------------------------------------


def _check_offered(organization: Organization, offered: Offered) -> Offered:
    """What is offered, checked: the organization's active capabilities, a quantity for
    each resource (and none for a skill)."""
    if not offered:
        raise DomainError("no_capability", _("Tick at least one thing you can offer."))
    found = {
        capability.pk: capability
        for capability in Capability.objects.for_org(organization).filter(
            pk__in=list(offered), active=True
        )
    }
    if len(found) != len(offered):
        raise DomainError("unknown_capability", _("This is not something we ask for."))
    checked: dict[int, tuple[int | None, str]] = {}
    for capability_id, (quantity, details) in offered.items():
        if not found[capability_id].is_resource:
            quantity = None
        elif not (quantity and 0 < quantity <= MAX_QUANTITY):
            raise DomainError("quantity_needed", _("Say how many for each resource you offer."))
        checked[capability_id] = (quantity, details)
    return checked


def _check_windows(windows: Sequence[AvailabilityWindow]) -> None:
    if len(windows) > MAX_WINDOWS:
        raise DomainError("too_many_windows", _("Give at most %(n)d periods.") % {"n": MAX_WINDOWS})
    for window in windows:
        if window.ends_on < window.starts_on:
            raise DomainError("window_ends_before", _("A period cannot end before it starts."))
        if (window.from_time is None) != (window.to_time is None):
            raise DomainError("window_times", _("Give both times of the day, or neither."))
        timed = window.from_time is not None and window.to_time is not None
        if timed and window.to_time <= window.from_time:  # type: ignore[operator]
            raise DomainError("window_times", _("The end time must be after the start time."))


def submit_offer(
    *,
    organization: Organization,
    data: PersonData,
    offered: Offered,
    availability: Sequence[AvailabilityWindow],
    region: str = "",
    locality: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    notes: str = "",
    actor: Any = None,
    anonymous: bool = False,
    source_ref: str = "",
    notify: bool = True,
    partners: Mapping[int, str] | None = None,
) -> Offer:
    """Make (or, for a member or the person themselves, replace) the person's offer.

    `anonymous`: typed into the public form by anyone. A person already known
    with an offer then keeps it unchanged, and gets their signed link by message
    instead; a new offer is made otherwise. Either way the link goes to the
    person's own address, never to the page.

    `partners`: the partner boxes ticked (organization id -> the box's exact words)
    on a form embedded where `source_ref` says ("event:<id>", "campaign:<id>": a
    published one of the organization, else nothing is shared). What was typed
    joins each one's own supporters in the offer's transaction, whoever typed it:
    it copies nothing of the organization's.
    """
    offered = _check_offered(organization, offered)
    _check_windows(availability)
    found = upsert_person(
        organization=organization,
        actor=actor or "volunteer offer",
        data=data,
        source=Source.VOLUNTEER,
        source_ref=source_ref or "volunteer offer",
        anonymous=anonymous,
    )
    area = {
        "region": region,
        "locality": locality,
        "latitude": latitude,
        "longitude": longitude,
        "notes": notes,
    }
    with transaction.atomic():
        offer, created = _offer_row(organization, found.person, data.language, source_ref)
        _share_offer(organization, source_ref, partners, data, actor or "volunteer offer")
        if anonymous and not created and not found.created:
            if notify:
                notices.offer_link_again(offer)
            return offer
        _write(offer, offered, availability, **area)
        if anonymous and created and not found.created:
            # Typed by anyone under a known supporter's address: nobody is matched on
            # it until its owner opens their link and saves it (which makes it active).
            Offer.objects.filter(pk=offer.pk).update(status=OfferStatus.WITHDRAWN)
            offer.status = OfferStatus.WITHDRAWN
            audit.log(actor or "volunteer offer", "volunteers.offer.pending", offer)
            if notify:
                notices.offer_link_again(offer)
            return offer
        audit.log(
            actor or "volunteer offer",
            "volunteers.offer.created" if created else "volunteers.offer.updated",
            offer,
            {"capabilities": sorted(offered), "source": source_ref},
        )
        if notify:
            notices.offer_saved(offer)
    return offer


def _share_offer(
    organization: Organization,
    source_ref: str,
    ticked: Mapping[int, str] | None,
    data: PersonData,
    actor: Any,
) -> None:
    """The ticked partners of where the form stood ("event:<id>", "campaign:<id>")."""
    if ticked:
        parent = _from_reference(organization, source_ref)
        share_with_partners(
            organization,
            [parent],
            ticked=ticked,
            data=data,
            source=f"offer:{source_ref}",
            actor=actor,
        )


def _offer_row(
    organization: Organization, person: Any, language: str, source_ref: str
) -> tuple[Offer, bool]:
    existing = Offer.objects.select_for_update().filter(person=person).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            made = Offer.objects.create(
                organization=organization,
                person=person,
                language=language or person.language,
                source_ref=source_ref[:40],
            )
        return made, True
    except IntegrityError:  # the same person, at the same moment
        return Offer.objects.select_for_update().get(person=person), False


def update_offer(
    *,
    offer: Offer,
    offered: Offered,
    availability: Sequence[AvailabilityWindow],
    region: str = "",
    locality: str = "",
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    notes: str = "",
    language: str = "",
    actor: Any = None,
) -> Offer:
    """The person (through their signed link) or a member changes the offer; a withdrawn
    offer is made again."""
    offered = _check_offered(offer.organization, offered)
    _check_windows(availability)
    with transaction.atomic():
        row = Offer.objects.select_for_update().get(pk=offer.pk)
        if language:
            row.language = language
        _write(
            row,
            offered,
            availability,
            region=region,
            locality=locality,
            latitude=latitude,
            longitude=longitude,
            notes=notes,
        )
        audit.log(
            actor or "volunteer link",
            "volunteers.offer.updated",
            row,
            {"capabilities": sorted(offered)},
        )
    return row


def _write(
    offer: Offer,
    offered: Offered,
    availability: Sequence[AvailabilityWindow],
    **area: Any,
) -> None:
    """The offer's fields, capabilities and availability as given (the row is locked);
    a withdrawn offer is active again."""
    offer.status = OfferStatus.ACTIVE
    offer.region = clean_text(area["region"] or "")[:100]
    offer.locality = clean_text(area["locality"] or "")[:100]
    offer.locality_key = fold_locality(offer.locality)
    offer.latitude, offer.longitude = area["latitude"], area["longitude"]
    offer.notes = (area["notes"] or "").strip()[:4000]
    offer.modified_at = timezone.now()
    offer.save(
        update_fields=[
            "status",
            "language",
            "region",
            "locality",
            "locality_key",
            "latitude",
            "longitude",
            "notes",
            "modified_at",
        ]
    )
    _write_capabilities(offer, offered)
    Availability.objects.filter(offer=offer).delete()
    Availability.objects.bulk_create(
        [
            Availability(
                organization_id=offer.organization_id,
                offer=offer,
                starts_on=window.starts_on,
                ends_on=window.ends_on,
                from_time=window.from_time,
                to_time=window.to_time,
            )
            for window in availability
        ]
    )


def _write_capabilities(offer: Offer, offered: Offered) -> None:
    """Replace what is offered; units already promised to needs cannot be taken back here
    (the volunteer cancels those assignments first)."""
    current = {row.capability_id: row for row in OfferedCapability.objects.filter(offer=offer)}
    for capability_id, row in current.items():
        if capability_id not in offered:
            if row.committed:
                raise _committed()
            row.delete()
    for capability_id, (quantity, details) in offered.items():
        details = clean_text(details or "")[:200]
        row = current.get(capability_id)
        if row is None:
            OfferedCapability.objects.create(
                organization_id=offer.organization_id,
                offer=offer,
                capability_id=capability_id,
                quantity=quantity,
                details=details,
            )
            continue
        if quantity is not None and quantity < row.committed:
            raise _committed()
        # Only where nothing moved `committed` meanwhile (it is not rewritten here).
        updated = OfferedCapability.objects.filter(
            Q(committed__lte=quantity) if quantity is not None else Q(), pk=row.pk
        ).update(quantity=quantity, details=details)
        if not updated:
            raise _committed()


def _committed() -> DomainError:
    return DomainError(
        "units_committed",
        _(
            "Part of this is already promised to a need. Cancel that first, then change "
            "what you offer."
        ),
        status=409,
    )


def withdraw_offer(*, offer: Offer, actor: Any = None) -> bool:
    """The offer stops being matched; invitations not yet answered are declined.
    Places already accepted stay until the volunteer cancels them."""
    with transaction.atomic():
        changed = Offer.objects.filter(pk=offer.pk, status=OfferStatus.ACTIVE).update(
            status=OfferStatus.WITHDRAWN, modified_at=timezone.now()
        )
        if not changed:
            return False
        offer.status = OfferStatus.WITHDRAWN
        declined = Assignment.objects.filter(
            person_id=offer.person_id, status=AssignmentStatus.INVITED
        ).update(status=AssignmentStatus.DECLINED, responded_at=timezone.now())
        audit.log(
            actor or "volunteer link",
            "volunteers.offer.withdrawn",
            offer,
            {"invitations_declined": declined},
        )
    return True
