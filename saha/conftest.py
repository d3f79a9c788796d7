"""Fixtures for every app's tests: personas in two organizations, A and B."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from saha.organizations.models import Membership, Organization
from saha.organizations.roles import Role
from saha.testing.factories import (
    PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
    pass_mfa,
)

pytest_plugins = ["saha.testing.browser"]


@dataclass
class Persona:
    membership: Membership

    @property
    def user(self) -> Any:
        return self.membership.user

    @property
    def organization(self) -> Organization:
        return self.membership.organization

    def client(self) -> Client:
        client = Client()
        client.force_login(self.user)
        return client

    def mfa_client(self) -> Client:
        """Signed in with a second factor, as allauth records it (exports need it)."""
        client = self.client()
        pass_mfa(client, self.user)
        return client


@pytest.fixture
def org_a(db: Any) -> Organization:
    return OrganizationFactory(slug="org-a")


@pytest.fixture
def org_b(db: Any) -> Organization:
    return OrganizationFactory(slug="org-b")


def _persona(organization: Organization, role: str) -> Persona:
    return Persona(MembershipFactory(organization=organization, role=role))


@pytest.fixture
def owner(org_a: Organization) -> Persona:
    return _persona(org_a, Role.OWNER)


@pytest.fixture
def admin(org_a: Organization) -> Persona:
    return _persona(org_a, Role.ADMIN)


@pytest.fixture
def organizer(org_a: Organization) -> Persona:
    return _persona(org_a, Role.ORGANIZER)


@pytest.fixture
def checkin_staff(org_a: Organization) -> Persona:
    return _persona(org_a, Role.CHECKIN_STAFF)


@pytest.fixture
def data_steward(org_a: Organization) -> Persona:
    return _persona(org_a, Role.DATA_STEWARD)


@pytest.fixture
def outsider(org_b: Organization) -> Persona:
    """The owner of another organization: sees everything of B, nothing of A."""
    return _persona(org_b, Role.OWNER)


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def user_factory() -> type[UserFactory]:
    return UserFactory


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    """Each test starts with an empty cache: no rate limit or remembered list leaks across."""
    from django.core.cache import cache

    cache.clear()
    yield


pytest_plugins += ["saha.testing.fixtures"]


@pytest.fixture
def english(settings: Any) -> None:
    """Pages in English, so that assertions on words hold once the catalogues translate them."""
    settings.LANGUAGE_CODE = "en"
