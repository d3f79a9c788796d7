"""The demo organization's event: a beach clean-up ten days ahead, with people coming.

The RSVPs are made through the real service, without sending their tickets:
`make run` prints email to the console, and forty tickets at start-up would
drown the sign-in instructions.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from saha.events import services
from saha.events.models import Event, EventStatus
from saha.supporters.models import Person
from saha.supporters.services import PersonData

SLUG = "beach-clean-up"
TITLES = {
    "ar": "تنظيف شاطئ الرملة البيضاء",
    "en": "Ramlet al-Baida beach clean-up",
    "fr": "Nettoyage de la plage de Ramlet al-Baida",
}
DESCRIPTIONS = {
    "ar": "نلتقي عند المدخل الجنوبي للشاطئ. أحضر قبعة وماء، والقفازات والأكياس علينا.",
    "en": "We meet at the beach's south entrance. Bring a hat and water; we bring gloves and bags.",
    "fr": "Rendez-vous à l'entrée sud de la plage. Apportez chapeau et eau ; "
    "nous fournissons gants et sacs.",
}
ATTENDEES = 40


def contribute(organization: Any, owner: Any) -> dict[str, str]:
    event = Event.objects.for_org(organization).filter(slug=SLUG).first()
    if event is None:
        with transaction.atomic():
            event = _create(organization, owner)
        _answer(event)
    try:
        url = reverse("events:event", args=[organization.slug, event.slug])
    except NoReverseMatch:
        return {}
    return {"event_url": settings.SAHA_BASE_URL + url}


def _create(organization: Any, owner: Any) -> Event:
    zone = zoneinfo.ZoneInfo("Asia/Beirut")
    day = (timezone.now() + dt.timedelta(days=10)).astimezone(zone).date()
    start = dt.datetime.combine(day, dt.time(9, 0), tzinfo=zone)
    return Event.objects.create(
        organization=organization,
        slug=SLUG,
        titles=TITLES,
        descriptions=DESCRIPTIONS,
        kind="other",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
        time_zone="Asia/Beirut",
        venue_name="Ramlet al-Baida, south entrance",
        address="Beirut",
        latitude="33.87200",
        longitude="35.47900",
        private_location="",
        capacity=150,
        status=EventStatus.PUBLISHED,
        created_by=owner,
    )


def _answer(event: Event) -> None:
    people = Person.objects.for_org(event.organization).filter(emails__isnull=False)
    for person in people.order_by("id")[:ATTENDEES]:
        email = person.emails.first()
        services.rsvp(
            event=event,
            data=PersonData(email=email.address if email else "", language=person.language),
            actor="saha demo",
            source="demo",
            notify=False,
        )
