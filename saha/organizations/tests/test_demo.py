"""`saha demo` loads its organization once, for its own user, and never takes over an
organization it did not make that holds the demo's address."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model

from saha.organizations import demo
from saha.organizations.models import Membership, Organization
from saha.organizations.roles import Role
from saha.testing.factories import MembershipFactory, OrganizationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def var_dir(settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path


def test_the_demo_organization_is_made_once_for_the_demo_user() -> None:
    first = demo.load_demo()
    again = demo.load_demo()
    organization = Organization.objects.get(slug=demo.DEMO_SLUG)
    [membership] = Membership.objects.filter(organization=organization)
    assert membership.user.email == demo.DEMO_EMAIL and membership.role == Role.OWNER
    assert first["organization_url"] == again["organization_url"]
    assert first["organization_url"].endswith(f"/o/{demo.DEMO_SLUG}/")


def test_an_organization_not_made_by_the_demo_holding_its_address_stops_the_demo() -> None:
    theirs = OrganizationFactory(slug=demo.DEMO_SLUG, names={"en": "The real friends"})
    stranger = MembershipFactory(organization=theirs, role=Role.OWNER).user
    with pytest.raises(SystemExit) as refused:
        demo.load_demo()
    assert isinstance(refused.value, demo.SlugTaken)
    message = str(refused.value.code)  # what `saha demo` prints as it exits with status 1
    assert demo.DEMO_SLUG in message and "not made by the demo" in message
    # Nothing of it was touched, and no demo user was left behind.
    assert list(Membership.objects.filter(organization=theirs).values_list("user", "role")) == [
        (stranger.pk, Role.OWNER)
    ]
    theirs.refresh_from_db()
    assert theirs.names == {"en": "The real friends"} and theirs.about == {}
    assert not get_user_model().objects.filter(email=demo.DEMO_EMAIL).exists()


def test_the_demo_user_as_a_mere_member_does_not_make_it_the_demo_s() -> None:
    """The demo's user exists and was added to someone else's organization holding the
    address (as a viewer): still not the demo's own, still refused, role unchanged."""
    user = get_user_model().objects.create_user(demo.DEMO_EMAIL, "an old password")
    theirs = OrganizationFactory(slug=demo.DEMO_SLUG)
    MembershipFactory(organization=theirs, user=user, role=Role.VIEWER)
    with pytest.raises(demo.SlugTaken):
        demo.load_demo()
    assert Membership.objects.get(organization=theirs, user=user).role == Role.VIEWER
    user.refresh_from_db()
    assert user.check_password("an old password")  # the refused run changed nothing
