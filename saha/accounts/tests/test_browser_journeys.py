"""Journeys through a real browser on a phone: sign in, two-factor, languages, tenancy.

Each runs against pytest-django's live server in Chromium (see saha/testing/browser.py).
Public pages are visited with JavaScript off, as a visitor on a bad connection
or a locked-down browser would see them.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.conf import settings
from django.utils import translation

from saha.organizations import services
from saha.organizations.roles import Role
from saha.testing.browser import (
    assert_fits_width,
    console_errors,
    expect,
    log_in,
    sign_in_with_password,
    start_mfa_setup,
    submit_main_form,
)
from saha.testing.factories import MembershipFactory, UserFactory

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

LANGUAGES = pytest.mark.parametrize("language", ["en", "ar"])
DIRECTION = {"en": "ltr", "ar": "rtl"}
ARABIC_CATALOGUE = Path(settings.LOCALE_PATHS[0]) / "ar" / "LC_MESSAGES" / "django.mo"
needs_arabic_catalogue = pytest.mark.skipif(
    not ARABIC_CATALOGUE.exists(),
    reason="no Arabic catalogue yet: run `scripts/i18n.py compile` once django.po is written",
)
# The brand green from saha.css: seen on a page only if the stylesheet loaded.
BRAND_GREEN = "rgb(11, 110, 79)"


def in_language(language: str, message: str) -> str:
    with translation.override(language):
        return translation.gettext(message)


def totp_code(secret: str) -> str:
    """What an authenticator app shows right now (RFC 6238, allauth's own HOTP)."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def expect_language(page: Page, language: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", DIRECTION[language])


@LANGUAGES
def test_a_member_signs_in_with_email_and_password_and_lands_on_the_dashboard(
    make_page, owner, password, language, screenshot
):
    page = make_page(locale=language)
    page.goto("/accounts/login/")
    expect_language(page, language)
    screenshot(page, "form")

    sign_in_with_password(page, owner.user.email, password)

    expect(page).to_have_url(re.compile(r"/manage/org-a/$"))
    expect_language(page, language)
    expect(page.locator("main h1")).to_have_text(owner.organization.names[language])
    assert console_errors(page) == []


@LANGUAGES
def test_a_member_enrols_an_authenticator_app_then_signs_in_with_its_code(
    make_page, owner, password, language, settings, screenshot
):
    # One step of clock tolerance, so a code computed just before a 30-second
    # boundary is still good when the server checks it.
    settings.MFA_TOTP_TOLERANCE = 1
    page = make_page(locale=language)
    sign_in_with_password(page, owner.user.email, password)
    expect(page).to_have_url(re.compile(r"/manage/org-a/$"))

    # given: the two-factor page, where adding an app first asks for the password again
    start_mfa_setup(page, "/accounts/2fa/totp/activate/", password)

    # when: the secret shown as text goes into the app, and its code comes back
    expect(page).to_have_url(re.compile(r"/accounts/2fa/totp/activate/$"))
    secret = page.locator("#authenticator_secret").input_value()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    screenshot(page, "activate")
    page.locator("input[name=code]").fill(totp_code(secret))
    submit_main_form(page)

    # then: the app is active and recovery codes were made and shown
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    expect(page.locator("textarea#recovery_codes")).to_have_value(
        re.compile(r"^(\d{8}\n){9}\d{8}$")
    )
    assert Authenticator.objects.filter(user=owner.user, type=Authenticator.Type.TOTP).exists()
    screenshot(page, "recovery-codes")

    # and signing in again takes the password, then the app's code
    page.locator("form[action='/accounts/logout/'] button").click()
    expect(page.locator(".topnav a[href='/accounts/login/']")).to_be_visible()
    sign_in_with_password(page, owner.user.email, password)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    expect_language(page, language)
    screenshot(page, "code")
    page.locator("input[name=code]").fill(totp_code(secret))
    submit_main_form(page)
    expect(page).to_have_url(re.compile(r"/manage/org-a/$"))
    assert console_errors(page) == []


def test_the_switcher_in_the_top_bar_turns_the_pages_arabic_without_javascript(make_page, owner):
    page = make_page(locale="en", javascript=False)
    log_in(page, owner.user)
    page.goto("/manage/org-a/")
    expect_language(page, "en")

    page.locator("form.languages button[value=ar]").click()

    expect_language(page, "ar")
    expect(page).to_have_url(re.compile(r"/manage/org-a/$"))
    expect(page.locator("main h1")).to_have_text("منظمة org-a")
    expect(page.locator("form.languages button[aria-current=true]")).to_have_attribute(
        "value", "ar"
    )


@needs_arabic_catalogue
def test_in_arabic_the_interface_speaks_arabic(make_page, owner):
    sign_out = in_language("ar", "Sign out")
    assert sign_out != "Sign out", "the Arabic catalogue lacks a translation of 'Sign out'"
    page = make_page(locale="ar")
    log_in(page, owner.user)

    page.goto("/manage/org-a/")

    expect(page.locator("form[action='/accounts/logout/'] button")).to_have_text(sign_out)


def test_a_shared_link_with_lang_ar_opens_the_public_page_in_arabic_without_javascript(
    make_page, org_a
):
    page = make_page(locale="en", javascript=False)

    page.goto("/o/org-a/?lang=ar")

    expect_language(page, "ar")
    expect(page.locator("main h1")).to_have_text("منظمة org-a")
    # and the choice is remembered for the next page
    page.goto("/o/org-a/")
    expect_language(page, "ar")


@LANGUAGES
def test_the_public_page_fits_a_phone_without_javascript(make_page, org_a, language, screenshot):
    org_a.about = {
        "en": "A neighbourhood association that keeps the public beach clean and open to all.",
        "ar": "جمعية أهلية تعمل على إبقاء الشاطئ العام نظيفًا ومفتوحًا للجميع.",
    }
    org_a.contact_email = "contact.for.the.neighbourhood.association@beachfront.example.org"
    org_a.save(update_fields=["about", "contact_email"])
    page = make_page(locale=language, javascript=False)

    response = page.goto("/o/org-a/")

    assert response is not None and response.status == 200
    expect_language(page, language)
    expect(page.locator("main h1")).to_have_text(org_a.names[language])
    expect(page.locator("main .about")).to_contain_text(org_a.about[language])
    # The stylesheet arrived from the live server's static files.
    expect(page.locator("form.languages button[aria-current=true]")).to_have_css(
        "background-color", BRAND_GREEN
    )
    assert_fits_width(page)
    assert console_errors(page) == []
    screenshot(page, "public")


@LANGUAGES
def test_a_member_of_one_organization_gets_not_found_for_another_ones_dashboard(
    make_page, owner, org_b, language
):
    page = make_page(locale=language)
    log_in(page, owner.user)

    response = page.goto("/manage/org-b/")

    assert response is not None and response.status == 404
    expect_language(page, language)
    expect(page.locator("main h1")).to_have_text(in_language(language, "Page not found"))
    expect(page.locator("main")).not_to_contain_text(org_b.names[language])


@LANGUAGES
def test_an_owner_walks_the_organization_pages_on_a_phone(make_page, owner, language, screenshot):
    # given: a team with a long name and address, an invitation and an audit trail
    MembershipFactory(
        organization=owner.organization,
        user=UserFactory(
            full_name="Maximilian Alexander Featherstonehaugh-Montgomery",
            email="maximilian.featherstonehaugh-montgomery@a-long-domain.example.org",
        ),
    )
    services.invite_member(
        actor_membership=owner.membership,
        email="somebody.with.a.long.address@invitations.example.org",
        role=Role.ORGANIZER,
    )
    page = make_page(locale=language)
    log_in(page, owner.user)
    page.goto("/manage/org-a/")
    expect_language(page, language)
    assert_fits_width(page)
    screenshot(page, "dashboard")

    # when: they follow the organization's tabs
    for tab in ["members", "audit", "settings"]:
        path = f"/manage/org-a/{tab}/"
        page.locator(f".orgnav a[href='{path}']").click()

        # then: each page opens and fits the screen, with no script errors
        expect(page).to_have_url(re.compile(f"{path}$"))
        expect(page.locator(".orgnav a[aria-current=page]")).to_have_attribute("href", path)
        expect_language(page, language)
        assert_fits_width(page)
        screenshot(page, tab)
    assert console_errors(page) == []


@LANGUAGES
def test_the_organization_switcher_opens_within_a_phone_screen(make_page, owner, language):
    page = make_page(locale=language)
    log_in(page, owner.user)
    page.goto("/manage/org-a/")

    page.locator(".switcher summary").click()

    choices = page.locator(".switcher ul")
    expect(choices).to_be_visible()
    box = choices.bounding_box()
    screen = page.viewport_size
    assert box is not None and screen is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= screen["width"], box


@LANGUAGES
def test_the_sessions_page_fits_a_phone(make_page, owner, language, screenshot):
    # A browser's name is one long line: the table scrolls in its own box, not the page.
    page = make_page(locale=language)
    log_in(page, owner.user)
    page.goto("/manage/")  # a signed-in request: the session is recorded

    response = page.goto("/accounts/sessions/")

    assert response is not None and response.status == 200
    expect_language(page, language)
    expect(page.locator("main table")).to_contain_text("127.0.0.1")
    assert_fits_width(page)
    assert console_errors(page) == []
    screenshot(page, "sessions")
