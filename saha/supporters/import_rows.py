"""Reading one CSV row of an import: the mapping of columns, and the checks of each cell.

A row becomes a `RowData` plus a list of problems (row, column, code). A
problem in one cell drops that cell, not the row; only a row with neither a
valid email nor a valid phone is skipped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from saha.supporters.models import CustomField, FieldKind
from saha.supporters.text import Phone, clean_text, normalize_email, normalize_name, normalize_phone

EMAIL, PHONE, FULL_NAME, TAGS = "email", "phone", "full_name", "tags"
PROFILE = ("given_name", "family_name", "language", "country", "region", "locality", "postal_code")
MAX_LENGTH = {
    "given_name": 150,
    "family_name": 150,
    "region": 100,
    "locality": 100,
    "postal_code": 20,
}
CUSTOM_PREFIX = "custom:"

TARGET_LABELS = {
    EMAIL: _("Email address"),
    PHONE: _("Phone number"),
    "given_name": _("Given name"),
    "family_name": _("Family name"),
    FULL_NAME: _("Full name (split at the first space)"),
    "language": _("Preferred language"),
    "country": _("Country (two-letter code)"),
    "region": _("Region or governorate"),
    "locality": _("Locality"),
    "postal_code": _("Postal code"),
    TAGS: _("Tags (separated by commas)"),
}

# Header words in the three languages, folded with normalize_name when looked up.
_SYNONYM_INDEX: dict[str, str] = {}
_PHRASES = {
    EMAIL: [
        "email",
        "e-mail",
        "mail",
        "email address",
        "e-mail address",
        "courriel",
        "adresse e-mail",
        "adresse mail",
        "adresse email",
        "البريد الالكتروني",
        "البريد",
        "ايميل",
        "الايميل",
    ],
    PHONE: [
        "phone",
        "mobile",
        "cell",
        "telephone",
        "phone number",
        "mobile number",
        "tel",
        "portable",
        "numero",
        "numero de telephone",
        "هاتف",
        "الهاتف",
        "جوال",
        "الجوال",
        "موبايل",
        "رقم الهاتف",
        "خلوي",
    ],
    "given_name": ["first name", "given name", "firstname", "forename", "prenom", "الاسم الاول"],
    "family_name": [
        "last name",
        "family name",
        "surname",
        "lastname",
        "nom",
        "nom de famille",
        "اسم العائله",
        "العائله",
        "الشهره",
        "الكنيه",
    ],
    FULL_NAME: ["name", "full name", "nom complet", "الاسم الكامل", "الاسم الثلاثي", "الاسم"],
    "language": ["language", "lang", "langue", "preferred language", "اللغه"],
    "country": ["country", "pays", "البلد", "الدوله"],
    "region": ["region", "governorate", "state", "province", "departement", "المحافظه", "المنطقه"],
    "locality": [
        "city",
        "town",
        "locality",
        "village",
        "ville",
        "commune",
        "localite",
        "المدينه",
        "البلده",
        "القريه",
    ],
    "postal_code": ["postal code", "postcode", "zip", "zip code", "code postal", "الرمز البريدي"],
    TAGS: ["tags", "tag", "labels", "etiquettes", "الوسوم", "وسوم"],
}
for _target, _phrases in _PHRASES.items():
    for _phrase in _phrases:
        _SYNONYM_INDEX[normalize_name(_phrase)] = _target

_HEADER_NOISE = re.compile(r"[\s_\-:.*()]+")

LANGUAGE_WORDS = {
    "ar": ["ar", "arabic", "arabe", "عربي", "العربيه", "عربيه"],
    "en": ["en", "english", "anglais", "انجليزي", "الانجليزيه", "انكليزي"],
    "fr": ["fr", "french", "francais", "فرنسي", "الفرنسيه"],
}
_LANGUAGE_INDEX = {
    normalize_name(word): code for code, words in LANGUAGE_WORDS.items() for word in words
}


def _header_key(header: str) -> str:
    return _HEADER_NOISE.sub(" ", normalize_name(header)).strip()


def auto_mapping(header: Sequence[str], custom_fields: Sequence[CustomField]) -> dict[str, str]:
    """Guess each column's target from its header; each target is used once."""
    known = dict(_SYNONYM_INDEX)
    for custom in custom_fields:
        for label in [custom.key, *custom.labels.values()]:
            known[_header_key(label)] = CUSTOM_PREFIX + custom.key
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, name in enumerate(header):
        target = known.get(_header_key(name), "")
        if target and target not in used:
            mapping[str(index)] = target
            used.add(target)
    if FULL_NAME in used and ({"given_name", "family_name"} & used):
        # "Name" next to "First name" means the family name in many exports.
        for index, target in mapping.items():
            if target == FULL_NAME:
                mapping[index] = "family_name" if "family_name" not in used else ""
    return {index: target for index, target in mapping.items() if target}


