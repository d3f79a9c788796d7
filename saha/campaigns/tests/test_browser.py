"""An organizer on a 360 px phone, in Arabic: build a campaign from an existing event and
petition, publish it, and open its page; then a visitor joins from it, without
JavaScript. Every page fits the screen, runs right to left and logs no script error.
The database is touched only while the browser is idle (the live server shares the
test's SQLite connection)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from saha.campaigns.models import Campaign, CampaignSignup, CampaignStatus
from saha.campaigns.tests.helpers import new_event, new_petition
from saha.petitions.tests.test_sign import sign
from saha.supporters.tests.test_browser_journeys import check_page
from saha.testing.browser import console_errors, expect, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

CAMPAIGNS = "/manage/org-a/campaigns/"


def add(page: Page, value: str) -> None:
    page.locator("form.campaign-item-add select[name=target]").select_option(value)
    page.locator("form.campaign-item-add button[type=submit]").click()
    expect(page.locator(".messages .success")).to_be_visible()


def test_an_organizer_builds_publishes_and_opens_a_campaign_in_arabic(
    make_page: Any, organizer: Any, org_a: Any, screenshot: Any
) -> None:
    event = new_event(
        org_a,
        titles={"ar": "تنظيف شاطئ الرملة البيضاء صباح الأحد مع العائلات والجيران"},
        venue_name="الرملة البيضاء، المدخل الجنوبي",
        address="بيروت",
    )
    petition = new_petition(org_a, goal=100, count_unverified=True)
    for n in range(3):
        sign(petition, n)
    page = make_page(locale="ar")
    log_in(page, organizer.user)
    page.goto(CAMPAIGNS)
    check_page(page, "ar")

    page.goto(f"{CAMPAIGNS}new/")
    check_page(page, "ar")
    page.locator("input[name=title_ar]").fill("شاطئ مفتوح ونظيف للجميع")
    page.locator("textarea[name=summary_ar]").fill("نوقّع، ننظّف، ونلتقي لنبقي الشاطئ مفتوحًا.")
    page.locator("textarea[name=description_ar]").fill("**ثلاث خطوات** لنحافظ على الشاطئ.")
    page.locator("input[name=goal_signatures]").fill("10")
    page.locator("input[name=goal_rsvps]").fill("50")
    page.locator("form.campaign-form button[type=submit]").click()
    expect(page.locator("#items")).to_be_visible()
    check_page(page, "ar")
    campaign = Campaign.objects.get()

    add(page, f"petition:{petition.pk}")
    add(page, f"event:{event.pk}")
    expect(page.locator(".campaign-items li")).to_have_count(2)
    page.locator(".campaign-items li").nth(1).locator("form:has(input[value=up]) button").click()
    expect(page.locator(".campaign-items li").first).to_have_attribute("data-kind", "event")
    check_page(page, "ar")
    screenshot(page, "manage")

    page.locator(f"a[href='{CAMPAIGNS}{campaign.pk}/publish/']").click()
    check_page(page, "ar")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".messages .success")).to_be_visible()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PUBLISHED

    page.locator(f"a[href='/o/org-a/campaigns/{campaign.slug}/']").click()
    check_page(page, "ar")
    expect(page.locator("h1")).to_have_text("شاطئ مفتوح ونظيف للجميع")
    expect(page.locator(".campaign-card")).to_have_count(2)
    expect(page.locator(".campaign-card").first).to_have_attribute("data-kind", "event")
    expect(page.locator("[data-goal=signatures] progress")).to_have_attribute("value", "3")
    expect(page.locator("[data-cta=event]")).to_have_attribute(
        "href", f"/o/org-a/events/{event.slug}/"
    )
    expect(page.locator(".campaign-description strong")).to_have_text("ثلاث خطوات")
    screenshot(page, "hub")
    assert console_errors(page) == []


def test_a_visitor_joins_without_javascript_on_a_phone(
    make_page: Any, org_a: Any, screenshot: Any
) -> None:
    from saha.campaigns import services
    from saha.campaigns.tests.helpers import new_campaign

    campaign = new_campaign(org_a, goal_rsvps=20)
    services.add_item(actor="t", campaign=campaign, target=new_event(org_a))
    page = make_page(locale="ar", javascript=False)
    page.goto(f"/o/org-a/campaigns/{campaign.slug}/")
    check_page(page, "ar")
    # The hub also carries the volunteers' offer form, with fields of the same names.
    join = page.locator("form.join-form")
    expect(join.locator("input[name=website]")).not_to_be_in_viewport()  # the honeypot
    join.locator("input[name=given_name]").fill("ريما")
    join.locator("input[name=email]").fill("rima@example.org")
    join.locator("input[name=consent_email]").check()
    join.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/joined/$"))
    expect(page.locator("[data-joined]")).to_be_visible()
    check_page(page, "ar")
    screenshot(page, "joined")
    assert CampaignSignup.objects.filter(campaign=campaign).count() == 1


def test_a_second_organization_co_hosts_and_its_box_reaches_only_its_list(
    make_page: Any, organizer: Any, outsider: Any, org_a: Any, org_b: Any, screenshot: Any
) -> None:
    """The host asks org-b (in English); org-b's owner accepts (in Arabic); the hub then
    names it and offers its box; a visitor ticking it lands in org-b's list only."""
    from saha.campaigns import services
    from saha.campaigns.tests.helpers import new_campaign
    from saha.supporters.models import Person

    campaign = new_campaign(org_a)
    services.add_item(actor="t", campaign=campaign, target=new_event(org_a))
    host = make_page(locale="en")
    log_in(host, organizer.user)
    host.goto(f"{CAMPAIGNS}{campaign.pk}/")
    host.locator("#partners input[name=organization]").fill(org_b.slug)
    host.locator("#partners button[type=submit]").last.click()
    expect(host.locator(f"[data-partner='{org_b.slug}'] .badge")).to_be_visible()  # asked
    check_page(host, "en")

    partner = make_page(locale="ar")
    log_in(partner, outsider.user)
    partner.goto(f"/manage/{org_b.slug}/campaigns/")
    check_page(partner, "ar")
    partner.locator("form[action$='/partnership/accept/'] button").click()
    expect(partner.locator(".messages .success")).to_be_visible()
    check_page(partner, "ar")
    screenshot(partner, "partner-accepted")

    visitor = make_page(locale="en", javascript=False)
    visitor.goto(f"/o/org-a/campaigns/{campaign.slug}/")
    expect(visitor.locator("main")).to_contain_text(org_b.names["en"])
    join = visitor.locator("form.join-form")
    box = join.locator(f"input[name=partner_{org_b.pk}]")
    expect(box).not_to_be_checked()
    join.locator("input[name=given_name]").fill("Rima")
    join.locator("input[name=email]").fill("rima@example.org")
    box.check()
    join.locator("button[type=submit]").click()
    expect(visitor).to_have_url(re.compile(r"/joined/$"))
    check_page(visitor, "en")

    assert Person.objects.filter(organization=org_b, emails__address="rima@example.org").exists()
    assert console_errors(host) == [] and console_errors(partner) == []
