"""Messages: our broadcasts, as Action Network's messages.

A broadcast is written once per language; Action Network's message has one
subject and body. The top-level `subject` and `body` are the version in the
broadcast's fallback language (`saha:language`), and `saha:versions` lists
every language. `from` and `reply_to` are the organization's messaging
settings: a message cannot choose its own sender, so they are read-only here.

`status` speaks Action Network ("draft", "scheduled", "sending", "sent",
"canceled"); `saha:status` is ours, finer ("awaiting" approval, "preparing",
"paused"). A broadcast waiting for an admin's approval shows "scheduled": it
can no longer be edited and goes out once approved (see saha:status).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail

from saha.api import filters, hal
from saha.messaging import broadcasts, rendering
from saha.messaging.broadcasts import BroadcastData
from saha.messaging.forms import MAX_BODY, MAX_SCHEDULE_DAYS, language_names
from saha.messaging.models import (
    OPEN_STATUSES,
    Broadcast,
    BroadcastStatus,
    BroadcastVersion,
    Delivery,
    DeliveryStatus,
    MessagingSettings,
)
from saha.messaging.purposes import purposes
from saha.supporters.models import DEFAULT_PURPOSE, Channel, Segment

STATUS: dict[str, str] = {
    BroadcastStatus.DRAFT: "draft",
    BroadcastStatus.AWAITING_APPROVAL: "scheduled",
    BroadcastStatus.SCHEDULED: "scheduled",
    BroadcastStatus.PREPARING: "sending",
    BroadcastStatus.SENDING: "sending",
    BroadcastStatus.PAUSED: "sending",
    BroadcastStatus.SENT: "sent",
    BroadcastStatus.CANCELLED: "canceled",
}
# Before the recipients are written, the live audience is what would be targeted.
UNPREPARED = (
    BroadcastStatus.DRAFT,
    BroadcastStatus.AWAITING_APPROVAL,
    BroadcastStatus.SCHEDULED,
)

FILTERS = {
    "modified_date": filters.Field("modified_at", **filters.DATE),  # type: ignore[arg-type]
    "created_date": filters.Field("created_at", **filters.DATE),  # type: ignore[arg-type]
}


def message_url(broadcast: Broadcast, *rest: str) -> str:
    return hal.url("/".join(("messages", str(broadcast.uuid), *rest)))


# --- reading -----------------------------------------------------------------------


def statistics_of(message_ids: list[int]) -> dict[int, dict[str, int]]:
    """Delivery counts of several broadcasts' messages, in one query."""
    rows = (
        Delivery.objects.filter(message_id__in=message_ids)
        .order_by()
        .values("message_id", "status")
        .annotate(n=Count("id"), refused=Count("id", filter=Q(refused=True)))
    )
    found: dict[int, dict[str, int]] = {pk: _empty_statistics() for pk in message_ids}
    for row in rows:
        counts = found[row["message_id"]]
        counts["bounced"] += row["refused"]
        key = _STATISTIC.get(row["status"])
        if key is not None:
            counts[key] += row["n"]
    return found


_STATISTIC = {
    DeliveryStatus.SENT: "sent",
    **{status: "saha:queued" for status in OPEN_STATUSES},
    DeliveryStatus.UNKNOWN: "saha:unknown",
    DeliveryStatus.FAILED: "saha:failed",
    DeliveryStatus.SKIPPED: "saha:skipped",
    DeliveryStatus.CANCELLED: "saha:cancelled",
}


def _empty_statistics() -> dict[str, int]:
    return {"sent": 0, "bounced": 0, **{key: 0 for key in set(_STATISTIC.values()) - {"sent"}}}


def sender_of(organization: Any) -> MessagingSettings | None:
    # Read, not messaging_settings(): a GET must not create the row.
    return MessagingSettings.objects.filter(organization=organization).first()


def prepare_page(rows: list[Broadcast]) -> Iterable[Broadcast]:
    """What a page of broadcasts needs, in two queries whatever its length."""
    if not rows:
        return rows
    statistics = statistics_of([row.message_id for row in rows])
    sender = sender_of(rows[0].organization)
    for row in rows:
        row.api_statistics = statistics[row.message_id]  # type: ignore[attr-defined]
        row.api_sender = sender  # type: ignore[attr-defined]
    return rows


def _from(broadcast: Broadcast, sender: MessagingSettings | None) -> dict[str, str]:
    if broadcast.channel == Channel.SMS:
        return {"from": sender.sms_sender} if sender and sender.sms_sender else {}
    found = {"from": (sender.from_name if sender else "") or broadcast.organization.name}
    if sender and sender.reply_to:
        found["reply_to"] = sender.reply_to
    return found


_UNSET = object()


