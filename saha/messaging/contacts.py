"""What sending learns about an address: it bounces, or its owner complained."""

from __future__ import annotations

from django.conf import settings

from saha.messaging.models import Delivery, DeliveryStatus
from saha.supporters.models import Channel, ContactStatus, PersonEmail, PersonPhone


def contact_model(channel: str) -> type[PersonEmail] | type[PersonPhone]:
    return PersonEmail if channel == Channel.EMAIL else PersonPhone


def set_contact_status(organization_id: int, channel: str, address: str, status: str) -> int:
    """Mark an email address or phone number; returns how many rows changed (0 or 1)."""
    model = contact_model(channel)
    field = "address" if channel == Channel.EMAIL else "number"
    return (
        model.objects.filter(organization_id=organization_id, **{field: address})
        .exclude(status=status)
        .update(status=status)
    )


def record_permanent_failure(delivery: Delivery) -> bool:
    """After SAHA_BOUNCE_LIMIT permanent failures an address is marked bouncing.

    One refusal can be a receiving server's passing policy; several mean the
    address is gone. Returns whether the address was marked now.
    """
    failures = Delivery.objects.filter(
        organization_id=delivery.organization_id,
        channel=delivery.channel,
        address=delivery.address,
        status=DeliveryStatus.FAILED,
        refused=True,
    ).count()
    if failures < settings.SAHA_BOUNCE_LIMIT:
        return False
    return bool(
        set_contact_status(
            delivery.organization_id, delivery.channel, delivery.address, ContactStatus.BOUNCING
        )
    )
