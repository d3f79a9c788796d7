"""Writing one chunk of imported rows: `upsert_person`'s rules, in bulk.

For a chunk of rows: rows sharing an email or a phone, even through other
rows, become one person; people already known (by email, then phone) are
found with two queries; new people and their contacts, tags and consent are
written with COPY (PostgreSQL) or executemany (SQLite); known people are
locked and only get what they lacked. Consent is never granted over a
withdrawal nor to a suppressed contact. The chunk and the batch's progress
commit together, and only while this run still owns the batch.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import uuid4

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from saha.supporters import bulk
from saha.supporters.import_rows import PROFILE, Problem, RowData
from saha.supporters.importing import ClaimLost, store_problems
from saha.supporters.models import (
    DEFAULT_PURPOSE,
    Channel,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConsentStatus,
    ContactStatus,
    CustomField,
    ImportBatch,
    ImportStatus,
    LawfulBasis,
    Person,
    PersonEmail,
    PersonPhone,
    Source,
    Suppression,
    Tag,
    Tagging,
)
from saha.supporters.suppression import suppressed
from saha.supporters.text import normalize_name

ATTEMPTS = 3
MOVE_BATCH = 500

PERSON_COLUMNS = (
    "id",
    "uuid",
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
TAGGING_COLUMNS = ("uuid", "person_id", "tag_id", "created_at")
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

    @property
    def numbers(self) -> list[str]:
        return [number for number, _sms in self.phones]

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


class _State(NamedTuple):
    """A consent state as read, to be moved only if it is still so."""

    id: int
    status: str
    record_id: int
    wording: str


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
        # A member list imported again, or a list kept out of legitimate
        # interest, is the organization saying these people are still its
        # own: without this, a list re-imported every month would still be
        # forgotten by the retention rule N months after its first import.
        # An import on the basis of consent is not the person acting, and the
        # consent it records is what keeps them.
        self.marks_activity = batch.lawful_basis in (
            LawfulBasis.MEMBERSHIP,
            LawfulBasis.LEGITIMATE_INTEREST,
        )
        self._tag_ids: dict[str, int] = {}

    def write(
        self,
        rows: list[RowData],
        problems: list[Problem],
        *,
        rows_in_chunk: int,
        position: int,
        committed: int,
    ) -> Outcome:
        """Write a chunk and the batch's progress together.

        `committed` is the batch's count of committed rows that this run
        expects: if another run of the batch moved it, ClaimLost rolls the
        chunk back.
        """
        for attempt in range(ATTEMPTS):
            try:
                with transaction.atomic():
                    _relax_durability()
                    extra: list[Problem] = []
                    outcome = self._write(rows, extra)
                    all_problems = problems + extra
                    store_problems(self.batch, all_problems)
                    self._advance(committed, rows_in_chunk, position, outcome, len(all_problems))
                    self.batch.problem_count += len(all_problems)
                    return outcome
            except IntegrityError:
                # Someone signed up with one of these addresses meanwhile: look again.
                self._tag_ids.clear()
                if attempt == ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _advance(
        self, committed: int, rows: int, position: int, outcome: Outcome, problems: int
    ) -> None:
        advanced = ImportBatch.objects.filter(
            pk=self.batch.pk, status=ImportStatus.RUNNING, rows_committed=committed
        ).update(
            rows_committed=committed + rows,
            rows_read=F("rows_read") + rows,
            created_count=F("created_count") + outcome.created,
            updated_count=F("updated_count") + outcome.updated,
            unchanged_count=F("unchanged_count") + outcome.unchanged,
            problem_count=F("problem_count") + problems,
            total_bytes_read=position,
        )
        if not advanced:
            raise ClaimLost

    def _write(self, rows: list[RowData], problems: list[Problem]) -> Outcome:
        now = timezone.now()
        candidates = _group(rows)
        if any(c.custom for c in candidates):
            # A field deleted while the import runs must not come back with it.
            live = set(
                CustomField.objects.filter(organization_id=self.organization_id).values_list(
                    "key", flat=True
                )
            )
            for candidate in candidates:
                candidate.custom = {k: v for k, v in candidate.custom.items() if k in live}
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
        created = list(zip(bulk.reserve_ids(Person, len(new)), new, strict=True))
        self._insert_people(created, now)
        changed = self._update_known(known, by_email, by_phone, problems, now)
        tagged = self._tag(created + _pairs(known), set(known), now)
        consented = self._consent(created, known, now)
        touched = changed | tagged | consented
        outcome = Outcome(created=len(new))
        for person_id, group in known.items():
            rows_of_person = sum(c.rows for c in group)
            if person_id in touched:
                outcome.updated += rows_of_person
            else:
                outcome.unchanged += rows_of_person
        outcome.unchanged += sum(c.rows - 1 for c in new)  # duplicates within the chunk
        return outcome

    def _insert_people(self, created: list[tuple[int, Candidate]], now: dt.datetime) -> None:
        people, emails, phones = [], [], []
        for person_id, c in created:
            profile = [c.profile.get(name, "") for name in PROFILE]
            name_key = normalize_name(
                f"{c.profile.get('given_name', '')} {c.profile.get('family_name', '')}"
            )
            people.append(
                (
                    person_id,
                    uuid4().hex,  # as Django stores it on SQLite; PostgreSQL reads it too
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
                emails.append(self._email_row(person_id, address, index == 0, now))
            for index, (number, sms) in enumerate(c.phones):
                phones.append(self._phone_row(person_id, number, sms, index == 0, now))
        bulk.insert(Person, PERSON_COLUMNS, people)
        bulk.insert(PersonEmail, EMAIL_COLUMNS, emails)
        bulk.insert(PersonPhone, PHONE_COLUMNS, phones)

    def _email_row(
        self, person_id: int, address: str, primary: bool, now: dt.datetime
    ) -> tuple[Any, ...]:
        return (self.organization_id, person_id, address, ContactStatus.SUBSCRIBED, primary, now)

    def _phone_row(
        self, person_id: int, number: str, sms: bool, primary: bool, now: dt.datetime
    ) -> tuple[Any, ...]:
        return (
            self.organization_id,
            person_id,
            number,
            sms,
            ContactStatus.SUBSCRIBED,
            primary,
            now,
        )

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
        # Locked until the chunk commits: an organizer's edit of one of them
        # waits for the chunk, or the chunk waits for the edit and reads it, so
        # bulk_update never writes back values read before a concurrent edit.
        # In id order, so that two chunks locking the same people cannot deadlock.
        people = list(
            Person.objects.select_for_update()
            .filter(pk__in=list(known))
            .order_by("pk")
            .only(*PROFILE, "custom_fields")
        )
        if self.marks_activity:
            Person.objects.filter(pk__in=list(known)).update(last_activity_at=now)
        filled = self._fill(people, known, now)
        attached = self._attach_contacts(people, known, by_email, by_phone, problems, now)
        return filled | attached

    def _fill(
        self, people: list[Person], known: dict[int, list[Candidate]], now: dt.datetime
    ) -> set[int]:
        """Profile fields and custom fields the person had left empty; `upsert_person`'s rule."""
        to_update = []
        for person in people:
            changed = False
            for candidate in known[person.pk]:
                for name, value in candidate.profile.items():
                    if value and not getattr(person, name):
                        setattr(person, name, value)
                        changed = True
                extra = {k: v for k, v in candidate.custom.items() if k not in person.custom_fields}
                if extra:
                    person.custom_fields = {**person.custom_fields, **extra}
                    changed = True
            if changed:
                person.refresh_name_key()
                person.modified_at = now
                to_update.append(person)
        if to_update:
            Person.objects.bulk_update(
                to_update, [*PROFILE, "custom_fields", "name_key", "modified_at"], batch_size=500
            )
        return {person.pk for person in to_update}

    def _attach_contacts(
        self,
        people: list[Person],
        known: dict[int, list[Candidate]],
        by_email: dict[str, int],
        by_phone: dict[str, int],
        problems: list[Problem],
        now: dt.datetime,
    ) -> set[int]:
        """Addresses and numbers nobody has yet; a number that is another's is a problem."""
        ids = [person.pk for person in people]
        has_email = set(
            PersonEmail.objects.filter(person_id__in=ids).values_list("person_id", flat=True)
        )
        has_phone = set(
            PersonPhone.objects.filter(person_id__in=ids).values_list("person_id", flat=True)
        )
        emails, phones, changed = [], [], set()
        for person_id in ids:
            for candidate in known[person_id]:
                for address in candidate.emails:
                    if address not in by_email:
                        by_email[address] = person_id
                        emails.append(
                            self._email_row(person_id, address, person_id not in has_email, now)
                        )
                        has_email.add(person_id)
                        changed.add(person_id)
                for number, sms in candidate.phones:
                    owner = by_phone.get(number)
                    if owner is None:
                        by_phone[number] = person_id
                        primary = person_id not in has_phone
                        phones.append(self._phone_row(person_id, number, sms, primary, now))
                        has_phone.add(person_id)
                        changed.add(person_id)
                    elif owner != person_id:
                        problems.append(Problem(candidate.lines[0], "", "phone_taken", number))
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
            (uuid4().hex, person_id, tag_ids[name], now)
            for person_id, names in wanted.items()
            for name in sorted(names)
            if (person_id, tag_ids[name]) not in existing
        ]
        bulk.insert(Tagging, TAGGING_COLUMNS, rows)
        return {person_id for _uuid, person_id, _tag, _now in rows}

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
        self,
        created: list[tuple[int, Candidate]],
        known: dict[int, list[Candidate]],
        now: dt.datetime,
    ) -> set[int]:
        """Grant the batch's consent where it is not already current.

        Never over a withdrawal, and never to a contact suppressed on the
        channel (someone who withdrew and was then erased). Returns the known
        people whose consent changed.
        """
        if not self.channels:
            return set()
        pairs = created + _pairs(known)
        current = self._states(known)
        grants: list[tuple[int, str]] = []
        moves: list[tuple[int, str, _State]] = []
        for channel in self.channels:
            wanted: dict[int, _State | None] = {person_id: None for person_id, _c in created}
            for person_id in known:
                state = current.get((person_id, channel))
                if self._to_grant(state):
                    wanted[person_id] = state
            blocked = self._suppressed(channel, pairs, wanted)
            for person_id, state in wanted.items():
                if person_id in blocked:
                    continue
                if state is None:
                    grants.append((person_id, channel))
                else:
                    moves.append((person_id, channel, state))
        record_ids = bulk.reserve_ids(ConsentRecord, len(grants) + len(moves))
        granted = list(zip(record_ids[: len(grants)], grants, strict=True))
        moved = _move_states(list(zip(record_ids[len(grants) :], moves, strict=True)), now)
        bulk.insert(ConsentRecord, RECORD_COLUMNS, self._records(granted + moved, now))
        states = [
            (person_id, channel, DEFAULT_PURPOSE, ConsentStatus.GRANTED, record_id, now)
            for record_id, (person_id, channel) in granted
        ]
        bulk.insert(ConsentState, STATE_COLUMNS, states)
        return {person_id for _id, (person_id, _ch) in granted + moved if person_id in known}

    def _to_grant(self, state: _State | None) -> bool:
        """No consent yet, or one other than this batch's that is not a withdrawal."""
        if state is None:
            return True
        this_grant = (ConsentStatus.GRANTED, self.batch.consent_wording)
        return (
            state.status != ConsentStatus.WITHDRAWN and (state.status, state.wording) != this_grant
        )

    def _states(self, known: dict[int, list[Candidate]]) -> dict[tuple[int, str], _State]:
        """The known people's consent on the batch's channels: one query."""
        rows = ConsentState.objects.filter(
            person_id__in=list(known), purpose=DEFAULT_PURPOSE, channel__in=self.channels
        ).values_list("person_id", "channel", "id", "status", "record_id", "record__wording")
        return {
            (person_id, channel): _State(state_id, status, record_id, wording)
            for person_id, channel, state_id, status, record_id, wording in rows
        }

    def _suppressed(
        self, channel: str, pairs: list[tuple[int, Candidate]], wanted: Collection[int]
    ) -> set[int]:
        """Those of `wanted` with a contact suppressed on `channel`: one query or two."""
        if not wanted:
            return set()
        # Most organizations have no suppressed contact: then a look at the
        # index spares a keyed hash of every contact and a lookup of them all.
        if not Suppression.objects.filter(
            organization_id=self.organization_id, channel=channel
        ).exists():
            return set()
        owners: dict[str, set[int]] = defaultdict(set)
        for person_id, candidate in pairs:
            if person_id not in wanted:
                continue
            contacts = candidate.emails if channel == Channel.EMAIL else candidate.numbers
            for contact in contacts:
                owners[contact].add(person_id)
        # People already known may hold suppressed contacts that this row lacks.
        model, column = (
            (PersonEmail, "address") if channel == Channel.EMAIL else (PersonPhone, "number")
        )
        stored = model.objects.filter(person_id__in=list(wanted)).values_list(column, "person_id")
        for contact, person_id in stored:
            owners[contact].add(person_id)
        found = suppressed(self.organization_id, channel, owners)
        return {person_id for contact in found for person_id in owners[contact]}

    def _records(
        self, grants: list[tuple[int, tuple[int, str]]], now: dt.datetime
    ) -> list[tuple[Any, ...]]:
        """The ledger's rows for these (record id, (person, channel))."""
        organization_id, source_ref = self.organization_id, self.source_ref
        wording, language = self.batch.consent_wording, self.batch.language
        return [
            (
                record_id,
                organization_id,
                person_id,
                channel,
                DEFAULT_PURPOSE,
                ConsentStatus.GRANTED,
                ConsentSource.IMPORT,
                source_ref,
                wording,
                language,
                now,
            )
            for record_id, (person_id, channel) in grants
        ]


