"""What the campaign pages read: campaigns an organization hosts or partners in, their
items with what each points to, the statements, events and petitions that could be
added, and one organization's own sign-ups.

Every organizer read takes the viewing organization, and that decides what is
visible: a partner sees the campaign, its public items and its own sign-ups,
never the host's people.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from saha.campaigns.models import Campaign, CampaignItem, CampaignSignup, CampaignStatus, Partner
from saha.core.tenancy import is_row_id
from saha.events.models import Event, EventStatus, Visibility
from saha.organizations.models import Organization
from saha.petitions.models import Petition, PetitionStatus
from saha.statements.models import Statement, StatementStatus, StatementVersion

PAGE = 50
UNLISTED_FLAG = _("unlisted: not shown on the campaign's page")
CANDIDATES_MAX = 200
# What of each kind the hub shows: a cancelled event stays (that is news), a closed
# petition too (its count stands), a withdrawn statement too (it stays public, saying
# so); drafts and scheduled statements never. An event shows only if it is listed
# publicly: an unlisted one is for the people given its link, not for an indexed hub.
PUBLIC_EVENT = (EventStatus.PUBLISHED, EventStatus.CANCELLED)
PUBLIC_PETITION = (PetitionStatus.OPEN, PetitionStatus.CLOSED)
PUBLIC_STATEMENT = (StatementStatus.PUBLISHED, StatementStatus.WITHDRAWN)


# --- Texts in whichever language they exist -----------------------------------------


@dataclass(frozen=True)
class Shown:
    """A text with the language it is written in, which may not be the page's."""

    text: str
    language: str

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)

    @property
    def attrs(self) -> SafeString:
        """` lang=".." dir=".."` when the text's language is not the page's, else nothing."""
        if not self.language or self.language == translation.get_language():
            return mark_safe("")
        try:
            bidi = translation.get_language_info(self.language)["bidi"]
        except KeyError:
            bidi = False
        return format_html(' lang="{}" dir="{}"', self.language, "rtl" if bidi else "ltr")


def pick(values: dict[str, str], fallback: str) -> Shown:
    """The value in the active language, else the fallback's, else any (as `translated`)."""
    for language in (translation.get_language() or "", fallback):
        if values.get(language):
            return Shown(values[language], language)
    for language, text in values.items():
        if text:
            return Shown(text, language)
    return Shown("", "")


# --- Campaigns of an organization ----------------------------------------------------


def campaigns_for(organization: Organization) -> QuerySet[Campaign]:
    """Its own campaigns, those it accepted to partner in, and those it left after people
    came to it through them (it still sees who they are: they are its own supporters)."""
    partnered = Partner.objects.filter(partner=organization, accepted_at__isnull=False)
    received = CampaignSignup.objects.filter(organization=organization)
    return Campaign.objects.filter(
        Q(organization=organization)
        | Q(pk__in=partnered.values("campaign_id"))
        | Q(pk__in=received.values("campaign_id"))
    ).select_related("organization")


def campaign_for(organization: Organization, pk: Any) -> Campaign:
    """One of its campaigns or partnered campaigns, else 404 (never saying which exists)."""
    if not is_row_id(pk):
        raise Http404
    found = campaigns_for(organization).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def hosts(campaign: Campaign, organization: Organization) -> bool:
    return campaign.organization_id == organization.pk


def invitations_for(organization: Organization) -> list[Partner]:
    """Other organizations' campaigns it is asked to partner in and has not answered yet."""
    return list(
        Partner.objects.filter(partner=organization, accepted_at__isnull=True)
        .exclude(campaign__status=CampaignStatus.ENDED)
        .select_related("campaign__organization")
        .order_by("-invited_at", "-pk")[:50]
    )


def invitation_for(organization: Organization, pk: Any) -> Campaign:
    """A campaign this organization is asked to partner in or partners in, else 404."""
    if not is_row_id(pk):
        raise Http404
    link = (
        Partner.objects.select_related("campaign__organization")
        .filter(campaign_id=pk, partner=organization)
        .first()
    )
    if link is None:
        raise Http404
    return link.campaign


def partners_of(campaign: Campaign) -> list[Partner]:
    """Its partners, accepted or still asked, for the host's page."""
    return list(campaign.partner_links.select_related("partner").order_by("invited_at", "pk"))


def public_partners(campaign: Campaign) -> list[Organization]:
    """The partners that accepted: named on the hub."""
    links = campaign.partner_links.filter(accepted_at__isnull=False).select_related("partner")
    return sorted((link.partner for link in links), key=lambda org: org.name.casefold())


# --- Items ----------------------------------------------------------------------


