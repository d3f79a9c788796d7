"""OSDI's `filter=` query parameter, as Action Network reads it.

`filter=modified_date gt '2014-03-25'`, `filter=email_address eq 'a@b.org'`,
clauses joined by `and` or by `or` (not both, no parentheses). Each resource
names the fields it filters on; anything else is a 400 with a clear message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from saha.api.errors import ApiError

OPERATORS = {"eq": "", "gt": "__gt", "lt": "__lt"}
_CLAUSE = re.compile(r"\s*([a-z_]+)\s+(eq|gt|lt)\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)
_JOINER_AT = re.compile(r"(and|or)\s+", re.IGNORECASE)
MAX_LENGTH = 1000


@dataclass(frozen=True)
class Field:
    """A filterable field: the ORM path and how to read the typed value."""

    path: str
    parse: Callable[[str], Any] = str
    operators: tuple[str, ...] = ("eq",)


def as_datetime(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        parsed = dt.datetime.combine(day, dt.time())
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=dt.UTC)
    if not 1900 <= parsed.year <= 2200:
        raise ValueError(value)
    return parsed


def _is_bare_day(raw: str) -> bool:
    return re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()) is not None


DATE = {"parse": as_datetime, "operators": ("eq", "gt", "lt")}


def _bad(message: str) -> ApiError:
    return ApiError("invalid_filter", message, status=400)


def _clauses(text: str) -> tuple[list[tuple[str, str, str]], set[str]]:
    """(field, operator, raw value) of each clause, read left to right, and the joiners
    between them: a quoted value may itself hold " and " or " or "."""
    clauses: list[tuple[str, str, str]] = []
    joiners: set[str] = set()
    position = 0
    while True:
        match = _CLAUSE.match(text, position)
        if match is None:
            raise _bad(_("Write the filter as: field eq 'value' (operators: eq, gt, lt)."))
        clauses.append((match.group(1).lower(), match.group(2).lower(), match.group(3)))
        position = match.end()
        if position == len(text):
            return clauses, joiners
        joiner = _JOINER_AT.match(text, position)
        if joiner is None:
            raise _bad(_("Write the filter as: field eq 'value' (operators: eq, gt, lt)."))
        joiners.add(joiner.group(1).lower())
        position = joiner.end()


def parse(text: str | None, fields: dict[str, Field]) -> Q:
    """The Q object for a filter, or an empty Q when there is none."""
    if not text or not text.strip():
        return Q()
    if len(text) > MAX_LENGTH:
        raise _bad(_("The filter is too long."))
    clauses, joiners = _clauses(text.strip())
    if len(joiners) > 1:
        raise _bad(_("A filter joins its clauses with 'and' or with 'or', not both."))
    combined = Q()
    for name, operator, raw in clauses:
        field = fields.get(name)
        if field is None:
            raise _bad(
                _("You cannot filter on %(field)s. You can filter on: %(fields)s.")
                % {"field": name, "fields": ", ".join(sorted(fields))}
            )
        if operator not in field.operators:
            raise _bad(
                _("%(field)s takes the operators: %(operators)s.")
                % {"field": name, "operators": ", ".join(field.operators)}
            )
        try:
            value = field.parse(raw.replace("''", "'"))
        except (ValueError, TypeError, OverflowError):
            raise _bad(
                _("%(value)s is not a valid value for %(field)s.") % {"value": raw, "field": name}
            ) from None
        if operator == "eq" and field.parse is as_datetime and _is_bare_day(raw):
            # "modified_date eq '2026-11-25'" means that day (UTC), not its first instant.
            next_day = value + dt.timedelta(days=1)
            q = Q(**{f"{field.path}__gte": value, f"{field.path}__lt": next_day})
        else:
            q = Q(**{f"{field.path}{OPERATORS[operator]}": value})
        combined = (combined | q) if joiners == {"or"} and combined else (combined & q)
    return combined
