"""Signing a petition in a browser, on a 360 px phone, in Arabic and English.

Without JavaScript: sign, land on the thank-you page, receive the link by
email (read from a real SMTP server on loopback), press "confirm", and see the
counter move from 0 to 1 (the test takes the signature in and delivers the
outbox as the worker would). With JavaScript while the challenge is on: the
page's script solves the proof of work and the signature goes through; the
live counter picks up a new signature by itself. Assertions go through
selectors, URLs and the database, not wording. The test touches the database
only while the browser is idle (`RequestGate`: the live server shares the
test's SQLite connection).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import pytest
from django.core.cache import cache

from saha.messaging import outbox
from saha.petitions import intake, services
from saha.petitions.models import Petition, Signature
from saha.petitions.tests.test_sign import make_petition
from saha.supporters.services import PersonData
from saha.supporters.tests.test_browser_journeys import RequestGate, check_page
from saha.testing.browser import console_errors, expect
from saha.testing.factories import DATABASE_TASKS

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request

    from saha.testing.smtp_server import LoopbackSMTP

pytestmark = pytest.mark.browser

LANGUAGES = pytest.mark.parametrize("language", ["en", "ar"])
CONFIRM_LINK = re.compile(r"https?://[^\s)>\]]+(/s/[A-Za-z0-9_-]+/)")
TITLES = {
    "en": "Keep the public beach of the old town open to everyone, all year round",
    "ar": "أبقوا الشاطئ العام في البلدة القديمة مفتوحًا للجميع طوال السنة",
}


@pytest.fixture
def queued_tasks(settings: Any) -> None:
    """Messages wait in the outbox for the test to deliver, as a worker would."""
    settings.TASKS = DATABASE_TASKS


def petition_path(petition: Petition) -> str:
    return f"/o/{petition.organization.slug}/petitions/{petition.slug}/"


def fill_and_sign(page: Page, language: str, email: str = "rana@example.org") -> None:
    form = page.locator("main form.sign-form")
    form.locator("input[name=given_name]").fill("رنا" if language == "ar" else "Rana")
    form.locator("input[name=family_name]").fill("Haddad")
    form.locator("input[name=email]").fill(email)
    form.locator("input[name=locality]").fill("صور" if language == "ar" else "Tyre")
    form.locator("input[name=show_name]").check()
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/petitions/[^/]+/thanks/$"))
    check_page(page, language)


def confirm_path_from_email(smtp_server: LoopbackSMTP) -> str:
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ("rana@example.org",)
    body = received.message.get_body(("plain",))
    assert body is not None
    found = CONFIRM_LINK.search(body.get_content())
    assert found is not None, body.get_content()
    return found.group(1)


@LANGUAGES
def test_sign_without_javascript_confirm_by_email_and_the_counter_moves(
    make_page: Any, org_a: Any, smtp_server: Any, queued_tasks: None, language: str, screenshot: Any
) -> None:
    petition = make_petition(org_a, titles=TITLES, targets="The municipality", goal=50)
    page = make_page(locale=language, javascript=False)
    gate = RequestGate(page)

    # given: a visitor on a phone, without JavaScript, sees the counter at 0
    page.goto(petition_path(petition))
    check_page(page, language)
    expect(page.locator(".petition-counter [data-count]")).to_have_attribute("data-count", "0")
    expect(page.locator("input[name=website]")).not_to_be_in_viewport()
    screenshot(page, "petition")

    # when: they sign, and the link arrives by email
    fill_and_sign(page, language)
    screenshot(page, "thanks")
    with gate.closed():
        assert intake.take_in() == 1  # what the worker does a moment later
        signature = Signature.objects.get()
        assert signature.verified_at is None and signature.language == language
        outbox.drain(budget_seconds=5)
        confirm = confirm_path_from_email(smtp_server)

    # and they open it: nothing happens before they press the button
    page.goto(confirm)
    check_page(page, language)
    with gate.closed():
        signature.refresh_from_db()
        assert signature.verified_at is None
    page.locator("form.confirm-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/thanks/\?confirmed=1$"))
    expect(page.locator("[data-thanks=confirmed]")).to_be_visible()
    check_page(page, language)
    screenshot(page, "confirmed")

    # then: the counter shows their signature, and their first name among the signers
    page.locator("a[data-back]").click()
    check_page(page, language)
    expect(page.locator(".petition-counter [data-count]")).to_have_attribute("data-count", "1")
    expect(page.locator(".signer-list li")).to_have_count(1)
    assert console_errors(page) == []


@LANGUAGES
def test_with_javascript_the_challenge_is_solved_and_the_counter_is_live(
    make_page: Any, org_a: Any, settings: Any, language: str, screenshot: Any
) -> None:
    settings.SAHA_PETITION_CHALLENGE = "always"
    settings.SAHA_PETITION_POW_DIFFICULTY = 12
    petition = make_petition(org_a, titles=TITLES, count_unverified=True)
    page = make_page(locale=language, javascript=True)
    page.clock.install()
    gate = RequestGate(page)
    posted: list[dict[str, list[str]]] = []

    def record(request: Request) -> None:
        if request.method == "POST":
            posted.append(parse_qs(request.post_data or ""))

    page.on("request", record)

    # the live counter: a signature made elsewhere shows without a reload
    page.goto(petition_path(petition))
    check_page(page, language)
    expect(page.locator("form.sign-form")).to_have_attribute("data-pow-difficulty", "12")
    with gate.closed():
        data = PersonData(email="other@example.org", given_name="Sami", language="en")
        services.sign(petition=petition, data=data)
        cache.clear()  # the counter's few seconds of cache
    page.clock.fast_forward(11_000)
    expect(page.locator(".petition-counter [data-count]")).to_have_attribute("data-count", "1")

    # signing: the script's answer goes with the form, and it is accepted
    fill_and_sign(page, language)
    screenshot(page, "thanks-js")
    [sent] = posted
    assert sent["pow_js"] == ["1"] and sent["pow_nonce"][0].isdigit()
    with gate.closed():
        assert Signature.objects.filter(person__emails__address="rana@example.org").count() == 1
    assert console_errors(page) == []
