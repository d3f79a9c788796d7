"""Demo supporters: a few hundred fictional people with Arabic, French and English names.

Names are drawn from common given and family names and combined at random
(with a fixed seed, so every demo is the same); addresses are on example.org,
which is reserved and never delivers, and phone numbers in a range reserved
for fiction.
"""

from __future__ import annotations

import random
import unicodedata
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from saha.supporters import fields, subject
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.models import (
    Channel,
    ConsentSource,
    ConsentStatus,
    CustomField,
    FieldKind,
    Person,
    Segment,
    Source,
    Tag,
)
from saha.supporters.services import PersonData, upsert_person

DEMO_PEOPLE = 300
ACTOR = "saha demo"
GIVEN = {
    "ar": [
        "رانيا",
        "سامي",
        "ليلى",
        "يوسف",
        "مريم",
        "خالد",
        "نور",
        "هادي",
        "زينب",
        "كريم",
        "سلمى",
        "عمر",
        "هبة",
        "جاد",
        "ريم",
        "طارق",
    ],
    "fr": [
        "Élodie",
        "Camille",
        "Louis",
        "Chloé",
        "Hugo",
        "Manon",
        "Julien",
        "Inès",
        "Théo",
        "Léa",
        "Antoine",
        "Margaux",
    ],
    "en": [
        "Emma",
        "Oliver",
        "Grace",
        "Daniel",
        "Ruby",
        "Samuel",
        "Hannah",
        "Thomas",
        "Alice",
        "George",
    ],
}
FAMILY = {
    "ar": [
        "حداد",
        "الخوري",
        "نصر",
        "صالح",
        "عون",
        "الخطيب",
        "فرحات",
        "شهاب",
        "الحسيني",
        "مراد",
        "سليمان",
        "قاسم",
    ],
    "fr": ["Martin", "Dubois", "Moreau", "Laurent", "Girard", "Bonnet", "Lefèvre", "Mercier"],
    "en": ["Smith", "Brown", "Taylor", "Wilson", "Clarke", "Walker", "Hughes", "Wright"],
}
LATIN = {
    "ar": [
        "rania",
        "sami",
        "layla",
        "youssef",
        "mariam",
        "khaled",
        "nour",
        "hadi",
        "zeinab",
        "karim",
        "salma",
        "omar",
        "hiba",
        "jad",
        "reem",
        "tarek",
    ]
}
REGIONS = ["Beirut", "Mount Lebanon", "North", "South", "Bekaa", "Akkar", "Nabatieh"]
TAGS = ["volunteers", "beach clean-up 2026", "newsletter", "drivers", "municipality meeting"]
EMAIL_WORDING = {
    "ar": "أوافق على تلقي أخبار جمعية أصدقاء الشاطئ عبر البريد الإلكتروني.",
    "en": "I agree to receive news from Friends of the Shore by email.",
    "fr": "J'accepte de recevoir par e-mail les nouvelles des Amis du Rivage.",
}
SMS_WORDING = {
    "ar": "أوافق على تلقي رسائل نصية يوم الحملة.",
    "en": "I agree to receive text messages on the day of an action.",
    "fr": "J'accepte de recevoir des SMS le jour d'une action.",
}


def contribute(organization: Any, owner: Any) -> dict[str, str]:
    if not Person.objects.for_org(organization).filter(source_ref="demo").exists():
        with transaction.atomic():
            _load(organization, owner)
    url = reverse("supporters:people_list", args=[organization.slug])
    return {"people_url": settings.SAHA_BASE_URL + url}


def _load(organization: Any, owner: Any) -> None:
    rng = random.Random(2026)
    # Loaded again after its people were erased: what remains is reused.
    since = CustomField.objects.for_org(organization).filter(labels__en="Member since").first()
    if since is None:
        since = fields.create_field(
            actor=ACTOR,
            organization=organization,
            labels={"ar": "عضو منذ", "en": "Member since", "fr": "Membre depuis"},
            kind=FieldKind.NUMBER,
            choices=[],
        )
    for index in range(DEMO_PEOPLE):
        data = _person(rng, index, since.key)
        result = upsert_person(
            organization=organization,
            actor=ACTOR,
            data=data,
            source=rng.choice([Source.FORM, Source.IMPORT, Source.PETITION, Source.EVENT]),
            source_ref="demo",
        )
        if index % 25 == 0 and data.consents:
            # Some people change their mind: the ledger keeps both choices.
            record_consent(
                person=result.person,
                grant=ConsentGrant(
                    channel=data.consents[0].channel,
                    wording="",
                    source=ConsentSource.UNSUBSCRIBE,
                    status=ConsentStatus.WITHDRAWN,
                ),
            )
    volunteers = Tag.objects.get(organization=organization, name="volunteers")
    for name, definition in [
        (
            "Volunteers who agreed to email",
            {"tags_any": [volunteers.pk], "consent_email": "granted"},
        ),
        (
            "Arabic speakers in the North and Akkar",
            {"language": ["ar"], "region": ["North", "Akkar"]},
        ),
    ]:
        if not Segment.objects.for_org(organization).filter(name=name).exists():
            subject.save_segment(
                actor=owner, organization=organization, name=name, definition=definition
            )


def _person(rng: random.Random, index: int, since_key: str) -> PersonData:
    language = rng.choices(["ar", "fr", "en"], weights=[6, 2, 2])[0]
    given_index = rng.randrange(len(GIVEN[language]))
    latin = LATIN.get(language, GIVEN[language])[given_index]
    ascii_name = unicodedata.normalize("NFKD", latin.lower())  # "Inès" -> "ines"
    local = "".join(ch for ch in ascii_name if ch.isascii() and ch.isalpha())
    consents = []
    if rng.random() < 0.8:
        consents.append(_grant(Channel.EMAIL, EMAIL_WORDING[language], language))
    if rng.random() < 0.4:
        consents.append(_grant(Channel.SMS, SMS_WORDING[language], language))
    return PersonData(
        email=f"{local}.{index}@example.org",
        # +33 1 99 00 xx xx is set aside by the French regulator for fiction:
        # never anyone's number, and not a mobile, so even a demo wired to a
        # real SMS gateway cannot text a stranger.
        phone=f"+3319900{index:04d}" if rng.random() < 0.7 else "",
        given_name=GIVEN[language][given_index],
        family_name=rng.choice(FAMILY[language]),
        language=language,
        country="LB",
        region=rng.choice(REGIONS),
        custom_fields={since_key: rng.randrange(2015, 2027)} if index % 4 == 0 else {},
        tags=rng.sample(TAGS, k=rng.choice([0, 1, 1, 2])),
        consents=consents,
    )


def _grant(channel: str, wording: str, language: str) -> ConsentGrant:
    return ConsentGrant(
        channel=channel,
        wording=wording,
        source=ConsentSource.FORM,
        source_ref="/o/friends-of-the-shore/",
        language=language,
    )
