"""Writing down what happened to a chunk of deliveries, and only to our own.

Every write here is conditional on the lease: a worker whose lease ran out
(the reaper has since marked its rows UNKNOWN, or another worker claimed
them) must not overwrite what someone else now owns. A SENT that is refused
for that reason leaves the row UNKNOWN, which the reconciler settles: a
possible duplicate, visible, never a silent one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import DateTimeField, DurationField, ExpressionWrapper, QuerySet, Value
from django.db.models.functions import Now

from saha.messaging.contacts import record_permanent_failure
from saha.messaging.models import Delivery, DeliveryStatus

# After a temporary failure, try again after these many seconds.
RETRY_DELAYS = (60, 300, 900, 3600, 4 * 3600, 12 * 3600)


def lease_until() -> ExpressionWrapper:
    """Now plus the lease, on the database's clock (the one every worker host shares)."""
    lease = dt.timedelta(seconds=settings.SAHA_OUTBOX_LEASE_SECONDS)
    return ExpressionWrapper(
        Now() + Value(lease, output_field=DurationField()), output_field=DateTimeField()
    )


@dataclass
class Outcome:
    """What happened to one chunk; `pending` is what was not yet handed over."""

    pending: list[Delivery] = field(default_factory=list)
    sent: list[Delivery] = field(default_factory=list)
    failed: list[Delivery] = field(default_factory=list)
    retry: list[Delivery] = field(default_factory=list)
    unknown: list[Delivery] = field(default_factory=list)
    # When what is still pending may be tried again (None: at once).
    retry_pending_at: dt.datetime | None = None


def mark_sending(lease: str, chunk: Sequence[Delivery]) -> set[int]:
    """Mark a chunk SENDING before handing it over; return the ids still ours.

    A row whose address was blanked since the claim (its person was erased)
    is not ours to send any more. One statement with RETURNING where the
    database has it (PostgreSQL, SQLite 3.35+): this runs once per chunk.
    """
    ids = [delivery.pk for delivery in chunk]
    if not ids:
        return set()
    rows = Delivery.objects.filter(pk__in=ids, lease=lease, status=DeliveryStatus.CLAIMED).exclude(
        address=""
    )
    if not connection.features.can_return_rows_from_bulk_insert:
        rows.update(status=DeliveryStatus.SENDING, lease_expires=lease_until())
        return set(
            Delivery.objects.filter(
                pk__in=ids, lease=lease, status=DeliveryStatus.SENDING
            ).values_list("pk", flat=True)
        )
    lease_seconds = settings.SAHA_OUTBOX_LEASE_SECONDS
    table = Delivery._meta.db_table
    placeholders = ", ".join(["%s"] * len(ids))
    if connection.vendor == "postgresql":
        expires = "statement_timestamp() + make_interval(secs => %s)"
    else:
        expires = "strftime('%%Y-%%m-%%d %%H:%%M:%%f', 'now', '+' || %s || ' seconds')"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = %s, lease_expires = {expires} "  # noqa: S608
            f"WHERE id IN ({placeholders}) AND lease = %s AND status = %s AND address <> '' "
            "RETURNING id",
            [
                DeliveryStatus.SENDING.value,
                lease_seconds,
                *ids,
                lease,
                DeliveryStatus.CLAIMED.value,
            ],
        )
        return {row[0] for row in cursor.fetchall()}


