"""How messaging answers what happens to people elsewhere."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.dispatch import receiver

from saha.messaging.models import Delivery, DeliveryStatus
from saha.supporters.consent import double_opt_in_requested
from saha.supporters.models import ConsentRecord, Person
from saha.supporters.services import person_erasing


@receiver(double_opt_in_requested, sender=ConsentRecord)
def send_confirmation(sender: Any, record: ConsentRecord, token: str, **kwargs: Any) -> None:
    """A double opt-in: email the link that turns the PENDING consent into GRANTED."""
    from saha.messaging.services import send_transactional

    send_transactional(
        record.person,
        "messaging/transactional/confirm_email",
        {"url": f"{settings.SAHA_BASE_URL}/c/{token}/"},
        "email",
        key=f"confirm-email:{record.pk}",
    )


@receiver(person_erasing, sender=Person)
def forget_addresses(sender: Any, person: Person, **kwargs: Any) -> None:
    """Erasure keeps a broadcast's counts but not who or where: cancel what has not
    gone, and blank the address (the person link goes with the row)."""
    deliveries = Delivery.objects.filter(person=person)
    deliveries.filter(status=DeliveryStatus.QUEUED).update(status=DeliveryStatus.CANCELLED)
    # A provider's error often quotes the address ("550 <x@y> unknown").
    deliveries.update(address="", error="")
