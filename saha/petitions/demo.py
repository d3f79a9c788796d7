"""The demo organization's petition: keep the public beach open, open for signatures, with
about sixty of the demo people signed and most of them confirmed.

The signatures are written here rather than through `services.sign`, which
emails each signer a confirmation link: `make run` prints email to the
console, and sixty links at start-up would drown the sign-in instructions.
The counter is kept right all the same (one shard holds what was added, and
`services.confirm` moves the confirmed ones), as `services.recount` checks.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from saha.events.models import Event, EventStatus
from saha.petitions import services
from saha.petitions.models import Petition, PetitionStatus, Signature, SignatureCount
from saha.supporters.models import Person

ACTOR = "saha demo"
SLUG = "keep-the-beach-open"
SIGNERS = 60
TITLES = {
    "ar": "أبقوا الشاطئ العام مفتوحًا للجميع",
    "en": "Keep the public beach open to everyone",
    "fr": "Gardons la plage publique ouverte à tous",
}
TEXTS = {
    "ar": "الشاطئ ملك عام. نطالب البلدية بإبقاء المداخل العامة إلى شاطئ الرملة البيضاء "
    "مفتوحة ومجانية طوال السنة، وبنشر أي مشروع بناء على الشاطئ قبل الموافقة عليه.",
    "en": "The shore belongs to everyone. We ask the municipality to keep the public "
    "entrances to Ramlet al-Baida beach open and free all year round, and to publish any "
    "building project on the beach before approving it.",
    "fr": "Le rivage appartient à tous. Nous demandons à la municipalité de garder les accès "
    "publics à la plage de Ramlet al-Baida ouverts et gratuits toute l'année, et de publier "
    "tout projet de construction sur la plage avant de l'approuver.",
}
TARGETS = "Municipality of Beirut\nMinistry of Public Works and Transport"
COMMENTS = [
    "I learned to swim on this beach.",
    "نريد شاطئًا لكل العائلات.",
    "Pour nos enfants.",
]


def contribute(organization: Any, owner: Any) -> dict[str, str]:
    petition = Petition.objects.for_org(organization).filter(slug=SLUG).first()
    if petition is None:
        with transaction.atomic():
            petition = _create(organization, owner)
            _sign(petition)
    return {"petition_url": settings.SAHA_BASE_URL + _address(petition)}


def _address(petition: Petition) -> str:
    """The public page; until the public pages exist, the organizer's page."""
    args = [petition.organization.slug, petition.slug]
    try:
        return reverse("petitions:petition", args=args)
    except NoReverseMatch:
        return reverse("petitions:manage_petition", args=[args[0], petition.pk])


def _create(organization: Any, owner: Any) -> Petition:
    event = (
        Event.objects.for_org(organization)
        .filter(status=EventStatus.PUBLISHED, ends_at__gte=timezone.now())
        .order_by("starts_at")
        .first()
    )
    petition = services.create_petition(
        actor=ACTOR,
        organization=organization,
        slug=SLUG,
        titles=TITLES,
        texts=TEXTS,
        targets=TARGETS,
        goal=500,
        deadline=timezone.now() + dt.timedelta(days=30),
        show_signers=True,
        next_event=event,
    )
    Petition.objects.filter(pk=petition.pk).update(created_by=owner)
    services.set_status(actor=ACTOR, petition=petition, status=PetitionStatus.OPEN)
    return petition


def _sign(petition: Petition) -> None:
    rng = random.Random(2026)
    people = Person.objects.for_org(petition.organization).order_by("id")[:SIGNERS]
    now = timezone.now()
    signatures = Signature.objects.bulk_create(
        Signature(
            organization_id=petition.organization_id,
            petition=petition,
            person=person,
            show_name=index % 3 != 0,
            comment=COMMENTS[index % len(COMMENTS)] if index % 7 == 0 else "",
            language=person.language,
            source="demo",
            created_at=now - dt.timedelta(hours=2 * (SIGNERS - index), minutes=rng.randrange(60)),
        )
        for index, person in enumerate(people)
    )
    # What services.sign adds one at a time, added at once.
    SignatureCount.objects.filter(petition=petition, shard=0).update(
        unverified=F("unverified") + len(signatures)
    )
    for signature in Signature.objects.filter(petition=petition).order_by("pk"):
        if rng.random() < 0.85:
            services.confirm(signature=signature)