def renew(lease: str) -> int:
    """Extend the lease of everything this worker holds (a slow provider, a low rate)."""
    return Delivery.objects.filter(
        lease=lease, status__in=(DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
    ).update(lease_expires=lease_until())


def record(lease: str, outcome: Outcome, now: dt.datetime) -> None:
    """Write a chunk's outcomes, inside the caller's transaction."""
    _record_sent(lease, outcome.sent, now)
    for delivery in outcome.retry:
        if delivery.attempts >= settings.SAHA_SEND_ATTEMPTS:
            outcome.failed.append(delivery)
            continue
        delay = RETRY_DELAYS[min(delivery.attempts, len(RETRY_DELAYS)) - 1]
        delivery.status = DeliveryStatus.QUEUED
        delivery.not_before = now + dt.timedelta(seconds=delay)
    retry = [d for d in outcome.retry if d.status == DeliveryStatus.QUEUED]
    for delivery in outcome.failed:
        delivery.status = DeliveryStatus.FAILED
    for delivery in outcome.unknown:
        delivery.status = DeliveryStatus.UNKNOWN
        delivery.outcome_was_unknown = True
    rows = [*retry, *outcome.failed, *outcome.unknown]
    if rows:
        ours = set(
            Delivery.objects.select_for_update()
            .filter(pk__in=[d.pk for d in rows], lease=lease, status=DeliveryStatus.SENDING)
            .values_list("pk", flat=True)
        )
        for delivery in rows:
            delivery.lease, delivery.lease_expires = "", None
        Delivery.objects.bulk_update(
            [d for d in rows if d.pk in ours],
            [
                "status",
                "not_before",
                "attempts",
                "error",
                "lease",
                "lease_expires",
                "outcome_was_unknown",
                "refused",
            ],
        )
    release(lease, outcome.pending, not_before=outcome.retry_pending_at)


def after_commit(outcome: Outcome) -> None:
    for delivery in outcome.failed:
        if delivery.refused:
            record_permanent_failure(delivery)


def relax_durability() -> None:
    """Commit without waiting for the disk (PostgreSQL).

    Only a crash of the database server can lose such a commit, and what it
    loses is safe: the rows are still SENDING there, so they become UNKNOWN and
    are reconciled as after a worker's crash. A SENDING mark never uses this.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _record_sent(lease: str, deliveries: Sequence[Delivery], now: dt.datetime) -> None:
    """The common case, kept cheap (bulk_update's CASE per field costs more than
    sending on loopback): one UPDATE ... FROM VALUES on PostgreSQL; on SQLite,
    in-process, one prepared statement per row."""
    if not deliveries:
        return
    sent_at = connection.ops.adapt_datetimefield_value(now)
    table = Delivery._meta.db_table
    sending = DeliveryStatus.SENDING.value
    rows = [(d.pk, d.provider, d.provider_id, d.attempts) for d in deliveries]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = ", ".join(["(%s::bigint, %s, %s, %s::smallint)"] * len(rows))
            cursor.execute(
                f"UPDATE {table} AS d SET status = %s, sent_at = %s, provider = v.provider, "  # noqa: S608
                "provider_id = v.provider_id, attempts = v.attempts, lease = '', "
                f"lease_expires = NULL FROM (VALUES {values}) AS v(id, provider, provider_id, "
                "attempts) WHERE d.id = v.id AND d.lease = %s AND d.status = %s",
                [
                    DeliveryStatus.SENT.value,
                    sent_at,
                    *(value for row in rows for value in row),
                    lease,
                    sending,
                ],
            )
            return
        cursor.executemany(
            f"UPDATE {table} SET status = %s, sent_at = %s, provider = %s, provider_id = %s, "  # noqa: S608
            "attempts = %s, lease = '', lease_expires = NULL "
            "WHERE id = %s AND lease = %s AND status = %s",
            [
                (DeliveryStatus.SENT.value, sent_at, p, pid, a, pk, lease, sending)
                for pk, p, pid, a in rows
            ],
        )


def _requeue(rows: QuerySet[Delivery], not_before: dt.datetime | None) -> int:
    fields: dict[str, object] = {
        "status": DeliveryStatus.QUEUED,
        "lease": "",
        "lease_expires": None,
    }
    if not_before is not None:
        fields["not_before"] = not_before
    return rows.update(**fields)


def release(
    lease: str, deliveries: Iterable[Delivery], *, not_before: dt.datetime | None = None
) -> int:
    """Give back to the queue deliveries this worker holds and never handed over."""
    ids = [delivery.pk for delivery in deliveries]
    if not ids:
        return 0
    held = (DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
    return _requeue(Delivery.objects.filter(pk__in=ids, lease=lease, status__in=held), not_before)


def release_claimed(lease: str, *, not_before: dt.datetime | None = None) -> int:
    """Give back whatever of this worker's batch is still only claimed."""
    return _requeue(Delivery.objects.filter(lease=lease, status=DeliveryStatus.CLAIMED), not_before)
