"""CSV import: the file's shape, each cell's checks, matching, consent, resuming and cancelling."""

from __future__ import annotations

import io

import pytest
from django.test import override_settings
from django.utils import translation

from saha.core.errors import DomainError
from saha.core.models import AuditEntry
from saha.supporters import importing
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.models import (
    ConsentRecord,
    ConsentState,
    ConsentStatus,
    CustomField,
    ImportBatch,
    ImportStatus,
    Person,
    PersonEmail,
    Tag,
)
from saha.supporters.tests.people_factories import receive_csv, start_import
from saha.supporters.timeline import timeline

pytestmark = pytest.mark.django_db

CSV = (
    "First name,Last name,Email,Mobile,Governorate,Language,Tags\n"
    'Rania,Haddad,rania@example.org,03 123 456,Beirut,ar,"volunteers, north"\n'
    "Élodie,Martin,ELODIE@example.org,+33 6 12 34 56 78,Paris,French,\n"
    "أحمد,الخطيب,ahmad@example.org,71 234 567,عكار,العربية,\n"
)


@pytest.fixture(autouse=True)
def _import_dir(tmp_path, settings):
    settings.SAHA_IMPORT_DIR = tmp_path / "imports"


receive = receive_csv


def run(
    owner,
    batch: ImportBatch,
    *,
    consent_email: bool = False,
    tags=(),
    chunk_rows: int = 2000,
    **extra,
):
    start_import(
        owner,
        batch,
        mapping=extra.pop("mapping", batch.mapping),
        tags=list(tags),
        language="ar",
        consent_email=consent_email,
        consent_wording="I want news from Friends of the Shore." if consent_email else "",
    )
    return importing.run_import(batch.pk, chunk_rows=chunk_rows)


def test_header_is_recognized_in_any_language(owner) -> None:
    batch = receive(owner, CSV)
    assert batch.status == ImportStatus.DRAFT
    assert batch.mapping == {
        "0": "given_name",
        "1": "family_name",
        "2": "email",
        "3": "phone",
        "4": "region",
        "5": "language",
        "6": "tags",
    }
    arabic = receive(owner, "الاسم الأول,اسم العائلة,البريد الإلكتروني,الهاتف\n")
    assert arabic.mapping == {"0": "given_name", "1": "family_name", "2": "email", "3": "phone"}


def test_import_creates_people_with_contacts_tags_and_consent(owner) -> None:
    batch = run(owner, receive(owner, CSV), consent_email=True, tags=["2026 list"])
    assert batch.status == ImportStatus.DONE
    assert (batch.created_count, batch.updated_count, batch.problem_count) == (3, 0, 0)
    rania = Person.objects.get(emails__address="rania@example.org")
    assert rania.phones.get().number == "+9613123456"
    assert rania.region == "Beirut" and rania.language == "ar"
    assert set(rania.taggings.values_list("tag__name", flat=True)) == {
        "volunteers",
        "north",
        "2026 list",
    }
    assert PersonEmail.objects.get(address="elodie@example.org").person.language == "fr"
    record = ConsentRecord.objects.get(person=rania)
    assert record.source == "import" and record.source_ref == f"import:{batch.pk}"
    assert record.wording == "I want news from Friends of the Shore."
    assert ConsentState.objects.get(person=rania).status == ConsentStatus.GRANTED
    assert Person.objects.for_org(owner.organization).search("احمد").count() == 1
    assert AuditEntry.objects.filter(action="supporters.import.done").exists()
    # the person's timeline tells how they arrived and what they agreed to
    kinds = [moment.kind for moment in timeline(rania)]
    assert sorted(kinds) == ["consent", "created"]


def test_importing_the_same_file_twice_changes_nothing(owner) -> None:
    run(owner, receive(owner, CSV), consent_email=True, tags=["x"])
    counts = (Person.objects.count(), ConsentRecord.objects.count(), Tag.objects.count())
    second = run(owner, receive(owner, CSV), consent_email=True, tags=["x"])
    assert (second.created_count, second.updated_count, second.unchanged_count) == (0, 0, 3)
    assert (Person.objects.count(), ConsentRecord.objects.count(), Tag.objects.count()) == counts


def test_duplicates_within_the_file_and_against_existing_people_merge(owner) -> None:
    # given a person known by phone only
    first = run(owner, receive(owner, "Name,Phone\nRania,03 123 456\n"))
    assert first.created_count == 1
    text = (
        "Name,Email,Phone\n"
        "Rania Haddad,rania@example.org,03123456\n"
        "R. Haddad,RANIA@example.org,\n"
        "Sami Nasr,sami@example.org,\n"
    )
    batch = run(owner, receive(owner, text), chunk_rows=2)
    assert Person.objects.count() == 2
    rania = Person.objects.get(phones__number="+9613123456")
    assert list(rania.emails.values_list("address", flat=True)) == ["rania@example.org"]
    assert rania.family_name == "Haddad"  # filled, the given name kept
    assert batch.created_count == 1 and batch.updated_count + batch.unchanged_count == 2


