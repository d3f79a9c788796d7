"""A person's messages on their timeline: what was sent to them, and how it went."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from saha.messaging.models import Delivery, MessageKind
from saha.supporters.models import Person
from saha.supporters.timeline import LIMIT, Moment, register


@register
def messages_received(person: Person) -> Iterable[Moment]:
    deliveries = (
        Delivery.objects.filter(person=person)
        .select_related("message__broadcast")
        .order_by("-created_at")[:LIMIT]
    )
    for delivery in deliveries:
        message = delivery.message
        if message.kind == MessageKind.BROADCAST:
            title = message.broadcast.name
        else:
            title = _("Automatic message")
        yield Moment(
            when=delivery.sent_at or delivery.created_at,
            kind="message",
            text=_("%(channel)s: %(title)s (%(status)s)")
            % {
                "channel": delivery.get_channel_display(),
                "title": title,
                "status": delivery.get_status_display(),
            },
            detail=delivery.error,
        )
