"""The double opt-in link (`c/<token>/`): a page with one button, like the unsubscribe pages.

A GET (a mail scanner's visit) confirms nothing; a bad or expired link says so
at once; the page carries no script and no organizer chrome, whoever's
browser shows it, and speaks the person's language.
"""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from saha.messaging.tests.factories import GRANTED, PENDING, status_of
from saha.supporters.consent import confirmation_token
from saha.supporters.models import ConsentRecord, ConsentSource, PrivacySettings
from saha.supporters.tests.people_factories import PersonFactory, consent

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(org_a) -> ConsentRecord:
    """Rana signed up on a form in Arabic; the organization asks for double opt-in."""
    PrivacySettings.objects.create(organization=org_a, email_double_opt_in=True)
    person = PersonFactory(organization=org_a, email="rana@example.org", language="ar")
    record = consent(person, source=ConsentSource.FORM, language="ar")
    assert record is not None and record.status == PENDING
    return record


def confirm_url(token: str) -> str:
    return reverse("messaging_confirm_email", args=[token])


@pytest.fixture
def url(pending) -> str:
    return confirm_url(confirmation_token(pending))


def strict_client() -> Client:
    return Client(enforce_csrf_checks=True)


class TestThePage:
    def test_get_asks_and_changes_nothing(self, pending, url):
        response = Client(headers={"accept-language": "fr"}).get(url)
        head = Client().head(url)

        assert response.status_code == head.status_code == 200
        assert '<form method="post">' in response.content.decode()
        assert status_of(pending.person) == PENDING
        assert ConsentRecord.objects.count() == 1

    def test_in_the_persons_language_unless_the_browser_chose(self, url):
        assert Client(headers={"accept-language": "fr"}).get(url)["Content-Language"] == "ar"
        assert 'lang="ar" dir="rtl"' in Client().get(url).content.decode()
        assert Client().get(url + "?lang=en")["Content-Language"] == "en"

    def test_kept_out_of_caches_search_engines_and_referrers(self, url):
        response = Client().get(url)

        assert "no-cache" in response["Cache-Control"]
        assert response["X-Robots-Tag"] == "noindex"
        assert '<meta name="robots" content="noindex">' in response.content.decode()
        assert response["Referrer-Policy"] == "same-origin"

    def test_no_script_or_organizer_chrome_for_a_signed_in_organizer(self, organizer, url):
        response = organizer.client().get(url)

        page = response.content.decode()
        assert response.status_code == 200
        assert "<script" not in page
        assert reverse("account_logout") not in page

    @pytest.mark.parametrize("method", ["put", "delete", "patch", "options"])
    def test_other_methods_are_refused(self, pending, url, method):
        assert getattr(Client(), method)(url).status_code == 405
        assert status_of(pending.person) == PENDING


class TestConfirming:
    def test_post_confirms_without_a_session_or_csrf_token(self, pending, url):
        response = strict_client().post(url)

        assert response.status_code == 200
        assert '<form method="post">' not in response.content.decode()
        assert response["Content-Language"] == "ar"
        assert status_of(pending.person) == GRANTED
        assert ConsentRecord.objects.latest("id").source == ConsentSource.CONFIRMATION

    def test_a_second_post_records_nothing_more(self, pending, url):
        strict_client().post(url)

        assert strict_client().post(url).status_code == 200
        assert ConsentRecord.objects.filter(status=GRANTED).count() == 1


class TestBadLinks:
    def assert_invalid(self, url: str) -> None:
        for response in (Client().get(url), strict_client().post(url)):
            assert response.status_code == 404
            page = response.content.decode()
            assert "<form method=" not in page.split("<main", 1)[1]
            assert response["X-Robots-Tag"] == "noindex"

    @pytest.mark.parametrize(
        "mangle",
        [
            lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
            lambda t: t.split(":")[0],
            lambda t: "not-a-token",
            lambda t: t + "\x00",
            lambda t: "ünïcode:نص",
            lambda t: t * 50,
        ],
    )
    def test_a_damaged_link_is_refused_at_once(self, pending, mangle):
        self.assert_invalid(confirm_url(mangle(confirmation_token(pending))))

        assert status_of(pending.person) == PENDING

    def test_a_token_signed_for_another_purpose(self, pending):
        self.assert_invalid(confirm_url(signing.dumps({"r": pending.pk, "p": pending.person_id})))

    def test_an_expired_link(self, pending, monkeypatch):
        long_ago = time.time() - 31 * 24 * 3600
        monkeypatch.setattr(signing.time, "time", lambda: long_ago)
        token = confirmation_token(pending)
        monkeypatch.undo()

        self.assert_invalid(confirm_url(token))
        assert status_of(pending.person) == PENDING

    def test_a_link_to_a_consent_that_was_never_pending(self, org_a):
        granted = consent(PersonFactory(organization=org_a, email="nour@example.org"))
        assert granted is not None

        self.assert_invalid(confirm_url(confirmation_token(granted)))

    def test_a_link_of_an_erased_person(self, pending, url):
        from saha.supporters.services import erase_person

        erase_person(actor="system", person=pending.person)

        self.assert_invalid(url)
