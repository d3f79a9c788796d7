"""Journeys through the people pages in a real browser on a phone, in English and Arabic.

Import a spreadsheet and watch its progress, build a segment with its live
count, export it after the second factor (and with a second admin's approval),
erase a person. Each page visited must fit 360 px, raise no script errors and,
in Arabic, run right to left. The assertions go through selectors, URLs and
the database, not wording: the translations keep changing.

The live server shares the test's SQLite connection (an in-memory database)
between its threads and the test's: two users of it at once can find it
locked. So the test touches the database only while the browser is idle, and
a page that polls by itself is paused first (see `RequestGate`).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.conf import settings

from saha.core.models import AuditEntry
from saha.supporters import importing, segments, subject
from saha.supporters.models import (
    Channel,
    ConsentRecord,
    ConsentState,
    ConsentStatus,
    ExportRequest,
    ExportStatus,
    ImportBatch,
    ImportStatus,
    Person,
    PersonEmail,
    PersonPhone,
    PrivacySettings,
    Segment,
    Tag,
    Tagging,
)
from saha.supporters.tests.people_factories import (
    PersonFactory,
    consent,
    receive_csv,
    start_import,
)
from saha.testing.browser import (
    assert_fits_width,
    console_errors,
    expect,
    log_in,
    sign_in_with_password,
    submit_main_form,
)

if TYPE_CHECKING:
    from playwright.sync_api import Download, Page, Request, Route

    from saha.conftest import Persona

pytestmark = pytest.mark.browser

LANGUAGES = pytest.mark.parametrize("language", ["en", "ar"])
DIRECTION = {"en": "ltr", "ar": "rtl"}

# Given and family names in the three languages of the organizations we serve.
NAMES = [
    ("رانيا", "حداد"),
    ("سامي", "نصر"),
    ("ليلى", "الخوري"),
    ("Élodie", "Dubois"),
    ("François", "Lefèvre"),
    ("Zoé", "Garnier"),
    ("Emily", "Carter"),
    ("James", "O'Brien"),
    ("Grace", "Thompson"),
]
ROWS = 300
BAD_EMAIL_ROW = 10  # and no phone: the row has no contact left, so it is skipped
FORMULA_ROW = 20  # its town is left out, the person is imported
FORMULA = '=HYPERLINK("http://evil.example/","click")'
COUNT = re.compile(r"/people/segments/count/\?")  # the segment form's live count


@pytest.fixture(autouse=True)
def _import_dir(tmp_path: Path, settings) -> None:
    settings.SAHA_IMPORT_DIR = tmp_path / "imports"


def line_of(row: int) -> int:
    """The file's line number of a data row (the header is line 1)."""
    return row + 2


def write_people_csv(path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["Prénom", "Nom", "Courriel", "Téléphone", "Ville"])
        for n in range(ROWS):
            given, family = NAMES[n % len(NAMES)]
            email = "not-an-email" if n == BAD_EMAIL_ROW else f"supporter{n}@example.org"
            phone = f"+9613{n:06d}" if n % 3 == 0 else ""
            town = FORMULA if n == FORMULA_ROW else ["بيروت", "Tripoli", "Saïda"][n % 3]
            writer.writerow([given, family, email, phone, town])
    return path


def check_page(page: Page, language: str) -> None:
    """What every page visited must be: in the language asked for, and 360 px wide at most."""
    # A page can be in the DOM before its stylesheet has arrived (after a
    # meta refresh, say), and unstyled tables are wide: measure once loaded.
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("html")).to_have_attribute("dir", DIRECTION[language])
    assert_fits_width(page)


