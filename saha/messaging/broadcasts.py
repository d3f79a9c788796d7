"""Broadcasts: write once per language, send to an audience once, whatever is clicked.

Every change of state is one conditional UPDATE (`WHERE status = <expected>`):
a double click, two admins pressing send together, or a task run twice all
find the row already moved and do nothing. Recipients are written into the
outbox by one INSERT ... SELECT ... ON CONFLICT DO NOTHING, which the unique
(message, person, channel) makes safe to repeat.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, CharField, F, Q, QuerySet, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from saha.core import audit
from saha.core.errors import Conflict, DomainError, PermissionDeniedError
from saha.core.jobs import enqueue_on_commit
from saha.messaging import rendering
from saha.messaging.compose import PAUSED_UNTIL
from saha.messaging.models import (
    OPEN_STATUSES,
    Broadcast,
    BroadcastStatus,
    BroadcastVersion,
    Delivery,
    DeliveryStatus,
    Message,
    MessageKind,
    Priority,
)
from saha.messaging.quiet import next_allowed
from saha.messaging.services import messaging_settings, usable_emails, usable_phones
from saha.organizations.models import Membership, Organization
from saha.organizations.roles import Role
from saha.supporters import segments
from saha.supporters.models import Channel, ConsentState, ConsentStatus, Person, Segment


@dataclass(frozen=True)
class BroadcastData:
    name: str
    channel: str
    segment: Segment | None
    fallback_language: str
    purpose: str = ""
    urgent: bool = False


def create_broadcast(*, actor: Any, organization: Organization, data: BroadcastData) -> Broadcast:
    with transaction.atomic():
        message = Message.objects.create(
            organization=organization, kind=MessageKind.BROADCAST, priority=Priority.BULK
        )
        broadcast = Broadcast.objects.create(
            organization=organization,
            message=message,
            created_by=_user(actor),
            **_fields(data),
        )
        audit.log(actor, "messaging.broadcast.created", broadcast, {"channel": data.channel})
    return broadcast


def _user(actor: Any) -> Any:
    """The member behind an actor, or None for a label ("api:<token>", "system:worker").

    A token is nobody's account: a broadcast it creates or asks to send names no
    member, so any owner or admin may approve it (the audit row names the token)
    and the approval the organization requires is never skipped.
    """
    return actor if getattr(actor, "is_authenticated", False) else None


def _fields(data: BroadcastData) -> dict[str, Any]:
    fields = {
        "name": data.name,
        "channel": data.channel,
        "segment": data.segment,
        "fallback_language": data.fallback_language,
        "urgent": data.urgent,
    }
    if data.purpose:
        fields["purpose"] = data.purpose
    return fields


def _require_draft(broadcast: Broadcast) -> None:
    if broadcast.status != BroadcastStatus.DRAFT:
        raise Conflict("not_draft", _("This broadcast is no longer a draft and cannot be changed."))


def update_broadcast(*, actor: Any, broadcast: Broadcast, data: BroadcastData) -> Broadcast:
    _require_draft(broadcast)
    fields = _fields(data)
    changed = Broadcast.objects.filter(pk=broadcast.pk, status=BroadcastStatus.DRAFT).update(
        modified_at=timezone.now(), **fields
    )
    if not changed:
        raise Conflict("not_draft", _("This broadcast is no longer a draft and cannot be changed."))
    for name, value in fields.items():
        setattr(broadcast, name, value)
    audit.log(actor, "messaging.broadcast.edited", broadcast, {"fields": sorted(fields)})
    return broadcast


def save_version(
    *, actor: Any, broadcast: Broadcast, language: str, subject: str, body: str
) -> BroadcastVersion:
    with transaction.atomic():
        locked = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        _require_draft(locked)
        version, _created = BroadcastVersion.objects.update_or_create(
            broadcast=locked, language=language, defaults={"subject": subject, "body": body}
        )
        Broadcast.objects.filter(pk=broadcast.pk).update(modified_at=timezone.now())
        audit.log(actor, "messaging.broadcast.edited", broadcast, {"version": language})
    return version


def delete_version(*, actor: Any, broadcast: Broadcast, language: str) -> None:
    with transaction.atomic():
        locked = Broadcast.objects.select_for_update().get(pk=broadcast.pk)
        _require_draft(locked)
        BroadcastVersion.objects.filter(broadcast=locked, language=language).delete()
        audit.log(actor, "messaging.broadcast.edited", broadcast, {"deleted_version": language})


def problems(broadcast: Broadcast) -> list[str]:
    """What stops this broadcast from going out, in words for the organizer."""
    found = []
    versions = {v.language: v for v in broadcast.versions.all()}
    if broadcast.fallback_language not in versions:
        found.append(_("Write the version in the fallback language first."))
    for version in versions.values():
        if broadcast.channel == Channel.EMAIL and not version.subject.strip():
            found.append(
                _("The %(language)s version has no subject.") % {"language": version.language}
            )
        if not version.body.strip():
            found.append(_("The %(language)s version is empty.") % {"language": version.language})
        unknown = rendering.unknown_fields(f"{version.subject}\n{version.body}")
        if unknown:
            found.append(_("Unknown merge fields: %(fields)s.") % {"fields": ", ".join(unknown)})
    return found


# --- the audience ------------------------------------------------------------


def audience(broadcast: Broadcast, definition: dict[str, Any] | None = None) -> QuerySet[Person]:
    """Who would receive it now: the segment's people who agreed and can be reached."""
    if definition is None:
        definition = broadcast.segment.definition if broadcast.segment else {}
    consenting = ConsentState.objects.filter(
        channel=broadcast.channel, purpose=broadcast.purpose, status=ConsentStatus.GRANTED
    ).values("person_id")
    return (
        segments.matching(broadcast.organization, definition)
        .filter(pk__in=consenting)
        .annotate(delivery_address=Subquery(_address_of_person(broadcast.channel)))
        .filter(delivery_address__isnull=False)
    )


