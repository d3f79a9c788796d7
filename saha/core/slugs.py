"""Readable addresses for an organization's pages (/events/beach-clean-up/): from a
title when it has Latin letters, else a dated default; unique per organization,
even when two saves of the same title race."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, models
from django.utils.text import slugify
from django.utils.translation import gettext as _

from saha.core.errors import Conflict

M = TypeVar("M", bound=models.Model)
ATTEMPTS = 4


def free_slug(taken_in: models.QuerySet[M], titles: dict[str, str], fallback: str) -> str:
    """An address part not used in `taken_in` (the organization's rows of one kind)."""
    base = next((slugify(t) for t in titles.values() if slugify(t)), "")[:60].strip("-")
    base = base or fallback
    taken = set(taken_in.filter(slug__startswith=base).values_list("slug", flat=True))
    if base not in taken:
        return base
    return next(f"{base}-{n}" for n in range(2, len(taken) + 3) if f"{base}-{n}" not in taken)


def create_with_free_slug(
    taken_in: models.QuerySet[M], titles: dict[str, str], fallback: str, make: Callable[[str], M]
) -> M:
    """`make(slug)` under a free address; taken between the look and the insert (a
    unique constraint says so), the next one is tried."""
    for _attempt in range(ATTEMPTS):
        try:
            return make(free_slug(taken_in, titles, fallback))
        except IntegrityError:
            continue
    raise Conflict("slug_busy", _("Please try again in a moment."))