def totp_code(secret: str) -> str:
    """What an authenticator app shows right now (allauth's own HOTP)."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))


def log_in_after_second_factor(page: Page, persona: Persona, base_url: str) -> None:
    """A session that passed two-factor authentication, as allauth records it."""
    cookie = persona.mfa_client().cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base_url}])


class RequestGate:
    """Pauses a page's requests while the test writes to the database.

    Closing the gate holds the page's new requests and waits until those
    under way have finished; Playwright's sync API runs route handlers only
    while the test is inside a Playwright call, so none slips through.
    """

    def __init__(self, page: Page) -> None:
        self.page = page
        self.is_open = True
        self.under_way: set[Request] = set()
        self.held: list[Route] = []
        page.route("**/*", self._route)
        page.on("requestfinished", self._finished)
        page.on("requestfailed", self._finished)

    def _route(self, route: Route) -> None:
        if not self.is_open:
            self.held.append(route)
            return
        self.under_way.add(route.request)
        route.continue_()

    def _finished(self, request: Request) -> None:
        self.under_way.discard(request)

    @contextmanager
    def closed(self) -> Iterator[None]:
        self.is_open = False
        deadline = time.monotonic() + 10
        while self.under_way:
            assert time.monotonic() < deadline, [r.url for r in self.under_way]
            self.page.wait_for_timeout(20)
        try:
            yield
        finally:
            self.is_open = True
            held, self.held = self.held, []
            for route in held:
                self._route(route)


def read_csv(download: Download) -> list[list[str]]:
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def queued_import(persona: Persona, path: Path) -> ImportBatch:
    """A batch uploaded and started, waiting for a worker that has not come yet."""
    batch = receive_csv(persona, path.read_bytes(), name=path.name)
    return start_import(persona, batch, lawful_basis="membership")


# --- Import -------------------------------------------------------------------


@LANGUAGES
def test_an_organizer_imports_a_spreadsheet_and_downloads_its_problem_report(
    make_page, organizer, password, language, tmp_path, screenshot
):
    org = organizer.organization
    spreadsheet = write_people_csv(tmp_path / "supporters.csv")
    page = make_page(locale=language)
    sign_in_with_password(page, organizer.user.email, password)
    expect(page).to_have_url(re.compile(r"/manage/org-a/$"))

    # given: People, then "Import a file"
    page.locator(".orgnav a[href='/manage/org-a/people/']").click()
    expect(page).to_have_url(re.compile(r"/manage/org-a/people/$"))
    check_page(page, language)
    page.locator("main a[href='/manage/org-a/people/imports/']").click()
    expect(page).to_have_url(re.compile(r"/people/imports/$"))
    check_page(page, language)
    screenshot(page, "upload")

    # when: the file is uploaded
    page.locator("main input[name=file]").set_input_files(spreadsheet)
    submit_main_form(page)

    # then: the columns are matched from their French headers, with examples
    expect(page).to_have_url(re.compile(r"/people/imports/\d+/$"))
    batch = ImportBatch.objects.get(organization=org)
    assert batch.status == ImportStatus.DRAFT
    guessed = ["given_name", "family_name", "email", "phone", "locality"]
    for index, target in enumerate(guessed):
        expect(page.locator(f"select[name=column_{index}]")).to_have_value(target)
    expect(page.locator("main table")).to_contain_text("supporter0@example.org")
    expect(page.locator("main table")).to_contain_text("رانيا")
    check_page(page, language)
    screenshot(page, "mapping")

    # when: they tag everyone, record the consent with its wording, attest and start
    page.locator("input[name=tags]").fill("spring fair")
    page.locator("input[name=consent_email]").check()
    page.locator("textarea[name=consent_wording]").fill("Yes, send me news of the association.")
    page.locator("select[name=language]").select_option("en")
    page.locator("select[name=lawful_basis]").select_option("consent")
    page.locator("input[name=attested]").check()
    page.locator("main form.mapping button[type=submit]").click()

    # then: the progress section shows the finished import (tasks run at once
    # in tests, so the import ends within the request that starts it)
    expect(page).to_have_url(re.compile(rf"/people/imports/{batch.pk}/$"))
    progress = page.locator("#import-progress")
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    expect(progress.locator(".badge")).to_have_class(re.compile(r"\bstatus-done\b"))
    expect(progress).not_to_have_attribute("hx-get", re.compile(".*"))
    expect(progress).to_contain_text(str(ROWS))
    expect(progress).to_contain_text(str(ROWS - 1))
    expect(page.locator("main table tbody tr")).to_have_count(3)
    check_page(page, language)
    screenshot(page, "done")

    # and the problem report downloads, one line per problem
    with page.expect_download() as downloaded:
        progress.locator(f"a[href$='/imports/{batch.pk}/problems.csv']").click()
    report = read_csv(downloaded.value)
    assert len(report) == 4, report
    assert sorted((int(row[0]), row[3]) for row in report[1:]) == [
        (line_of(BAD_EMAIL_ROW), ""),  # no contact left: the row was skipped
        (line_of(BAD_EMAIL_ROW), "not-an-email"),
        (line_of(FORMULA_ROW), "'" + FORMULA),  # quoted, neutralized as in an export
    ]

    # and everyone else is in the database, with the tag and the consent
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, batch.problem_count) == ("done", ROWS - 1, 3)
    people = Person.objects.for_org(org)
    assert people.count() == ROWS - 1
    assert not PersonEmail.objects.filter(address="not-an-email").exists()
    rania = people.get(emails__address="supporter0@example.org")
    assert (rania.given_name, rania.family_name, rania.locality) == ("رانيا", "حداد", "بيروت")
    assert rania.phones.get().number == "+9613000000"
    assert people.get(emails__address=f"supporter{FORMULA_ROW}@example.org").locality == ""
    assert Tagging.objects.filter(tag__organization=org, tag__name="spring fair").count() == (
        ROWS - 1
    )
    assert ConsentState.objects.filter(
        person__organization=org, channel=Channel.EMAIL, status=ConsentStatus.GRANTED
    ).count() == (ROWS - 1)

    # and "See the people" opens the list, full of names in three languages
    progress.locator("a[href='/manage/org-a/people/']").click()
    expect(page).to_have_url(re.compile(r"/manage/org-a/people/$"))
    expect(page.locator("main table.people tbody tr")).to_have_count(50)
    check_page(page, language)
    screenshot(page, "people")
    assert console_errors(page) == []


@LANGUAGES
def test_the_progress_bar_follows_an_import_running_in_the_background(
    make_page, organizer, language, tmp_path, screenshot
):
    # given: an import waiting for the worker
    batch = queued_import(organizer, write_people_csv(tmp_path / "waiting.csv"))
    page = make_page(locale=language)
    gate = RequestGate(page)
    log_in(page, organizer.user)
    page.goto(f"/manage/org-a/people/imports/{batch.pk}/")
    progress = page.locator("#import-progress")
    expect(progress).to_have_attribute("hx-trigger", re.compile(r"every"))
    expect(progress.locator("progress")).to_have_attribute("value", "0")
    expect(progress.locator(".badge")).to_have_class(re.compile(r"\bstatus-queued\b"))
    check_page(page, language)
    screenshot(page, "queued")

    # when: the worker runs it
    with gate.closed():
        importing.run_import(batch.pk)

    # then: the page, polling, shows it done and stops asking
    expect(progress.locator(".badge")).to_have_class(re.compile(r"\bstatus-done\b"))
    expect(progress.locator("progress")).to_have_attribute("value", "100")
    expect(progress).not_to_have_attribute("hx-get", re.compile(".*"))
    expect(progress.locator("a[href='/manage/org-a/people/']")).to_be_visible()
    expect(progress).to_contain_text(str(ROWS - 1))
    check_page(page, language)
    screenshot(page, "done")
    assert console_errors(page) == []


@LANGUAGES
def test_without_javascript_the_import_page_refreshes_itself_until_done(
    make_page, organizer, language, tmp_path, screenshot
):
    batch = queued_import(organizer, write_people_csv(tmp_path / "waiting.csv"))
    page = make_page(locale=language, javascript=False)
    gate = RequestGate(page)
    log_in(page, organizer.user)

    page.goto(f"/manage/org-a/people/imports/{batch.pk}/")

    # then: the progress is shown, and the page asks to be reloaded
    expect(page.locator("#import-progress progress")).to_have_attribute("value", "0")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(1)
    check_page(page, language)
    screenshot(page, "waiting")

    # when: the worker runs the import, the next reload shows the result, and stops
    with gate.closed():
        importing.run_import(batch.pk)
    expect(page.locator("#import-progress .badge")).to_have_class(re.compile(r"\bstatus-done\b"))
    expect(page.locator("#import-progress progress")).to_have_attribute("value", "100")
    expect(page.locator("meta[http-equiv=refresh]")).to_have_count(0)
    expect(page.locator("main table tbody tr")).to_have_count(3)
    check_page(page, language)
    screenshot(page, "done")


# --- Segments -----------------------------------------------------------------


def people_with_tags_and_consent(org) -> Tag:
    """Nine people: six volunteers, four of whom agreed to emails; three others who agreed."""
    for n in range(9):
        given, family = NAMES[n]
        person = PersonFactory(
            organization=org,
            given_name=given,
            family_name=family,
            email=f"person{n}@example.org",
            tags=["volunteers"] if n < 6 else ["donors"],
        )
        if n < 4 or n >= 6:
            consent(person, Channel.EMAIL)
    return Tag.objects.get(organization=org, name="volunteers")


@LANGUAGES
def test_an_organizer_builds_a_segment_watching_its_live_count(
    make_page, organizer, language, screenshot
):
    org = organizer.organization
    volunteers = people_with_tags_and_consent(org)
    everybody = Person.objects.for_org(org).count()
    tagged = Person.objects.for_org(org).filter(taggings__tag=volunteers).count()
    tagged_and_agreed = (
        Person.objects.for_org(org)
        .filter(taggings__tag=volunteers)
        .filter(
            consents__channel=Channel.EMAIL,
            consents__status=ConsentStatus.GRANTED,
        )
        .distinct()
        .count()
    )
    assert everybody > tagged > tagged_and_agreed > 0
    page = make_page(locale=language)
    log_in(page, organizer.user)

    # given: Segments, then "New segment"
    page.goto("/manage/org-a/people/")
    page.locator(".orgnav a[href='/manage/org-a/people/segments/']").click()
    expect(page).to_have_url(re.compile(r"/people/segments/$"))
    check_page(page, language)
    page.locator("main a[href='/manage/org-a/people/segments/new/']").click()
    expect(page).to_have_url(re.compile(r"/people/segments/new/$"))
    number = page.locator("#segment-result .count .number")
    expect(number).to_have_text(str(everybody))
    check_page(page, language)

    # when: it is named (the form counts on every change, so let that count
    # answer first: the live server shares one database connection between
    # its threads, and two requests at once can find it locked)
    with page.expect_response(COUNT):
        page.locator("input[name=name]").fill("Volunteers who agreed to emails")
        page.locator("input[name=name]").press("Tab")
    # and a tag is ticked, the count follows, asked for in the background
    with page.expect_response(COUNT):
        page.locator(f"input[name=c_tags_any][value='{volunteers.pk}']").check()
    expect(number).to_have_text(str(tagged))
    # and so it does when "email consent: agreed" is chosen
    with page.expect_response(COUNT):
        page.locator("select[name=c_consent_email]").select_option("granted")
    expect(number).to_have_text(str(tagged_and_agreed))
    expect(page.locator("#segment-result ul.preview li")).to_have_count(tagged_and_agreed)
    expect(page).to_have_url(re.compile(r"/people/segments/new/$"))
    check_page(page, language)
    screenshot(page, "builder")

    # when: it is saved
    page.locator("main button[name=save]").click()

    # then: its page shows the count and a preview
    expect(page).to_have_url(re.compile(r"/people/segments/\d+/$"))
    segment = Segment.objects.get(organization=org)
    assert page.url.endswith(f"/people/segments/{segment.pk}/")
    assert segment.definition == {"tags_any": [volunteers.pk], "consent_email": "granted"}
    expect(page.locator("main .result .count .number")).to_have_text(str(tagged_and_agreed))
    expect(page.locator("main .result ul.preview li")).to_have_count(tagged_and_agreed)
    expect(page.locator("main h1")).to_have_text("Volunteers who agreed to emails")
    check_page(page, language)
    screenshot(page, "saved")
    assert console_errors(page) == []


@LANGUAGES
def test_without_javascript_the_segment_builder_counts_on_preview(
    make_page, organizer, language, screenshot
):
    org = organizer.organization
    volunteers = people_with_tags_and_consent(org)
    tagged = Person.objects.for_org(org).filter(taggings__tag=volunteers).count()
    page = make_page(locale=language, javascript=False)
    log_in(page, organizer.user)
    page.goto("/manage/org-a/people/segments/new/")

    # when: a tag is ticked and "Preview" pressed (no name yet)
    page.locator(f"input[name=c_tags_any][value='{volunteers.pk}']").check()
    page.locator("main button[name=preview]").click()

    # then: the form comes back with the count, the tick kept
    expect(page.locator("#segment-result .count .number")).to_have_text(str(tagged))
    expect(page.locator(f"input[name=c_tags_any][value='{volunteers.pk}']")).to_be_checked()
    check_page(page, language)
    screenshot(page, "preview")

    # and with a name it saves
    page.locator("input[name=name]").fill("Volunteers")
    page.locator("main button[name=save]").click()
    expect(page).to_have_url(re.compile(r"/people/segments/\d+/$"))
    assert Segment.objects.get(organization=org).definition == {"tags_any": [volunteers.pk]}
    expect(page.locator("main .result .count .number")).to_have_text(str(tagged))
    check_page(page, language)


# --- Export -------------------------------------------------------------------


def segment_to_export(persona: Persona) -> tuple[Segment, set[str], Person]:
    """The volunteers who agreed to emails, one of whom typed a formula as their name."""
    org = persona.organization
    volunteers = people_with_tags_and_consent(org)
    trickster = PersonFactory(
        organization=org,
        given_name="=1+2",
        family_name="@SUM(A1:A2)",
        email="trickster@example.org",
        phone="+9613999999",
        tags=["volunteers"],
    )
    consent(trickster, Channel.EMAIL)
    segment = subject.save_segment(
        actor=persona.user,
        organization=org,
        name="Volunteers to email",
        definition={"tags_any": [volunteers.pk], "consent_email": "granted"},
    )
    ids = {str(person.pk) for person in segments.matching(org, segment.definition)}
    return segment, ids, trickster


def check_exported_rows(rows: list[list[str]], ids: set[str], trickster: Person) -> None:
    header, *people = rows
    assert header[:4] == ["id", "given_name", "family_name", "email"]
    assert {row[0] for row in people} == ids and len(people) == len(ids)
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in people}
    exported = by_id[str(trickster.pk)]
    # A spreadsheet would run these: each starts with an apostrophe instead.
    assert (exported["given_name"], exported["family_name"]) == ("'=1+2", "'@SUM(A1:A2)")
    assert exported["phone"] == "'+9613999999"
    assert exported["email"] == "trickster@example.org"
    assert {row["given_name"] for row in by_id.values()} >= {"رانيا", "Élodie"}


@LANGUAGES
def test_a_data_steward_exports_a_segment_after_confirming_their_second_factor(
    make_page, data_steward, password, language, settings, screenshot
):
    # One step of clock tolerance, so a code computed just before a 30-second
    # boundary is still good when the server checks it.
    settings.MFA_TOTP_TOLERANCE = 1
    segment, ids, trickster = segment_to_export(data_steward)
    page = make_page(locale=language)
    sign_in_with_password(page, data_steward.user.email, password)
    expect(page).to_have_url(re.compile(r"/manage/org-a/$"))
    # given: an authenticator app enrolled since, so this session passed the password only
    secret = generate_totp_secret()
    TOTP.activate(data_steward.user, secret)

    # when: they open the segment and ask to export it
    page.goto(f"/manage/org-a/people/segments/{segment.pk}/")
    check_page(page, language)
    page.locator(f"main a[href='/manage/org-a/people/segments/{segment.pk}/export/']").click()

    # then: they are asked for the app's code first
    expect(page).to_have_url(re.compile(r"/accounts/2fa/reauthenticate/\?next="))
    check_page(page, language)
    screenshot(page, "second-factor")
    page.locator("input[name=code]").fill(totp_code(secret))
    submit_main_form(page)

    # and come back to the export, which tells how many people it holds
    expect(page).to_have_url(re.compile(rf"/people/segments/{segment.pk}/export/$"))
    expect(page.locator("main")).to_contain_text(str(len(ids)))
    check_page(page, language)
    screenshot(page, "confirm")
    submit_main_form(page)

    # when: the export is ready, they download it
    expect(page).to_have_url(re.compile(r"/people/exports/$"))
    download_button = page.locator("main form[action$='/download/'] button[type=submit]")
    expect(download_button).to_have_count(1)
    check_page(page, language)
    screenshot(page, "ready")
    with page.expect_download() as downloaded:
        download_button.click()

    # then: the file holds the segment's people, formulas neutralized
    check_exported_rows(read_csv(downloaded.value), ids, trickster)
    export = ExportRequest.objects.get(organization=data_steward.organization)
    assert (export.status, export.row_count) == (ExportStatus.DONE, len(ids))
    assert AuditEntry.objects.filter(
        action="supporters.export.downloaded", actor=data_steward.user
    ).exists()
    # and it cannot be downloaded twice
    page.reload()
    expect(page.locator("main form[action$='/download/']")).to_have_count(0)
    check_page(page, language)
    assert console_errors(page) == []


@LANGUAGES
def test_an_export_waits_for_a_second_admin_to_approve_it(
    make_page, admin, owner, language, live_server, screenshot
):
    segment, ids, trickster = segment_to_export(admin)
    PrivacySettings.objects.update_or_create(
        organization=admin.organization, defaults={"export_requires_approval": True}
    )
    asker = make_page(locale=language)
    log_in_after_second_factor(asker, admin, live_server.url)

    # given: an admin asks for the export
    asker.goto(f"/manage/org-a/people/segments/{segment.pk}/export/")
    check_page(asker, language)
    submit_main_form(asker)
    expect(asker).to_have_url(re.compile(r"/people/exports/$"))
    expect(asker.locator("main .badge.status-pending")).to_have_count(1)
    expect(asker.locator("main form[action$='/download/']")).to_have_count(0)
    check_page(asker, language)
    screenshot(asker, "asked")

    # when: the owner, in a browser of their own, approves it
    approver = make_page(locale=language)
    log_in_after_second_factor(approver, owner, live_server.url)
    approver.goto("/manage/org-a/people/exports/")
    check_page(approver, language)
    screenshot(approver, "to-approve")
    approver.locator("main button[name=decision][value=approve]").click()
    expect(approver.locator("main .badge.status-approved")).to_have_count(1)
    check_page(approver, language)

    # then: the admin can download it
    asker.reload()
    with asker.expect_download() as downloaded:
        asker.locator("main form[action$='/download/'] button[type=submit]").click()
    check_exported_rows(read_csv(downloaded.value), ids, trickster)
    export = ExportRequest.objects.get(organization=admin.organization)
    assert (export.status, export.decided_by) == (ExportStatus.DONE, owner.user)
    assert console_errors(asker) == [] and console_errors(approver) == []


# --- Erase --------------------------------------------------------------------


@LANGUAGES
def test_a_data_steward_erases_a_person(make_page, data_steward, language, screenshot):
    org = data_steward.organization
    person = PersonFactory(
        organization=org,
        given_name="ليلى",
        family_name="الخوري",
        email="layla@example.org",
        phone="+9613123456",
        tags=["volunteers"],
    )
    consent(person, Channel.EMAIL)
    stays = PersonFactory(organization=org, email="stays@example.org")
    page = make_page(locale=language)
    log_in(page, data_steward.user)

    # given: their page, from the list
    page.goto("/manage/org-a/people/")
    check_page(page, language)
    page.locator(f"main table.people a[href='/manage/org-a/people/{person.pk}/']").click()
    expect(page).to_have_url(re.compile(rf"/people/{person.pk}/$"))
    check_page(page, language)
    screenshot(page, "person")

    # when: they erase them, with a reason
    page.locator(f"main a[href='/manage/org-a/people/{person.pk}/erase/']").click()
    expect(page).to_have_url(re.compile(rf"/people/{person.pk}/erase/$"))
    check_page(page, language)
    page.locator("input[name=reason]").fill("asked to be forgotten, by email")
    page.locator("input[name=confirm]").check()
    screenshot(page, "erase")
    page.locator("main form button[type=submit].danger").click()

    # then: back on the list, without them
    expect(page).to_have_url(re.compile(r"/manage/org-a/people/$"))
    expect(page.locator(f"main a[href='/manage/org-a/people/{person.pk}/']")).to_have_count(0)
    expect(page.locator(f"main a[href='/manage/org-a/people/{stays.pk}/']")).to_have_count(1)
    check_page(page, language)
    screenshot(page, "list")

    # and nothing of them is left but the audit row
    assert not Person.objects.filter(pk=person.pk).exists()
    assert not PersonEmail.objects.filter(address="layla@example.org").exists()
    assert not PersonPhone.objects.filter(number="+9613123456").exists()
    assert not ConsentRecord.objects.filter(person_id=person.pk).exists()
    assert not ConsentState.objects.filter(person_id=person.pk).exists()
    assert not Tagging.objects.filter(person_id=person.pk).exists()
    entry = AuditEntry.objects.get(action="supporters.person.erased")
    assert (entry.actor, entry.target_id) == (data_steward.user, str(person.pk))
    assert entry.data["reason"] == "asked to be forgotten, by email"
    assert console_errors(page) == []