def _address_of_person(channel: str) -> QuerySet[Any]:
    from django.db.models import OuterRef

    if channel == Channel.EMAIL:
        return usable_emails().filter(person_id=OuterRef("pk")).values("address")[:1]
    return usable_phones().filter(person_id=OuterRef("pk")).values("number")[:1]


def audience_by_language(broadcast: Broadcast) -> dict[str, int]:
    """How many would receive each version (the fallback takes the languages not written)."""
    from django.db.models import Count

    languages = set(broadcast.versions.values_list("language", flat=True))
    rows = (
        audience(broadcast)
        .order_by()
        .annotate(version=_version_case(languages, broadcast.fallback_language))
        .values("version")
        .annotate(n=Count("id"))
    )
    return {row["version"]: row["n"] for row in rows}


def _version_case(languages: set[str], fallback: str) -> Case:
    return Case(
        When(language__in=sorted(languages), then=F("language")),
        default=Value(fallback),
        output_field=CharField(),
    )


# --- sending -----------------------------------------------------------------


def _move(broadcast: Broadcast, source: tuple[str, ...], target: str, **fields: Any) -> bool:
    """The one way a broadcast changes state: only from an expected state, once."""
    changed = Broadcast.objects.filter(pk=broadcast.pk, status__in=source).update(
        status=target, modified_at=timezone.now(), **fields
    )
    if changed:
        broadcast.status = target
        for name, value in fields.items():
            setattr(broadcast, name, value)
    return bool(changed)


