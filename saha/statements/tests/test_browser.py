"""An organizer on a 360 px phone writes a statement in Arabic, adds its English version,
publishes it; a reader opens it and switches between the versions, each text in its
own direction whatever the page's language. No JavaScript is needed anywhere.

Assertions go through selectors, attributes and the database, not wording.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from saha.statements.models import Statement, StatementStatus
from saha.testing.browser import assert_fits_width, console_errors, expect, log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

ARABIC = {
    "title": "الشاطئ للجميع: لنُبقِه مفتوحًا",
    "body": "الشاطئ العام ملك لكل سكان المدينة.\n\nنطالب البلدية بإعادة فتح جميع المداخل العامة.",
    "issuing_body": "اللجنة التنفيذية",
    "place": "بيروت",
}
ENGLISH = {
    "title": "The shore belongs to everyone",
    "body": "The public beach belongs to everyone.\n\nWe ask that every entrance reopen.",
    "issuing_body": "Executive Committee",
    "place": "Beirut",
}


def fill(page: Page, values: dict[str, str]) -> None:
    for name, value in values.items():
        page.locator(f"form.statement-form [name={name}]").fill(value)
    page.locator("form.statement-form button[type=submit]").click()


def check(page: Page, language: str) -> None:
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
    assert_fits_width(page)


@pytest.mark.parametrize("ui", ["en", "ar"])
def test_write_in_arabic_and_english_publish_and_read_each_in_its_direction(
    make_page: Any, organizer: Any, screenshot: Any, ui: str
) -> None:
    page = make_page(locale=ui, javascript=False, phone=True)
    log_in(page, organizer.user)

    page.goto("/manage/org-a/statements/new/")
    check(page, ui)
    page.locator("main a[hreflang=ar]").click()
    for name in ("title", "body"):
        field = page.locator(f"form.statement-form [name={name}]")
        expect(field).to_have_attribute("dir", "rtl")
        expect(field).to_have_attribute("lang", "ar")
    check(page, ui)
    fill(page, ARABIC)
    expect(page.locator(".statement-status.status-draft")).to_be_visible()
    check(page, ui)
    screenshot(page, "draft")

    page.locator("form.add-version select[name=language]").select_option("en")
    page.locator("form.add-version button[type=submit]").click()
    expect(page.locator("form.statement-form [name=title]")).to_have_attribute("dir", "ltr")
    fill(page, ENGLISH)
    page.locator("form[action$='/publish/'] button").click()
    expect(page.locator(".statement-status.status-published")).to_be_visible()
    statement = Statement.objects.get()
    assert statement.status == StatementStatus.PUBLISHED
    assert sorted(statement.versions.values_list("language", flat=True)) == ["ar", "en"]

    reader = make_page(locale=ui, javascript=False, phone=True)
    reader.goto(f"/o/org-a/statements/{statement.slug}/")
    check(reader, ui)
    reader.locator(".statement-versions a[hreflang=en]").click()
    text = reader.locator("article.statement")
    expect(text).to_have_attribute("dir", "ltr")  # in an Arabic page too
    expect(text).to_have_attribute("lang", "en")
    expect(text.locator("h1")).to_have_text(ENGLISH["title"])
    screenshot(reader, "english")

    reader.locator(".statement-versions a[hreflang=ar]").click()
    check(reader, ui)  # the page stays in its language ...
    expect(text).to_have_attribute("dir", "rtl")  # ... the Arabic text runs right to left
    expect(text).to_have_attribute("lang", "ar")
    expect(text.locator("h1")).to_have_text(ARABIC["title"])
    expect(reader.locator(".statement-versions a[aria-current=page]")).to_have_attribute(
        "hreflang", "ar"
    )
    date_line = text.locator(".statement-date-line")
    expect(date_line).to_contain_text(ARABIC["place"])
    expect(date_line).to_contain_text(ARABIC["issuing_body"])
    screenshot(reader, "arabic")

    reader.locator(".statement-versions a[hreflang=en]").click()
    expect(text).to_have_attribute("dir", "ltr")
    # printed from the page itself: the text and its signatories, no site around them
    reader.emulate_media(media="print")
    for chrome in (".topbar", ".statement-versions", ".share", ".footer", ".statement-tools"):
        expect(reader.locator(chrome)).to_be_hidden()
    expect(reader.locator(".statement-signatories")).to_be_visible()
    expect(reader.locator(".statement-date-line")).to_be_visible()
    reader.emulate_media(media="screen")
    reader.locator(".statement-tools a[href='?print=1']").click()
    expect(reader.locator("html")).to_have_attribute("dir", "ltr")
    expect(reader.locator(".print-tools a")).to_have_attribute(
        "href", f"/o/org-a/statements/{statement.slug}/en/"
    )
    expect(reader.locator(".statement-signatories")).to_be_visible()
    expect(reader.locator(".topbar")).to_have_count(0)
    assert_fits_width(reader)
    screenshot(reader, "print")
    assert console_errors(page) == [] and console_errors(reader) == []
