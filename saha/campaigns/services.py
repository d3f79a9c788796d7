"""Every write to a campaign: its texts and goals, its status, its items in order, its
partners, and a person joining from the hub.

Items keep dense positions (0, 1, 2, ...) in the host's chosen order. Every
change of order locks the campaign's row first, so two organizers pressing
"up" at the same moment take turns instead of writing two orders over each
other. A campaign only ever gathers its host's own statements, events and
petitions, whatever a form sent.

Partners: the host asks another organization (`invite_partner`); one of that
organization's own admins accepts or declines; the host may remove it and it
may leave. Each of these is written in both organizations' audit logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.campaigns import partners
from saha.campaigns.models import Campaign, CampaignItem, CampaignSignup, CampaignStatus, Partner
from saha.core import audit
from saha.core.errors import Conflict, DomainError, PermissionDeniedError
from saha.events.models import Event
from saha.organizations.models import Membership, Organization
from saha.organizations.roles import Permission
from saha.petitions.models import Petition
from saha.statements.models import Statement
from saha.supporters.models import Source
from saha.supporters.services import PersonData, upsert_person

EDITABLE = (
    "titles",
    "summaries",
    "descriptions",
    "goal_signatures",
    "goal_rsvps",
    "goal_check_ins",
)
GOALS = ("goal_signatures", "goal_rsvps", "goal_check_ins")
LABEL_MAX = 60
JOIN_SOURCE = "join"
KINDS: dict[str, type[models.Model]] = {
    "statement": Statement,
    "event": Event,
    "petition": Petition,
}


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _not_found() -> DomainError:
    return DomainError("not_found", _("No such statement, event or petition."), status=404)


# --- The campaign ---------------------------------------------------------------


def _check(fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    if "titles" in fields and not any(str(v).strip() for v in fields["titles"].values()):
        raise DomainError(
            "title_required", _("Give the campaign a title in at least one language.")
        )
    for name in GOALS:
        goal = fields.get(name)
        if goal is not None and (not isinstance(goal, int) or goal < 1):
            raise DomainError("invalid_goal", _("A goal is a whole number, at least 1."))


def create_campaign(
    *, actor: Any, organization: Organization, slug: str, **fields: Any
) -> Campaign:
    """A new campaign, as a draft: nobody sees it until it is published."""
    _check(fields)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            organization=organization, slug=slug, created_by=_user(actor), **fields
        )
        audit.log(actor, "campaigns.campaign.created", campaign)
    return campaign


def update_campaign(*, actor: Any, campaign: Campaign, **fields: Any) -> Campaign:
    """Change texts and goals; the row is locked and only what changed is written."""
    _check(fields)
    with transaction.atomic():
        current = Campaign.objects.select_for_update().get(pk=campaign.pk)
        changed = [name for name, value in fields.items() if getattr(current, name) != value]
        campaign.status, campaign.published_at = current.status, current.published_at
        if not changed:
            return campaign
        for name in changed:
            setattr(campaign, name, fields[name])
        campaign.modified_at = timezone.now()
        campaign.save(update_fields=[*changed, "modified_at"])
        audit.log(actor, "campaigns.campaign.changed", campaign, {"fields": sorted(changed)})
    return campaign


def _move_status(actor: Any, campaign: Campaign, source: str, target: str, **extra: Any) -> bool:
    with transaction.atomic():
        changed = Campaign.objects.filter(pk=campaign.pk, status=source).update(
            status=target, modified_at=timezone.now(), **extra
        )
        if changed:
            campaign.status = target
            for name, value in extra.items():
                setattr(campaign, name, value)
            audit.log(actor, f"campaigns.campaign.{target}", campaign)
    return bool(changed)


def publish(*, actor: Any, campaign: Campaign) -> bool:
    """A draft goes public: its hub opens, and its partners' boxes show on its forms."""
    return _move_status(
        actor,
        campaign,
        CampaignStatus.DRAFT,
        CampaignStatus.PUBLISHED,
        published_at=timezone.now(),
    )


def end(*, actor: Any, campaign: Campaign) -> bool:
    """The hub stays public, marked ended; it takes no more sign-ups, for anyone."""
    return _move_status(actor, campaign, CampaignStatus.PUBLISHED, CampaignStatus.ENDED)


def delete_draft(*, actor: Any, campaign: Campaign) -> bool:
    """A draft nobody has seen goes away; a published campaign can only be ended."""
    with transaction.atomic():
        audit.log(actor, "campaigns.campaign.deleted", campaign, {"slug": campaign.slug})
        deleted, _kinds = Campaign.objects.filter(
            pk=campaign.pk, status=CampaignStatus.DRAFT
        ).delete()
        if not deleted:
            transaction.set_rollback(True)
    return bool(deleted)