def request_send(*, actor: Any, broadcast: Broadcast, when: dt.datetime | None = None) -> Broadcast:
    """Send now or at `when`, or ask a second admin first; pressing twice does nothing more."""
    if broadcast.status != BroadcastStatus.DRAFT:
        return broadcast  # already on its way: the second click
    found = problems(broadcast)
    if found:
        raise DomainError("not_ready", " ".join(found))
    if when is not None and when <= timezone.now():
        when = None
    with transaction.atomic():
        if messaging_settings(broadcast.organization).broadcast_requires_approval:
            # The audience is copied now: what the approver approves is what goes,
            # even if the segment is edited or deleted in between.
            moved = _move(
                broadcast,
                (BroadcastStatus.DRAFT,),
                BroadcastStatus.AWAITING_APPROVAL,
                requested_by=_user(actor),
                scheduled_for=when,
                definition=_snapshot(broadcast),
            )
            action = "messaging.broadcast.approval_requested"
        else:
            moved = _go(broadcast, (BroadcastStatus.DRAFT,), when, requested_by=_user(actor))
            action = "messaging.broadcast.sent"
        if moved:
            audit.log(actor, action, broadcast, _audit_data(broadcast))
    return broadcast


def _audit_data(broadcast: Broadcast) -> dict[str, Any]:
    return {
        "channel": broadcast.channel,
        "segment": broadcast.segment.name if broadcast.segment else "",
        "scheduled_for": broadcast.scheduled_for.isoformat() if broadcast.scheduled_for else "",
    }


def _go(
    broadcast: Broadcast, source: tuple[str, ...], when: dt.datetime | None, **fields: Any
) -> bool:
    """Schedule, or start preparing now. From a draft the audience is copied at this
    moment; after an approval the copy made at the request stands."""
    fresh = BroadcastStatus.DRAFT in source
    definition = _snapshot(broadcast) if fresh else broadcast.definition
    if when is not None:
        return _move(
            broadcast,
            source,
            BroadcastStatus.SCHEDULED,
            scheduled_for=when,
            definition=definition,
            **fields,
        )
    moved = _move(broadcast, source, BroadcastStatus.PREPARING, definition=definition, **fields)
    if moved:
        from saha.messaging.tasks import prepare_broadcast_task

        enqueue_on_commit(prepare_broadcast_task, broadcast.pk)
    return moved


def _snapshot(broadcast: Broadcast) -> dict[str, Any]:
    return dict(broadcast.segment.definition) if broadcast.segment else {}


def _admin(organization: Organization, actor: Any) -> Membership:
    membership = Membership.objects.filter(organization=organization, user=actor).first()
    if membership is None or membership.role not in (Role.OWNER, Role.ADMIN):
        raise PermissionDeniedError("not_admin", _("Only an owner or an admin can do this."))
    return membership


def approve(*, actor: Any, broadcast: Broadcast) -> Broadcast:
    """A second admin lets it go; nobody approves their own broadcast."""
    _admin(broadcast.organization, actor)
    if broadcast.requested_by_id == getattr(actor, "pk", None):
        raise PermissionDeniedError(
            "own_broadcast", _("Another admin must approve a broadcast you asked to send.")
        )
    with transaction.atomic():
        if _go(
            broadcast,
            (BroadcastStatus.AWAITING_APPROVAL,),
            broadcast.scheduled_for
            if broadcast.scheduled_for and broadcast.scheduled_for > timezone.now()
            else None,
            approved_by=actor,
        ):
            audit.log(actor, "messaging.broadcast.approved", broadcast, _audit_data(broadcast))
    return broadcast


def return_to_draft(*, actor: Any, broadcast: Broadcast) -> Broadcast:
    """Withdraw a request for approval, refuse it, or unschedule: back to editing."""
    with transaction.atomic():
        if _move(
            broadcast,
            (BroadcastStatus.AWAITING_APPROVAL, BroadcastStatus.SCHEDULED),
            BroadcastStatus.DRAFT,
            scheduled_for=None,
            requested_by=None,
            approved_by=None,
            definition={},
        ):
            audit.log(actor, "messaging.broadcast.returned_to_draft", broadcast)
    return broadcast


def pause(*, actor: Any, broadcast: Broadcast) -> Broadcast:
    with transaction.atomic():
        if _move(broadcast, (BroadcastStatus.SENDING,), BroadcastStatus.PAUSED):
            # What is due waits for the resume; a retry's back-off or a quiet-hours
            # hold keeps its time (a worker that meets it while paused holds it then).
            Delivery.objects.filter(
                message_id=broadcast.message_id,
                status=DeliveryStatus.QUEUED,
                not_before__lte=timezone.now(),
            ).update(not_before=PAUSED_UNTIL)
            audit.log(actor, "messaging.broadcast.paused", broadcast)
    return broadcast


