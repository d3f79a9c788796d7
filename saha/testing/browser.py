"""Playwright fixtures driving Debian's Chromium (pytest plugin; see saha/conftest.py).

Browser tests take `page` (a desktop window), `phone_page` (a 360 px phone) or
`make_page` (any locale, JavaScript on or off) and go to paths relative to
pytest-django's `live_server`, which also serves the static files.

Playwright's own browser download needs the internet, so we drive the Chromium
that Debian packages. Without it the browser tests skip, visibly; in CI
(`CI=true`) they fail instead, so a broken runner cannot pass by skipping.

`SAHA_SCREENSHOTS=some/dir` makes the `screenshot` fixture save PNGs there.
Test modules import `expect` from here, so that they still import, and skip,
where Playwright is not installed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails) every test that would use it
    expect = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path(os.environ.get("SAHA_CHROMIUM", "/usr/bin/chromium"))
# Without the networking switches Chromium keeps calling Google's services and,
# offline, floods the log with refused connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOT_INSTALLED = "Chromium not installed: run `make test-deps` as root, or apt-get install chromium"

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
# Auto-waiting assertions give up after this long; the live server answers in
# milliseconds, so a longer wait only hides a hang.
TIMEOUT_MS = 10_000
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


@dataclass
class _Opened:
    base_url: str
    errors: list[str] = field(default_factory=list)


_opened: WeakKeyDictionary[Page, _Opened] = WeakKeyDictionary()


def pytest_itemcollected(item: pytest.Item) -> None:
    """A test that opens the browser is a browser test, marked or not (for `-m "not browser"`)."""
    if "browser" in getattr(item, "fixturenames", ()):
        item.add_marker(pytest.mark.browser)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run browser tests after all others (see `browser` for why); otherwise keep the order."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: browser tests may not be skipped)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright not installed: run `make test-deps`")
    if not CHROMIUM.exists():
        _unavailable(f"{NOT_INSTALLED} ({CHROMIUM} is missing)")
    # Playwright's sync API leaves an asyncio loop marked running in this
    # thread until it stops, and Django refuses ORM calls from a thread with a
    # running loop. The tests are synchronous; the loop only drives the browser.
    # Browser tests run last (pytest_collection_modifyitems above), so no other
    # test runs with this set.
    unsafe_before = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if unsafe_before is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = unsafe_before


class PageMaker(Protocol):
    def __call__(
        self, *, locale: str = "en", javascript: bool = True, phone: bool = True
    ) -> Page: ...


@pytest.fixture
def make_page(browser: Browser, live_server: LiveServer) -> Iterator[PageMaker]:
    """Open a page in a fresh browser context (own cookies) against the live server.

    `locale` sets the browser's language, so the first request asks for it with
    Accept-Language as a visitor's browser would.
    """
    expect.set_options(timeout=TIMEOUT_MS)
    contexts = []

    def make(*, locale: str = "en", javascript: bool = True, phone: bool = True) -> Page:
        context = browser.new_context(
            **(PHONE if phone else DESKTOP),
            base_url=live_server.url,
            locale=locale,
            java_script_enabled=javascript,
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        opened = _opened[page] = _Opened(base_url=live_server.url)
        errors = opened.errors
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(make_page: PageMaker) -> Page:
    """A desktop window, in English."""
    return make_page(phone=False)


@pytest.fixture
def phone_page(make_page: PageMaker) -> Page:
    """A 360 x 740 phone, touch, twice the pixel density, in English."""
    return make_page(phone=True)


def console_errors(page: Page) -> list[str]:
    """Errors the page's scripts logged or threw, and resources that failed to load."""
    return list(_opened[page].errors)


def log_in(page: Page, user: Any) -> None:
    """Start the page's session signed in as `user`, skipping the sign-in form.

    For tests about what comes after signing in; the sign-in journeys use the form.
    """
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies(
        [{"name": session.key, "value": session.value, "url": _opened[page].base_url}]
    )


_WIDTH_JS = "() => [document.scrollingElement.scrollWidth, document.documentElement.clientWidth]"
# Which elements make the page wide: those whose removal narrows it, keeping
# the innermost (a table is wide because of a cell, the cell because of a word).
_CULPRITS_JS = """() => {
  const page = document.scrollingElement, wide = page.scrollWidth, found = [];
  for (const el of document.body.querySelectorAll("*")) {
    const display = el.style.display;
    el.style.display = "none";
    if (page.scrollWidth < wide) found.push(el);
    el.style.display = display;
  }
  return found.filter((el) => !found.some((other) => other !== el && el.contains(other)))
    .slice(0, 5)
    .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : "")
      + " " + JSON.stringify((el.textContent || "").trim().slice(0, 40)));
}"""


def assert_fits_width(page: Page) -> None:
    """The document does not scroll sideways.

    Measured against the layout viewport (`clientWidth`): on a phone Chromium
    widens `window.innerWidth` to whatever overflows, so that would always fit.
    """
    scroll_width, screen_width = page.evaluate(_WIDTH_JS)
    if scroll_width > screen_width:
        culprits = page.evaluate(_CULPRITS_JS)
        raise AssertionError(
            f"{page.url} is {scroll_width} px wide on a {screen_width} px screen; "
            f"it narrows without: {culprits}"
        )


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path | None]:
    """`screenshot(page, "name")` saves a full-page PNG when SAHA_SCREENSHOTS names a directory."""
    directory = os.environ.get("SAHA_SCREENSHOTS")
    test_name = re.sub(r"[^\w.-]+", "-", request.node.name).strip("-")

    def take(page: Page, name: str) -> Path | None:
        if not directory:
            return None
        path = Path(directory) / f"{test_name}-{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def submit_main_form(page: Page) -> None:
    # The top bar has forms of its own (language, sign out): use the page's.
    page.locator("main form button[type=submit]").first.click()


def sign_in_with_password(page: Page, email: str, password: str) -> None:
    """Through the sign-in form, as a person would (log_in skips the form)."""
    page.goto("/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(password)
    submit_main_form(page)


def start_mfa_setup(page: Page, href: str, password: str) -> None:
    """Open an authenticator's set-up page from the two-factor page; allauth asks
    for the password again first."""
    page.goto("/accounts/2fa/")
    page.locator(f"main a[href='{href}']").click()
    expect(page).to_have_url(re.compile(r"/accounts/reauthenticate/"))
    page.locator("input[name=password]").fill(password)
    submit_main_form(page)
