"""The demo organization's messages: a draft broadcast in three languages, ready to send.

Nothing is sent while loading: `make run` prints email to the console, and
three hundred demo emails at start-up would drown the login instructions.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse

from saha.messaging import broadcasts
from saha.messaging.broadcasts import BroadcastData
from saha.messaging.models import Broadcast
from saha.messaging.services import messaging_settings
from saha.supporters.models import Channel, Segment

NAME = "Beach clean-up: call for volunteers"
VERSIONS = {
    "ar": (
        "تنظيف الشاطئ يوم السبت: نحتاجك",
        "مرحباً {{ given_name | صديقنا }}،\n\n"
        "ننظّف **شاطئ الرملة البيضاء** يوم السبت من التاسعة صباحاً. "
        "أحضر قبعة وماء، والقفازات علينا.\n\n"
        "[سجّل حضورك](https://example.org/clean-up)\n\n"
        "مع الشكر،\n{{ organization }}",
    ),
    "en": (
        "Beach clean-up on Saturday: we need you",
        "Hello {{ given_name | friend }},\n\n"
        "We are cleaning **Ramlet al-Baida beach** on Saturday from 9 am. "
        "Bring a hat and water; we bring the gloves.\n\n"
        "[Tell us you are coming](https://example.org/clean-up)\n\n"
        "Thank you,\n{{ organization }}",
    ),
    "fr": (
        "Nettoyage de la plage samedi : nous avons besoin de vous",
        "Bonjour {{ given_name | cher ami }},\n\n"
        "Nous nettoyons **la plage de Ramlet al-Baida** samedi dès 9 h. "
        "Apportez un chapeau et de l'eau ; nous fournissons les gants.\n\n"
        "[Dites-nous que vous venez](https://example.org/clean-up)\n\n"
        "Merci,\n{{ organization }}",
    ),
}


def contribute(organization: Any, owner: Any) -> dict[str, str]:
    with transaction.atomic():
        sender = messaging_settings(organization)
        if not sender.from_email:
            sender.from_name = organization.name
            sender.from_email = "news@example.org"
            sender.save(update_fields=["from_name", "from_email"])
        if not Broadcast.objects.for_org(organization).exists():
            _draft(organization, owner)
    try:
        url = reverse("messaging_broadcast_list", args=[organization.slug])
    except NoReverseMatch:
        return {}
    return {"messages_url": settings.SAHA_BASE_URL + url}


def _draft(organization: Any, owner: Any) -> None:
    segment = (
        Segment.objects.for_org(organization).filter(name="Volunteers who agreed to email").first()
    )
    draft = broadcasts.create_broadcast(
        actor=owner,
        organization=organization,
        data=BroadcastData(
            name=NAME,
            channel=Channel.EMAIL,
            segment=segment,
            fallback_language="ar",
        ),
    )
    for language, (subject, body) in VERSIONS.items():
        broadcasts.save_version(
            actor=owner, broadcast=draft, language=language, subject=subject, body=body
        )
