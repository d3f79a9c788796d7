"""The coordinator's journey on a 360 px phone, in Arabic and in English: post a need on an
event, open its matching page, invite two candidates; each volunteer accepts by the link read from
the message sent; the coverage board reaches 100%. Every page fits the screen. The test
touches the database only while the browser is idle (the live server shares the test's
SQLite connection)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail

from saha.testing.browser import assert_fits_width, console_errors, expect, log_in
from saha.testing.factories import MembershipFactory
from saha.volunteers.models import Assignment, AssignmentStatus, Need
from saha.volunteers.tests.helpers import capability, link_in, make_event, make_offer

pytestmark = pytest.mark.browser


def check(page: Any, language: str = "en") -> None:
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert_fits_width(page)


@pytest.mark.parametrize("language", ["ar", "en"])
def test_post_a_need_match_invite_accept_and_see_it_covered(
    make_page: Any, live_server: Any, org_a: Any, screenshot: Any, language: str
) -> None:
    coordinator = MembershipFactory(organization=org_a, role="volunteer_coordinator").user
    steward = capability(org_a, "stewarding")
    event = make_event(org_a)
    volunteers = [make_offer(org_a, n, locality="Hamra") for n in (1, 2)]
    make_offer(org_a, 3, gives={"driver": 8})  # offers something else: not a candidate
    page = make_page(locale=language, phone=True)
    log_in(page, coordinator)

    # The board of the event: nothing yet, post a need.
    page.goto(f"/manage/{org_a.slug}/volunteers/events/{event.pk}/")
    check(page, language)
    page.locator("main a.button[href$='/needs/new/']").first.click()
    check(page, language)
    page.locator("select[name=capability]").select_option(str(steward.pk))
    page.locator("input[name=wanted]").fill("2")
    page.locator(f"input[name=title_{language}]").fill("Stewards at the entrance")
    page.locator("input[name=locality]").fill("Hamra")
    screenshot(page, "need-form")
    page.locator("main form.need-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/volunteers/needs/\d+/$"))
    check(page, language)
    need = Need.objects.get()
    assert need.event == event and need.wanted == 2

    # The matching page: the two stewards, each with the reasons for their place.
    page.locator("main a.button[href$='/match/']").first.click()
    expect(page).to_have_url(re.compile(rf"/needs/{need.pk}/match/$"))
    check(page, language)
    expect(page.locator(".candidate")).to_have_count(2)
    expect(page.locator(".candidate .reason-same_locality").first).to_contain_text("Hamra")
    screenshot(page, "matching")
    for offer in volunteers:
        page.locator(f"input[name=offers][value='{offer.pk}']").check()
    page.locator("main .invite-bar button[type=submit]").click()
    expect(page.locator(".messages .message.success")).to_be_visible()
    expect(page.locator(".candidate")).to_have_count(0)
    check(page, language)
    invited = Assignment.objects.filter(need=need, status=AssignmentStatus.INVITED)
    assert invited.count() == 2

    # Each volunteer accepts by the link in their message, on their own phone.
    for n in (1, 2):
        [message] = [m for m in mail.outbox if m.to == [f"v{n}@example.org"]]
        volunteer = make_page(locale=language, phone=True, javascript=False)
        volunteer.goto(link_in(message.body))
        check(volunteer)  # in the language the volunteer chose: English
        volunteer.locator("form.respond-form button[value=accept]").click()
        expect(volunteer.locator(".assignment-state.status-accepted")).to_be_visible()
    assert Need.objects.get(pk=need.pk).filled == 2

    # The board: 2 of 2, shown covered.
    page.goto(f"/manage/{org_a.slug}/volunteers/events/{event.pk}/")
    check(page, language)
    card = page.locator(f"#need-{need.pk}")
    expect(card).to_have_class(re.compile(r"\bis-full\b"))
    expect(card.locator("progress")).to_have_attribute("value", "2")
    expect(card.locator("progress")).to_have_attribute("max", "2")
    expect(card.locator(".badge.covered")).to_be_visible()
    expect(card.locator(".cover-percent")).to_contain_text("100")
    screenshot(page, "covered")
    assert console_errors(page) == []


@pytest.mark.parametrize("language", ["ar", "en"])
def test_every_page_fits_a_phone_in_both_directions(
    make_page: Any, live_server: Any, org_a: Any, language: str, screenshot: Any
) -> None:
    from saha.volunteers import services
    from saha.volunteers.tests.helpers import make_need, offered

    organizer = MembershipFactory(organization=org_a, role="organizer").user
    need = make_need(org_a, wanted=4, titles={"ar": "منظمون عند المدخل الجنوبي للساحة"})
    shift = services.add_shift(
        actor="t", need=need, starts_at=need.starts_at, ends_at=need.ends_at, capacity=4
    )
    for n in range(3):
        offer = make_offer(org_a, n, locality="الحمرا", region="بيروت")
        if n < 2:
            services.assign(actor="t", need=need, offered=offered(offer, "stewarding"), shift=shift)
    vans = make_need(org_a, "driver", event=need.event, wanted=2, min_quantity=8)
    make_offer(org_a, 9, gives={"driver": 12})
    base = f"/manage/{org_a.slug}/volunteers/"
    pages = {
        "home": base,
        "capabilities": f"{base}capabilities/",
        "offers": f"{base}offers/",
        "board": f"{base}events/{need.event_id}/",
        "need": f"{base}needs/{need.pk}/",
        "edit": f"{base}needs/{need.pk}/edit/",
        "match": f"{base}needs/{need.pk}/match/",
        "vans": f"{base}needs/{vans.pk}/match/",
        "new": f"{base}events/{need.event_id}/needs/new/",
    }
    page = make_page(locale=language, phone=True, javascript=False)
    log_in(page, organizer)
    for name, path in pages.items():
        page.goto(path)
        page.wait_for_load_state()
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
        assert_fits_width(page)
        screenshot(page, name)
    expect(page.locator(".candidate button[name=offered]")).to_have_count(0)  # the new-need form
    page.goto(pages["vans"])
    expect(page.locator(".candidate button[name=offered]")).to_have_count(1)
    assert console_errors(page) == []
