"""An organizer on a phone, in Arabic and English: create a petition, open it, see the
signatures come in, and print the document for the target.

Each page must fit 360 px, raise no script errors and, in Arabic, run right
to left. Printed, the document keeps nothing of the site around it, and the
signatories start on a page of their own.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from saha.petitions import services
from saha.petitions.models import Petition, PetitionStatus
from saha.supporters.services import PersonData
from saha.supporters.tests.test_browser_journeys import check_page
from saha.testing.browser import console_errors, expect, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

PETITIONS = "/manage/org-a/petitions/"
CHROME = (".topbar", ".orgnav", ".footer", ".document-tools")


def create_petition(page: Page) -> Petition:
    page.goto(f"{PETITIONS}new/")
    page.locator("input[name=title_en]").fill("Keep the public beach open to everyone")
    page.locator("input[name=title_ar]").fill("أبقوا الشاطئ العام مفتوحًا للجميع")
    page.locator("textarea[name=text_en]").fill("The shore belongs to everyone.")
    page.locator("textarea[name=targets]").fill("Municipality of Beirut\nMinistry of Public Works")
    page.locator("input[name=goal]").fill("10")
    page.locator("input[name=deadline]").fill("2031-05-10T18:00")
    page.locator("form.petition-form button[type=submit]").click()
    expect(page.locator(".petition-progress")).to_be_visible()
    return Petition.objects.get()


def sign_some(petition: Petition) -> None:
    for n in range(12):
        data = PersonData(
            email=f"s{n}@example.org",
            given_name=f"Signer{n}",
            family_name="Hidden",
            locality="Sour",
        )
        signature = services.sign(petition=petition, data=data, show_name=n % 2 == 0).signature
        services.confirm(signature=signature)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


@pytest.mark.parametrize("language", ["en", "ar"])
def test_an_organizer_creates_opens_and_prints_a_petition(
    make_page, organizer, language, screenshot
):
    page = make_page(locale=language)
    log_in(page, organizer.user)
    page.goto(PETITIONS)
    check_page(page, language)
    petition = create_petition(page)
    check_page(page, language)
    assert petition.status == PetitionStatus.DRAFT

    page.locator("form[action$='/status/'] button").click()
    expect(page.locator(".messages .success")).to_be_visible()
    petition.refresh_from_db()
    assert petition.status == PetitionStatus.OPEN
    sign_some(petition)
    page.reload()
    expect(page.locator(".petition-progress progress")).to_have_attribute("value", "10")
    check_page(page, language)
    screenshot(page, "detail")

    page.goto(PETITIONS)
    expect(page.locator("table.petitions-table tbody tr")).to_have_count(1)
    check_page(page, language)
    page.goto(f"{PETITIONS}{petition.pk}/signatures/")
    expect(page.locator("table.signatures tbody tr")).to_have_count(12)
    check_page(page, language)
    page.locator("input[name=q]").fill("Signer3")
    page.locator("form.filters button").click()
    expect(page.locator("table.signatures tbody tr")).to_have_count(1)
    page.goto(f"{PETITIONS}{petition.pk}/edit/")
    check_page(page, language)

    page.goto(f"{PETITIONS}{petition.pk}/document/")
    check_page(page, language)
    expect(page.locator(".signer-list li")).to_have_count(6)
    expect(page.locator(".delivery")).not_to_contain_text("Hidden")
    screenshot(page, "document")
    page.emulate_media(media="print")
    for chrome in CHROME:
        expect(page.locator(chrome)).to_be_hidden()
    expect(page.locator(".delivery h1")).to_be_visible()
    assert page_count(page.pdf(format="A4")) >= 2  # the signatories on a page of their own
    page.emulate_media(media="screen")
    assert console_errors(page) == []
