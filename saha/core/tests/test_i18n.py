"""Three languages, Arabic right to left; every string translated."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import RequestFactory
from django.utils import translation

from saha.core.views import server_error

LOCALE = Path(settings.LOCALE_PATHS[0])


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_catalogue_is_complete(language: str) -> None:
    catalogue = polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))
    assert len(catalogue) > 50
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []


@pytest.mark.django_db
def test_lang_parameter_switches_to_arabic_and_sticks(client) -> None:
    response = client.get("/", {"lang": "ar"})
    body = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in body
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ar"
    # the next page, without the parameter, is still Arabic
    assert '<html lang="ar" dir="rtl">' in client.get("/accounts/login/").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fr", "ltr"), ("ar", "rtl")])
def test_not_found_page_in_each_language(client, language: str, direction: str) -> None:
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    assert f'<html lang="{language}" dir="{direction}">' in response.content.decode()


@pytest.mark.django_db
def test_switcher_posts_the_language(client) -> None:
    response = client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="fr" dir="ltr">' in client.get("/").content.decode()


def test_server_error_page_is_translated_without_touching_the_database() -> None:
    request = RequestFactory().get("/")
    with translation.override("ar"):
        response = server_error(request)
    assert response.status_code == 500
    body = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in body
    assert "Something went wrong" not in body


@pytest.mark.django_db
def test_switcher_works_on_a_page_opened_with_lang(client) -> None:
    page = client.get("/accounts/login/", {"lang": "ar", "next": "/manage/"})
    assert 'name="next" value="/accounts/login/?next=%2Fmanage%2F"' in page.content.decode()
    response = client.post(
        "/i18n/setlang/", {"language": "fr", "next": "/accounts/login/?next=%2Fmanage%2F"}
    )
    assert response["Location"] == "/accounts/login/?next=%2Fmanage%2F"
    assert '<html lang="fr" dir="ltr">' in client.get(response["Location"]).content.decode()
