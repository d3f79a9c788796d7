from __future__ import annotations

import hashlib
import zoneinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned
from saha.core.tenancy import OrganizationQuerySet as OwnedQuerySet
from saha.organizations.roles import Permission, Role, permissions_for

RESERVED_SLUGS = frozenset({"new", "admin", "api", "static", "media", "manage", "accounts"})

slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 2 to 50 lowercase letters, digits and hyphens, not starting or ending with a hyphen."),
)


def validate_slug(value: str) -> None:
    if value in RESERVED_SLUGS:
        raise ValidationError(_("This web address is reserved; choose another."), code="reserved")


def validate_time_zone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValidationError(_("Unknown time zone."), code="time_zone") from None


def logo_path(instance: Organization, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower()[:5]
    return f"organizations/{instance.slug}/logo.{extension}"


def translated(values: dict[str, str], fallback_language: str) -> str:
    """The value in the active language, else the fallback's, else any."""
    for language in (get_language(), fallback_language):
        if values.get(language or ""):
            return values[language or ""]
    return next((v for v in values.values() if v), "")


class Organization(models.Model):
    """A tenant: a party, union, NGO or neighbourhood group running its actions on Saha."""

    slug = models.CharField(
        _("web address"), max_length=50, unique=True, validators=[slug_validator, validate_slug]
    )
    # One name per language, {"ar": "...", "en": "..."}: an organization is
    # often known by different names in each language, not a translation.
    names = models.JSONField(_("names"), default=dict)
    about = models.JSONField(_("about"), default=dict, blank=True)
    default_language = models.CharField(_("default language"), max_length=8)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Beirut", validators=[validate_time_zone]
    )
    logo = models.ImageField(_("logo"), upload_to=logo_path, blank=True)
    contact_email = models.EmailField(_("public contact email"), blank=True)
    require_mfa = models.BooleanField(
        _("require two-factor authentication of every member"), default=False
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return translated(self.names, self.default_language) or self.slug

    @property
    def about_text(self) -> str:
        return translated(self.about, self.default_language)


class MembershipQuerySet(OwnedQuerySet):
    def of_user(self, user: Any) -> MembershipQuerySet:
        """A user's memberships with their organizations, in a stable order."""
        return self.filter(user=user).select_related("organization").order_by("organization__slug")


class Membership(OrganizationOwned):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="one_membership_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"

    def can(self, permission: Permission) -> bool:
        return permission in permissions_for(self.role)

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.role)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_token(salt: str) -> str:
    """The secret in an invitation link: derived from the row's salt and SECRET_KEY.

    The database holds only the salt and the token's hash, so neither a copy of
    the database nor the task queue (which carries only the invitation's id)
    is enough to accept an invitation; and the worker can write the same link
    again if it sends the email twice.
    """
    return salted_hmac("saha.organizations.invitation", salt, algorithm="sha256").hexdigest()


class InvitationQuerySet(OwnedQuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires__gt=timezone.now()
        )


class Invitation(OrganizationOwned):
    """An invitation by email to join with a role. Only the token's hash is stored."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    salt = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    # The language the invitation email is written in: the inviter's page language.
    language = models.CharField(_("language"), max_length=8)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_role_display()})"

    @property
    def is_pending(self) -> bool:
        return (
            self.accepted_at is None and self.revoked_at is None and self.expires > timezone.now()
        )


class SearchKind(models.TextChoices):
    CAMPAIGN = "campaign", _("Campaign")
    STATEMENT = "statement", _("Statement")
    EVENT = "event", _("Event")
    PETITION = "petition", _("Petition")


class SearchEntry(OrganizationOwned):
    """What public search matches one campaign, statement, event or petition against: all
    its searchable texts in every language, already folded (`saha.organizations.search.fold`).

    Written whenever the item's texts are saved (`saha.organizations.search_index`),
    read by every search. It holds texts only, never whether the item is public: a
    search takes candidate ids from here and shows only those its public filters let
    through, so a status changed by a conditional UPDATE needs nothing here."""

    kind = models.CharField(max_length=10, choices=SearchKind.choices)
    # The campaign's, statement's, event's or petition's id: `kind` says which table.
    object_id = models.PositiveBigIntegerField()
    # The titles in every language, folded: an item whose title has the words comes first.
    titles = models.TextField(blank=True)
    # The titles and every other searched text in every language, folded, capped.
    folded = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("search entry")
        verbose_name_plural = _("search entries")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_once")
        ]
        indexes = [models.Index(fields=["organization", "kind"], name="search_entry_kind")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.object_id}"
