"""The gate, end to end, on a phone, in Arabic and English.

Someone answers "I'm coming" without JavaScript, receives the ticket by email
(read from a real SMTP server on loopback), opens it and reads the short code;
a member of the check-in staff types the code on the gate page and the person
is in, once; typed again, the page says they already are. A second journey
shows the camera path: a phone whose camera sees the ticket's QR code checks
the person in, with the decoder loaded from our own static files only.

Assertions go through selectors, URLs and the database, not wording. The test
touches the database only while the browser is idle (`RequestGate`: the live
server shares the test's SQLite connection).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from saha.events import tickets
from saha.events.models import CheckIn, Event, Rsvp, RsvpStatus
from saha.events.tests.test_rsvp import make_event
from saha.messaging import outbox
from saha.supporters.tests.test_browser_journeys import RequestGate, check_page
from saha.testing.browser import console_errors, expect, log_in
from saha.testing.factories import DATABASE_TASKS

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from saha.testing.smtp_server import LoopbackSMTP

pytestmark = pytest.mark.browser

LANGUAGES = pytest.mark.parametrize("language", ["en", "ar"])
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TICKET_LINK = re.compile(r"https?://[^\s)>\]]+(/t/[A-Za-z0-9_.:-]+/)")


@pytest.fixture
def queued_tasks(settings: Any) -> None:
    """Messages wait in the outbox for the test to deliver, as a worker would."""
    settings.TASKS = DATABASE_TASKS


def gate_path(event: Event) -> str:
    return f"/manage/{event.organization.slug}/events/{event.pk}/gate/"


def rsvp_without_javascript(page: Page, event: Event, language: str) -> None:
    page.goto(f"/o/{event.organization.slug}/events/{event.slug}/")
    check_page(page, language)
    form = page.locator("main form.rsvp-form")
    form.locator("input[name=given_name]").fill("رنا" if language == "ar" else "Rana")
    form.locator("input[name=family_name]").fill("Haddad")
    form.locator("input[name=email]").fill("rana@example.org")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/events/[^/]+/thanks/$"))
    check_page(page, language)


def ticket_path_from_email(smtp_server: LoopbackSMTP) -> str:
    [received] = smtp_server.wait_for(1)
    assert received.rcpt_tos == ("rana@example.org",)
    body = received.message.get_body(("plain",))
    assert body is not None
    found = TICKET_LINK.search(body.get_content())
    assert found is not None, body.get_content()
    return found.group(1)


def type_code(page: Page, code: str, expected: str) -> None:
    field = page.locator("#gate-code")
    field.fill(code)
    page.locator("form.gate-code button[type=submit]").click()
    expect(page.locator(f"#gate-result [data-result={expected}]")).to_be_visible()


@LANGUAGES
def test_an_answer_by_email_ticket_then_a_typed_code_at_the_gate(
    make_page, org_a, checkin_staff, smtp_server, queued_tasks, language, screenshot
):
    event = make_event(org_a)

    # given: someone answers on a phone without JavaScript
    visitor = make_page(locale=language, javascript=False)
    visitor_gate = RequestGate(visitor)
    rsvp_without_javascript(visitor, event, language)
    screenshot(visitor, "answered")

    # when: the outbox is delivered, the ticket arrives by email
    with visitor_gate.closed():
        rsvp = Rsvp.objects.get()
        assert rsvp.status == RsvpStatus.CONFIRMED
        outbox.drain(budget_seconds=5)
        ticket = ticket_path_from_email(smtp_server)
        assert tickets.read_ticket(ticket.split("/")[2]) == rsvp.pk

    # and they open it and read the code under the QR code
    visitor.goto(ticket)
    check_page(visitor, language)
    expect(visitor.locator(".ticket-qr svg")).to_be_visible()
    code = visitor.locator(".ticket-code").inner_text().strip()
    assert code == rsvp.code
    screenshot(visitor, "ticket")

    # then: the check-in staff types it at the gate, and the person is in, once
    staff = make_page(locale=language)
    staff_gate = RequestGate(staff)
    log_in(staff, checkin_staff.user)
    staff.goto(gate_path(event))
    check_page(staff, language)
    expect(staff.locator("#gate-scan [data-gate-start]")).to_be_visible()  # enhanced
    expect(staff.locator("#gate-counts [data-count=checked_in]")).to_have_text("0")
    type_code(staff, f"{code[:4].lower()} {code[4:]}", "admitted")
    expect(staff.locator("#gate-counts [data-count=checked_in]")).to_have_text("1")
    expect(staff.locator("#gate-code")).to_have_value("")  # ready for the next one
    check_page(staff, language)
    screenshot(staff, "admitted")
    with staff_gate.closed():
        [check_in] = CheckIn.objects.all()
        assert (check_in.rsvp_id, check_in.method) == (rsvp.pk, "code")
        assert check_in.checked_in_by == checkin_staff.user
        assert UUID.match(check_in.nonce)  # made by the script, not the server's form

    # typed again: already in, with when and by whom
    type_code(staff, code, "already")
    expect(staff.locator("#gate-result .gate-by")).to_have_text(checkin_staff.user.get_full_name())
    expect(staff.locator("#gate-result .gate-time")).to_have_text(re.compile(r"^\d\d:\d\d$"))
    expect(staff.locator("#gate-counts [data-count=checked_in]")).to_have_text("1")
    check_page(staff, language)
    screenshot(staff, "already")
    with staff_gate.closed():
        assert CheckIn.objects.count() == 1
    assert console_errors(staff) == []
    assert console_errors(visitor) == []


# A camera that films the ticket: a canvas showing the QR code, as a video stream.
# The page's own BarcodeDetector is removed, so the vendored decoder is the one used.
FAKE_CAMERA = """
(() => {
  delete window.BarcodeDetector;
  const image = new Image();
  image.src = %(qr)s;
  const fake = () => {
    const canvas = document.createElement("canvas");
    canvas.width = 480; canvas.height = 480;
    const paint = () => {
      const g = canvas.getContext("2d");
      g.fillStyle = "#fff"; g.fillRect(0, 0, 480, 480);
      if (image.complete) g.drawImage(image, 90, 90, 300, 300);
    };
    paint();
    setInterval(paint, 100);
    return Promise.resolve(canvas.captureStream(10));
  };
  if (!navigator.mediaDevices) return;
  navigator.mediaDevices.getUserMedia = fake;
})();
"""


@LANGUAGES
def test_the_camera_reads_a_ticket_with_the_vendored_decoder(
    make_page, org_a, checkin_staff, live_server, language, screenshot
):
    import json

    import segno

    event = make_event(org_a)
    from saha.events.tests.test_gate import gate_rsvp

    rsvp = gate_rsvp(event, "rana@example.org", "Rana")
    qr = segno.make(tickets.ticket_token(rsvp.pk), error="m", micro=False)
    page = make_page(locale=language)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.add_init_script(FAKE_CAMERA % {"qr": json.dumps(qr.svg_data_uri(scale=8, border=4))})
    gate = RequestGate(page)
    log_in(page, checkin_staff.user)
    page.goto(gate_path(event))

    # when: the camera is started and sees the ticket
    page.locator("#gate-scan [data-gate-start]").click()
    expect(page.locator("#gate-scan [data-gate-stop]")).to_be_visible()

    # then: the person is in, by scan, once (the same ticket in view is not sent again)
    expect(page.locator("#gate-result [data-result=admitted]")).to_be_visible()
    expect(page.locator("#gate-counts [data-count=checked_in]")).to_have_text("1")
    check_page(page, language)
    screenshot(page, "scanned")
    page.locator("#gate-scan [data-gate-stop]").click()
    expect(page.locator("#gate-scan [data-gate-camera]")).to_be_hidden()
    with gate.closed():
        [check_in] = CheckIn.objects.all()
        assert (check_in.rsvp_id, check_in.method) == (rsvp.pk, "scan")
    assert all(url.startswith(live_server.url) or url.startswith("data:") for url in requests)
    assert any(url.endswith("/static/vendor/zxing-wasm/zxing_reader.wasm") for url in requests)
    assert console_errors(page) == []


def test_a_check_in_whose_answer_is_lost_is_sent_again_with_the_same_nonce(
    make_page, org_a, checkin_staff
):
    from saha.events.tests.test_gate import gate_rsvp

    event = make_event(org_a)
    rsvp = gate_rsvp(event, "rana@example.org", "Rana")
    page = make_page()
    gate = RequestGate(page)
    sent: list[str] = []

    def lose_the_first_answer(route):
        if route.request.method != "POST":
            route.fallback()
            return
        sent.append(re.search(r'name="nonce"\r\n\r\n([^\r]+)', route.request.post_data).group(1))
        if len(sent) == 1:
            route.fetch()  # the server checks the person in ...
            route.abort("connectionreset")  # ... and the answer never arrives
        else:
            route.fallback()

    page.route(re.compile(r".*/gate/$"), lose_the_first_answer)
    log_in(page, checkin_staff.user)
    page.goto(gate_path(event))
    type_code(page, rsvp.code, "admitted")  # the retry gets the first answer

    assert len(sent) == 2 and sent[0] == sent[1] and UUID.match(sent[0])
    with gate.closed():
        [check_in] = CheckIn.objects.all()
        assert check_in.nonce == sent[0]
    # the browser reports the lost answer; the page's script raised nothing
    assert console_errors(page) == ["Failed to load resource: net::ERR_CONNECTION_RESET"]