def render_message(broadcast: Broadcast, *, count_audience: bool = False) -> dict[str, Any]:
    """A broadcast as a message. `count_audience` counts who a broadcast not yet
    prepared would reach (one query: for a single message, not for a page)."""
    statistics = getattr(broadcast, "api_statistics", None)
    if statistics is None:
        statistics = statistics_of([broadcast.message_id])[broadcast.message_id]
    sender: Any = getattr(broadcast, "api_sender", _UNSET)
    if sender is _UNSET:
        sender = sender_of(broadcast.organization)
    versions = list(broadcast.versions.all())
    main = next((v for v in versions if v.language == broadcast.fallback_language), None)
    body: dict[str, Any] = {
        "identifiers": hal.identifiers(broadcast),
        "created_date": hal.timestamp(broadcast.created_at),
        "modified_date": hal.timestamp(broadcast.modified_at),
        "origin_system": "Saha",
        "name": broadcast.name,
        "type": broadcast.channel,
        "channel": broadcast.channel,
        "status": STATUS.get(broadcast.status, broadcast.status),
        "saha:status": broadcast.status,
        "saha:language": broadcast.fallback_language,
        "saha:purpose": broadcast.purpose,
        "saha:urgent": broadcast.urgent,
        **_from(broadcast, sender),
        "targets": [{"href": hal.url(f"queries/{broadcast.segment.uuid}")}]
        if broadcast.segment
        else [],
        "total_targeted": _targeted(broadcast, count_audience),
        "statistics": statistics,
        "saha:versions": [
            {"language": v.language, "subject": v.subject, "body": v.body} for v in versions
        ],
        "_links": {
            "self": hal.link(message_url(broadcast)),
            "osdi:schedule_helper": hal.link(message_url(broadcast, "schedule")),
            "osdi:send_helper": hal.link(message_url(broadcast, "send")),
        },
    }
    if main is not None:
        if broadcast.channel == Channel.EMAIL:
            body["subject"] = main.subject
        body["body"] = main.body
    for key, value in (
        ("scheduled_start_date", broadcast.scheduled_for),
        ("sent_start_date", broadcast.started_at),
        ("saha:sent_end_date", broadcast.finished_at),
    ):
        if value is not None:
            body[key] = hal.timestamp(value)
    return body


def _targeted(broadcast: Broadcast, count_audience: bool) -> int | None:
    if broadcast.recipients is not None:
        return broadcast.recipients
    if not count_audience or broadcast.status not in UNPREPARED:
        return None
    # After a request to send, the audience copied then is what will go.
    definition = None if broadcast.status == BroadcastStatus.DRAFT else broadcast.definition
    return broadcasts.audience(broadcast, definition).count()


# --- writing -----------------------------------------------------------------------


def language_choices() -> list[str]:
    return list(language_names())


class TargetInput(serializers.Serializer):
    href = serializers.CharField(max_length=500)


