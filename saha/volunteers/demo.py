"""The demo organization's volunteers: the default capabilities, about twenty-five offers
from demo supporters (skills, and resources: three vans, a sound system, a hall), and
three needs on the beach clean-up (stewards in two shifts, first-aiders, vans with at
least 8 seats), partly covered.

Everything goes through the real services, with nothing sent (`notices.quiet`):
`make run` prints email to the console, and dozens of messages at start-up would
drown the sign-in instructions. Loading again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from saha.events.demo import SLUG as EVENT_SLUG
from saha.events.models import Event
from saha.supporters.models import Person
from saha.supporters.services import PersonData
from saha.volunteers import notices, services
from saha.volunteers.models import Capability, Need, Offer, OfferedCapability

ACTOR = "saha demo"
OFFERS = 25
LOCALITIES = ["Hamra", "Ras Beirut", "Achrafieh", "Mar Mikhael", "Jounieh", "Saida", "Aley"]
# Per offer (in the demo people's order): capability keys, with units for resources.
GIVES: list[dict[str, tuple[int | None, str]]] = [
    {"driver": (9, "Minibus"), "stewarding": (None, "")},
    {"driver": (12, "Van, 12 seats")},
    {"driver": (7, "Family van")},
    {"stewarding": (None, ""), "first-aid": (None, "")},
    {"stewarding": (None, "")},
    {"stewarding": (None, ""), "translation": (None, "")},
    {"stewarding": (None, "")},
    {"stewarding": (None, ""), "photo-media": (None, "")},
    {"stewarding": (None, "")},
    {"first-aid": (None, "Nurse")},
    {"first-aid": (None, "Red Cross volunteer")},
    {"translation": (None, "Arabic, English")},
    {"translation": (None, "French, Arabic")},
    {"photo-media": (None, "")},
    {"photo-media": (None, ""), "design": (None, "")},
    {"cooking": (None, "")},
    {"cooking": (None, ""), "stewarding": (None, "")},
    {"design": (None, "")},
    {"legal-observer": (None, "Lawyer")},
    {"sign-language": (None, "")},
    {"sound-system": (1, "Two speakers and a microphone")},
    {"venue": (80, "Community hall in Hamra")},
    {"stewarding": (None, ""), "first-aid": (None, "")},
    {"stewarding": (None, "")},
    {"stewarding": (None, ""), "cooking": (None, "")},
]
NEED_TEXTS = {
    "stewarding": {
        "ar": "منظمون عند المدخل والممرات",
        "en": "Stewards at the entrance and along the paths",
        "fr": "Service d'ordre à l'entrée et le long des allées",
    },
    "first-aid": {
        "ar": "مسعفون مع حقيبة إسعاف",
        "en": "First-aiders with a kit",
        "fr": "Secouristes avec une trousse",
    },
    "driver": {
        "ar": "حافلات صغيرة لنقل المتطوعين والأكياس",
        "en": "Vans to bring volunteers and bags from Hamra",
        "fr": "Camionnettes pour amener bénévoles et sacs depuis Hamra",
    },
}


def contribute(organization: Any, owner: Any) -> dict[str, str]:
    capabilities = {c.key: c for c in services.ensure_capabilities(organization)}
    with notices.quiet():
        offers = _offers(organization, capabilities)
        event = Event.objects.for_org(organization).filter(slug=EVENT_SLUG).first()
        if event is not None and not Need.objects.filter(event=event).exists():
            _needs(event, capabilities, offers)
    try:
        url = reverse("volunteers:offer", args=[organization.slug])
    except NoReverseMatch:
        return {}
    return {"offer_url": settings.SAHA_BASE_URL + url}


def _event_day(organization: Any) -> dt.date:
    event = Event.objects.for_org(organization).filter(slug=EVENT_SLUG).first()
    if event is None:
        return dt.date.today() + dt.timedelta(days=10)
    return event.starts_at.astimezone(zoneinfo.ZoneInfo(event.time_zone)).date()


def _offers(organization: Any, capabilities: dict[str, Capability]) -> list[Offer]:
    people = list(
        Person.objects.for_org(organization)
        .filter(source_ref="demo", emails__isnull=False)
        .prefetch_related("emails")
        .order_by("pk")[:OFFERS]
    )
    day = _event_day(organization)
    made = []
    for index, (person, gives) in enumerate(zip(people, GIVES, strict=False)):
        existing = Offer.objects.filter(person=person).first()
        if existing is not None:
            made.append(existing)
            continue
        windows = [
            services.AvailabilityWindow(day - dt.timedelta(days=3), day + dt.timedelta(days=7))
        ]
        if index % 3 == 0:
            windows = [
                services.AvailabilityWindow(day, day, dt.time(7, 0), dt.time(13, 0)),
                services.AvailabilityWindow(
                    day + dt.timedelta(days=1), day + dt.timedelta(days=30)
                ),
            ]
        made.append(
            services.submit_offer(
                organization=organization,
                data=PersonData(email=person.emails.all()[0].address),
                offered={capabilities[key].pk: value for key, value in gives.items()},
                availability=windows,
                region="Beirut" if index % 4 else "Mount Lebanon",
                locality=LOCALITIES[index % len(LOCALITIES)],
                actor=ACTOR,
                source_ref="demo",
                notify=False,
            )
        )
    return made


def _needs(event: Event, capabilities: dict[str, Capability], offers: list[Offer]) -> None:
    start = event.starts_at
    stewards = services.create_need(
        actor=ACTOR,
        organization=event.organization,
        capability=capabilities["stewarding"],
        wanted=10,
        starts_at=start - dt.timedelta(minutes=30),
        ends_at=event.ends_at + dt.timedelta(minutes=30),
        event=event,
        titles=NEED_TEXTS["stewarding"],
        location="Ramlet al-Baida, south entrance",
    )
    middle = start + dt.timedelta(minutes=90)
    morning = services.add_shift(
        actor=ACTOR, need=stewards, starts_at=stewards.starts_at, ends_at=middle, capacity=5
    )
    services.add_shift(
        actor=ACTOR, need=stewards, starts_at=middle, ends_at=stewards.ends_at, capacity=5
    )
    first_aid = services.create_need(
        actor=ACTOR,
        organization=event.organization,
        capability=capabilities["first-aid"],
        wanted=2,
        starts_at=stewards.starts_at,
        ends_at=stewards.ends_at,
        event=event,
        titles=NEED_TEXTS["first-aid"],
        location="Ramlet al-Baida, south entrance",
    )
    vans = services.create_need(
        actor=ACTOR,
        organization=event.organization,
        capability=capabilities["driver"],
        wanted=2,
        min_quantity=8,
        starts_at=start - dt.timedelta(hours=1, minutes=30),
        ends_at=event.ends_at + dt.timedelta(hours=1),
        event=event,
        titles=NEED_TEXTS["driver"],
        location="Hamra, in front of the Ministry of Tourism",
        locality="Hamra",
        public_sign_up=False,
    )
    _cover_some(morning, first_aid, vans, offers)


def _cover_some(morning: Any, first_aid: Need, vans: Need, offers: list[Offer]) -> None:
    """A few volunteers in, so the coverage board has something to show."""
    by_capability: dict[int, list[OfferedCapability]] = {}
    for row in OfferedCapability.objects.filter(offer__in=offers).select_related("offer"):
        by_capability.setdefault(row.capability_id, []).append(row)
    for row in by_capability.get(morning.need.capability_id, [])[:3]:
        services.assign(actor=ACTOR, need=morning.need, offered=row, shift=morning)
    for row in by_capability.get(first_aid.capability_id, [])[:1]:
        services.assign(actor=ACTOR, need=first_aid, offered=row)
    big_vans = [r for r in by_capability.get(vans.capability_id, []) if (r.quantity or 0) >= 8]
    if big_vans:
        services.assign(actor=ACTOR, need=vans, offered=big_vans[0], quantity=8)
        services.invite(actor=ACTOR, need=vans, offers=[row.offer for row in big_vans[1:]])
