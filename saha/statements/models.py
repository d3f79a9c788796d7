"""Statements: what an organization's governing body says, dated and placed, in several
languages each written in its own right, co-signed by other organizations.

A statement is one row; each language is a `StatementVersion` with its own title,
issuing body, place and body. A withdrawn statement stays public and says it was
withdrawn: the record of what was said is not rewritten.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned, OrganizationQuerySet


class StatementStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


def image_path(instance: Statement, filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower()[:5]
    return f"statements/{instance.organization_id}/{instance.pk or 'new'}.{extension}"


class StatementQuerySet(OrganizationQuerySet):
    # for_org() from OrganizationQuerySet: the tenancy walk (core/tests/test_tenancy.py)
    # requires it of every organization-owned model.

    def public(self) -> StatementQuerySet:
        """What anyone may read: published, and withdrawn (which says so)."""
        return self.filter(status__in=[StatementStatus.PUBLISHED, StatementStatus.WITHDRAWN])

    def due(self, now: object = None) -> StatementQuerySet:
        return self.filter(status=StatementStatus.SCHEDULED, publish_at__lte=now or timezone.now())


class Statement(OrganizationOwned):
    slug = models.SlugField(_("short name in the address"), max_length=80)
    # The date line: the day the body issued it (not necessarily the day it went online).
    dated = models.DateField(_("date"), default=timezone.localdate)
    # The language it was first written in: shown first when the reader's is missing.
    original_language = models.CharField(_("original language"), max_length=8)
    status = models.CharField(
        _("status"), max_length=10, choices=StatementStatus.choices, default=StatementStatus.DRAFT
    )
    publish_at = models.DateTimeField(_("publish at"), null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Why it was withdrawn, per language, shown above the text.
    withdrawal_notes = models.JSONField(default=dict, blank=True)
    # For link previews (Open Graph, X): a large card when there is one.
    image = models.ImageField(_("picture for link previews"), upload_to=image_path, blank=True)
    co_signers = models.ManyToManyField(
        "organizations.Organization",
        through="CoSigner",
        through_fields=("statement", "co_signer"),
        related_name="co_signed_statements",
        blank=True,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    modified_at = models.DateTimeField(default=timezone.now)

    objects = StatementQuerySet.as_manager()

    class Meta:
        ordering = ["-dated", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "slug"], name="statement_slug_unique"),
        ]
        indexes = [
            models.Index(fields=["organization", "status", "dated"], name="statement_listing"),
            models.Index(fields=["status", "publish_at"], name="statement_due"),
        ]

    def __str__(self) -> str:
        return self.slug

    @property
    def is_public(self) -> bool:
        return self.status in (StatementStatus.PUBLISHED, StatementStatus.WITHDRAWN)

    def version_for(self, language: str | None = None) -> StatementVersion | None:
        """The version in `language` (default: the active one), else the original, else any.
        Reads `versions` once, so a prefetch serves a whole list."""
        versions = {version.language: version for version in self.versions.all()}
        for wanted in (language or get_language(), self.original_language):
            if wanted and wanted in versions:
                return versions[wanted]
        return next(iter(versions.values()), None)


class StatementVersion(OrganizationOwned):
    """One language of a statement, written in its own right."""

    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="versions")
    language = models.CharField(_("language"), max_length=8)
    title = models.CharField(_("title"), max_length=200)
    # "Executive Committee", "المكتب التنفيذي"
    issuing_body = models.CharField(_("issued by"), max_length=200, blank=True)
    place = models.CharField(_("place"), max_length=100, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("text (Markdown)"))
    # Said on the page: a reader may then prefer the original.
    machine_translated = models.BooleanField(_("machine translation"), default=False)
    modified_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["statement", "language"]
        constraints = [
            models.UniqueConstraint(fields=["statement", "language"], name="statement_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.statement_id}/{self.language}"


class CoSigner(OrganizationOwned):
    """Another organization asked to co-sign this organization's statement.
    Named on the statement only once one of its own admins accepts."""

    statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="co_signer_links"
    )
    co_signer = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    invited_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["statement", "co_signer"], name="co_signer_once")
        ]

    def __str__(self) -> str:
        return f"co-signer #{self.pk}"
