"""Shared by the volunteers' tests: an event with needs, offers made through the service,
and reading the links out of the messages sent."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core import mail
from django.utils import timezone

from saha.events.models import Event, EventStatus
from saha.messaging import outbox
from saha.messaging.providers import console
from saha.supporters.services import PersonData
from saha.volunteers import services
from saha.volunteers.models import Capability, Need, Offer, OfferedCapability


def make_event(organization: Any, **fields: Any) -> Event:
    start = timezone.now() + dt.timedelta(days=3)
    values = {
        "organization": organization,
        "slug": "clean-up",
        "titles": {"en": "Beach clean-up", "ar": "تنظيف الشاطئ"},
        "kind": "rally",
        "starts_at": start,
        "ends_at": start + dt.timedelta(hours=3),
        "time_zone": "Asia/Beirut",
        "venue_name": "South entrance",
        "status": EventStatus.PUBLISHED,
        **fields,
    }
    return Event.objects.create(**values)


def capability(organization: Any, key: str) -> Capability:
    services.ensure_capabilities(organization)
    return Capability.objects.get(organization=organization, key=key)


def make_need(
    organization: Any, key: str = "stewarding", *, event: Event | None = None, **fields: Any
) -> Need:
    event = event or make_event(organization)
    values = {
        "wanted": 2,
        "starts_at": event.starts_at,
        "ends_at": event.ends_at,
        "titles": {"en": "Stewards at the entrance", "ar": "منظمون عند المدخل"},
        **fields,
    }
    return services.create_need(
        actor="test",
        organization=organization,
        capability=capability(organization, key),
        event=event,
        **values,
    )


def make_offer(
    organization: Any, n: int, gives: dict[str, int | None] | None = None, **fields: Any
) -> Offer:
    gives = gives or {"stewarding": None}
    return services.submit_offer(
        organization=organization,
        data=PersonData(email=f"v{n}@example.org", given_name=f"V{n}", language="en"),
        offered={capability(organization, key).pk: (qty, "") for key, qty in gives.items()},
        availability=[],
        notify=fields.pop("notify", False),
        **fields,
    )


def offered(offer: Offer, key: str) -> OfferedCapability:
    return OfferedCapability.objects.get(offer=offer, capability__key=key)


def sent_email_bodies() -> list[str]:
    """Send what the outbox holds and return the email bodies sent, in order."""
    outbox.drain(budget_seconds=5)
    return [message.body for message in mail.outbox]


def sent_sms() -> list[str]:
    outbox.drain(budget_seconds=5)
    return [record.body for record in console.sent if record.channel == "sms"]


def link_in(text: str, prefix: str = "/v/") -> str:
    """The first of our links in a message, as a path."""
    found = re.search(r"https?://[^\s)\]]+(" + re.escape(prefix) + r"[^\s)\]?]+)", text)
    assert found, f"no {prefix} link in {text!r}"
    return found.group(1)
