"""The demo organization: what `saha demo` loads, idempotently.

An organization holding the demo's address that the demo's user does not own is
someone else's: the demo refuses to run rather than seize it (`SlugTaken`).

Later apps add their demo content by defining `contribute(organization, owner)`
in their own `demo.py`; it returns the URLs to print under `saha demo --json`.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from allauth.account.models import EmailAddress
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils.module_loading import import_string

from saha.organizations.models import Membership, Organization
from saha.organizations.roles import Role
from saha.organizations.services import create_organization

DEMO_SLUG = "friends-of-the-shore"
DEMO_EMAIL = "demo@example.org"
DEMO_NAMES = {
    "ar": "جمعية أصدقاء الشاطئ",
    "en": "Friends of the Shore",
    "fr": "Les Amis du Rivage",
}
DEMO_ABOUT = {
    "ar": "جمعية أهلية تعمل على إبقاء الشاطئ العام نظيفًا ومفتوحًا للجميع. "
    "ننظّم حملات تنظيف شهرية ونجمع التواقيع ونلتقي بالبلدية.",
    "en": "A neighbourhood association that keeps the public beach clean and open to all. "
    "We organize monthly clean-ups, gather signatures and meet the municipality.",
    "fr": "Une association de quartier qui garde la plage publique propre et ouverte à tous. "
    "Nous organisons des nettoyages mensuels, recueillons des signatures et rencontrons la "
    "municipalité.",
}


class SlugTaken(SystemExit):
    """The demo's address is an organization the demo did not make (its owner is not
    the demo's user): `saha demo` stops with this message and touches nothing of it.
    A SystemExit so that the command exits with an error and this message, no trace."""

    def __init__(self, slug: str) -> None:
        super().__init__(
            f"saha demo: the address {slug!r} is taken by an organization not made by the "
            f"demo (its owner is not {DEMO_EMAIL}). Nothing was changed. Load the demo into "
            "an instance without that organization, or rename that organization's address."
        )
        self.slug = slug


def _owned_by(organization: Organization, user: Any) -> bool:
    return Membership.objects.filter(organization=organization, user=user, role=Role.OWNER).exists()


def _credentials_path() -> Any:
    return settings.VAR_DIR / "demo.json"


def _password() -> str:
    """The demo owner's password: made once, kept in var/demo.json (mode 0600)."""
    path = _credentials_path()
    if path.exists():
        return str(json.loads(path.read_text())["password"])
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(json.dumps({"username": DEMO_EMAIL, "password": password}))
    return password


def load_demo() -> dict[str, str]:
    password = _password()
    User = get_user_model()
    with transaction.atomic():
        owner = User.objects.filter(email=DEMO_EMAIL).first()
        organization = Organization.objects.filter(slug=DEMO_SLUG).first()
        if organization is not None and (owner is None or not _owned_by(organization, owner)):
            raise SlugTaken(DEMO_SLUG)
        if owner is None:
            owner = User.objects.create_user(DEMO_EMAIL, password, full_name="Demo Organizer")
        elif not owner.check_password(password):
            owner.set_password(password)
            owner.save(update_fields=["password"])
        EmailAddress.objects.update_or_create(
            user=owner, email=DEMO_EMAIL, defaults={"verified": True, "primary": True}
        )
        if organization is None:
            organization = create_organization(
                actor="saha demo",
                owner=owner,
                slug=DEMO_SLUG,
                names=DEMO_NAMES,
                default_language=settings.LANGUAGE_CODE,
                time_zone="Asia/Beirut",
            )
            organization.about = DEMO_ABOUT
            organization.contact_email = "hello@example.org"
            organization.save(update_fields=["about", "contact_email"])
    base = settings.SAHA_BASE_URL
    info = {
        "base_url": base,
        "organization_url": base + reverse("organizations:public", args=[organization.slug]),
        "dashboard_url": base + reverse("organizations:dashboard", args=[organization.slug]),
        "login_url": base + reverse("account_login"),
        "username": DEMO_EMAIL,
        "password": password,
    }
    for app in apps.get_app_configs():
        if app.name.startswith("saha.") and app.name != "saha.organizations":
            try:
                contribute = import_string(f"{app.name}.demo.contribute")
            except ImportError:
                continue
            info.update(contribute(organization, owner))
    return info
