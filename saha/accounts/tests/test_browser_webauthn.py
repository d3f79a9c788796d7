"""A journey through a real browser on a phone: enrol a security key, then sign in with it.

Chromium's virtual authenticator, driven through the Chrome DevTools Protocol,
stands in for a USB key: it answers `navigator.credentials.create()` and
`.get()` as a real key would, with the user present and verified.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from allauth.mfa.models import Authenticator

from saha.testing.browser import (
    console_errors,
    expect,
    sign_in_with_password,
    start_mfa_setup,
)

if TYPE_CHECKING:
    from playwright.sync_api import CDPSession, Page

pytestmark = pytest.mark.browser

# A roaming CTAP2 key that can hold passkeys and checks a PIN or fingerprint;
# the browser touches it for the user (automaticPresenceSimulation).
SECURITY_KEY = {
    "protocol": "ctap2",
    "transport": "usb",
    "hasResidentKey": True,
    "hasUserVerification": True,
    "isUserVerified": True,
    "automaticPresenceSimulation": True,
}


def plug_in_security_key(page: Page) -> tuple[CDPSession, str]:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": SECURITY_KEY})
    return cdp, added["authenticatorId"]


def test_a_member_enrols_a_security_key_then_signs_in_with_it(
    phone_page, owner, password, settings, screenshot
):
    # The live server is http://localhost:PORT. Chromium treats localhost as a
    # secure context, so WebAuthn runs there, and fido2 accepts http://localhost
    # as an origin for the RP ID "localhost". So the server's origin check stays
    # on: the project sets MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG, and this
    # pins it off (allauth reads it on each request), so that the journey also
    # proves the browser's origin is the one the server expects.
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
    page = phone_page
    cdp, authenticator_id = plug_in_security_key(page)
    sign_in_with_password(page, owner.user.email, password)
    expect(page).to_have_url(re.compile(r"/manage/org-a/$"))

    # given: the two-factor page, where adding a key first asks for the password again
    start_mfa_setup(page, "/accounts/2fa/webauthn/add/", password)

    # when: the key gets a name and is touched
    expect(page).to_have_url(re.compile(r"/accounts/2fa/webauthn/add/$"))
    screenshot(page, "add")
    page.locator("input[name=name]").fill("Blue key")
    page.locator("#mfa_webauthn_add").click()

    # then: the key is registered, recovery codes were made and shown, and the
    # page raised no script errors on the way
    expect(page).to_have_url(re.compile(r"/accounts/2fa/recovery-codes/$"))
    assert console_errors(page) == []
    key = Authenticator.objects.get(user=owner.user, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Blue key"
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1
    # and the key is listed on the two-factor pages
    page.goto("/accounts/2fa/webauthn/")
    expect(page.locator("main")).to_contain_text("Blue key")
    screenshot(page, "keys")

    # and signing in again takes the password, then the key
    page.locator("form[action='/accounts/logout/'] button").click()
    expect(page.locator(".topnav a[href='/accounts/login/']")).to_be_visible()
    sign_in_with_password(page, owner.user.email, password)
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/$"))
    screenshot(page, "authenticate")
    page.locator("#mfa_webauthn_authenticate").click()
    expect(page).to_have_url(re.compile(r"/manage/org-a/$"))
    expect(page.locator("main h1")).to_have_text(owner.organization.names["en"])
    assert console_errors(page) == []