def resume(*, actor: Any, broadcast: Broadcast) -> Broadcast:
    from saha.messaging.tasks import wake_outbox

    with transaction.atomic():
        if _move(broadcast, (BroadcastStatus.PAUSED,), BroadcastStatus.SENDING):
            # Only what the pause held: a retry waiting out its back-off keeps waiting.
            Delivery.objects.filter(
                message_id=broadcast.message_id,
                status=DeliveryStatus.QUEUED,
                not_before=PAUSED_UNTIL,
            ).update(not_before=timezone.now())
            audit.log(actor, "messaging.broadcast.resumed", broadcast)
            transaction.on_commit(lambda: wake_outbox(workers=settings.SAHA_OUTBOX_WORKERS))
    return broadcast


def cancel(*, actor: Any, broadcast: Broadcast) -> Broadcast:
    """Stop what has not gone yet; what was sent stays sent."""
    cancellable = (
        BroadcastStatus.DRAFT,
        BroadcastStatus.AWAITING_APPROVAL,
        BroadcastStatus.SCHEDULED,
        BroadcastStatus.PREPARING,
        BroadcastStatus.SENDING,
        BroadcastStatus.PAUSED,
    )
    with transaction.atomic():
        if _move(broadcast, cancellable, BroadcastStatus.CANCELLED, finished_at=timezone.now()):
            Delivery.objects.filter(
                message_id=broadcast.message_id, status=DeliveryStatus.QUEUED
            ).update(status=DeliveryStatus.CANCELLED)
            audit.log(actor, "messaging.broadcast.cancelled", broadcast)
    return broadcast


def start_due() -> int:
    """Start the scheduled broadcasts whose time has come (the worker's clock tick)."""
    started = 0
    due = Broadcast.objects.filter(
        status=BroadcastStatus.SCHEDULED, scheduled_for__lte=timezone.now()
    )
    for broadcast in due:
        with transaction.atomic():
            started += _go(broadcast, (BroadcastStatus.SCHEDULED,), None)
    return started


ANALYZE_AFTER = 5_000


def prepare(broadcast_id: int) -> int:
    """Write one delivery per recipient into the outbox; safe to run twice, and a
    cancel that lands meanwhile wins (the broadcast's row is the lock)."""
    with transaction.atomic():
        broadcast = (
            Broadcast.objects.select_for_update()
            .select_related("organization")
            .filter(pk=broadcast_id)
            .first()
        )
        if broadcast is None or broadcast.status != BroadcastStatus.PREPARING:
            return 0
        written = _insert_deliveries(broadcast)
        total = Delivery.objects.filter(message_id=broadcast.message_id).count()
        _move(
            broadcast,
            (BroadcastStatus.PREPARING,),
            BroadcastStatus.SENDING,
            recipients=total,
            started_at=timezone.now(),
        )
    if written >= ANALYZE_AFTER and connection.vendor == "postgresql":
        # The planner's statistics still think the queue is nearly empty and
        # would sort every queued row for each claim; a fresh count lets it
        # walk the claim index in order and stop at the batch size.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Delivery._meta.db_table}")
    from saha.messaging.tasks import wake_outbox

    wake_outbox(workers=settings.SAHA_OUTBOX_WORKERS)
    return written


def stalled_preparations(older_than: dt.timedelta = dt.timedelta(minutes=5)) -> list[int]:
    """Broadcasts left PREPARING (a task that failed or was abandoned): to run again."""
    return list(
        Broadcast.objects.filter(
            status=BroadcastStatus.PREPARING, modified_at__lt=timezone.now() - older_than
        ).values_list("pk", flat=True)
    )


