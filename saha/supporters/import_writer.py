"""Writing one chunk of imported rows: `upsert_person`'s rules, in bulk.

For a chunk of rows: rows sharing an email or a phone become one person;
people already known (by email, then phone) are found with two queries; new
people and their contacts, tags and consent are written with COPY (PostgreSQL)
or executemany (SQLite); known people only get what they lacked. The chunk and
the batch's progress commit together.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from saha.supporters import bulk
from saha.supporters.import_rows import PROFILE, Problem, RowData
from saha.supporters.importing import store_problems
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    ContactStatus,
    ImportBatch,
    Person,
    PersonEmail,
    PersonPhone,
    Source,
    Tag,
    Tagging,
)
from saha.supporters.text import normalize_name

ATTEMPTS = 3

PERSON_COLUMNS = (
    "id",
    "organization_id",
    *PROFILE,
    "name_key",
    "custom_fields",
    "source",
    "source_ref",
    "referrer",
    "created_at",
    "modified_at",
    "last_activity_at",
)
EMAIL_COLUMNS = ("organization_id", "person_id", "address", "status", "is_primary", "created_at")
PHONE_COLUMNS = (
    "organization_id",
    "person_id",
    "number",
    "sms_capable",
    "status",
    "is_primary",
    "created_at",
)
TAGGING_COLUMNS = ("person_id", "tag_id", "created_at")
RECORD_COLUMNS = (
    "id",
    "organization_id",
    "person_id",
    "channel",
    "purpose",
    "status",
    "source",
    "source_ref",
    "wording",
    "language",
    "created_at",
)
STATE_COLUMNS = ("person_id", "channel", "purpose", "status", "record_id", "updated_at")


@dataclass
class Candidate:
    """One person as the chunk describes them (several rows may merge into one)."""

    emails: list[str] = field(default_factory=list)
    phones: list[tuple[str, bool]] = field(default_factory=list)
    profile: dict[str, str] = field(default_factory=dict)
    custom: dict[str, Any] = field(default_factory=dict)
    tags: set[str] = field(default_factory=set)
    lines: list[int] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.lines)

    def absorb(self, row: RowData) -> None:
        self.lines.append(row.line)
        if row.email and row.email not in self.emails:
            self.emails.append(row.email)
        if row.phone and row.phone.number not in (n for n, _ in self.phones):
            self.phones.append((row.phone.number, row.phone.sms_capable))
        for name, value in row.profile.items():
            self.profile.setdefault(name, value)
        for key, value in row.custom.items():
            self.custom.setdefault(key, value)
        self.tags.update(row.tags)


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ChunkWriter:
    def __init__(self, batch: ImportBatch) -> None:
        self.batch = batch
        self.organization_id = batch.organization_id
        self.source_ref = f"import:{batch.pk}"
        self.batch_tags = list(batch.tags)
        self.channels = [
            channel
            for channel, wanted in (
                (Channel.EMAIL, batch.consent_email),
                (Channel.SMS, batch.consent_sms),
            )
            if wanted
        ]
        self._tag_ids: dict[str, int] = {}

    def write(
        self, rows: list[RowData], problems: list[Problem], *, rows_in_chunk: int, position: int
    ) -> Outcome:
        for attempt in range(ATTEMPTS):
            try:
                with transaction.atomic():
                    _relax_durability()
                    extra: list[Problem] = []
                    outcome = self._write(rows, extra)
                    all_problems = problems + extra
                    store_problems(self.batch, all_problems)
                    ImportBatch.objects.filter(pk=self.batch.pk).update(
                        rows_committed=F("rows_committed") + rows_in_chunk,
                        rows_read=F("rows_read") + rows_in_chunk,
                        created_count=F("created_count") + outcome.created,
                        updated_count=F("updated_count") + outcome.updated,
                        unchanged_count=F("unchanged_count") + outcome.unchanged,
                        problem_count=F("problem_count") + len(all_problems),
                        total_bytes_read=position,
                    )
                    self.batch.problem_count += len(all_problems)
                    return outcome
            except IntegrityError:
                # Someone signed up with one of these addresses meanwhile: look again.
                self._tag_ids.clear()
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _write(self, rows: list[RowData], problems: list[Problem]) -> Outcome:
        now = timezone.now()
        candidates = _group(rows)
        emails = [e for c in candidates for e in c.emails]
        phones = [n for c in candidates for n, _ in c.phones]
        by_email = bulk.existing(PersonEmail, "address", self.organization_id, emails)
        by_phone = bulk.existing(PersonPhone, "number", self.organization_id, phones)
        known: dict[int, list[Candidate]] = defaultdict(list)
        new: list[Candidate] = []
        for candidate in candidates:
            person_id = next((by_email[e] for e in candidate.emails if e in by_email), None)
            if person_id is None:
                person_id = next((by_phone[n] for n, _ in candidate.phones if n in by_phone), None)
            if person_id is None:
                new.append(candidate)
            else:
                known[person_id].append(candidate)
        outcome = Outcome(created=len(new))
        ids = bulk.reserve_ids(Person, len(new))
        self._insert_people(ids, new, now)
        changed = self._update_known(known, by_email, by_phone, problems, now)
        tagged = self._tag(list(zip(ids, new, strict=True)) + _pairs(known), set(known), now)
        consented = self._consent(ids, known, now)
        touched = changed | tagged | consented
        for person_id, group in known.items():
            rows_of_person = sum(c.rows for c in group)
            if person_id in touched:
                outcome.updated += rows_of_person
            else:
                outcome.unchanged += rows_of_person
        outcome.unchanged += sum(c.rows - 1 for c in new)  # duplicates within the chunk
        return outcome

    def _insert_people(self, ids: list[int], new: list[Candidate], now: dt.datetime) -> None:
        people, emails, phones = [], [], []
        for person_id, c in zip(ids, new, strict=True):
            profile = [c.profile.get(name, "") for name in PROFILE]
            name_key = normalize_name(
                f"{c.profile.get('given_name', '')} {c.profile.get('family_name', '')}"
            )
            people.append(
                (
                    person_id,
                    self.organization_id,
                    *profile,
                    name_key[:301],
                    bulk.as_json(c.custom),
                    Source.IMPORT,
                    self.source_ref,
                    "",
                    now,
                    now,
                    now,
                )
            )
            for index, address in enumerate(c.emails):
                emails.append(
                    (
                        self.organization_id,
                        person_id,
                        address,
                        ContactStatus.SUBSCRIBED,
                        index == 0,
                        now,
                    )
                )
            for index, (number, sms) in enumerate(c.phones):
                phones.append(
                    (
                        self.organization_id,
                        person_id,
                        number,
                        sms,
                        ContactStatus.SUBSCRIBED,
                        index == 0,
                        now,
                    )
                )
        bulk.insert(Person, PERSON_COLUMNS, people)
        bulk.insert(PersonEmail, EMAIL_COLUMNS, emails)
        bulk.insert(PersonPhone, PHONE_COLUMNS, phones)

    def _update_known(
        self,
        known: dict[int, list[Candidate]],
        by_email: dict[str, int],
        by_phone: dict[str, int],
        problems: list[Problem],
        now: dt.datetime,
    ) -> set[int]:
        """Fill what known people lack; add contacts nobody else has. Returns who changed."""
        if not known:
            return set()
        changed: set[int] = set()
        people = Person.objects.filter(pk__in=list(known)).only(*PROFILE, "custom_fields")
        has_email = set(
            PersonEmail.objects.filter(person_id__in=list(known)).values_list(
                "person_id", flat=True
            )
        )
        has_phone = set(
            PersonPhone.objects.filter(person_id__in=list(known)).values_list(
                "person_id", flat=True
            )
        )
        to_update, emails, phones = [], [], []
        for person in people:
            fields = []
            for candidate in known[person.pk]:
                for name, value in candidate.profile.items():
                    if value and not getattr(person, name):
                        setattr(person, name, value)
                        fields.append(name)
                extra = {k: v for k, v in candidate.custom.items() if k not in person.custom_fields}
                if extra:
                    person.custom_fields = {**person.custom_fields, **extra}
                    fields.append("custom_fields")
                for address in candidate.emails:
                    if address not in by_email:
                        by_email[address] = person.pk
                        emails.append(
                            (
                                self.organization_id,
                                person.pk,
                                address,
                                ContactStatus.SUBSCRIBED,
                                person.pk not in has_email,
                                now,
                            )
                        )
                        has_email.add(person.pk)
                        changed.add(person.pk)
                for number, sms in candidate.phones:
                    owner = by_phone.get(number)
                    if owner is None:
                        by_phone[number] = person.pk
                        phones.append(
                            (
                                self.organization_id,
                                person.pk,
                                number,
                                sms,
                                ContactStatus.SUBSCRIBED,
                                person.pk not in has_phone,
                                now,
                            )
                        )
                        has_phone.add(person.pk)
                        changed.add(person.pk)
                    elif owner != person.pk:
                        problems.append(Problem(candidate.lines[0], "", "phone_taken", number))
            if fields:
                person.refresh_name_key()
                person.modified_at = now
                to_update.append(person)
                changed.add(person.pk)
        if to_update:
            Person.objects.bulk_update(
                to_update, [*PROFILE, "custom_fields", "name_key", "modified_at"], batch_size=500
            )
        bulk.insert(PersonEmail, EMAIL_COLUMNS, emails)
        bulk.insert(PersonPhone, PHONE_COLUMNS, phones)
        return changed

    def _tag(
        self, pairs: list[tuple[int, Candidate]], known: set[int], now: dt.datetime
    ) -> set[int]:
        wanted: dict[int, set[str]] = defaultdict(set)
        for person_id, candidate in pairs:
            names = candidate.tags | set(self.batch_tags)
            if names:
                wanted[person_id] |= names
        if not wanted:
            return set()
        tag_ids = self._tag_ids_for({n for names in wanted.values() for n in names})
        # Only people known before this chunk can have tags already.
        existing = set(
            Tagging.objects.filter(
                person_id__in=list(known & wanted.keys()), tag_id__in=tag_ids.values()
            ).values_list("person_id", "tag_id")
        )
        rows = [
            (person_id, tag_ids[name], now)
            for person_id, names in wanted.items()
            for name in sorted(names)
            if (person_id, tag_ids[name]) not in existing
        ]
        bulk.insert(Tagging, TAGGING_COLUMNS, rows)
        return {person_id for person_id, _tag, _now in rows}

    def _tag_ids_for(self, names: set[str]) -> dict[str, int]:
        missing = names - self._tag_ids.keys()
        if missing:
            Tag.objects.bulk_create(
                [Tag(organization_id=self.organization_id, name=n) for n in sorted(missing)],
                ignore_conflicts=True,
            )
            self._tag_ids.update(
                Tag.objects.filter(
                    organization_id=self.organization_id, name__in=missing
                ).values_list("name", "id")
            )
        return {name: self._tag_ids[name] for name in names}

    def _consent(
        self, new_ids: list[int], known: dict[int, list[Candidate]], now: dt.datetime
    ) -> set[int]:
        """Grant the batch's consent where it is not already current, never over a withdrawal."""
        if not self.channels:
            return set()
        wording = self.batch.consent_wording
        current = {
            (person_id, channel): (status, record_wording)
            for person_id, channel, status, record_wording in ConsentState.objects.filter(
                person_id__in=list(known), purpose=DEFAULT_PURPOSE, channel__in=self.channels
            ).values_list("person_id", "channel", "status", "record__wording")
        }
        grants = [(person_id, channel) for person_id in new_ids for channel in self.channels]
        updates = []
        for person_id in known:
            for channel in self.channels:
                state = current.get((person_id, channel))
                if state is None:
                    grants.append((person_id, channel))
                elif state[0] != ConsentStatus.WITHDRAWN and state != (
                    ConsentStatus.GRANTED,
                    wording,
                ):
                    updates.append((person_id, channel))
        record_ids = bulk.reserve_ids(ConsentRecord, len(grants) + len(updates))
        records = [
            (
                record_id,
                self.organization_id,
                person_id,
                channel,
                DEFAULT_PURPOSE,
                ConsentStatus.GRANTED,
                ConsentSource.IMPORT,
                self.source_ref,
                wording,
                self.batch.language,
                now,
            )
            for record_id, (person_id, channel) in zip(record_ids, grants + updates, strict=True)
        ]
        bulk.insert(ConsentRecord, RECORD_COLUMNS, records)
        states = [
            (person_id, channel, DEFAULT_PURPOSE, ConsentStatus.GRANTED, record_id, now)
            for record_id, (person_id, channel) in zip(record_ids, grants, strict=True)
        ]
        bulk.insert(ConsentState, STATE_COLUMNS, states)
        for record_id, (person_id, channel) in zip(record_ids[len(grants) :], updates, strict=True):
            ConsentState.objects.filter(
                person_id=person_id, channel=channel, purpose=DEFAULT_PURPOSE
            ).update(status=ConsentStatus.GRANTED, record_id=record_id, updated_at=now)
        return {person_id for person_id, _channel in grants + updates if person_id in known}


def _relax_durability() -> None:
    """Don't wait for the disk at each chunk's commit (PostgreSQL).

    Safe here: a chunk and the batch's count of committed rows commit together,
    so a server crash loses at most the last chunks, consistently, and the rerun
    of the task imports them again.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _group(rows: list[RowData]) -> list[Candidate]:
    """Rows sharing an email or a phone number are the same person."""
    candidates: list[Candidate] = []
    index: dict[str, Candidate] = {}
    for row in rows:
        keys = ([row.email] if row.email else []) + ([row.phone.number] if row.phone else [])
        candidate = next((index[k] for k in keys if k in index), None)
        if candidate is None:
            candidate = Candidate()
            candidates.append(candidate)
        candidate.absorb(row)
        for key in keys:
            index.setdefault(key, candidate)
    return candidates


def _pairs(known: dict[int, list[Candidate]]) -> list[tuple[int, Candidate]]:
    return [(person_id, c) for person_id, group in known.items() for c in group]
