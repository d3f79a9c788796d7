"""Pages anyone may open: an organization's statements, and one statement in one of its
languages (with a print-ready page).

They work without JavaScript and render as if nobody were signed in. The text
of a version carries its own `lang` and `dir` (an Arabic version read in an
English page is still right to left), and so do its date line and
signatories, written in its language. A withdrawn statement stays, saying so
above its text; a draft or a scheduled one is not found.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import translation
from django.utils.text import Truncator
from django.views.decorators.http import require_safe

from saha.core.public_pages import absolute, render_public, share_links
from saha.messaging.rendering import markdown_to_text
from saha.organizations.models import Organization
from saha.statements import queries
from saha.statements.feeds import version_url
from saha.statements.models import Statement, StatementStatus, StatementVersion
from saha.statements.rendering import (
    body_html,
    date_line,
    direction,
    known_languages,
    name_in,
    names_list,
    own_name,
    withdrawal_note,
)

PAGE = 20
OG_DESCRIPTION_CHARS = 200
# Open Graph wants a territory; these are the ones the big apps know.
OG_LOCALES = {"ar": "ar_AR", "en": "en_US", "fr": "fr_FR"}


def feed_links(organization: Organization) -> list[dict[str, str]]:
    """The organization's feeds: every language in one, then one per language."""
    slug = organization.slug
    links = [{"language": "", "name": "", "href": reverse("statements:feed_all", args=[slug])}]
    for code in known_languages():
        href = reverse("statements:feed", args=[slug, code])
        links.append({"language": code, "name": own_name(code), "href": href})
    return links


# --- The list -------------------------------------------------------------------------


@require_safe
def statement_list(request: HttpRequest, slug: str) -> HttpResponse:
    organization = get_object_or_404(Organization, slug=slug)
    page_obj = Paginator(queries.public_statements(organization), PAGE).get_page(
        request.GET.get("page")
    )
    language = translation.get_language()
    items = []
    for statement in page_obj.object_list:
        version = statement.version_for(language)
        if version is not None:
            items.append(_list_item(statement, version))
    context = {
        "organization": organization,
        "items": items,
        "page_obj": page_obj,
        "feeds": feed_links(organization),
        "page_url": absolute(request.path),
    }
    return render_public(request, "statements/public/list.html", context)


def _list_item(statement: Statement, version: StatementVersion) -> dict[str, Any]:
    args = [statement.organization.slug, statement.slug]
    return {
        "statement": statement,
        "version": version,
        "dir": direction(version.language),
        "date_line": date_line(statement, version),
        "url": reverse("statements:version", args=[*args, version.language]),
    }


# --- One statement --------------------------------------------------------------------


@require_safe
def statement_page(request: HttpRequest, slug: str, statement: str) -> HttpResponse:
    """In the reader's language when there is a version in it, else the original."""
    found = queries.public_statement(slug, statement)
    version = found.version_for(translation.get_language())
    if version is None:
        raise Http404
    return _version_page(request, found, version)


@require_safe
def version_page(request: HttpRequest, slug: str, statement: str, language: str) -> HttpResponse:
    found = queries.public_statement(slug, statement)
    version = _version_in(found, language)
    return _version_page(request, found, version)


def _version_in(statement: Statement, language: str) -> StatementVersion:
    version = next((v for v in statement.versions.all() if v.language == language), None)
    if version is None:
        raise Http404
    return version


def _version_page(request: HttpRequest, statement: Statement, version: StatementVersion) -> Any:
    def public_url(language: str) -> str:
        args = [statement.organization.slug, statement.slug, language]
        return reverse("statements:version", args=args)

    if request.GET.get("print") == "1":
        return print_page(request, statement, version)
    context = page_context(statement, version, public_url)
    return render_public(request, "statements/public/statement.html", context)


def print_page(request: HttpRequest, statement: Statement, version: StatementVersion) -> Any:
    """The statement alone, ready for A4: every word in the version's language."""
    with translation.override(version.language):
        context = {**page_context(statement, version, lambda code: ""), "back_url": request.path}
        response = render_public(request, "statements/public/print.html", context)
    response.headers["Content-Language"] = version.language
    return response


def page_context(
    statement: Statement, version: StatementVersion, url_for: Callable[[str], str]
) -> dict[str, Any]:
    """What a version's page shows; `url_for(language)` links the switcher (the public
    pages, or the organizer's previews)."""
    organization = statement.organization
    versions = sorted(statement.versions.all(), key=lambda v: _order(v.language))
    page_url = version_url(statement, version.language)
    ui_language = translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(version.language):
        co_signers = names_list(
            [name_in(org, version.language) for org in queries.accepted_co_signers(statement)]
        )
    original = next((v for v in versions if v.language == statement.original_language), None)
    return {
        "organization": organization,
        "statement": statement,
        "version": version,
        "text_dir": direction(version.language),
        "versions": [_switch(v, version, url_for) for v in versions],
        "date_line": date_line(statement, version),
        "body": body_html(version.body),
        "issuer": name_in(organization, version.language),
        "co_signers": co_signers,
        "withdrawn": statement.status == StatementStatus.WITHDRAWN,
        "note": _note(statement, ui_language, version.language),
        "original": _switch(original, version, url_for) if original != version else None,
        "page_url": page_url,
        "statement_url": absolute(
            reverse("statements:statement", args=[organization.slug, statement.slug])
        ),
        "alternates": [(v.language, version_url(statement, v.language)) for v in versions],
        "og_description": _description(version),
        "og_locale": OG_LOCALES.get(version.language, translation.to_locale(version.language)),
        "og_alternate_locales": [OG_LOCALES.get(v.language, v.language) for v in versions],
        "image_url": _image_url(statement),
        "share_links": share_links(version.title, page_url, social=True),
        "feeds": feed_links(organization),
        "edited": _edited_after_publication(statement, version),
    }


def _note(statement: Statement, *languages: str) -> dict[str, str] | None:
    found = withdrawal_note(statement, *languages)
    if found is None:
        return None
    return {"language": found[0], "dir": direction(found[0]), "text": found[1]}


def _order(language: str) -> int:
    codes = known_languages()
    return codes.index(language) if language in codes else len(codes)


def _switch(
    version: StatementVersion | None, current: StatementVersion, url_for: Callable[[str], str]
) -> dict[str, Any] | None:
    if version is None:
        return None
    return {
        "language": version.language,
        "name": own_name(version.language),
        "dir": direction(version.language),
        "href": url_for(version.language),
        "current": version.language == current.language,
        "machine_translated": version.machine_translated,
    }


def _description(version: StatementVersion) -> str:
    text = version.summary or markdown_to_text(version.body)
    return Truncator(" ".join(text.split())).chars(OG_DESCRIPTION_CHARS)


def _image_url(statement: Statement) -> str:
    if not statement.image:
        return ""
    url = statement.image.url
    return url if "://" in url else absolute(url)


def _edited_after_publication(statement: Statement, version: StatementVersion) -> Any:
    """When the text changed after it went online (a correction is shown, not hidden)."""
    published = statement.published_at
    if published is None or (version.modified_at - published).total_seconds() < 60:
        return None
    return version.modified_at


_STATEMENT = "o/<slug:slug>/statements/<slug:statement>/"

urlpatterns = [
    path("o/<slug:slug>/statements/", statement_list, name="list"),
    path(_STATEMENT, statement_page, name="statement"),
    path(f"{_STATEMENT}<slug:language>/", version_page, name="version"),
]
