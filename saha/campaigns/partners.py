"""Partner boxes: what every form on a campaign's pages shows, and what a ticked box does.

A form (the hub's "join", an event's RSVP, a petition's signature) asks
`boxes_for(...)` which partner organizations to offer, one unticked box each,
and after the host has taken the sign-up in, passes the ticked ones to
`share(...)`. Only then, and only for those, the typed details (never anything
the host already knew) become a `Person` of the partner's own supporter list,
with the box's exact words in its consent ledger. A partner sees nothing else:
every page, export and API call of its own is scoped to its own tenancy.

Which boxes are valid is decided again at `share` time (a petition's signature
is taken in by a worker later): a partner removed meanwhile receives nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from saha.campaigns.models import Campaign, CampaignItem, CampaignSignup, CampaignStatus, Partner
from saha.core import audit
from saha.core.errors import DomainError
from saha.organizations.models import Organization
from saha.supporters.consent import ConsentGrant
from saha.supporters.models import Channel, ConsentSource, PersonPhone, Source
from saha.supporters.services import PersonData, upsert_person
from saha.supporters.text import normalize_phone

logger = logging.getLogger("saha.campaigns")
FIELD_PREFIX = "partner_"


@dataclass(frozen=True)
class PartnerBox:
    """One partner organization offered on a form, for the campaigns naming it."""

    organization: Organization
    campaign_ids: tuple[int, ...] = field(default=())

    @property
    def field_name(self) -> str:
        return f"{FIELD_PREFIX}{self.organization.pk}"

    @property
    def wording(self) -> str:
        """The label, in the active language; its exact words are kept with each yes."""
        return _(
            "Add me to the supporters of %(partner)s, a partner in this campaign, "
            "so they can keep me informed"
        ) % {"partner": self.organization.name}


def boxes_for(
    *, campaign: Campaign | None = None, event: Model | None = None, petition: Model | None = None
) -> list[PartnerBox]:
    """The accepted partners of the published campaigns showing this form, by name."""
    campaigns = Campaign.objects.filter(status=CampaignStatus.PUBLISHED)
    if campaign is not None:
        campaigns = campaigns.filter(pk=campaign.pk)
    elif event is not None:
        campaigns = campaigns.filter(pk__in=_holding(event=event))
    elif petition is not None:
        campaigns = campaigns.filter(pk__in=_holding(petition=petition))
    else:
        return []
    links = (
        Partner.objects.filter(campaign__in=campaigns, accepted_at__isnull=False)
        .select_related("partner")
        .order_by("pk")
    )
    by_partner: dict[int, tuple[Organization, list[int]]] = {}
    for link in links:
        _org, ids = by_partner.setdefault(link.partner_id, (link.partner, []))
        ids.append(link.campaign_id)
    boxes = [PartnerBox(org, tuple(ids)) for org, ids in by_partner.values()]
    return sorted(boxes, key=lambda box: box.organization.name.casefold())


def _holding(**target: Model) -> Any:
    return CampaignItem.objects.filter(**target).values("campaign_id")


def ticked(boxes: list[PartnerBox], cleaned: Mapping[str, Any]) -> dict[int, str]:
    """From a form's cleaned data: partner organization id -> the words of its ticked box."""
    return {box.organization.pk: box.wording for box in boxes if cleaned.get(box.field_name)}


def share(
    *,
    boxes: list[PartnerBox],
    ticked: Mapping[int, str],
    data: PersonData,
    source: str,
    actor: Any = None,
    language: str | None = None,
) -> int:
    """Add the sign-up to each ticked partner's supporters; returns how many received it.

    `boxes` must be computed now (`boxes_for`), not when the form was shown;
    `ticked` maps a partner's id to the words its box showed. `source` names the
    form ("join", "event:<id>", "petition:<id>"). Each partner is its own
    savepoint: one partner's refusal (an address it has suppressed, say) does
    not stop the others, nor the host's sign-up.

    `language`: the language the boxes were shown in, kept with their words in the
    partner's consent ledger (default: the active one, right within the request
    that showed the form; a worker passes the one the form was shown in).
    """
    shown_in = language or get_language() or ""
    shared = 0
    for box in boxes:
        wording = ticked.get(box.organization.pk)
        if not wording:
            continue
        try:
            with transaction.atomic():
                _share_one(box, wording, shown_in, data, source, actor)
            shared += 1
        except (IntegrityError, DomainError) as error:
            # The code or the error's class only: a database's message can quote the
            # address typed, and logs are no place for supporters' addresses.
            reason = getattr(error, "code", type(error).__name__)
            logger.warning("Sign-up not shared with partner %s: %s", box.organization.pk, reason)
    return shared


def _share_one(
    box: PartnerBox, wording: str, shown_in: str, data: PersonData, source: str, actor: Any
) -> None:
    partner = box.organization
    typed = _for_partner(partner, data, wording, shown_in)
    person = upsert_person(
        organization=partner,
        actor=actor or "campaign",
        data=typed,
        source=Source.FORM,
        source_ref=f"campaign:{box.campaign_ids[0]}",
        anonymous=True,
    ).person
    for campaign_id in box.campaign_ids:
        _row, created = CampaignSignup.objects.get_or_create(
            organization=partner,
            campaign_id=campaign_id,
            person=person,
            source=source[:40],
            defaults={"wording": wording},
        )
        if created:
            audit.log(
                actor or "campaign",
                "campaigns.signup.shared",
                person,
                {"campaign": campaign_id, "source": source},
                organization=partner,
            )


def _for_partner(
    partner: Organization, data: PersonData, wording: str, shown_in: str
) -> PersonData:
    """Only what was typed, with the partner's own consent; never the host's tags, custom
    fields or consents. Found by email first: a phone the partner already has on file
    (someone else's, or theirs) is not taken from a form that also gave an address."""
    phone = data.phone
    if data.email and phone:
        number = normalize_phone(phone)
        if (
            number is None
            or PersonPhone.objects.filter(organization=partner, number=number.number).exists()
        ):
            phone = ""
    grants = []
    source_ref = f"partner-box:{partner.pk}"
    if data.email:
        grants.append(_grant(Channel.EMAIL, wording, source_ref, shown_in))
    if phone:
        grants.append(_grant(Channel.SMS, wording, source_ref, shown_in))
    return replace(
        PersonData(
            email=data.email,
            phone=phone,
            given_name=data.given_name,
            family_name=data.family_name,
            language=data.language,
            locality=data.locality,
        ),
        consents=tuple(grants),
    )


def _grant(channel: str, wording: str, source_ref: str, language: str) -> ConsentGrant:
    return ConsentGrant(
        channel=channel,
        wording=wording,
        source=ConsentSource.FORM,
        source_ref=source_ref,
        language=language,
    )
