"""Webhooks: what happened, told to the organization's other systems, signed and retried.

An event (a person added, a signature, ...) becomes one `WebhookDelivery` per
active endpoint subscribed to its type, written in the very transaction that
caused it (an outbox): rolled back with the change, committed with it, so no
crash between the commit and a later step can lose it. The row names what the
event is about; its first attempt renders that as it then stands, with the API's
own representations, and keeps the payload: every attempt and every replay sends
the same body under the same event id (`Saha-Delivery`), so a receiver can
de-duplicate. A thing gone (or no longer worth telling) by then is not sent: the
delivery ends SKIPPED.

An attempt is claimed by a conditional UPDATE of the row (its attempt count and
due time as read), so two workers never send the same attempt; the claim moves
the due time a lease ahead, so an attempt lost with its worker is tried again.
A claimed row is PENDING with a due time in the future: nothing else is (new
rows and replays are due now, failed rows are FAILED).

Outside calls go through one wrapper, `post`, with one error type,
`WebhookError`: only http(s), no private addresses (unless the operator allows
them), the connection made to the very address that was checked, no redirects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from saha.api.models import DeliveryState, WebhookDelivery, WebhookEndpoint
from saha.core import audit

log = logging.getLogger(__name__)

EVENT_TYPES: dict[str, Any] = {
    "person.created": gettext_lazy("A person was added"),
    "person.updated": gettext_lazy("A person's details changed"),
    "signature.created": gettext_lazy("A petition was signed"),
    "attendance.created": gettext_lazy("Someone answered an event (RSVP)"),
    "attendance.updated": gettext_lazy(
        "An RSVP changed (cancelled, back after cancelling, or off the waiting list)"
    ),
    "checkin.created": gettext_lazy("Someone was checked in at an event"),
    "offer.created": gettext_lazy("A volunteer offered help"),
    "contact.unsubscribed": gettext_lazy("Someone unsubscribed"),
}
# Sent by the "send a test event" button only; nobody subscribes to it.
TEST_EVENT = "test"

# After attempt n fails, the next one comes RETRY_DELAYS[n - 1] seconds later;
# after the last, the delivery gives up (a replay can still send it again).
RETRY_DELAYS = (60, 5 * 60, 30 * 60, 2 * 3600, 12 * 3600)
TIMEOUT = 10.0
# A claimed attempt not finished by then (its worker died) is due again.
LEASE = dt.timedelta(seconds=60)
DUE_BATCH = 100
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)


class WebhookError(Exception):
    """Any failure to reach an endpoint; `code` is stable, the message is for people
    (in the language active where it was raised), `detail` technical and untranslated."""

    def __init__(
        self, code: str, message: str, *, status: int | None = None, detail: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.detail = detail


# The delivery log keeps "<code>: <detail>" (or the bare code) in `last_error`: the
# worker's language is nobody's, so the words are chosen when the log is shown. A
# label with %s takes the detail; None: the HTTP status beside it says it all.
SKIPPED = "skipped"
ERROR_LABELS: dict[str, Any] = {
    "timeout": gettext_lazy("No answer in time."),
    "connection": gettext_lazy("Could not connect: %s"),
    "http_status": None,
    "inactive": gettext_lazy("The endpoint is switched off."),
    "render": gettext_lazy("Could not prepare: %s"),
    SKIPPED: gettext_lazy("Not sent: what this event was about is gone or has changed since."),
    "bad_url": gettext_lazy("This is not a valid address."),
    "bad_scheme": gettext_lazy("Only http:// and https:// addresses can be used."),
    "unknown_host": gettext_lazy("This host name could not be found."),
    "private_address": gettext_lazy(
        "This address is on a private or local network; webhooks cannot be sent there."
    ),
}


def stored_error(code: str, detail: str = "") -> str:
    """What `last_error` keeps: the stable code, then the untranslated detail."""
    return (f"{code}: {detail}" if detail else code)[:300]


def shown_error(last_error: str) -> str:
    """A stored `last_error` in the active language, as HTML, the technical detail
    isolated left to right; a text stored before codes were is shown as it is."""
    code, _colon, detail = last_error.partition(": ")
    if code not in ERROR_LABELS:
        return conditional_escape(last_error)
    label = ERROR_LABELS[code]
    if label is None:
        return ""
    words = str(label)
    if "%s" not in words:
        return conditional_escape(words)
    technical = format_html('<bdi dir="ltr">{}</bdi>', detail)
    return mark_safe(conditional_escape(words) % technical)  # noqa: S308 - escaped above


# --- The outside call ----------------------------------------------------------------


def _refused(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


def check_url(url: str) -> Target:
    """Where `url` would be sent, or WebhookError if it may not be (scheme, address)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise WebhookError("bad_url", _("This is not a valid address.")) from error
    if parts.scheme not in ("http", "https"):
        raise WebhookError("bad_scheme", _("Only http:// and https:// addresses can be used."))
    if not parts.hostname:
        raise WebhookError("bad_url", _("This is not a valid address."))
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise WebhookError("unknown_host", _("This host name could not be found.")) from error
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found]
    if not addresses:
        raise WebhookError("unknown_host", _("This host name could not be found."))
    # Every address must be allowed: a name resolving to one public and one private
    # address would otherwise reach the private one on some connections.
    if not settings.SAHA_WEBHOOKS_ALLOW_PRIVATE and any(_refused(a) for a in addresses):
        raise WebhookError(
            "private_address",
            _("This address is on a private or local network; webhooks cannot be sent there."),
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, parts.hostname, port, path, str(addresses[0]))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address, whatever the name resolves to by now."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        # The certificate is checked against the name, not the address.
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT) -> int:
    """POST `body` to `url`; the answer's status (2xx), or WebhookError."""
    target = check_url(url)
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(64 * 1024)  # only so the connection closes cleanly; never kept
    except TimeoutError as error:
        raise WebhookError("timeout", _("No answer in time.")) from error
    except (OSError, http.client.HTTPException) as error:
        detail = str(error)
        raise WebhookError(
            "connection", _("Could not connect: %s") % detail, detail=detail
        ) from error
    finally:
        connection.close()
    if not 200 <= response.status < 300:
        # A redirect is a failure too: it is never followed (it could lead anywhere).
        raise WebhookError(
            "http_status",
            _("Answered HTTP %(status)s.") % {"status": response.status},
            status=response.status,
        )
    return response.status


