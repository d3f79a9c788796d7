from __future__ import annotations

import datetime as dt
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from saha.core.tenancy import OrganizationOwned, OrganizationQuerySet


class AuditQuerySet(OrganizationQuerySet):
    def matching(
        self,
        *,
        actor_id: int | None = None,
        action: str = "",
        since: dt.date | None = None,
        until: dt.date | None = None,
        before_id: int | None = None,
    ) -> AuditQuerySet:
        """Entries by one actor, with an action starting with `action`, between two days
        (inclusive, in the active time zone), older than entry `before_id`; newest first."""
        entries = self.order_by("-id")
        if actor_id:
            entries = entries.filter(actor_id=actor_id)
        if action:
            entries = entries.filter(action__startswith=action)
        tz = timezone.get_current_timezone()
        if since:
            entries = entries.filter(created__gte=dt.datetime.combine(since, dt.time(), tz))
        if until:
            day_after = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tz)
            entries = entries.filter(created__lt=day_after)
        if before_id:
            entries = entries.filter(id__lt=before_id)
        return entries

    def update(self, **kwargs: Any) -> NoReturn:
        raise TypeError("The audit log is append-only.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise TypeError("The audit log is append-only.")


class AuditEntry(OrganizationOwned):
    """One thing that happened. Written only by `saha.core.audit.log`; never changed."""

    # Account-level events (a sign-in, an MFA change) belong to no organization.
    # PROTECT: an organization with history cannot vanish by cascade.
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Kept even when the user is deleted, and for actors that are not users
    # (the worker, an API token, the command line).
    actor_label = models.CharField(_("actor"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created", "-id"]
        indexes = [
            models.Index(fields=["organization", "-created", "-id"]),
            # A person's timeline reads the entries about them.
            models.Index(fields=["organization", "target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise TypeError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("The audit log is append-only.")


class WorkerHeartbeat(models.Model):
    """A worker process says it is alive; a silent one is presumed dead."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"


class ScheduledJob(models.Model):
    """When a periodic task is next due. One row per task, shared by all workers."""

    name = models.CharField(max_length=200, primary_key=True)
    next_run = models.DateTimeField()
    last_enqueued = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class PendingEmail(models.Model):
    """An account email waiting for the worker; deleted once sent.

    It holds sign-in links and reset keys, so it lives only until delivery:
    the task queue carries just this row's id.
    """

    subject = models.CharField(max_length=998)
    body = models.TextField()
    html = models.TextField(blank=True)
    from_email = models.CharField(max_length=320)
    to = models.JSONField()
    headers = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
