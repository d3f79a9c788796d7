"""The owner's API journey on a 360 px phone without JavaScript, in Arabic and in English:
make a token and read it once, revoke it; make a webhook endpoint on a loopback receiver,
send it a test event, see it in the delivery log and send it again. Every page fits the
screen. The database is touched only while the browser is idle (the live server shares
the test's SQLite connection)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from saha.api.models import ApiToken, WebhookDelivery
from saha.api.tests.conftest import Receiver
from saha.api.tokens import find_token
from saha.testing.browser import assert_fits_width, expect, log_in

pytestmark = pytest.mark.browser


def check(page: Any, language: str) -> None:
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_fits_width(page)


@pytest.mark.parametrize("language", ["ar", "en"])
def test_token_and_webhook_journey(
    make_page: Any,
    live_server: Any,
    owner: Any,
    receiver: Receiver,
    settings: Any,
    screenshot: Any,
    language: str,
) -> None:
    settings.SAHA_WEBHOOKS_ALLOW_PRIVATE = True
    slug = owner.organization.slug
    page = make_page(locale=language, phone=True, javascript=False)
    log_in(page, owner.user)

    # The API entry in the organization's menu, then a new token.
    page.goto(f"/manage/{slug}/")
    page.locator(f"nav.orgnav a[href='/manage/{slug}/api/']").click()
    check(page, language)
    page.locator(f"main a.button[href='/manage/{slug}/api/tokens/new/']").click()
    check(page, language)
    page.locator("input[name=name]").fill("Sync script")
    page.locator("input[name=scopes][value='people:read']").check()
    page.locator("input[name=scopes][value='events:write']").check()
    screenshot(page, "token-form")
    page.locator("main form.token-form button[type=submit]").click()
    check(page, language)
    secret = page.locator("#api-secret").inner_text().strip()
    assert re.fullmatch(r"saha_[\w-]+", secret)
    screenshot(page, "token-created")
    token = find_token(secret)
    assert token is not None and token.scopes == ["people:read", "events:write"]

    # Back on the list: named by its prefix, the secret nowhere; then revoked.
    page.locator("main a.button").last.click()
    check(page, language)
    expect(page.locator("tr.token")).to_have_count(1)
    assert secret not in page.content()
    page.locator("tr.token button[type=submit]").click()
    check(page, language)
    expect(page.locator("tr.token.revoked")).to_have_count(1)
    assert ApiToken.objects.get().revoked_at is not None

    # A webhook endpoint on the loopback receiver, its secret shown once.
    page.goto(f"/manage/{slug}/api/webhooks/new/")
    check(page, language)
    page.locator("input[name=url]").fill(receiver.url)
    page.locator("input[name=event_types][value='person.created']").check()
    page.locator("main form.webhook-form button[type=submit]").click()
    check(page, language)
    assert page.locator("#webhook-secret").inner_text().startswith("whsec_")
    page.locator("main .actions a.button").click()
    check(page, language)

    # A test event, in the log, then sent again with the same event id.
    page.locator("main button.send-test").click()
    check(page, language)
    expect(page.locator("tr.delivery")).to_have_count(1)
    expect(page.locator("tr.delivery .state-delivered")).to_have_count(1)
    screenshot(page, "delivery-log")
    page.locator("tr.delivery button[type=submit]").click()
    check(page, language)
    assert len(receiver.received) == 2
    assert (
        receiver.received[0].headers["Saha-Delivery"]
        == receiver.received[1].headers["Saha-Delivery"]
    )
    assert WebhookDelivery.objects.get().attempts == 2