# --- Signing --------------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(24)


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """The Saha-Signature header: `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def headers_of(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Saha-Webhooks/1",
        "Saha-Event": delivery.event_type,
        "Saha-Delivery": str(delivery.event_id),
        "Saha-Signature": signature(delivery.endpoint.secret, body, int(time.time())),
    }


# --- Events become deliveries ---------------------------------------------------------


def subscribed(organization_id: int, event_type: str) -> list[WebhookEndpoint]:
    endpoints = WebhookEndpoint.objects.filter(organization_id=organization_id, is_active=True)
    # event_types is a short JSON list; filtered here, the same on SQLite and PostgreSQL.
    return [endpoint for endpoint in endpoints if event_type in (endpoint.event_types or [])]


def envelope(
    event_id: uuid.UUID, event_type: str, data: dict[str, Any], when: dt.datetime | None = None
) -> dict[str, Any]:
    from saha.api import hal

    return {
        "id": str(event_id),
        "type": event_type,
        "created_date": hal.timestamp(when or timezone.now()),
        "data": data,
    }


def record(*, organization_id: int, event_type: str, object_id: str) -> list[int]:
    """One delivery per subscribed endpoint, written in the caller's transaction.

    Nothing is rendered yet (see `_payload`); the ids are for the caller to wake the
    sender once the transaction commits.
    """
    endpoints = [endpoint.pk for endpoint in subscribed(organization_id, event_type)]
    endpoints = _held(endpoints)
    if not endpoints:
        return []
    event_id = uuid.uuid4()
    made = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            organization_id=organization_id,
            endpoint_id=endpoint_id,
            event_id=event_id,
            event_type=event_type,
            object_id=object_id,
            payload=None,
        )
        for endpoint_id in sorted(endpoints)
    )
    return [delivery.pk for delivery in made]


def _held(endpoint_ids: list[int]) -> list[int]:
    """The endpoints still there, each held (KEY SHARE) until the transaction ends.

    Without it, an endpoint deleted at the same moment would fail the foreign key at
    commit, and with it the change being told (a supporter's signature, say). Held,
    a deletion waits for this commit (and a deletion already made is seen and left
    out). KEY SHARE blocks neither other writers' holds nor switching it off.
    SQLite writes one transaction at a time: nothing can come in between.
    """
    if not endpoint_ids or connection.vendor != "postgresql":
        return endpoint_ids
    table = WebhookEndpoint._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR KEY SHARE",  # noqa: S608
            [endpoint_ids],
        )
        return [row[0] for row in cursor.fetchall()]


def wake(delivery_ids: list[int]) -> None:
    """Ask a worker to send these now (after the commit that made them)."""
    from saha.api.tasks import deliver_webhook

    for delivery_id in delivery_ids:
        deliver_webhook.enqueue(delivery_id)


def _send_soon(delivery_id: int) -> None:
    from saha.api.tasks import deliver_webhook
    from saha.core.jobs import enqueue_on_commit

    enqueue_on_commit(deliver_webhook, delivery_id)


def send_test(*, actor: Any, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A harmless event for one endpoint, so its owner can check the signature."""
    event_id = uuid.uuid4()
    data = {"message": "This is a test event from Saha.", "endpoint": endpoint.url}
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            organization_id=endpoint.organization_id,
            endpoint=endpoint,
            event_id=event_id,
            event_type=TEST_EVENT,
            payload=envelope(event_id, TEST_EVENT, data),
        )
        audit.log(actor, "api.webhook.tested", endpoint, {"delivery": delivery.pk})
        _send_soon(delivery.pk)
    return delivery


# --- Attempts -------------------------------------------------------------------------