def test_bad_cells_are_reported_and_the_rest_imported(owner) -> None:
    CustomField.objects.create(
        organization=owner.organization,
        key="branch",
        labels={"en": "Branch"},
        kind="choice",
        choices=["North", "South"],
    )
    text = (
        "Name,Email,Phone,Branch,Country\n"
        '=HYPERLINK("http://x"),a@example.org,,North,LB\n'
        "Bob,not-an-email,12,West,Lebanon\n"
        "Carla,,,,\n"
        "Dana,dana@example.org,999,south,lb\n"
    )
    batch = run(owner, receive(owner, text))
    assert batch.status == ImportStatus.DONE
    codes = sorted((p.row, p.code) for p in batch.problems.all())
    assert codes == [
        (2, "formula"),
        (3, "invalid_choice"),
        (3, "invalid_country"),
        (3, "invalid_email"),
        (3, "invalid_phone"),
        (3, "no_contact"),
        (4, "no_contact"),
        (5, "invalid_phone"),
    ]
    dana = Person.objects.get(emails__address="dana@example.org")
    assert dana.custom_fields == {"branch": "South"} and dana.country == "LB"
    assert Person.objects.get(emails__address="a@example.org").given_name == ""
    with translation.override("en"):
        report = list(importing.problem_report(batch))
    assert report[0] == ["Row", "Column", "Problem", "Value"] and len(report) == 9


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"PK\x03\x04binary", "spreadsheet"),
        ("Nom,Courriel\nÉlodie,e@example.org\n".encode("cp1252"), "not_utf8"),
        (b"\x00\x01\x02\x00binary\x00", "not_text"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(owner, data, code) -> None:
    with pytest.raises(DomainError) as caught:
        receive(owner, data)
    assert caught.value.code == code
    assert ImportBatch.objects.count() == 0


def test_bom_windows_arabic_and_semicolons(owner) -> None:
    bom = receive(owner, "\ufeffEmail;Nom\nx@example.org;Haddad\n")
    assert bom.delimiter == ";" and bom.header == ["Email", "Nom"]
    arabic = "الاسم,البريد\nسامي,sami@example.org\n".encode("cp1256")
    batch = run(owner, receive(owner, arabic, encoding="windows-1256"))
    assert Person.objects.get(emails__address="sami@example.org").given_name == "سامي"
    assert batch.problem_count == 0


def test_import_never_regrants_a_withdrawn_consent(owner) -> None:
    run(owner, receive(owner, CSV), consent_email=True)
    rania = Person.objects.get(emails__address="rania@example.org")
    record_consent(
        person=rania,
        grant=ConsentGrant(channel="email", wording="", source="unsubscribe", status="withdrawn"),
    )
    run(owner, receive(owner, CSV), consent_email=True)
    assert ConsentState.objects.get(person=rania).status == ConsentStatus.WITHDRAWN


def test_a_rerun_resumes_after_the_last_committed_chunk(owner) -> None:
    lines = "".join(f"P{i},p{i}@example.org\n" for i in range(10))
    batch = receive(owner, "Name,Email\n" + lines)
    start_import(owner, batch)
    # given a worker that died after committing 4 rows and leaving the batch RUNNING
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.RUNNING, rows_committed=4, rows_read=4
    )
    # when the task runs again
    done = importing.run_import(batch.pk, chunk_rows=3)
    # then only the remaining rows are read
    assert done.rows_read == 10 and done.created_count == 6
    assert Person.objects.count() == 6


def test_cancel_stops_between_chunks_and_keeps_what_was_imported(owner) -> None:
    lines = "".join(f"P{i},p{i}@example.org\n" for i in range(10))
    batch = receive(owner, "Name,Email\n" + lines)
    start_import(owner, batch)
    ImportBatch.objects.filter(pk=batch.pk).update(
        rows_committed=3, rows_read=3, cancel_requested=True
    )
    done = importing.run_import(batch.pk, chunk_rows=3)
    assert done.status == ImportStatus.CANCELLED
    assert not (importing.import_dir() / done.stored_path).exists()


def test_start_requires_a_contact_column_an_attestation_and_wording(owner) -> None:
    batch = receive(owner, CSV)
    with pytest.raises(DomainError) as caught:
        start_import(owner, batch, mapping={"0": "given_name"})
    assert caught.value.code == "missing_columns"
    with pytest.raises(DomainError) as caught:
        start_import(owner, batch, attested=False)
    assert caught.value.code == "not_attested"
    with pytest.raises(DomainError) as caught:
        start_import(owner, batch, consent_email=True, consent_wording=" ")
    assert caught.value.code == "wording_required"


@override_settings(SAHA_IMPORT_MAX_MB=1)
def test_a_file_over_the_limit_is_refused_and_not_kept(owner, tmp_path) -> None:
    big = b"Email\n" + b"x@example.org\n" * 80_000
    with pytest.raises(DomainError) as caught:
        receive(owner, big)
    assert caught.value.code == "file_too_large"
    assert list(importing.import_dir().iterdir()) == []


def test_memory_does_not_grow_with_the_file(owner) -> None:
    import tracemalloc

    def peak(rows: int) -> int:
        text = "Email\n" + "".join(f"m{i}@example.org\n" for i in range(rows))
        batch = receive(owner, io.BytesIO(text.encode()).getvalue())
        tracemalloc.start()
        run(owner, batch, chunk_rows=500)
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(1000), peak(6000)
    # Six times the rows: memory that grew with the file would be about six
    # times larger. Under three leaves room for what varies between runs
    # (PostgreSQL's prepared statements, a garbage collection landing in one).
    assert large < small * 3


def test_uploads_never_started_are_discarded_after_a_day(owner) -> None:
    import datetime as dt

    from django.utils import timezone

    fresh, stale = receive(owner, CSV), receive(owner, CSV)
    ImportBatch.objects.filter(pk=stale.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    assert importing.discard_stale_drafts() == 1
    stale.refresh_from_db()
    assert stale.status == ImportStatus.CANCELLED
    assert not (importing.import_dir() / stale.stored_path).exists()
    assert (importing.import_dir() / fresh.stored_path).exists()
