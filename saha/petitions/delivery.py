"""What the organizer reads of a petition: the counts of a page of petitions, a page of its
signatures, and what is delivered to the target: the printed document and the CSV.

What the target receives about a signer is what the signer agreed to when they
ticked "show my name" (`Signature.show_name`): their given name and locality,
as the sign-up form words it. Nothing else is given about anyone, so:

- the document lists the given name and locality of those who agreed, and
  counts everybody else as "and N others";
- the CSV has one row per signature (its time and whether it was confirmed),
  with the given name, locality and comment filled only where the signer
  agreed to be shown. A comment is free text that can name or place its
  author, so it travels under the same agreement. The family name is never
  given: the agreement does not cover it. `SHOWN` is the one place to change
  this if the form's wording ever does.

Cells a spreadsheet would run as a formula are neutralized as in the
supporters' export, and the download is audited with its row count.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum

from saha.core import audit
from saha.petitions import services
from saha.petitions.models import Petition, Signature, SignatureCount
from saha.supporters.exporting import encode, neutralize
from saha.supporters.models import Person

PAGE = 50
CHUNK = 2000
STATES = ("confirmed", "unconfirmed")
# What a signer's "show my name" lets the target see: as typed on the signature.
SHOWN = ("given_name", "locality")
CSV_COLUMNS = ["signed_at", "confirmed", *SHOWN, "comment"]


@dataclass(frozen=True)
class Progress:
    count: services.Count
    public: int
    goal: int | None

    @property
    def total(self) -> int:
        return self.count.verified + self.count.unverified

    @property
    def percent(self) -> int | None:
        if not self.goal:
            return None
        return min(100, round(100 * self.public / self.goal))


def progress(petition: Petition) -> Progress:
    return progresses([petition])[petition.pk]


def progresses(petitions: list[Petition]) -> dict[int, Progress]:
    """The counts of a page of petitions in one query, summing their counter shards."""
    rows = (
        SignatureCount.objects.filter(petition_id__in=[p.pk for p in petitions])
        .values("petition_id")
        .annotate(verified=Sum("verified"), unverified=Sum("unverified"))
        .values_list("petition_id", "verified", "unverified")
    )
    counts = {pk: services.Count(verified=v or 0, unverified=u or 0) for pk, v, u in rows}
    result = {}
    for petition in petitions:
        count = counts.get(petition.pk, services.Count(verified=0, unverified=0))
        result[petition.pk] = Progress(count, count.public(petition), petition.goal)
    return result


def signatures(
    petition: Petition, *, term: str = "", state: str = "", after: int | None = None
) -> list[Signature]:
    """One page of signatures, newest first (keyset: `after` is the last id seen)."""
    found = Signature.objects.filter(petition=petition).select_related("person")
    if state == "confirmed":
        found = found.filter(verified_at__isnull=False)
    elif state == "unconfirmed":
        found = found.filter(verified_at__isnull=True)
    term = term.replace("\x00", "").strip()
    if term:
        people = Person.objects.filter(organization_id=petition.organization_id).search(
            term, petition.organization
        )
        found = found.filter(person__in=people.values("pk"))
    if after is not None:
        found = found.filter(pk__lt=after)
    return list(found.order_by("-pk")[:PAGE])


def _counted(petition: Petition) -> QuerySet[Signature]:
    """The signatures the public counter counts (confirmed ones, or all if it says so)."""
    found = Signature.objects.filter(petition=petition)
    if not petition.count_unverified:
        found = found.filter(verified_at__isnull=False)
    return found


@dataclass(frozen=True)
class Document:
    petition: Petition
    count: int
    names: list[tuple[str, str]]  # (given name, locality) of those who agreed

    @property
    def others(self) -> int:
        return max(self.count - len(self.names), 0)


def document(petition: Petition) -> Document:
    """The delivery document: the count the public sees, and the names agreed to be shown.

    Names are read as two short strings each, oldest signature first, so a long
    list stays cheap; anyone not shown (or since erased) is one of the others.
    """
    count = services.count(petition).public(petition)
    shown = (
        _counted(petition)
        .filter(show_name=True, person__isnull=False, verified_at__isnull=False)
        .order_by("pk")
        .values_list(*SHOWN)
    )
    names = [
        (given.strip(), locality.strip())
        for given, locality in shown.iterator(chunk_size=CHUNK)
        if given.strip()
    ]
    return Document(petition=petition, count=count, names=names)


def csv_rows(petition: Petition) -> Iterator[list[str]]:
    """The header, then one row per signature, oldest first; names only where agreed."""
    zone = zoneinfo.ZoneInfo(petition.organization.time_zone)
    yield CSV_COLUMNS
    rows = (
        Signature.objects.filter(petition=petition)
        .order_by("pk")
        .values_list(
            "created_at",
            "verified_at",
            "show_name",
            "comment",
            "person_id",
            *SHOWN,
        )
    )
    for signed_at, verified_at, show_name, comment, person_id, *person in rows.iterator(
        chunk_size=CHUNK
    ):
        # Named only if they agreed, confirmed that it was them, and are not erased.
        agreed = show_name and verified_at is not None and person_id is not None
        shown = [neutralize(value or "") if agreed else "" for value in person]
        yield [
            signed_at.astimezone(zone).isoformat(timespec="seconds"),
            "yes" if verified_at else "no",
            *shown,
            neutralize(comment) if agreed else "",
        ]


def download(*, actor: Any, petition: Petition) -> Iterator[bytes]:
    """The CSV as UTF-8 with a BOM; the rows that left are audited even if it breaks off."""
    count = -2  # the BOM and the header are not signatures
    try:
        for line in encode(csv_rows(petition)):
            count += 1
            yield line
    finally:
        audit.log(
            actor,
            "petitions.signatures.exported",
            petition,
            {"rows": max(count, 0), "shown": list(SHOWN)},
        )