# --- Items, in order --------------------------------------------------------------


def kind_of(target: models.Model) -> str:
    for kind, model in KINDS.items():
        if isinstance(target, model):
            return kind
    raise TypeError(f"Not a campaign item: {type(target).__name__}")


def _lock(campaign_id: int) -> Campaign:
    """The campaign's row, locked: every change of its items' order goes one at a time."""
    return Campaign.objects.select_for_update().get(pk=campaign_id)


def _ordered(campaign_id: int) -> list[CampaignItem]:
    return list(CampaignItem.objects.filter(campaign_id=campaign_id).order_by("position", "pk"))


def _renumber(items: list[CampaignItem]) -> None:
    """Positions 0, 1, 2... in the list's order; only the rows that move are written."""
    moved = []
    for position, item in enumerate(items):
        if item.position != position:
            item.position = position
            moved.append(item)
    if moved:
        CampaignItem.objects.bulk_update(moved, ["position"])


def clean_labels(labels: Mapping[str, str] | None) -> dict[str, str]:
    known = {code for code, _name in settings.LANGUAGES}
    return {
        code: " ".join(str(text).split())[:LABEL_MAX]
        for code, text in (labels or {}).items()
        if code in known and str(text).strip()
    }


def add_item(
    *,
    actor: Any,
    campaign: Campaign,
    target: models.Model,
    labels: Mapping[str, str] | None = None,
) -> CampaignItem:
    """Add one of the host's statements, events or petitions at the end of the list.

    A draft may be added (to prepare a campaign ahead); the hub shows it only
    once it is public itself.
    """
    kind = kind_of(target)
    if getattr(target, "organization_id", None) != campaign.organization_id:
        raise _not_found()  # another organization's: as if it did not exist
    with transaction.atomic():
        _lock(campaign.pk)
        items = _ordered(campaign.pk)
        if any(getattr(item, f"{kind}_id") == target.pk for item in items):
            raise Conflict("already_added", _("This is already in the campaign."))
        _renumber(items)
        item = CampaignItem.objects.create(
            organization_id=campaign.organization_id,
            campaign=campaign,
            position=len(items),
            labels=clean_labels(labels),
            **{kind: target},
        )
        audit.log(actor, "campaigns.item.added", campaign, {"item": item.pk, kind: target.pk})
    return item


def remove_item(*, actor: Any, item: CampaignItem) -> bool:
    """Take an item out; the others close ranks. The statement, event or petition stays."""
    with transaction.atomic():
        campaign = _lock(item.campaign_id)
        deleted, _kinds = CampaignItem.objects.filter(pk=item.pk).delete()
        if deleted:
            _renumber(_ordered(campaign.pk))
            data = {"item": item.pk, item.kind: getattr(item, f"{item.kind}_id")}
            audit.log(actor, "campaigns.item.removed", campaign, data)
    return bool(deleted)


def move_item(*, actor: Any, item: CampaignItem, direction: str) -> bool:
    """One place up (earlier on the hub) or down; False at either end, or if it is gone."""
    if direction not in ("up", "down"):
        raise DomainError("invalid_direction", _("Move up or down."))
    with transaction.atomic():
        campaign = _lock(item.campaign_id)
        items = _ordered(campaign.pk)
        index = next((n for n, each in enumerate(items) if each.pk == item.pk), None)
        if index is None:
            return False
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(items):
            _renumber(items)
            return False
        items[index], items[other] = items[other], items[index]
        _renumber(items)
        audit.log(
            actor, "campaigns.item.moved", campaign, {"item": item.pk, "direction": direction}
        )
    item.position = other
    return True


def set_labels(*, actor: Any, item: CampaignItem, labels: Mapping[str, str]) -> CampaignItem:
    """The button's words per language; a language left empty gets the default of its kind."""
    cleaned = clean_labels(labels)
    with transaction.atomic():
        changed = (
            CampaignItem.objects.filter(pk=item.pk).exclude(labels=cleaned).update(labels=cleaned)
        )
        item.labels = cleaned
        if changed:
            audit.log(actor, "campaigns.item.labelled", item.campaign, {"item": item.pk})
    return item


# --- Partners ---------------------------------------------------------------------


def _log_both(actor: Any, action: str, campaign: Campaign, partner: Organization) -> None:
    data = {"organization": partner.slug, "host": campaign.organization.slug}
    audit.log(actor, action, campaign, data)
    audit.log(actor, action, campaign, data, organization=partner)


