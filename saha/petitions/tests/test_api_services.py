"""What the API needs of signing: the organization's own data (a token) fills a known
signer like any organizer's tool; a stranger's (the form, the public helper) does not;
and a signature says what it came through, even through the pending-signature road."""

from __future__ import annotations

from typing import Any

import pytest

from saha.petitions import intake, services
from saha.petitions.models import Signature
from saha.petitions.tests.test_sign import make_petition
from saha.supporters.models import Person, Source
from saha.supporters.services import PersonData

pytestmark = pytest.mark.django_db


def test_a_stranger_fills_nothing_and_the_organization_does(org_a: Any) -> None:
    earlier, petition = make_petition(org_a, slug="earlier"), make_petition(org_a)
    services.sign(petition=earlier, data=PersonData(email="s@example.org"))
    services.sign(petition=petition, data=PersonData(email="s@example.org", given_name="Typed"))
    assert Person.objects.get().given_name == ""
    other = make_petition(org_a, slug="other")
    services.sign(
        petition=other,
        data=PersonData(email="s@example.org", given_name="Known"),
        anonymous=False,
    )
    assert Person.objects.get().given_name == "Known"


def test_a_new_signer_keeps_the_source_it_came_through(org_a: Any) -> None:
    petition = make_petition(org_a)
    services.sign(
        petition=petition,
        data=PersonData(email="api@example.org"),
        person_source=Source.API,
        source="api",
    )
    person = Person.objects.get()
    assert person.source == Source.API
    assert Signature.objects.get().source == "api"


def test_a_pending_signature_keeps_its_source(org_a: Any) -> None:
    petition = make_petition(org_a)
    intake.accept(petition=petition, data=PersonData(email="a@example.org"), source="api")
    intake.accept(petition=petition, data=PersonData(email="b@example.org"))
    intake.take_in()
    assert sorted(Signature.objects.values_list("source", flat=True)) == ["api", "form"]
