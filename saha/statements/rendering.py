"""A statement's text as HTML, and the lines around it: the date line and the signatories.

The body is Markdown, rendered by saha.core.markdown.public_html: raw HTML
off, then sanitized with nh3 against a short allow-list (links http, https and
mailto only, marked nofollow); an image becomes a link to it, never an <img>
that readers' browsers would fetch from somebody else's server. A statement
has no merge fields: `{{ name }}` is text.

The date line and the signatories belong to the statement's text, so they are
written in the version's language, whatever the page's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation
from django.utils.formats import date_format
from django.utils.safestring import SafeString
from django.utils.text import get_text_list
from django.utils.translation import get_language_info, pgettext
from django.utils.translation import gettext as _

from saha.core.markdown import public_html

if TYPE_CHECKING:
    from saha.organizations.models import Organization
    from saha.statements.models import Statement, StatementVersion

# Each language by its own name, as its readers write it.
OWN_NAMES = {"ar": "العربية", "en": "English", "fr": "Français"}


def body_html(text: str) -> SafeString:
    return public_html(text)


def own_name(language: str) -> str:
    if language in OWN_NAMES:
        return OWN_NAMES[language]
    try:
        return str(get_language_info(language)["name_local"])
    except KeyError:
        return language


def direction(language: str) -> str:
    try:
        return "rtl" if get_language_info(language)["bidi"] else "ltr"
    except KeyError:
        return "auto"


def known_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def date_line(statement: Statement, version: StatementVersion) -> str:
    """ "Beirut, 24 November 2026 — Executive Committee", in the version's language."""
    with translation.override(version.language):
        values = {
            "place": version.place.strip(),
            # Day, month and year in full, in the order of the language's date lines.
            "date": date_format(statement.dated, pgettext("statement date line", "j F Y")),
            "body": version.issuing_body.strip(),
        }
        if values["place"] and values["body"]:
            return _("%(place)s, %(date)s — %(body)s") % values
        if values["place"]:
            return _("%(place)s, %(date)s") % values
        if values["body"]:
            return _("%(date)s — %(body)s") % values
        return values["date"]


def name_in(organization: Organization, language: str) -> str:
    """An organization's name as it is known in `language`, else its usual one."""
    return organization.names.get(language) or organization.name


def names_list(names: list[str]) -> str:
    """ "A, B and C" in the active language."""
    return str(get_text_list(names, _("and")))


def withdrawal_note(statement: Statement, *languages: str) -> tuple[str, str] | None:
    """Why it was withdrawn, in the first of `languages` it was written in, else in the
    original's, else in any: (the note's language, the note)."""
    notes = statement.withdrawal_notes or {}
    for wanted in (*languages, statement.original_language):
        if notes.get(wanted):
            return wanted, notes[wanted]
    return next(((code, text) for code, text in notes.items() if text), None)