@dataclass
class RowData:
    line: int
    email: str | None = None
    phone: Phone | None = None
    profile: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    code: str
    value: str = ""


# C0 and C1 control characters and DEL: a broken file carries them, PostgreSQL
# refuses NUL in text and JSON, and none of them helps anyone read a report.
_CONTROL_CHARACTERS = {
    **dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0)]),
    **dict.fromkeys(map(ord, "\t\n\r"), " "),
}
SHOWN_LENGTH = 200


def without_controls(value: str) -> str:
    return value.translate(_CONTROL_CHARACTERS)


def shown(value: str) -> str:
    """A cell's raw text as it may be stored and shown: no control characters, 200 at most."""
    return without_controls(value)[:SHOWN_LENGTH]


PROBLEM_TEXT = {
    "no_contact": _("No valid email address or phone number: the row was skipped."),
    "invalid_email": _("Not a valid email address."),
    "invalid_phone": _("Not a valid phone number."),
    "formula": _("Looks like a spreadsheet formula: the cell was left out."),
    "too_long": _("Too long: it was shortened."),
    "unknown_language": _("Unknown language: use ar, en or fr."),
    "invalid_country": _("Use a two-letter country code such as LB."),
    "invalid_number": _("Not a number."),
    "invalid_date": _("Not a date: use YYYY-MM-DD or DD/MM/YYYY."),
    "invalid_choice": _("Not one of the field's choices."),
    "encoding": _("Characters that are not valid in the file's encoding."),
    "phone_taken": _("This number belongs to another person: it was left out."),
}

_FORMULA_START = ("=", "@", "\t", "\r")
_TAG_SPLIT = re.compile(r"[,;|،]")
_DATE_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")


def is_formula(value: str) -> bool:
    if value.startswith(_FORMULA_START):
        return True
    return value[:1] in "+-" and len(value) > 1 and not value[1].isdigit() and value[1] != " "


