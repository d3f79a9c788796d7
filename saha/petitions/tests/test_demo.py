"""The demo petition: open, signed by demo people, the counter right, nothing sent, loaded
once, and its address in `saha demo --json`."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings

from saha.messaging.models import Delivery
from saha.petitions import demo, services
from saha.petitions.models import Petition, PetitionStatus, Signature
from saha.supporters.tests.people_factories import make_person

pytestmark = pytest.mark.django_db


def test_the_demo_petition_is_loaded_once_and_sends_nothing(
    org_a: Any, owner: Any, django_capture_on_commit_callbacks: Any
) -> None:
    for n in range(70):
        make_person(org_a, email=f"d{n}@example.org", given_name=f"D{n}", locality="Beirut")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = demo.contribute(org_a, owner.user)
        again = demo.contribute(org_a, owner.user)
    petition = Petition.objects.get(organization=org_a)
    assert petition.status == PetitionStatus.OPEN and petition.is_open
    assert set(petition.titles) == {"ar", "en", "fr"} and petition.goal
    assert petition.created_by == owner.user
    signatures = Signature.objects.filter(petition=petition)
    assert signatures.count() == demo.SIGNERS
    assert signatures.filter(show_name=True).exists() and signatures.filter(show_name=False)
    count = services.count(petition)
    assert count == services.recount(petition)  # the counter kept right
    assert count.verified > count.unverified > 0
    # Nothing queued or sent on commit; only the public helper's remembered answer is forgotten.
    queued = [c for c in callbacks if c.__module__ != "saha.api.public_rows"]
    assert not Delivery.objects.exists() and not queued
    assert first == again
    assert first["petition_url"].startswith(settings.SAHA_BASE_URL)
    assert petition.slug in first["petition_url"]


def test_the_demo_command_prints_the_petition_address(
    db: Any, settings: Any, tmp_path: Any
) -> None:
    from saha.organizations.demo import load_demo

    settings.VAR_DIR = tmp_path
    info = load_demo()
    assert "petition_url" in info
    petition = Petition.objects.get(slug=demo.SLUG)
    assert Signature.objects.filter(petition=petition).count() == demo.SIGNERS
    assert services.count(petition) == services.recount(petition)
    assert petition.next_event is not None  # the demo's clean-up, as the next action