def repair_halted() -> int:
    """Deliveries held for a pause that a resume or cancel raced past: release or cancel."""
    held = Delivery.objects.filter(status=DeliveryStatus.QUEUED, not_before=PAUSED_UNTIL)
    stray = (
        held.exclude(message__broadcast__status=BroadcastStatus.PAUSED)
        .order_by()
        .values_list("message_id", flat=True)
        .distinct()[:1000]
    )
    repaired = 0
    for message_id in list(stray):
        status = (
            Broadcast.objects.filter(message_id=message_id).values_list("status", flat=True).first()
        )
        rows = held.filter(message_id=message_id)
        if status == BroadcastStatus.CANCELLED:
            repaired += rows.update(status=DeliveryStatus.CANCELLED)
        elif status != BroadcastStatus.PAUSED:
            repaired += rows.update(not_before=timezone.now())
    return repaired


def finish_all() -> None:
    for broadcast in Broadcast.objects.filter(status=BroadcastStatus.SENDING):
        finish_if_done(broadcast)


def _insert_deliveries(broadcast: Broadcast) -> int:
    languages = set(broadcast.versions.values_list("language", flat=True))
    not_before = timezone.now()
    if broadcast.channel == Channel.SMS and not broadcast.urgent:
        sender = messaging_settings(broadcast.organization)
        not_before = next_allowed(
            not_before, broadcast.organization.time_zone, sender.quiet_start, sender.quiet_end
        )
    rows = (
        audience(broadcast, broadcast.definition)
        .order_by()
        .values_list(
            Value(broadcast.organization_id),
            Value(broadcast.message_id),
            "pk",
            Value(str(broadcast.channel)),
            "delivery_address",
            _version_case(languages, broadcast.fallback_language),
            Value(int(Priority.URGENT if broadcast.urgent else Priority.BULK)),
            Value(DeliveryStatus.QUEUED.value),
            Value(not_before),
            Value(0),
            Value(""),
            Value(""),
            Value(""),
            Value(False),
            Value(False),
            Value(""),
            Value(not_before),
        )
    )
    select, params = rows.query.sql_with_params()
    table = Delivery._meta.db_table
    columns = (
        "organization_id, message_id, person_id, channel, address, language, priority, status, "
        "not_before, attempts, lease, provider, provider_id, outcome_was_unknown, refused, error, "
        "created_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) {select} ON CONFLICT DO NOTHING",
            params,
        )
        return cursor.rowcount


def finish_if_done(broadcast: Broadcast) -> bool:
    """SENDING becomes SENT once no delivery is open or unsettled."""
    if broadcast.status != BroadcastStatus.SENDING:
        return False
    open_ = Delivery.objects.filter(
        message_id=broadcast.message_id, status__in=(*OPEN_STATUSES, DeliveryStatus.UNKNOWN)
    )
    if open_.exists():
        return False
    return _move(
        broadcast, (BroadcastStatus.SENDING,), BroadcastStatus.SENT, finished_at=timezone.now()
    )


@dataclass(frozen=True)
class Progress:
    counts: dict[str, int]
    total: int
    done: int
    per_minute: int
    unknown_outcomes: int

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0


def progress(broadcast: Broadcast) -> Progress:
    """Counts by status, the rate over the last minute and the unknown outcomes: one query."""
    from django.db.models import Count

    minute_ago = timezone.now() - dt.timedelta(minutes=1)
    rows = (
        Delivery.objects.filter(message_id=broadcast.message_id)
        .order_by()
        .values("status")
        .annotate(
            n=Count("id"),
            recent=Count("id", filter=Q(sent_at__gte=minute_ago)),
            unknown=Count("id", filter=Q(outcome_was_unknown=True)),
        )
    )
    counts = dict.fromkeys(DeliveryStatus.values, 0)
    per_minute = unknown = 0
    for row in rows:
        counts[row["status"]] = row["n"]
        per_minute += row["recent"]
        unknown += row["unknown"]
    open_count = sum(counts[s] for s in (*OPEN_STATUSES, DeliveryStatus.UNKNOWN))
    total = sum(counts.values())
    return Progress(counts, total, total - open_count, per_minute, unknown)
