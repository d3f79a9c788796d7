"""A broadcast from first word to last delivery, in a browser on a phone, in Arabic and English.

Compose, write the Arabic and English versions, preview them, send a test,
send, and watch the progress reach 100 % while the worker runs. Each page
must fit 360 px, raise no script errors and, in Arabic, run right to left.
Assertions go through selectors, URLs and the database, not wording: the
translations keep changing.

The live server shares the test's SQLite connection with its own threads, so
the test runs the worker's steps only while the browser is idle
(`RequestGate`, as in the people journeys).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.core import mail

from saha.messaging import broadcasts, outbox
from saha.messaging.models import Broadcast, BroadcastStatus, Delivery, MessagingSettings
from saha.messaging.services import messaging_settings
from saha.messaging.tests.test_broadcast_views import ARABIC_BODY, ENGLISH_BODY, run_test_sends
from saha.organizations.roles import Role
from saha.supporters.models import Channel
from saha.supporters.tests.people_factories import grant, make_person
from saha.supporters.tests.test_browser_journeys import RequestGate, check_page
from saha.testing.browser import console_errors, expect, log_in
from saha.testing.factories import MembershipFactory

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

LANGUAGES = pytest.mark.parametrize("language", ["en", "ar"])
MESSAGES = "/manage/org-a/messages/"


@pytest.fixture
def messenger(org_a):
    from saha.conftest import Persona

    return Persona(MembershipFactory(organization=org_a, role=Role.MESSENGER))


@pytest.fixture
def audience(org_a) -> None:
    """Two readers of Arabic and one of English agreed to emails; one person only to SMS."""
    for email, name, language in [
        ("hala@example.org", "هالة", "ar"),
        ("sami@example.org", "سامي", "ar"),
        ("grace@example.org", "Grace", "en"),
    ]:
        make_person(org_a, email=email, given_name=name, language=language, consents=[grant()])
    make_person(org_a, phone="+961 3 123 456", consents=[grant(Channel.SMS)])


def write_version(page: Page, language: str, subject: str, body: str) -> None:
    expect(page).to_have_url(re.compile(rf"/versions/{language}/$"))
    body_field = page.locator("textarea[name=body]")
    expect(body_field).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    page.locator("input[name=subject]").fill(subject)
    body_field.fill(body)
    page.locator("main form.version-form button[type=submit]").click()
    expect(page.locator(".messages .success")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/versions/{language}/$"))


def compose(page: Page, language: str, screenshot) -> str:
    """From the Messages tab to a created draft, watching the live count; returns its path."""
    page.goto("/manage/org-a/")
    page.locator(f".orgnav a[href='{MESSAGES}']").click()
    expect(page).to_have_url(re.compile(rf"{MESSAGES}$"))
    check_page(page, language)
    page.locator(f"main a[href='{MESSAGES}new/']").click()
    check_page(page, language)
    # the count of who would receive it follows the channel chosen (htmx)
    count = page.locator("#audience-result .count .number")
    expect(count).to_have_text("3")
    page.locator("input[name=channel][value=sms]").check()
    expect(count).to_have_text("1")
    page.locator("input[name=channel][value=email]").check()
    expect(count).to_have_text("3")
    screenshot(page, "new")
    page.locator("input[name=name]").fill("الجمعية العامة")
    page.locator("select[name=fallback_language]").select_option("ar")
    page.locator("main button[name=save]").click()
    expect(page).to_have_url(re.compile(rf"{MESSAGES}\d+/$"))
    check_page(page, language)
    return f"{MESSAGES}{Broadcast.objects.get().pk}/"


def write_and_preview(page: Page, language: str, detail: str, screenshot) -> None:
    """Both versions, each in its own direction; the Arabic preview, server-rendered."""
    page.locator(f"main a[href='{detail}versions/ar/']").click()
    check_page(page, language)
    write_version(page, "ar", "الجمعية العامة", ARABIC_BODY)
    page.locator(f"nav.tabs a[href='{detail}versions/en/']").click()
    write_version(page, "en", "General assembly", ENGLISH_BODY)
    check_page(page, language)
    screenshot(page, "version")
    page.locator(f"main a[href='{detail}preview/en/']").click()
    page.locator(f"nav.tabs a[href='{detail}preview/ar/']").click()
    expect(page).to_have_url(re.compile(r"/preview/ar/$"))
    # a frame without scripts, right to left
    expect(page.locator("iframe.preview-frame")).to_have_attribute("sandbox", "")
    content = page.frame_locator("iframe.preview-frame").locator("div[dir=rtl]")
    expect(content).to_contain_text("الاجتماع العام")
    expect(page.locator("pre.preview-text")).to_have_attribute("dir", "rtl")
    check_page(page, language)
    screenshot(page, "preview")


def send_a_test(page: Page, language: str, detail: str, gate: RequestGate, email: str) -> None:
    page.goto(detail)
    page.locator(f"main a[href='{detail}test/']").click()
    expect(page.locator("input[name=address]")).to_have_value(email)  # their own, prefilled
    page.locator("select[name=language]").select_option("en")
    check_page(page, language)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(re.compile(rf"{detail}$"))
    expect(page.locator(".messages .success")).to_contain_text(email)
    with gate.closed():
        run_test_sends()
        assert [m.to for m in mail.outbox] == [[email]]
        assert not Delivery.objects.exists()


def send_and_watch(page: Page, language: str, detail: str, gate: RequestGate, screenshot) -> None:
    """Send, then follow the progress the page polls for while the worker runs."""
    page.locator(f"main a[href='{detail}send/']").click()
    expect(page.locator("main .send-summary .count .number")).to_have_text("3")
    check_page(page, language)
    screenshot(page, "send")
    page.locator("main button[name=action][value=send]").click()
    expect(page).to_have_url(re.compile(rf"{detail}progress/$"))
    panel = page.locator("#broadcast-progress")
    expect(panel).to_have_attribute("hx-trigger", "every 2s")
    expect(panel.locator(".badge")).to_have_class(re.compile(r"\bstatus-preparing\b"))
    check_page(page, language)
    with gate.closed():
        broadcasts.prepare(Broadcast.objects.get().pk)
    expect(panel.locator("progress")).to_have_attribute("value", "0")
    expect(panel.locator(".badge")).to_have_class(re.compile(r"\bstatus-sending\b"))
    with gate.closed():
        outbox.drain(budget_seconds=5)
    expect(panel.locator(".badge")).to_have_class(re.compile(r"\bstatus-sent\b"))
    expect(panel.locator("progress")).to_have_attribute("value", "100")
    expect(panel).not_to_have_attribute("hx-get", re.compile(".*"))  # it stopped asking
    check_page(page, language)
    screenshot(page, "sent")


@LANGUAGES
def test_a_messenger_composes_previews_tests_and_sends_a_broadcast(
    make_page, messenger, audience, language, screenshot
):
    page = make_page(locale=language)
    gate = RequestGate(page)
    log_in(page, messenger.user)

    detail = compose(page, language, screenshot)
    write_and_preview(page, language, detail, screenshot)
    send_a_test(page, language, detail, gate, messenger.user.email)
    send_and_watch(page, language, detail, gate, screenshot)

    # then: everyone who agreed received their own language's version, once
    with gate.closed():
        sent = sorted(m.to[0] for m in mail.outbox[1:])
        assert sent == ["grace@example.org", "hala@example.org", "sami@example.org"]
        to_hala = next(m for m in mail.outbox if m.to == ["hala@example.org"])
        assert to_hala.subject == "الجمعية العامة"
    # and the list shows it sent
    page.locator(f".orgnav a[href='{MESSAGES}']").click()
    expect(page.locator("main table.broadcasts .status-sent")).to_have_count(1)
    check_page(page, language)
    assert console_errors(page) == []


@LANGUAGES
def test_without_javascript_the_progress_page_refreshes_and_a_second_admin_approves(
    make_page, admin, owner, audience, language, screenshot
):
    # given: broadcasts need approval, and an admin asked for one
    sender = messaging_settings(admin.organization)
    MessagingSettings.objects.filter(pk=sender.pk).update(broadcast_requires_approval=True)
    broadcast = broadcasts.create_broadcast(
        actor=admin.user,
        organization=admin.organization,
        data=broadcasts.BroadcastData(
            name="Assembly", channel="email", segment=None, fallback_language="en"
        ),
    )
    broadcasts.save_version(
        actor=admin.user, broadcast=broadcast, language="en", subject="Hi", body="Hi"
    )
    broadcasts.request_send(actor=admin.user, broadcast=broadcast)
    progress = f"{MESSAGES}{broadcast.pk}/progress/"

    # when: the owner opens it without JavaScript
    page = make_page(locale=language, javascript=False)
    gate = RequestGate(page)
    log_in(page, owner.user)
    page.goto(progress)
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(1)
    expect(page.locator(f"main a[href='{progress}']")).to_have_count(1)
    # what is to be approved: the audience asked for, and how many it reaches
    expect(page.locator("#broadcast-progress .approval-audience .number")).to_have_text("3")
    check_page(page, language)
    screenshot(page, "awaiting")
    page.locator(f"main form[action$='/{broadcast.pk}/approve/'] button").click()

    # then: it is on its way; once the worker is done, the page stops refreshing
    expect(page).to_have_url(re.compile(r"/progress/$"))
    with gate.closed():
        broadcast.refresh_from_db()
        assert (broadcast.status, broadcast.approved_by) == (BroadcastStatus.PREPARING, owner.user)
        broadcasts.prepare(broadcast.pk)
        outbox.drain(budget_seconds=5)
    page.reload()
    expect(page.locator("#broadcast-progress .badge")).to_have_class(re.compile(r"status-sent"))
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    check_page(page, language)


@LANGUAGES
def test_an_owner_changes_the_messaging_settings_on_a_phone(make_page, owner, language):
    page = make_page(locale=language)
    log_in(page, owner.user)
    page.goto(f"{MESSAGES}settings/")
    check_page(page, language)  # the long webhook addresses wrap
    expect(page.locator(".webhook-list code")).to_have_count(3)
    page.locator("input[name=from_email]").fill("news@example.org")
    page.locator("input[name=quiet_start]").fill("22:30")
    page.locator("form.messaging-settings button[type=submit]").click()
    expect(page.locator(".messages .success")).to_be_visible()
    check_page(page, language)
    row = MessagingSettings.objects.get(organization=owner.organization)
    assert (row.from_email, row.quiet_start.strftime("%H:%M")) == ("news@example.org", "22:30")
    assert console_errors(page) == []


def test_when_the_session_ends_the_polling_page_goes_to_sign_in(make_page, messenger, audience):
    # given: a broadcast on its way, its progress page asking every 2 s
    broadcast = broadcasts.create_broadcast(
        actor=messenger.user,
        organization=messenger.organization,
        data=broadcasts.BroadcastData(
            name="Assembly", channel="email", segment=None, fallback_language="en"
        ),
    )
    broadcasts.save_version(
        actor=messenger.user, broadcast=broadcast, language="en", subject="Hi", body="Hi"
    )
    broadcasts.request_send(actor=messenger.user, broadcast=broadcast)
    page = make_page()
    log_in(page, messenger.user)
    page.goto(f"{MESSAGES}{broadcast.pk}/progress/")
    expect(page.locator("#broadcast-progress")).to_have_attribute("hx-trigger", "every 2s")

    # when: the session ends
    page.context.clear_cookies()

    # then: the whole page goes to sign in, and back here after; no form inside the panel
    expect(page).to_have_url(re.compile(rf"/login/\?next={MESSAGES}{broadcast.pk}/progress/$"))
    expect(page.locator("#broadcast-progress")).to_have_count(0)
    assert console_errors(page) == []