def _require(actor: Any, organization: Organization, permission: Permission) -> None:
    """A person acting for `organization` must hold `permission` there (work nobody
    clicked, such as the demo loader, acts as the system)."""
    if getattr(actor, "is_authenticated", False):
        membership = Membership.objects.filter(organization=organization, user=actor).first()
        if membership is None or not membership.can(permission):
            raise PermissionDeniedError(
                "not_allowed", _("Only an admin of %(name)s can answer.") % {"name": organization}
            )


def invite_partner(*, actor: Any, campaign: Campaign, partner: Organization) -> bool:
    """Ask another organization to co-host: it is named, and its box offered on the
    campaign's forms, only once one of its own admins accepts."""
    if partner.pk == campaign.organization_id:
        raise DomainError("own_campaign", _("An organization cannot partner in its own campaign."))
    if campaign.status == CampaignStatus.ENDED:
        raise DomainError("campaign_ended", _("An ended campaign takes no new partners."))
    with transaction.atomic():
        _link, created = Partner.objects.get_or_create(
            campaign=campaign,
            partner=partner,
            organization_id=campaign.organization_id,
            defaults={"invited_by": _user(actor)},
        )
        if created:
            _log_both(actor, "campaigns.partner.invited", campaign, partner)
    return created


def accept_partnership(*, actor: Any, campaign: Campaign, partner: Organization) -> bool:
    """An admin of the partner says yes: from now on it is named and its box is offered."""
    _require(actor, partner, Permission.MANAGE_ORGANIZATION)
    with transaction.atomic():
        accepted = Partner.objects.filter(
            campaign=campaign, partner=partner, accepted_at__isnull=True
        ).update(accepted_at=timezone.now(), accepted_by=_user(actor))
        if accepted:
            _log_both(actor, "campaigns.partner.accepted", campaign, partner)
    return bool(accepted)


def leave_partnership(*, actor: Any, campaign: Campaign, partner: Organization) -> bool:
    """An admin of the partner declines the invitation, or leaves: no box is offered for
    it from now on. The people who ticked its box before stay on its own list."""
    _require(actor, partner, Permission.MANAGE_ORGANIZATION)
    return _unlink(actor, campaign, partner, by_host=False)


def remove_partner(*, actor: Any, campaign: Campaign, partner: Organization) -> bool:
    """The host removes a partner (asked or accepted); audited on both sides."""
    return _unlink(actor, campaign, partner, by_host=True)


def _unlink(actor: Any, campaign: Campaign, partner: Organization, *, by_host: bool) -> bool:
    with transaction.atomic():
        link = (
            Partner.objects.select_for_update().filter(campaign=campaign, partner=partner).first()
        )
        if link is None:
            return False
        link.delete()
        action = "removed" if by_host else ("left" if link.accepted_at else "declined")
        _log_both(actor, f"campaigns.partner.{action}", campaign, partner)
    return True


# --- Joining from the hub -----------------------------------------------------------


@dataclass(frozen=True)
class JoinResult:
    signup: CampaignSignup
    created: bool  # False: this person had joined before
    shared: int  # how many partners received the sign-up


def join(
    *,
    campaign: Campaign,
    data: PersonData,
    ticked: Mapping[int, str],
    source_ref: str = "",
    actor: Any = None,
) -> JoinResult:
    """Someone joins from the hub: a person of the host (found or created as from any
    public form: nothing typed is attached to a supporter already known), their sign-up,
    then a copy for each partner whose box they ticked and that is still a partner now."""
    if campaign.status != CampaignStatus.PUBLISHED:
        raise DomainError(
            "campaign_closed", _("This campaign no longer takes sign-ups."), status=409
        )
    actor = actor or "campaign"
    with transaction.atomic():
        person = upsert_person(
            organization=campaign.organization,
            actor=actor,
            data=data,
            source=Source.FORM,
            source_ref=source_ref or f"campaign:{campaign.pk}",
            anonymous=True,
        ).person
        signup, created = CampaignSignup.objects.get_or_create(
            organization_id=campaign.organization_id,
            campaign=campaign,
            person=person,
            source=JOIN_SOURCE,
        )
        if created:
            audit.log(actor, "campaigns.signup.joined", person, {"campaign": campaign.pk})
        shared = partners.share(
            boxes=partners.boxes_for(campaign=campaign),
            ticked=ticked,
            data=data,
            source=JOIN_SOURCE,
            actor=actor,
        )
    return JoinResult(signup=signup, created=created, shared=shared)