def _due(now: dt.datetime) -> Q:
    return Q(state__in=[DeliveryState.PENDING, DeliveryState.FAILED], next_attempt_at__lte=now)


def claim(delivery_id: int) -> WebhookDelivery | None:
    """The delivery with its attempt now ours, or None (not due, or another worker's)."""
    now = timezone.now()
    row = (
        WebhookDelivery.objects.select_related("endpoint").filter(_due(now), pk=delivery_id).first()
    )
    if row is None:
        return None
    claimed = WebhookDelivery.objects.filter(
        pk=row.pk, state=row.state, attempts=row.attempts, next_attempt_at=row.next_attempt_at
    ).update(attempts=F("attempts") + 1, state=DeliveryState.PENDING, next_attempt_at=now + LEASE)
    if not claimed:
        return None  # another worker got there first
    row.attempts += 1
    return row


def attempt(delivery_id: int) -> str | None:
    """Claim and send one delivery; its new state, or None if it was not ours to send."""
    row = claim(delivery_id)
    if row is None:
        return None
    if not row.endpoint.is_active:
        return _record(row, error=WebhookError("inactive", _("The endpoint is switched off.")))
    try:
        payload = _payload(row)
    except Exception as error:  # a bug in a representation: retried, then given up
        log.exception("webhook %s: could not render %s", row.pk, row.event_type)
        detail = f"{type(error).__name__}: {error}"
        failed = WebhookError("render", _("Could not prepare: %s") % detail, detail=detail)
        return _record(row, error=failed)
    if payload is None:
        return _skip(row)
    row.payload = payload
    body = body_of(row)
    try:
        status = post(row.endpoint.url, body, headers_of(row, body), timeout=TIMEOUT)
    except WebhookError as error:
        return _record(row, error=error)
    return _record(row, status=status)


def _payload(row: WebhookDelivery) -> dict[str, Any] | None:
    """The body to send: kept from the first attempt, else rendered now and kept.

    None if the thing the event is about is gone or no longer qualifies.
    """
    if row.payload is not None:
        return row.payload
    from saha.api import receivers

    data = receivers.render_event(row.event_type, row.object_id)
    if data is None:
        return None
    payload = envelope(row.event_id, row.event_type, data, row.created_at)
    # Every endpoint told of this event gets the same bytes: the first render stands
    # (another endpoint's attempt may have rendered it meanwhile).
    WebhookDelivery.objects.filter(event_id=row.event_id, payload__isnull=True).update(
        payload=payload
    )
    kept: dict[str, Any] = (
        WebhookDelivery.objects.filter(pk=row.pk).values_list("payload", flat=True).get()
    )
    return kept


def _skip(row: WebhookDelivery) -> str:
    WebhookDelivery.objects.filter(pk=row.pk, attempts=row.attempts).update(
        state=DeliveryState.SKIPPED,
        next_attempt_at=timezone.now(),
        last_status=None,
        last_error=stored_error(SKIPPED),
    )
    log.info("webhook %s: %s %s no longer to tell", row.pk, row.event_type, row.object_id)
    return DeliveryState.SKIPPED


def _record(
    row: WebhookDelivery, *, status: int | None = None, error: WebhookError | None = None
) -> str:
    now = timezone.now()
    # Only the attempt we claimed: a replay claimed meanwhile has its own outcome.
    mine = WebhookDelivery.objects.filter(pk=row.pk, attempts=row.attempts)
    if error is None:
        mine.update(
            state=DeliveryState.DELIVERED, delivered_at=now, last_status=status, last_error=""
        )
        return DeliveryState.DELIVERED
    final = error.code == "inactive" or row.attempts > len(RETRY_DELAYS)
    state = DeliveryState.GAVE_UP if final else DeliveryState.FAILED
    delay = 0 if final else RETRY_DELAYS[row.attempts - 1]
    mine.update(
        state=state,
        next_attempt_at=now + dt.timedelta(seconds=delay),
        last_status=error.status,
        last_error=stored_error(error.code, error.detail),
    )
    log.info("webhook %s to endpoint %s: %s", row.pk, row.endpoint_id, error.code)
    return state


def send_due(*, limit: int = DUE_BATCH) -> int:
    """Send what is due (first sends the task missed, retries, lost attempts)."""
    ids = list(
        WebhookDelivery.objects.filter(_due(timezone.now()))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in ids if attempt(pk) is not None)


def replay(*, actor: Any, delivery: WebhookDelivery) -> bool:
    """A new attempt now, with the same event id; False while an attempt is in flight."""
    now = timezone.now()
    in_flight = Q(state=DeliveryState.PENDING, next_attempt_at__gt=now)
    with transaction.atomic():
        moved = (
            WebhookDelivery.objects.filter(pk=delivery.pk)
            .exclude(in_flight)
            .update(state=DeliveryState.PENDING, next_attempt_at=now)
        )
        if moved:
            audit.log(actor, "api.webhook.replayed", delivery, {"event": str(delivery.event_id)})
            _send_soon(delivery.pk)
    return bool(moved)
