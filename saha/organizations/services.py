"""Every write to organizations, memberships and invitations."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError, PermissionDeniedError
from saha.core.jobs import enqueue_on_commit
from saha.organizations.models import (
    Invitation,
    Membership,
    Organization,
    hash_token,
    invitation_token,
)
from saha.organizations.roles import Permission, Role

INVITATION_DAYS = 14
EDITABLE_FIELDS = (
    "names",
    "about",
    "default_language",
    "time_zone",
    "contact_email",
    "require_mfa",
)


def create_organization(
    *,
    actor: Any,
    slug: str,
    names: dict[str, str],
    default_language: str,
    time_zone: str = "",
    owner: Any = None,
    logo: UploadedFile | None = None,
) -> Organization:
    """Create an organization; `owner` (default: the actor) becomes its first owner."""
    owner = owner or actor
    organization = Organization(
        slug=slug,
        names={k: v for k, v in names.items() if v},
        default_language=default_language,
        time_zone=time_zone or settings.TIME_ZONE,
    )
    if logo is not None:
        organization.logo = logo
    organization.full_clean()
    try:
        with transaction.atomic():
            organization.save()
            Membership.objects.create(organization=organization, user=owner, role=Role.OWNER)
            audit.log(actor, "organizations.created", organization, {"slug": slug})
    except IntegrityError:
        raise Conflict("slug_taken", _("This web address is already taken.")) from None
    return organization


def update_organization(
    *,
    actor: Any,
    organization: Organization,
    logo: UploadedFile | None = None,
    clear_logo: bool = False,
    **changes: Any,
) -> Organization:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {', '.join(sorted(unknown))}")
    changed = {k: v for k, v in changes.items() if getattr(organization, k) != v}
    for field, value in changed.items():
        setattr(organization, field, value)
    fields = list(changed)
    if logo is not None:
        organization.logo = logo
        fields.append("logo")
    elif clear_logo and organization.logo:
        organization.logo.delete(save=False)
        organization.logo = ""
        fields.append("logo")
    if not fields:
        return organization
    organization.full_clean()
    with transaction.atomic():
        organization.save(update_fields=fields)
        audit.log(actor, "organizations.updated", organization, {"fields": sorted(fields)})
    return organization


def _require(actor_membership: Membership, permission: Permission) -> None:
    if not actor_membership.can(permission):
        raise PermissionDeniedError("forbidden", _("Your role does not allow this."))


def _check_role_grant(actor_membership: Membership, role: str) -> None:
    if role not in Role.values:
        raise DomainError("unknown_role", _("Unknown role."))
    _require(actor_membership, Permission.MANAGE_MEMBERS)
    if role == Role.OWNER:
        _require(actor_membership, Permission.MANAGE_OWNERS)


def invite_member(
    *, actor_membership: Membership, email: str, role: str, language: str = ""
) -> tuple[Invitation, str]:
    """Invite an address to join with a role; returns the invitation and its link's token.

    `language` is the one the email is written in (default: the organization's).
    """
    organization = actor_membership.organization
    _check_role_grant(actor_membership, role)
    email = get_user_model().objects.normalize_email(email).lower()
    if Membership.objects.for_org(organization).filter(user__email__iexact=email).exists():
        raise Conflict("already_member", _("This person is already a member."))
    salt = secrets.token_hex(16)
    token = invitation_token(salt)
    now = timezone.now()
    with transaction.atomic():
        # A new invitation replaces any pending one to the same address.
        Invitation.objects.for_org(organization).pending().filter(email__iexact=email).update(
            revoked_at=now
        )
        invitation = Invitation.objects.create(
            organization=organization,
            email=email,
            role=role,
            salt=salt,
            token_hash=hash_token(token),
            language=language or organization.default_language,
            invited_by=actor_membership.user,
            expires=now + dt.timedelta(days=INVITATION_DAYS),
        )
        audit.log(
            actor_membership.user,
            "organizations.member.invited",
            invitation,
            {"email": email, "role": role},
        )
        from saha.organizations.tasks import send_invitation

        # Only the id is queued: the task derives the link again from the salt.
        enqueue_on_commit(send_invitation, invitation.pk)
    return invitation, token


def invitation_for_token(token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(token_hash=hash_token(token))
        .first()
    )
    return invitation if invitation and invitation.is_pending else None


def holds_address(user: Any, email: str) -> bool:
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def accept_invitation(*, user: Any, token: str) -> Membership:
    """Join through an invitation; only the holder of the invited address may."""
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organization")
            .filter(token_hash=hash_token(token))
            .first()
        )
        if invitation is None or not invitation.is_pending:
            raise DomainError(
                "invitation_invalid",
                _("This invitation has expired, was withdrawn or has already been used."),
            )
        if not holds_address(user, invitation.email):
            # A forwarded or leaked link must not let someone else in.
            raise PermissionDeniedError(
                "invitation_email_mismatch",
                _(
                    "This invitation was sent to %(email)s. Sign in with that address, or add "
                    "and confirm it in your account first."
                )
                % {"email": invitation.email},
            )
        organization = invitation.organization
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        existing = Membership.objects.for_org(organization).filter(user=user).first()
        if existing:
            # Already in: the invitation is used up; the role stays what it was.
            audit.log(
                user,
                "organizations.member.invitation_used",
                existing,
                {
                    "invited_role": invitation.role,
                    "role": existing.role,
                    "invitation": invitation.pk,
                },
            )
            return existing
        membership = Membership.objects.create(
            organization=organization, user=user, role=invitation.role
        )
        audit.log(
            user,
            "organizations.member.joined",
            membership,
            {"role": invitation.role, "invitation": invitation.pk},
        )
    return membership


def revoke_invitation(*, actor_membership: Membership, invitation: Invitation) -> None:
    _require(actor_membership, Permission.MANAGE_MEMBERS)
    updated = (
        Invitation.objects.for_org(actor_membership.organization)
        .pending()
        .filter(pk=invitation.pk)
        .update(revoked_at=timezone.now())
    )
    if updated:
        audit.log(
            actor_membership.user,
            "organizations.member.invitation_revoked",
            invitation,
            {"email": invitation.email},
        )


def _lock_owners(organization: Organization) -> list[int]:
    """Lock the owner rows, so two admins demoting the last two owners at once can't both win."""
    return list(
        Membership.objects.for_org(organization)
        .select_for_update()
        .filter(role=Role.OWNER)
        .order_by("pk")  # the same lock order in every transaction: no deadlock
        .values_list("pk", flat=True)
    )


def change_role(*, actor_membership: Membership, membership: Membership, role: str) -> Membership:
    _check_role_grant(actor_membership, role)
    if membership.role == Role.OWNER:
        _require(actor_membership, Permission.MANAGE_OWNERS)
    if membership.role == role:
        return membership
    with transaction.atomic():
        owners = _lock_owners(membership.organization)
        if membership.role == Role.OWNER and owners == [membership.pk]:
            raise Conflict("last_owner", _("An organization must keep at least one owner."))
        previous = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit.log(
            actor_membership.user,
            "organizations.member.role_changed",
            membership,
            {"from": previous, "to": role, "user": membership.user.email},
        )
    return membership


def remove_member(*, actor_membership: Membership, membership: Membership) -> None:
    leaving = actor_membership.pk == membership.pk
    if not leaving:
        _require(actor_membership, Permission.MANAGE_MEMBERS)
        if membership.role == Role.OWNER:
            _require(actor_membership, Permission.MANAGE_OWNERS)
    with transaction.atomic():
        owners = _lock_owners(membership.organization)
        if membership.role == Role.OWNER and owners == [membership.pk]:
            raise Conflict("last_owner", _("An organization must keep at least one owner."))
        audit.log(
            actor_membership.user,
            "organizations.member.left" if leaving else "organizations.member.removed",
            membership,
            {"user": membership.user.email, "role": membership.role},
        )
        membership.delete()
