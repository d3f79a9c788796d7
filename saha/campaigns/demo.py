"""The demo campaign: keep the public beach open and clean, gathering the demo
organization's statement, clean-up and petition, with goals, and a second demo
organization as its accepted partner, so that the partner's box shows on the forms
(unless an organization not made by the demo holds the partner's slug: it is left
alone, and the campaign has no partner).

Loaded once however often `saha demo` runs, and nothing is sent: making an
organization, a campaign and a partnership sends no message.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.module_loading import import_string

from saha.campaigns import services
from saha.campaigns.models import Campaign, CampaignStatus, Partner
from saha.events.demo import SLUG as EVENT_SLUG
from saha.events.models import Event
from saha.organizations.models import Membership, Organization
from saha.organizations.roles import Role
from saha.organizations.services import create_organization
from saha.petitions.demo import SLUG as PETITION_SLUG
from saha.petitions.models import Petition

ACTOR = "saha demo"
SLUG = "open-and-clean-shore"
PARTNER_SLUG = "coastal-walkers"
PARTNER_NAMES = {
    "ar": "نادي هواة المشي على الساحل",
    "en": "Coastal Walkers Club",
    "fr": "Club des marcheurs du littoral",
}
TITLES = {
    "ar": "شاطئ مفتوح ونظيف للجميع",
    "en": "An open and clean beach for everyone",
    "fr": "Une plage ouverte et propre pour tous",
}
SUMMARIES = {
    "ar": "الشاطئ العام ملك للجميع: نوقّع، ننظّف، ونلتقي لنبقيه مفتوحًا ونظيفًا.",
    "en": "The public beach belongs to everyone: we sign, we clean up, and we meet "
    "to keep it open and clean.",
    "fr": "La plage publique appartient à tous : nous signons, nous nettoyons et nous "
    "nous retrouvons pour la garder ouverte et propre.",
}
DESCRIPTIONS = {
    "ar": "منذ سنوات تُغلق مداخل الشاطئ العام واحدًا تلو الآخر. **ثلاث خطوات** لنحافظ عليه:\n\n"
    "1. اقرأ بياننا.\n2. وقّع العريضة إلى البلدية.\n3. انضمّ إلينا في حملة التنظيف.",
    "en": "For years the public beach's entrances have been closing one after another. "
    "**Three steps** to keep it:\n\n"
    "1. Read our statement.\n2. Sign the petition to the municipality.\n"
    "3. Join us at the clean-up.",
    "fr": "Depuis des années, les accès à la plage publique ferment l'un après l'autre. "
    "**Trois gestes** pour la garder :\n\n"
    "1. Lisez notre déclaration.\n2. Signez la pétition à la municipalité.\n"
    "3. Rejoignez-nous au nettoyage.",
}
GOALS = {"goal_signatures": 500, "goal_rsvps": 150, "goal_check_ins": 100}


def contribute(organization: Any, owner: Any) -> dict[str, str]:
    with transaction.atomic():
        campaign = Campaign.objects.for_org(organization).filter(slug=SLUG).first()
        if campaign is None:
            campaign = services.create_campaign(
                actor=ACTOR,
                organization=organization,
                slug=SLUG,
                titles=TITLES,
                summaries=SUMMARIES,
                descriptions=DESCRIPTIONS,
                **GOALS,
            )
            Campaign.objects.filter(pk=campaign.pk).update(created_by=owner)
        _gather(campaign)
        if campaign.status == CampaignStatus.DRAFT:
            services.publish(actor=ACTOR, campaign=campaign)
        _partner(campaign, owner)
    url = reverse("campaigns:campaign", args=[organization.slug, campaign.slug])
    return {"campaign_url": settings.SAHA_BASE_URL + url}


def _targets(organization: Any) -> list[Any]:
    """The statement (when the statements app has its demo one), the petition, the event."""
    found: list[Any] = []
    try:
        statement_slug = import_string("saha.statements.demo.DEMO_STATEMENT_SLUG")
    except ImportError:
        statement_slug = None
    if statement_slug:
        from saha.statements.models import Statement

        statements = Statement.objects.filter(organization=organization)
        found.append(statements.filter(slug=statement_slug).first())
    found.append(Petition.objects.for_org(organization).filter(slug=PETITION_SLUG).first())
    found.append(Event.objects.for_org(organization).filter(slug=EVENT_SLUG).first())
    return [target for target in found if target is not None]


def _gather(campaign: Campaign) -> None:
    """Each target once: a later run adds what appeared since (a statement written after)."""
    have = {
        (kind, pk)
        for kind in services.KINDS
        for pk in campaign.items.exclude(**{f"{kind}__isnull": True}).values_list(
            f"{kind}_id", flat=True
        )
    }
    for target in _targets(campaign.organization):
        if (services.kind_of(target), target.pk) not in have:
            services.add_item(actor=ACTOR, campaign=campaign, target=target)


def _partner(campaign: Campaign, owner: Any) -> None:
    """The demo's own partner organization, made by the demo for its owner. An
    organization that took the slug otherwise is someone else's: the demo neither
    joins it nor names it a partner (the campaign goes without one)."""
    partner = Organization.objects.filter(slug=PARTNER_SLUG).first()
    if partner is None:
        partner = create_organization(
            actor=ACTOR,
            owner=owner,
            slug=PARTNER_SLUG,
            names=PARTNER_NAMES,
            default_language=settings.LANGUAGE_CODE,
            time_zone="Asia/Beirut",
        )
    elif not Membership.objects.filter(organization=partner, user=owner, role=Role.OWNER).exists():
        return
    if not Partner.objects.filter(campaign=campaign, partner=partner).exists():
        services.invite_partner(actor=ACTOR, campaign=campaign, partner=partner)
    services.accept_partnership(actor=ACTOR, campaign=campaign, partner=partner)
