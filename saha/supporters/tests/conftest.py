"""Fixtures of the supporters' page tests: English pages, a viewer, a person called Hala."""

from __future__ import annotations

from typing import Any

import pytest

from saha.organizations.roles import Role
from saha.supporters.models import Person
from saha.supporters.tests.people_factories import grant, make_person
from saha.testing.factories import MembershipFactory


@pytest.fixture
def english(settings: Any) -> None:
    """Pages in English, so that assertions on words hold once the catalogues translate them."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def viewer(org_a: Any) -> Any:
    from saha.conftest import Persona

    return Persona(MembershipFactory(organization=org_a, role=Role.VIEWER))


@pytest.fixture
def person(org_a: Any) -> Person:
    return make_person(
        org_a,
        email="hala@example.org",
        phone="+961 3 123 456",
        given_name="Hala",
        family_name="Haddad",
        region="Beirut",
        tags=["volunteers"],
        consents=[grant()],
    )