class VersionInput(serializers.Serializer):
    """One language of a message; on PUT, a null body deletes that version."""

    language = serializers.ChoiceField(choices=[])
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(
        max_length=MAX_BODY, required=False, allow_null=True, trim_whitespace=False
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["language"].choices = language_choices()
        return fields


class MessageInput(serializers.Serializer):
    """POST and PUT /messages. `from`, `reply_to` and `identifiers` are accepted and
    ignored (the sender is the organization's; ids are ours)."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    type = serializers.ChoiceField(choices=Channel.values, required=False)
    subject = serializers.CharField(max_length=200, required=False, allow_blank=True)
    body = serializers.CharField(max_length=MAX_BODY, required=False, trim_whitespace=False)
    # A list that may be null, of targets that may not (many=True would allow both).
    targets = serializers.ListField(child=TargetInput(), required=False, allow_null=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["saha:language"] = serializers.ChoiceField(
            choices=language_choices(), required=False
        )
        fields["saha:purpose"] = serializers.ChoiceField(
            choices=[p.key for p in purposes()], required=False
        )
        fields["saha:urgent"] = serializers.BooleanField(required=False)
        fields["saha:versions"] = VersionInput(many=True, required=False)
        return fields

    def validate_targets(self, value: list[dict[str, str]] | None) -> list[dict[str, str]]:
        if value and len(value) > 1:
            raise serializers.ValidationError(
                _("A message targets one query (or none: everyone who agreed)."),
                code="one_target_only",
            )
        return value or []


class ScheduleInput(serializers.Serializer):
    # Action Network's dates are UTC: a time without an offset is read as UTC.
    scheduled_start_date = serializers.DateTimeField(default_timezone=dt.UTC)


def check_schedule(when: dt.datetime) -> None:
    """The organizer's send form's rule: later than now, within the next year."""
    now = timezone.now()
    if when <= now:
        raise _invalid("scheduled_start_date", _("This time has passed."), "past")
    if when > now + dt.timedelta(days=MAX_SCHEDULE_DAYS):
        raise _invalid("scheduled_start_date", _("Choose a time within the next year."), "too_far")


def _invalid(field: str, message: Any, code: str) -> serializers.ValidationError:
    return serializers.ValidationError({field: [ErrorDetail(str(message), code=code)]})


def target_of(organization: Any, targets: list[dict[str, str]]) -> Segment | None:
    """The query a message targets: one of the organization's segments, or none."""
    if not targets:
        return None
    value = hal.parse_id(targets[0]["href"])
    segment = Segment.objects.for_org(organization).filter(uuid=value).first() if value else None
    if segment is None:
        raise _invalid("targets", _("No such query."), "unknown_query")
    return segment


@dataclass(frozen=True)
class Version:
    language: str
    subject: str
    body: str | None  # None: delete this version (PUT only)


def checked(channel: str, version: Version) -> Version:
    """The rules of the organizer's version form: a subject for email, a body,
    only merge fields Saha knows."""
    if version.body is None:
        return version
    subject = " ".join(version.subject.split()) if channel == Channel.EMAIL else ""
    body = version.body.replace("\r\n", "\n")
    if channel == Channel.EMAIL and not subject:
        raise _invalid("subject", _("An email needs a subject."), "subject_required")
    if not body.strip():
        raise _invalid("body", _("Write the message."), "body_required")
    unknown = rendering.unknown_fields(f"{subject}\n{body}")
    if unknown:
        raise _invalid(
            "body",
            _("Unknown merge fields: %(fields)s.") % {"fields": ", ".join(unknown)},
            "unknown_field",
        )
    return Version(version.language, subject, body)


def versions_of(
    parsed: dict[str, Any], language: str, existing: dict[str, BroadcastVersion]
) -> list[Version]:
    """The versions a request writes: the top-level subject and body in `language`,
    then `saha:versions`; what a version leaves out keeps its current text."""
    given: list[dict[str, Any]] = []
    if "subject" in parsed or "body" in parsed:
        given.append({"language": language, **_pick(parsed, "subject", "body")})
    given.extend(parsed.get("saha:versions") or [])
    found: dict[str, Version] = {}
    for item in given:
        code = item["language"]
        if code in found:
            raise _invalid(
                "saha:versions",
                _("Each language has one version: %(language)s is there twice.")
                % {"language": code},
                "duplicate_language",
            )
        current = existing.get(code)
        subject = item.get("subject", current.subject if current else "")
        body = item.get("body", current.body if current else None)
        if body is None and "body" not in item:
            raise _invalid("body", _("Write the message."), "body_required")
        found[code] = Version(code, subject or "", body)
    return list(found.values())


def _pick(parsed: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: parsed[key] for key in keys if key in parsed}


def default_name(versions: list[Version]) -> str:
    for version in versions:
        for text in (version.subject, version.body or ""):
            line = next((line.strip() for line in text.splitlines() if line.strip()), "")
            if line:
                return line[:200]
    return str(_("Message from the API"))


def new_broadcast(organization: Any, parsed: dict[str, Any]) -> tuple[BroadcastData, list[Version]]:
    """What POST /messages creates: the broadcast's settings and its versions."""
    channel = parsed.get("type") or Channel.EMAIL
    language = parsed.get("saha:language") or organization.default_language
    versions = [checked(channel, v) for v in versions_of(parsed, language, {})]
    if not versions or any(v.body is None for v in versions):
        raise _invalid("body", _("Write the message."), "body_required")
    data = BroadcastData(
        name=(parsed.get("name") or "").strip() or default_name(versions),
        channel=channel,
        segment=target_of(organization, parsed.get("targets") or []),
        fallback_language=language,
        purpose=parsed.get("saha:purpose") or DEFAULT_PURPOSE,
        urgent=bool(parsed.get("saha:urgent", False)),
    )
    return data, versions


def changed_broadcast(
    broadcast: Broadcast, parsed: dict[str, Any]
) -> tuple[BroadcastData, list[Version]]:
    """What PUT /messages/{id} changes: the fields given; null targets mean everyone."""
    channel = parsed.get("type") or broadcast.channel
    language = parsed.get("saha:language") or broadcast.fallback_language
    existing = {v.language: v for v in broadcast.versions.all()}
    versions = [checked(channel, v) for v in versions_of(parsed, language, existing)]
    segment = broadcast.segment
    if "targets" in parsed:
        segment = target_of(broadcast.organization, parsed["targets"] or [])
    name = (parsed.get("name") or "").strip() if "name" in parsed else broadcast.name
    data = BroadcastData(
        name=name or broadcast.name,
        channel=channel,
        segment=segment,
        fallback_language=language,
        purpose=parsed.get("saha:purpose") or broadcast.purpose,
        urgent=bool(parsed.get("saha:urgent", broadcast.urgent)),
    )
    return data, versions