def items_of(campaign: Campaign) -> list[CampaignItem]:
    """The items in order, each with what it points to, in two queries whatever their
    number (three with statements, whose texts are one version per language)."""
    items = list(
        CampaignItem.objects.filter(campaign=campaign)
        .select_related("statement", "event", "petition")
        .prefetch_related(
            Prefetch("statement__versions", queryset=StatementVersion.objects.order_by("pk"))
        )
        .order_by("position", "pk")
    )
    for item in items:
        # Always the host's own: no query per item for the organization's name.
        item.target.organization = campaign.organization
    return items


def is_public(item: CampaignItem) -> bool:
    """Whether the hub may show it: never a draft, nor an unlisted event, whatever the
    campaign."""
    if item.statement is not None:
        return str(item.statement.status) in PUBLIC_STATEMENT
    if item.event is not None:
        return str(item.event.status) in PUBLIC_EVENT and not is_unlisted(item)
    return item.petition is not None and str(item.petition.status) in PUBLIC_PETITION


def is_unlisted(item: CampaignItem) -> bool:
    """An event for the people given its link only: the hub never shows it."""
    return item.event is not None and item.event.visibility != Visibility.PUBLIC


@dataclass(frozen=True)
class Candidate:
    value: str  # "event:12"
    label: str


def candidates(campaign: Campaign) -> dict[str, list[Candidate]]:
    """The host's statements, events and petitions not yet in the campaign, newest first."""
    organization = campaign.organization
    taken = CampaignItem.objects.filter(campaign=campaign)
    statements = (
        Statement.objects.filter(organization=organization)
        .exclude(pk__in=taken.filter(statement__isnull=False).values("statement_id"))
        .prefetch_related("versions")
        .order_by("-dated", "-pk")[:CANDIDATES_MAX]
    )
    events = (
        Event.objects.filter(organization=organization)
        .exclude(pk__in=taken.filter(event__isnull=False).values("event_id"))
        .order_by("-starts_at", "-pk")[:CANDIDATES_MAX]
    )
    petitions = (
        Petition.objects.filter(organization=organization)
        .exclude(pk__in=taken.filter(petition__isnull=False).values("petition_id"))
        .order_by("-created_at", "-pk")[:CANDIDATES_MAX]
    )
    fallback = organization.default_language
    found: dict[str, list[Candidate]] = {"statement": [], "event": [], "petition": []}
    for statement in statements:
        version = statement.version_for()
        title = version.title if version else statement.slug
        found["statement"].append(Candidate(f"statement:{statement.pk}", _flag(title, statement)))
    for event in events:
        title = pick(event.titles, fallback).text or event.slug
        found["event"].append(Candidate(f"event:{event.pk}", _flag(title, event)))
    for petition in petitions:
        title = pick(petition.titles, fallback).text or petition.slug
        found["petition"].append(Candidate(f"petition:{petition.pk}", _flag(title, petition)))
    return found


def _flag(title: str, target: Any) -> str:
    status = getattr(target, "get_status_display", None)
    if status is None:
        return title
    if isinstance(target, Event) and target.visibility != Visibility.PUBLIC:
        # Said before it is added: the hub will not show it.
        return f"{title} ({status()}, {UNLISTED_FLAG})"
    return f"{title} ({status()})"


def target_of(campaign: Campaign, value: str) -> Any:
    """The host's own statement, event or petition named "kind:id", else None."""
    kind, _sep, pk = value.partition(":")
    model = {"statement": Statement, "event": Event, "petition": Petition}.get(kind)
    if model is None or not is_row_id(pk):
        return None
    return model.objects.filter(organization_id=campaign.organization_id, pk=pk).first()


def item_of(campaign: Campaign, pk: Any) -> CampaignItem:
    if not is_row_id(pk):
        raise Http404
    found = CampaignItem.objects.filter(campaign=campaign, pk=pk).first()
    if found is None:
        raise Http404
    found.campaign = campaign
    return found


# --- One organization's own sign-ups -------------------------------------------------


def signups(
    campaign: Campaign, organization: Organization, *, after: int | None = None
) -> list[CampaignSignup]:
    """A page of the people who came to `organization` through the campaign, newest first:
    for the host, those who joined; for a partner, those who ticked its box. Nobody else's."""
    rows = CampaignSignup.objects.filter(campaign=campaign, organization=organization)
    if after is not None:
        rows = rows.filter(pk__lt=after)
    return list(rows.select_related("person").order_by("-pk")[:PAGE])


def signup_count(campaign: Campaign, organization: Organization) -> int:
    return CampaignSignup.objects.filter(campaign=campaign, organization=organization).count()
