"""What the campaigns' tests build: campaigns through the services, statements, events and
petitions of an organization, partners that accepted, and the hub's join form."""

from __future__ import annotations

from typing import Any

from django.test import Client
from django.utils import timezone

from saha.campaigns import services
from saha.campaigns.models import Campaign, Partner
from saha.events.models import Event
from saha.events.tests.test_rsvp import make_event
from saha.organizations.models import Organization
from saha.petitions.models import Petition
from saha.petitions.tests.test_sign import make_petition
from saha.statements.models import Statement, StatementStatus, StatementVersion

TITLES = {"en": "Save the shore", "ar": "أنقذوا الشاطئ", "fr": "Sauvons le rivage"}


def new_campaign(organization: Organization, *, publish: bool = True, **fields: Any) -> Campaign:
    values: dict[str, Any] = {"titles": TITLES, **fields}
    slug = values.pop("slug", "shore")
    campaign = services.create_campaign(
        actor="test", organization=organization, slug=slug, **values
    )
    if publish:
        services.publish(actor="test", campaign=campaign)
    return campaign


def new_statement(
    organization: Organization, slug: str = "statement", *, status: str = StatementStatus.PUBLISHED
) -> Statement:
    statement = Statement.objects.create(
        organization=organization,
        slug=slug,
        original_language="en",
        status=status,
        published_at=timezone.now() if status == StatementStatus.PUBLISHED else None,
    )
    for language, title in (("en", "The shore is ours"), ("ar", "الشاطئ لنا")):
        StatementVersion.objects.create(
            organization=organization,
            statement=statement,
            language=language,
            title=title,
            summary="" if language == "ar" else "Why the beach must stay open.",
            body="**The beach** belongs to everyone.",
        )
    return statement


def new_event(organization: Organization, slug: str = "clean-up", **fields: Any) -> Event:
    return make_event(organization, slug=slug, **fields)


def new_petition(organization: Organization, slug: str = "beach", **fields: Any) -> Petition:
    return make_petition(organization, slug=slug, **fields)


def accepted_partner(campaign: Campaign, partner: Organization) -> Partner:
    services.invite_partner(actor="test", campaign=campaign, partner=partner)
    services.accept_partnership(actor="test", campaign=campaign, partner=partner)
    return Partner.objects.get(campaign=campaign, partner=partner)


def hub_url(campaign: Campaign, suffix: str = "") -> str:
    return f"/o/{campaign.organization.slug}/campaigns/{campaign.slug}/{suffix}"


def manage_url(campaign: Campaign, suffix: str = "", organization: Any = None) -> str:
    slug = (organization or campaign.organization).slug
    return f"/manage/{slug}/campaigns/{campaign.pk}/{suffix}"


def post_join(client: Client, campaign: Campaign, language: str = "en", **fields: Any) -> Any:
    data = {"given_name": "Rima", "email": "rima@example.org", "language": language, **fields}
    return client.post(
        hub_url(campaign), data, HTTP_ACCEPT_LANGUAGE=language, REMOTE_ADDR="192.0.2.1"
    )