def _move_states(
    moves: list[tuple[int, tuple[int, str, _State]]], now: dt.datetime
) -> list[tuple[int, tuple[int, str]]]:
    """Point consent states at their new records, where they are still as they were read.

    `moves` are (new record id, (person, channel, state read)). A state whose
    record changed since it was read (a withdrawal or a confirmation committed
    meanwhile), or that is withdrawn, is left alone. Returns the moves applied
    as (new record id, (person, channel)): only those get a record in the
    ledger. One statement per MOVE_BATCH states; their new records are
    inserted just after, in the same transaction (foreign keys are checked at
    commit).
    """
    table = ConsentState._meta.db_table
    row = "(CAST(%s AS BIGINT), CAST(%s AS BIGINT), CAST(%s AS BIGINT))"
    applied: set[int] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(moves), MOVE_BATCH):
            part = moves[start : start + MOVE_BATCH]
            cursor.execute(
                f'UPDATE "{table}" SET "status" = %s, "record_id" = v.column3,'  # noqa: S608
                f' "updated_at" = %s FROM (VALUES {", ".join([row] * len(part))}) AS v'
                f' WHERE "{table}"."id" = v.column1 AND "{table}"."record_id" = v.column2'
                f' AND "{table}"."status" <> %s RETURNING "{table}"."record_id"',
                [
                    ConsentStatus.GRANTED,
                    connection.ops.adapt_datetimefield_value(now),
                    *(
                        value
                        for record_id, (_person, _channel, state) in part
                        for value in (state.id, state.record_id, record_id)
                    ),
                    ConsentStatus.WITHDRAWN,
                ],
            )
            applied.update(record_id for (record_id,) in cursor.fetchall())
    return [
        (record_id, (person_id, channel))
        for record_id, (person_id, channel, _state) in moves
        if record_id in applied
    ]


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
    """Rows sharing an email or a phone number, directly or through other rows, are one person.

    Union-find over the rows: (email A), (phone P), then (A and P) make one
    person, where matching each row to the first candidate with one of its
    keys would make two who both claim P.
    """
    parent = list(range(len(rows)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    first_with: dict[str, int] = {}
    for index, row in enumerate(rows):
        for key in _keys(row):
            other = first_with.setdefault(key, index)
            if other != index:
                a, b = root(other), root(index)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    candidates: dict[int, Candidate] = {}
    for index, row in enumerate(rows):
        candidates.setdefault(root(index), Candidate()).absorb(row)
    return list(candidates.values())


def _keys(row: RowData) -> list[str]:
    return ([row.email] if row.email else []) + ([row.phone.number] if row.phone else [])


def _pairs(known: dict[int, list[Candidate]]) -> list[tuple[int, Candidate]]:
    return [(person_id, c) for person_id, group in known.items() for c in group]
