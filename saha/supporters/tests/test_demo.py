"""The demo's supporters: a few hundred fictional people, loaded once."""

from __future__ import annotations

import pytest

from saha.organizations.demo import DEMO_SLUG, load_demo
from saha.supporters import segments
from saha.supporters.models import (
    ConsentRecord,
    ConsentStatus,
    CustomField,
    Person,
    PersonPhone,
    Segment,
)

pytestmark = pytest.mark.django_db


def test_the_demo_has_fictional_people_in_three_languages_and_loads_once(
    settings, tmp_path
) -> None:
    settings.VAR_DIR = tmp_path
    info = load_demo()
    people = Person.objects.filter(organization__slug=DEMO_SLUG)
    assert people.count() == 300
    assert set(people.values_list("language", flat=True)) == {"ar", "en", "fr"}
    assert info["people_url"].endswith(f"/manage/{DEMO_SLUG}/people/")
    # every address is on the reserved example.org, every number in the fiction range
    assert not people.exclude(emails__address__endswith="@example.org").exists()
    assert not PersonPhone.objects.exclude(number__startswith="+3319900").exists()
    assert not PersonPhone.objects.filter(sms_capable=True).exists()
    # some people changed their mind, and the ledger shows it
    assert ConsentRecord.objects.filter(status=ConsentStatus.WITHDRAWN).exists()
    organization = people.first().organization
    for segment in Segment.objects.for_org(organization):
        assert segments.evaluate(organization, segment.definition).count > 0
    assert CustomField.objects.for_org(organization).count() == 1
    # loading again changes nothing
    load_demo()
    assert people.count() == 300 and Segment.objects.count() == 2


def test_the_demo_loads_again_after_its_people_were_erased(settings, tmp_path) -> None:
    settings.VAR_DIR = tmp_path
    load_demo()
    Person.objects.filter(organization__slug=DEMO_SLUG).delete()
    load_demo()
    assert Person.objects.filter(organization__slug=DEMO_SLUG).count() == 300
    assert CustomField.objects.count() == 1 and Segment.objects.count() == 2