class RowReader:
    """Turns a CSV row into RowData using a batch's mapping; collects problems."""

    def __init__(
        self,
        header: Sequence[str],
        mapping: dict[str, str],
        custom_fields: Sequence[CustomField],
        region: str | None = None,
    ) -> None:
        self.header = list(header)
        self.columns = sorted((int(index), target) for index, target in mapping.items() if target)
        self.custom = {c.key: c for c in custom_fields}
        self.region = region or settings.SAHA_PHONE_REGION
        self.languages = {code for code, _name in settings.LANGUAGES}

    def read(self, line: int, cells: Sequence[str], problems: list[Problem]) -> RowData | None:
        data = RowData(line=line)
        raw_email = raw_phone = ""
        for index, target in self.columns:
            value = cells[index].strip() if index < len(cells) else ""
            if not value:
                continue
            column = self.header[index] if index < len(self.header) else str(index + 1)
            if "\ufffd" in value:
                problems.append(Problem(line, column, "encoding", shown(value)))
                continue
            if target == EMAIL:
                raw_email = value
                data.email = normalize_email(value)
                if data.email is None:
                    problems.append(Problem(line, column, "invalid_email", shown(value)))
            elif target == PHONE:
                raw_phone = value
                data.phone = normalize_phone(value, self.region)
                if data.phone is None:
                    problems.append(Problem(line, column, "invalid_phone", shown(value)))
            elif is_formula(value):
                problems.append(Problem(line, column, "formula", shown(value)))
            elif target == TAGS:
                data.tags.extend(
                    clean_text(t)[:100] for t in _TAG_SPLIT.split(value) if clean_text(t)
                )
            elif target.startswith(CUSTOM_PREFIX):
                self._custom(data, target[len(CUSTOM_PREFIX) :], value, column, problems)
            else:
                self._profile(data, target, clean_text(value), column, problems)
        if data.email is None and data.phone is None:
            if raw_email or raw_phone or any(c.strip() for c in cells):
                problems.append(Problem(line, "", "no_contact"))
            return None
        return data

    def _profile(
        self, data: RowData, target: str, value: str, column: str, problems: list[Problem]
    ) -> None:
        if target == FULL_NAME:
            given, _, family = value.partition(" ")
            data.profile.setdefault("given_name", given[:150])
            if family:
                data.profile.setdefault("family_name", family[:150])
            return
        if target == "language":
            code = _LANGUAGE_INDEX.get(normalize_name(value))
            if code is None or code not in self.languages:
                problems.append(Problem(data.line, column, "unknown_language", shown(value)))
            else:
                data.profile["language"] = code
            return
        if target == "country":
            if len(value) != 2 or not value.isascii() or not value.isalpha():
                problems.append(Problem(data.line, column, "invalid_country", shown(value)))
            else:
                data.profile["country"] = value.upper()
            return
        limit = MAX_LENGTH.get(target, 100)
        if len(value) > limit:
            problems.append(Problem(data.line, column, "too_long", shown(value)))
            value = value[:limit]
        data.profile[target] = value

    def _custom(
        self, data: RowData, key: str, value: str, column: str, problems: list[Problem]
    ) -> None:
        custom = self.custom.get(key)
        if custom is None:
            return
        converted = convert_custom(custom, value)
        if converted is None:
            problems.append(Problem(data.line, column, f"invalid_{custom.kind}", shown(value)))
        else:
            data.custom[key] = converted


_ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩٫", "0123456789.")
# Beyond this many significant digits, or a power of ten beyond it, a "number"
# is not a count or an amount: "1e5000" would not fit JSON, and int() of
# "1e999999999" alone takes the worker tens of seconds.
MAX_NUMBER_DIGITS = 20


def _reasonable(number: Decimal) -> bool:
    """Finite, within 10^±20, with at most 20 significant digits (trailing zeros aside)."""
    if not number.is_finite() or abs(number.adjusted()) > MAX_NUMBER_DIGITS:
        return False
    digits = number.as_tuple().digits
    return not any(digits[MAX_NUMBER_DIGITS:])


def convert_custom(custom: CustomField, value: str) -> Any:
    """A custom field's value as stored in JSON, or None when it does not fit the field."""
    if custom.kind == FieldKind.NUMBER:
        text = value.translate(_ARABIC_DIGITS).replace(" ", "").replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None
        if not _reasonable(number):
            return None
        return int(number) if number == number.to_integral_value() else float(number)
    if custom.kind == FieldKind.DATE:
        text = value.translate(_ARABIC_DIGITS)
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            match = _DATE_DMY.match(text)
            if not match:
                return None
            day, month, year = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day).isoformat()
            except ValueError:
                return None
    if custom.kind == FieldKind.CHOICE:
        wanted = normalize_name(value)
        return next((c for c in custom.choices if normalize_name(c) == wanted), None)
    if is_formula(value):
        return None
    return clean_text(value)[:500]
