"""CSV import: receive the file, guess its shape, then import it in the background.

1. `receive_file` streams the upload to the import directory, hashes it and
   sniffs encoding, delimiter and header: a DRAFT batch.
2. `start_import` records the column mapping, the tags, and the importer's
   attestation of a lawful basis, then queues `run_import`.
3. `run_import` claims the batch, reads the file a chunk of rows at a time
   and writes each chunk in one transaction with the batch's progress, so
   memory stays flat, a cancel stops between chunks, a rerun after a crash
   resumes after the last committed chunk, and a second run of the same batch
   at once stops at its first chunk. Matching people and consent follow
   `upsert_person`'s rules, in bulk (see `import_writer`).
4. Whatever goes wrong, the batch ends FAILED with a code, never with the
   error's text (a database error quotes the row: personal data), and its file
   is deleted. The problem report goes 30 days after the import.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import logging
import queue
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from saha.core import audit
from saha.core.errors import Conflict, DomainError
from saha.core.jobs import enqueue_on_commit
from saha.organizations.roles import Permission
from saha.supporters.exporting import neutralize
from saha.supporters.import_rows import (
    EMAIL,
    PHONE,
    PROBLEM_TEXT,
    Problem,
    RowData,
    RowReader,
    auto_mapping,
    shown,
    without_controls,
)
from saha.supporters.models import CustomField, ImportBatch, ImportProblem, ImportStatus
from saha.supporters.services import tag_names

if TYPE_CHECKING:
    from saha.organizations.models import Membership, Organization

logger = logging.getLogger("saha.imports")

SAMPLE_BYTES = 64 * 1024
CHUNK_ROWS = 5000
MAX_STORED_PROBLEMS = 10_000
# A contact list has a dozen columns; thousands would make a mapping page
# nobody can use and a header row that is most of the sample.
MAX_COLUMNS = 200
ENCODINGS = {
    "auto": "",
    "utf-8": "utf-8-sig",
    "windows-1256": "cp1256",
    "windows-1252": "cp1252",
    "utf-16": "utf-16",
}
DELIMITERS = (",", ";", "\t", "|")
# csv's default field limit is 128 KiB; a cell larger than this is not a contact.
csv.field_size_limit(1024 * 1024)


class ImportFileError(DomainError):
    """A file that cannot be imported as it is (400)."""


class ClaimLost(Exception):
    """Another run of the same batch committed first: this one rolls back its chunk and stops."""


def file_too_large() -> ImportFileError:
    return ImportFileError(
        "file_too_large",
        _("The file is larger than %(size)s MB.") % {"size": settings.SAHA_IMPORT_MAX_MB},
    )


# Why a batch failed, as stored in `ImportBatch.failure`: a code, never an
# exception's text.
UNREADABLE, UNEXPECTED = "unreadable", "unexpected"
FAILURE_TEXT = {
    UNREADABLE: gettext_lazy(
        "The import stopped: the file could not be read further. What was imported before stays."
    ),
    UNEXPECTED: gettext_lazy(
        "The import stopped because of an unexpected error. What was imported before stays; "
        "your administrator can find the cause in the server's log."
    ),
}


def failure_text(batch: ImportBatch) -> str:
    """What to tell the member about a failed import ("" unless it failed)."""
    if batch.status != ImportStatus.FAILED:
        return ""
    return str(FAILURE_TEXT.get(batch.failure, FAILURE_TEXT[UNEXPECTED]))


def import_dir() -> Path:
    path = Path(settings.SAHA_IMPORT_DIR)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@dataclass(frozen=True)
class Sniffed:
    encoding: str
    delimiter: str
    header: list[str]
    sample: list[list[str]]


def receive_file(
    *,
    organization: Organization,
    actor: Any,
    name: str,
    chunks: Iterable[bytes],
    encoding: str = "auto",
) -> ImportBatch:
    """Store an uploaded CSV and read its header; raises ImportFileError with a clear code."""
    path = import_dir() / f"{uuid.uuid4().hex}.csv"
    digest, size = hashlib.sha256(), 0
    limit = settings.SAHA_IMPORT_MAX_MB * 1024 * 1024
    try:
        with path.open("wb") as out:
            path.chmod(0o600)
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise file_too_large()
                digest.update(chunk)
                out.write(chunk)
        with path.open("rb") as stored:
            sniffed = sniff(stored, ENCODINGS.get(encoding, ""))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                organization=organization,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
                file_name=without_controls(Path(name).name)[:255],
                stored_path=path.name,
                size=size,
                sha256=digest.hexdigest(),
                encoding=sniffed.encoding,
                delimiter=sniffed.delimiter,
                header=sniffed.header,
                mapping=auto_mapping(sniffed.header, CustomField.objects.for_org(organization)),
            )
            audit.log(
                actor, "supporters.import.uploaded", batch, {"file": batch.file_name, "size": size}
            )
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return batch


def sniff(stored: BinaryIO, encoding: str = "") -> Sniffed:
    head = stored.read(SAMPLE_BYTES)
    if not head.strip():
        raise ImportFileError("empty_file", _("The file is empty."))
    if head.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            "spreadsheet",
            _("This is a spreadsheet workbook: save it as “CSV UTF-8” and try again."),
        )
    encoding = encoding or _guess_encoding(head)
    if "\x00" in head.decode("latin-1") and not encoding.startswith("utf-16"):
        raise ImportFileError("not_text", _("This file is not a CSV file."))
    text = head.decode(encoding, errors="replace")
    if len(head) == SAMPLE_BYTES:
        text = text.rsplit("\n", 1)[0]  # the last line may be cut
    first_line = text.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first_line.count)
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error:
        raise ImportFileError("not_csv", _("This file could not be read as CSV.")) from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise ImportFileError("empty_file", _("The file is empty."))
    if len(rows[0]) > MAX_COLUMNS:
        raise ImportFileError(
            "too_many_columns",
            _("The file has more than %(count)s columns: keep only those to import.")
            % {"count": MAX_COLUMNS},
        )
    # Stored as JSON and shown: no control characters (PostgreSQL refuses NUL).
    header = [without_controls(cell).strip().lstrip("\ufeff") for cell in rows[0]]
    return Sniffed(encoding=encoding, delimiter=delimiter, header=header, sample=rows[1:6])


def _guess_encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for cut in range(4):  # the sample may end inside a multi-byte character
        try:
            head[: len(head) - cut].decode("utf-8")
            return "utf-8-sig"
        except UnicodeDecodeError:
            continue
    raise ImportFileError(
        "not_utf8",
        "The file is not UTF-8. Save it as “CSV UTF-8”, or choose its encoding "
        "(Windows Arabic is common for Arabic files made in older Excel).",
    )


def sample_rows(batch: ImportBatch, count: int = 5) -> list[list[str]]:
    path = import_dir() / batch.stored_path
    if not batch.stored_path or not path.exists():
        return []
    with path.open("rb") as stored:
        return sniff(stored, batch.encoding).sample[:count]


def start_import(
    *,
    batch: ImportBatch,
    actor: Any,
    mapping: dict[str, str],
    tags: list[str],
    language: str,
    consent_email: bool,
    consent_sms: bool,
    consent_wording: str,
    lawful_basis: str,
    attested: bool,
    enqueue: bool = True,
) -> ImportBatch:
    targets = set(mapping.values())
    if not targets & {EMAIL, PHONE}:
        raise ImportFileError(
            "missing_columns", _("Choose the column with emails or the one with phones.")
        )
    if not attested:
        raise ImportFileError("not_attested", _("Confirm that you may import these people."))
    if (consent_email or consent_sms) and not consent_wording.strip():
        raise ImportFileError(
            "wording_required", _("Give the words these people agreed to, as the proof of consent.")
        )
    with transaction.atomic():
        updated = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.DRAFT).update(
            mapping={k: v for k, v in mapping.items() if v},
            # Cleaned and cut to a tag's length, as every other way of tagging does.
            tags=tag_names(tags),
            language=language,
            consent_email=consent_email,
            consent_sms=consent_sms,
            consent_wording=consent_wording.strip(),
            lawful_basis=lawful_basis,
            attested=True,
            status=ImportStatus.QUEUED,
        )
        if not updated:
            raise Conflict("import_started", _("This import has already started."))
        batch.refresh_from_db()
        audit.log(
            actor,
            "supporters.import.started",
            batch,
            {"file": batch.file_name, "size": batch.size, "lawful_basis": lawful_basis},
        )
        if enqueue:
            from saha.supporters.tasks import run_import_task

            enqueue_on_commit(run_import_task, batch.pk)
    return batch


def cancel_import(*, batch: ImportBatch, actor: Any) -> bool:
    """Discard a draft, or ask a running import to stop; False if there was nothing to cancel."""
    with transaction.atomic():
        discarded = ImportBatch.objects.filter(pk=batch.pk, status=ImportStatus.DRAFT).update(
            status=ImportStatus.CANCELLED, finished_at=timezone.now()
        )
        if discarded:
            _remove_file(batch)
            changed = discarded
        else:
            changed = ImportBatch.objects.filter(
                pk=batch.pk,
                status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING],
                cancel_requested=False,
            ).update(cancel_requested=True)
        if changed:
            audit.log(actor, "supporters.import.cancelled", batch)
    return bool(changed)


def run_import(
    batch_id: int,
    chunk_rows: int = CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> ImportBatch | None:
    """Import a queued batch; safe to run twice (the second run resumes or does nothing)."""
    batch = ImportBatch.objects.select_related("organization").filter(pk=batch_id).first()
    if batch is None or batch.is_finished or batch.status == ImportStatus.DRAFT:
        return batch
    if not _claim(batch):
        batch.refresh_from_db()
        return batch
    try:
        return _import(batch, chunk_rows, progress)
    except ClaimLost:
        batch.refresh_from_db()
        return batch
    except (csv.Error, UnicodeError, OSError) as error:
        return _fail(batch, UNREADABLE, error)
    except Exception as error:  # whatever it is, the batch must not stay RUNNING
        return _fail(batch, UNEXPECTED, error)


def _claim(batch: ImportBatch) -> bool:
    """Take the batch for this run, as it was read: QUEUED, or RUNNING with as many rows
    committed (a worker died and the task runs again).

    Two runs that read it RUNNING both get it: whichever commits a chunk first
    moves `rows_committed`, which stops the other (see `ChunkWriter.write`).
    """
    return bool(
        ImportBatch.objects.filter(
            pk=batch.pk, status=batch.status, rows_committed=batch.rows_committed
        ).update(status=ImportStatus.RUNNING, started_at=batch.started_at or timezone.now())
    )


def _import(
    batch: ImportBatch, chunk_rows: int, progress: Callable[[int], None] | None
) -> ImportBatch:
    from saha.supporters.import_writer import ChunkWriter

    path = import_dir() / batch.stored_path
    custom = list(CustomField.objects.for_org(batch.organization))
    reader = RowReader(batch.header, batch.mapping, custom)
    writer = ChunkWriter(batch)
    rows_done = batch.rows_committed
    with path.open("rb") as raw, _Parser(raw, batch, reader, chunk_rows) as parsed:
        for chunk in parsed:
            if ImportBatch.objects.filter(pk=batch.pk, cancel_requested=True).exists():
                return _finish(batch, ImportStatus.CANCELLED)
            writer.write(
                chunk.rows,
                chunk.problems,
                rows_in_chunk=chunk.size,
                position=chunk.position,
                committed=rows_done,
            )
            rows_done += chunk.size
            batch.rows_committed = rows_done  # this run's own count, for _finish
            if progress:
                progress(rows_done)
    return _finish(batch, ImportStatus.DONE)


def _fail(batch: ImportBatch, code: str, error: Exception) -> ImportBatch:
    # The class only: a database error's text quotes the row (an address, a
    # number), and the log is kept longer than the people in it.
    logger.error("import %s failed: %s", batch.pk, type(error).__name__)
    return _finish(batch, ImportStatus.FAILED, failure=code)


@dataclass
class ParsedChunk:
    rows: list[RowData]
    problems: list[Problem]
    size: int
    position: int


class _Parser:
    """Reads and checks the next chunk in a thread while the database writes this one.

    The writer spends most of its time waiting for the database, which releases
    the GIL: parsing there is nearly free. The queue holds two chunks at most, so
    memory stays flat.
    """

    _DONE = object()

    def __init__(self, raw: BinaryIO, batch: ImportBatch, reader: RowReader, size: int) -> None:
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=2)
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=self._produce, args=(raw, batch, reader, size), daemon=True
        )

    def _produce(self, raw: BinaryIO, batch: ImportBatch, reader: RowReader, size: int) -> None:
        try:
            for chunk, position in _chunks(raw, batch, size):
                problems: list[Problem] = []
                rows = [
                    row
                    for line, cells in chunk
                    if (row := reader.read(line, cells, problems)) is not None
                ]
                if not self._put(ParsedChunk(rows, problems, len(chunk), position)):
                    return
            self._put(self._DONE)
        except BaseException as error:  # handed to the writer's thread
            self._put(error)

    def _put(self, item: Any) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    def __enter__(self) -> Iterator[ParsedChunk]:
        self.thread.start()
        return self._iterate()

    def _iterate(self) -> Iterator[ParsedChunk]:
        while True:
            item = self.queue.get()
            if item is self._DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def _chunks(
    raw: BinaryIO, batch: ImportBatch, size: int
) -> Iterator[tuple[list[tuple[int, list[str]]], int]]:
    """Rows after the header and after those already committed, `size` at a time."""
    text = io.TextIOWrapper(raw, encoding=batch.encoding, errors="replace", newline="")
    rows = csv.reader(text, delimiter=batch.delimiter)
    skip = batch.rows_committed
    chunk: list[tuple[int, list[str]]] = []
    header_seen = False
    for cells in rows:
        if not header_seen:
            header_seen = any(cell.strip() for cell in cells)
            continue
        line = rows.line_num
        if skip:
            skip -= 1
            continue
        chunk.append((line, cells))
        if len(chunk) >= size:
            yield chunk, raw.tell()
            chunk = []
    if chunk:
        yield chunk, raw.tell()


def _finish(batch: ImportBatch, status: str, failure: str = "") -> ImportBatch:
    with transaction.atomic():
        # Only the run that owns the batch finishes it: the count of committed
        # rows it last wrote must still be there (a losing duplicate run that
        # fails must not fail the winner's import).
        finished = ImportBatch.objects.filter(
            pk=batch.pk, status=ImportStatus.RUNNING, rows_committed=batch.rows_committed
        ).update(status=status, failure=failure, finished_at=timezone.now())
        batch.refresh_from_db()
        if not finished:
            return batch  # finished by another run, which removed the file
        audit.log(
            "system:import",
            f"supporters.import.{status}",
            batch,
            {
                "rows": batch.rows_read,
                "created": batch.created_count,
                "updated": batch.updated_count,
                "unchanged": batch.unchanged_count,
                "problems": batch.problem_count,
            },
        )
    _remove_file(batch)
    return batch


DRAFT_LIFETIME = dt.timedelta(days=1)
PROBLEM_LIFETIME = dt.timedelta(days=30)


def discard_stale_drafts(now: dt.datetime | None = None) -> int:
    """Cancel uploads whose columns nobody matched within a day, and delete their files."""
    cutoff = (now or timezone.now()) - DRAFT_LIFETIME
    stale = list(
        ImportBatch.objects.filter(status=ImportStatus.DRAFT, created_at__lt=cutoff).order_by("pk")
    )
    for batch in stale:
        cancel_import(batch=batch, actor="system:imports")
    return len(stale)


def discard_old_problems(now: dt.datetime | None = None) -> int:
    """Delete the problem rows of imports finished more than 30 days ago; the counts stay.

    A problem row holds a raw cell of the file (a mistyped address, a name in
    the wrong column) and names no person, so erasing a person cannot find
    it: their values can survive here. Deleting every problem row 30 days
    after its import is what bounds that, as it bounds the report's life.
    """
    cutoff = (now or timezone.now()) - PROBLEM_LIFETIME
    deleted, _by_model = ImportProblem.objects.filter(batch__finished_at__lt=cutoff).delete()
    return deleted


def _remove_file(batch: ImportBatch) -> None:
    """The uploaded file holds personal data: it goes once it has served."""
    if batch.stored_path:
        (import_dir() / batch.stored_path).unlink(missing_ok=True)


def store_problems(batch: ImportBatch, problems: list[Problem]) -> None:
    room = MAX_STORED_PROBLEMS - batch.problem_count
    if room > 0 and problems:
        ImportProblem.objects.bulk_create(
            ImportProblem(
                batch=batch, row=p.line, column=shown(p.column), code=p.code, value=shown(p.value)
            )
            for p in problems[:room]
        )


def problem_report(batch: ImportBatch) -> Iterator[list[str]]:
    """The validation report as CSV rows: row, column, problem, value.

    The column and the value come from the file: one that a spreadsheet would
    run as a formula is neutralized, as in an export.
    """
    yield [_("Row"), _("Column"), _("Problem"), _("Value")]
    for problem in batch.problems.all().iterator(chunk_size=2000):
        text = PROBLEM_TEXT.get(problem.code, problem.code)
        yield [str(problem.row), neutralize(problem.column), str(text), neutralize(problem.value)]


def may_download_report(batch: ImportBatch, membership: Membership) -> bool:
    """The report quotes the file: for the member who imported it, or one who may export."""
    return (
        batch.created_by_id is not None and batch.created_by_id == membership.user_id
    ) or membership.can(Permission.EXPORT_PEOPLE)


def download_report(*, actor: Any, batch: ImportBatch) -> Iterator[list[str]]:
    """The problem report, audited with its number of rows (the caller checked who may)."""
    rows = batch.problems.count()
    audit.log(actor, "supporters.import.report_downloaded", batch, {"rows": rows})
    return problem_report(batch)
