"""CSV import under stress: failures, odd cells, races, suppressed contacts, old reports."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import logging
import threading
import time
from unittest import mock

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from saha.core.errors import DomainError
from saha.core.models import AuditEntry
from saha.supporters import bulk, cli, importing, services
from saha.supporters.consent import ConsentGrant, record_consent
from saha.supporters.import_rows import convert_custom
from saha.supporters.import_writer import ChunkWriter
from saha.supporters.models import (
    ConsentRecord,
    ConsentState,
    CustomField,
    ImportBatch,
    ImportProblem,
    ImportStatus,
    Person,
    Suppression,
    Tag,
)
from saha.supporters.tasks import discard_stale_imports
from saha.supporters.tests.people_factories import (
    EmailFactory,
    PersonFactory,
    postgres_only,
    receive_csv,
    run_at_once,
    start_import,
)

pytestmark = pytest.mark.django_db

WORDING = "I want news from Friends of the Shore."


@pytest.fixture(autouse=True)
def _import_dir(tmp_path, settings):
    settings.SAHA_IMPORT_DIR = tmp_path / "imports"


def receive(owner, text: str | bytes, encoding: str = "auto") -> ImportBatch:
    return receive_csv(owner, text, encoding=encoding)


def start(owner, batch: ImportBatch, **overrides) -> ImportBatch:
    consent = overrides.pop("consent", False)
    wording = WORDING if consent else ""
    options = {"consent_email": consent, "consent_sms": consent, "consent_wording": wording}
    return start_import(owner, batch, language="en", **{**options, **overrides})


def run(
    owner, text: str | bytes, *, chunk_rows: int = 2000, encoding: str = "auto", **overrides
) -> ImportBatch:
    batch = start(owner, receive(owner, text, encoding), **overrides)
    done = importing.run_import(batch.pk, chunk_rows=chunk_rows)
    assert done is not None
    return done


class TestFailure:
    def test_any_error_fails_the_batch_with_a_code_and_deletes_the_file(self, owner, caplog):
        batch = start(owner, receive(owner, "Email\nrania@example.org\n"))
        leak = "Key (organization_id, number)=(1, +9613123456) already exists."

        with (
            caplog.at_level(logging.INFO),
            mock.patch.object(ChunkWriter, "_write", side_effect=RuntimeError(leak)),
        ):
            done = importing.run_import(batch.pk)

        assert done.status == ImportStatus.FAILED
        assert done.failure == importing.UNEXPECTED
        assert not (importing.import_dir() / done.stored_path).exists()
        assert "+9613123456" not in caplog.text
        assert f"import {batch.pk} failed: RuntimeError" in caplog.text
        entry = AuditEntry.objects.get(action="supporters.import.failed")
        assert "+9613123456" not in str(entry.data)
        assert importing.failure_text(done)


class TestGrouping:
    def test_rows_linked_through_a_third_row_make_one_person(self, owner) -> None:
        text = (
            "Email,Phone\n"
            "rania@example.org,\n"
            ",03 123 456\n"
            "rania.work@example.org,\n"
            "rania@example.org,03 123 456\n"
            "rania.work@example.org,03 123 456\n"
        )

        done = run(owner, text)

        assert done.status == ImportStatus.DONE and done.created_count == 1
        rania = Person.objects.get()
        assert sorted(rania.emails.values_list("address", flat=True)) == [
            "rania.work@example.org",
            "rania@example.org",
        ]
        assert list(rania.phones.values_list("number", flat=True)) == ["+9613123456"]


class TestControlCharacters:
    def test_a_nul_in_a_bad_cell_is_not_stored(self, owner) -> None:
        text = "Email,Name\nbad\x00mail,Ra\x00nia\nok@example.org,Sa\x07mi\n"

        done = run(owner, text.encode("utf-16"), encoding="utf-16")

        assert done.status == ImportStatus.DONE
        problem = ImportProblem.objects.get(batch=done, code="invalid_email")
        assert problem.value == "badmail"
        assert Person.objects.get().given_name == "Sami"

    def test_a_header_with_control_characters_is_cleaned(self, owner) -> None:
        batch = receive(owner, "E\x00mail,Na\x1bme\nrania@example.org,Rania\n".encode("utf-16"))

        assert batch.header == ["Email", "Name"]


class TestBatchTags:
    def test_tags_are_cleaned_and_cut_to_a_tags_length(self, owner) -> None:
        long = "x" * 150

        done = run(owner, "Email\nrania@example.org\n", tags=[long, "  spring\u200f  fair ", ""])

        assert done.status == ImportStatus.DONE
        assert done.tags == ["spring fair", "x" * 100]
        assert set(Tag.objects.values_list("name", flat=True)) == {"spring fair", "x" * 100}


class TestNumbers:
    @pytest.mark.parametrize(
        ("cell", "expected"),
        [
            ("42", 42),
            ("-3e2", -300),
            ("1,5", 1.5),
            ("12345678901234567890", 12345678901234567890),
            ("1.50000000000000000000000", 1.5),
            ("123456789012345678901", None),
            ("1e21", None),
            ("1e-21", None),
            ("1e5000", None),
            ("1e999999999", None),
            ("-1e999999999", None),
            ("NaN", None),
        ],
    )
    def test_only_reasonable_numbers_are_kept(self, owner, cell, expected) -> None:
        field = CustomField(organization=owner.organization, key="n", kind="number")
        started = time.perf_counter()

        assert convert_custom(field, cell) == expected
        assert time.perf_counter() - started < 2

    def test_a_huge_number_is_a_problem_not_a_failure(self, owner) -> None:
        CustomField.objects.create(
            organization=owner.organization, key="dues", labels={"en": "Dues"}, kind="number"
        )

        done = run(owner, "Email,Dues\na@example.org,1e5000\nb@example.org,12\n")

        assert done.status == ImportStatus.DONE
        assert [p.code for p in done.problems.all()] == ["invalid_number"]
        assert Person.objects.get(emails__address="b@example.org").custom_fields == {"dues": 12}


class TestReport:
    def test_cells_a_spreadsheet_would_run_are_neutralized(self, owner) -> None:
        done = run(owner, '=Email\n"=HYPERLINK(""http://evil"")"\n', mapping={"0": "email"})

        rows = list(importing.problem_report(done))

        assert rows[1][0] == "2" and rows[1][1] == "'=Email"
        assert rows[1][3] == '\'=HYPERLINK("http://evil")'

    def test_the_command_line_report_is_neutralized_and_audited(self, owner, tmp_path) -> None:
        source, report = tmp_path / "people.csv", tmp_path / "problems.csv"
        source.write_text('Email\n"=1+2"\nrania@example.org\n')
        args = argparse.Namespace(
            file=source,
            org=owner.organization.slug,
            tag=["x" * 150],
            encoding="auto",
            language="",
            consent_email=False,
            consent_sms=False,
            wording="",
            lawful_basis="consent",
            attest=True,
            report=report,
        )

        assert cli.cmd_import(args) == 0

        with report.open(encoding="utf-8-sig") as written:
            rows = list(csv.reader(written))
        assert rows[1][3] == "'=1+2"
        entry = AuditEntry.objects.get(action="supporters.import.report_downloaded")
        assert entry.actor_label == "cli" and entry.data == {"rows": 2}
        assert Tag.objects.get().name == "x" * 100

    def test_problems_go_30_days_after_the_import_and_the_counts_stay(self, owner) -> None:
        old = run(owner, "Email\nbad\nworse\n")
        recent = run(owner, "Email\nbad\n")
        now = timezone.now()
        ImportBatch.objects.filter(pk=old.pk).update(finished_at=now - dt.timedelta(days=31))
        ImportBatch.objects.filter(pk=recent.pk).update(finished_at=now - dt.timedelta(days=29))

        result = discard_stale_imports.call()

        assert result == {"drafts": 0, "problems": 4}  # invalid_email and no_contact, twice
        assert not ImportProblem.objects.filter(batch=old).exists()
        assert ImportProblem.objects.filter(batch=recent).count() == 2
        old.refresh_from_db()
        assert old.problem_count == 4


class TestConsent:
    def test_new_words_for_people_already_known_replace_their_consent(self, owner) -> None:
        run(owner, "Email\nrania@example.org\n", consent=True)

        done = run(owner, "Email\nrania@example.org\n", consent=True, consent_wording="New words.")

        assert done.status == ImportStatus.DONE and done.updated_count == 1
        states = ConsentState.objects.filter(person__emails__address="rania@example.org")
        assert {(s.channel, s.record.wording) for s in states} == {
            ("email", "New words."),
            ("sms", "New words."),
        }
        assert ConsentRecord.objects.count() == 4

    def test_a_withdrawal_committed_during_the_chunk_stands(self, owner) -> None:
        run(owner, "Email\nrania@example.org\nsami@example.org\n", consent=True)
        rania = Person.objects.get(emails__address="rania@example.org")
        real = bulk.reserve_ids
        fired = []

        def withdraw_meanwhile(model, count):
            # After the import read the consent states, before it writes them.
            if model is ConsentRecord and not fired:
                fired.append(
                    record_consent(
                        person=rania,
                        grant=ConsentGrant(
                            channel="email", wording="", source="unsubscribe", status="withdrawn"
                        ),
                    )
                )
            return real(model, count)

        batch = start(
            owner,
            receive(owner, "Email\nrania@example.org\nsami@example.org\n"),
            consent=True,
            consent_wording="New words.",
        )
        with mock.patch.object(bulk, "reserve_ids", side_effect=withdraw_meanwhile):
            done = importing.run_import(batch.pk)

        assert fired and done.status == ImportStatus.DONE
        assert ConsentState.objects.get(person=rania, channel="email").status == "withdrawn"
        assert not ConsentRecord.objects.filter(
            person=rania, channel="email", source_ref=f"import:{batch.pk}"
        ).exists()
        sami = ConsentState.objects.get(person__emails__address="sami@example.org", channel="email")
        assert (
            sami.record.wording == "New words." and sami.record.source_ref == f"import:{batch.pk}"
        )

    def test_a_suppressed_contact_never_gets_consent(self, owner) -> None:
        # given someone who withdrew, then was erased
        gone = PersonFactory(
            organization=owner.organization, email="rania@example.org", phone="+9613123456"
        )
        EmailFactory(person=gone, address="rania.old@example.org")
        for channel in ("email", "sms"):
            record_consent(
                person=gone,
                grant=ConsentGrant(
                    channel=channel, wording="", source="unsubscribe", status="withdrawn"
                ),
            )
        services.erase_person(actor=owner.user, person=gone)
        assert Suppression.objects.count() == 3
        # and Sami, known by his number
        sami = PersonFactory(organization=owner.organization, phone="+9613999999")
        text = (
            "Email,Phone\n"
            "rania@example.org,03 123 456\n"
            "rania.old@example.org,03 999 999\n"
            "new@example.org,\n"
        )

        with CaptureQueriesContext(connection) as queries:
            done = run(owner, text, consent=True)

        assert done.status == ImportStatus.DONE and done.created_count == 2
        rania = Person.objects.get(emails__address="rania@example.org")
        assert not ConsentState.objects.filter(person=rania).exists()
        # the old address his row brings is suppressed for email; his number is not
        assert set(ConsentState.objects.filter(person=sami).values_list("channel", flat=True)) == {
            "sms"
        }
        newcomer = Person.objects.get(emails__address="new@example.org")
        assert ConsentState.objects.filter(person=newcomer).count() == 2
        lookups = [q for q in queries.captured_queries if "supporters_suppression" in q["sql"]]
        assert len(lookups) == 4  # per channel for the one chunk: is there any, which ones

    def test_a_suppressed_contact_blocks_a_change_of_wording_too(self, owner) -> None:
        run(owner, "Email\nrania@example.org\n", consent=True)
        rania = Person.objects.get()
        Suppression.objects.create(
            organization=owner.organization,
            channel="email",
            digest=_digest(owner.organization.pk, "rania@example.org"),
        )

        run(owner, "Email\nrania@example.org\n", consent=True, consent_wording="Other words.")

        assert ConsentState.objects.get(person=rania, channel="email").record.wording == WORDING


def _digest(organization_id: int, contact: str) -> str:
    from saha.supporters.suppression import _digests

    return _digests(organization_id, contact)[0]


class TestClaim:
    def test_a_second_run_at_once_stops_and_nothing_is_counted_twice(self, owner) -> None:
        lines = "".join(f"P{i},p{i}@example.org\n" for i in range(10))
        batch = start(owner, receive(owner, "Name,Email\n" + lines))
        second = []

        def meanwhile(rows: int) -> None:
            # After the first chunk, the same batch's task runs again to the end.
            if not second:
                second.append(importing.run_import(batch.pk, chunk_rows=3))

        first = importing.run_import(batch.pk, chunk_rows=3, progress=meanwhile)

        assert second[0].status == ImportStatus.DONE
        batch.refresh_from_db()
        assert first.status == batch.status == ImportStatus.DONE
        assert (batch.rows_committed, batch.rows_read, batch.created_count) == (10, 10, 10)
        assert batch.unchanged_count == 0
        assert AuditEntry.objects.filter(action="supporters.import.done").count() == 1

    def test_a_run_that_read_the_batch_queued_gets_nothing_once_another_took_it(
        self, owner
    ) -> None:
        batch = start(owner, receive(owner, "Email\nrania@example.org\n"))
        read_by_both = ImportBatch.objects.get(pk=batch.pk)
        assert read_by_both.status == ImportStatus.QUEUED

        assert importing._claim(read_by_both) is True
        assert importing._claim(read_by_both) is False


class TestActivity:
    @pytest.mark.parametrize(
        ("basis", "refreshed"),
        [("membership", True), ("legitimate_interest", True), ("consent", False)],
    )
    def test_a_member_list_imported_again_keeps_its_people_active(
        self, owner, basis, refreshed
    ) -> None:
        text = "Email\nrania@example.org\n"
        run(owner, text, lawful_basis=basis)
        long_ago = timezone.now() - dt.timedelta(days=400)
        Person.objects.update(last_activity_at=long_ago)

        run(owner, text, lawful_basis=basis)

        assert (Person.objects.get().last_activity_at > long_ago) is refreshed


class TestUploadLimits:
    def test_a_header_of_too_many_columns_is_refused(self, owner) -> None:
        header = ",".join(f"c{i}" for i in range(importing.MAX_COLUMNS + 1))

        with pytest.raises(DomainError) as caught:
            receive(owner, header + "\n")

        assert caught.value.code == "too_many_columns"
        assert ImportBatch.objects.count() == 0


class TestAudit:
    def test_an_upload_is_audited_with_its_name_and_size_only(self, owner) -> None:
        batch = receive(owner, "Email\nrania@example.org\n")

        entry = AuditEntry.objects.get(action="supporters.import.uploaded")
        assert entry.actor == owner.user and entry.target_id == str(batch.pk)
        assert entry.data == {"file": "people.csv", "size": batch.size}

    def test_cancelling_is_audited_only_when_it_changes_something(self, owner) -> None:
        draft = receive(owner, "Email\nrania@example.org\n")
        queued = start(owner, receive(owner, "Email\nsami@example.org\n"))

        assert importing.cancel_import(batch=draft, actor=owner.user) is True
        assert importing.cancel_import(batch=draft, actor=owner.user) is False
        assert importing.cancel_import(batch=queued, actor=owner.user) is True
        assert importing.cancel_import(batch=queued, actor=owner.user) is False

        assert AuditEntry.objects.filter(action="supporters.import.cancelled").count() == 2

    def test_a_stale_cancel_of_a_draft_that_started_meanwhile_keeps_its_file(self, owner) -> None:
        seen_as_draft = receive(owner, "Email\nrania@example.org\n")
        start(owner, ImportBatch.objects.get(pk=seen_as_draft.pk))

        importing.cancel_import(batch=seen_as_draft, actor=owner.user)

        seen_as_draft.refresh_from_db()
        assert seen_as_draft.status == ImportStatus.QUEUED and seen_as_draft.cancel_requested
        assert (importing.import_dir() / seen_as_draft.stored_path).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_ids_reserved_at_once_never_overlap(self) -> None:
        def reserve(_index: int) -> list[int]:
            ids: list[int] = []
            for _ in range(300):
                with transaction.atomic():
                    ids += bulk.reserve_ids(ConsentRecord, 7)
            return ids

        results, errors = run_at_once(6, reserve)

        assert errors == []
        ids = [i for result in results for i in result]
        assert len(ids) == len(set(ids)) == 6 * 300 * 7
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('supporters_consentrecord', 'id'))"
            )
            assert cursor.fetchone()[0] > max(ids)

    def test_an_import_never_writes_back_what_an_organizer_changed_meanwhile(self, owner) -> None:
        rania = PersonFactory(
            organization=owner.organization,
            given_name="Rania",
            family_name="Haddad",
            email="rania@example.org",
        )
        batch = start(owner, receive(owner, "Email,Governorate\nrania@example.org,Beirut\n"))
        editing = threading.Event()

        def organizer_edits() -> None:
            try:
                with transaction.atomic():
                    Person.objects.filter(pk=rania.pk).update(family_name="Khoury")
                    editing.set()
                    time.sleep(1)  # the import reads and writes meanwhile
            finally:
                connections.close_all()

        editor = threading.Thread(target=organizer_edits)
        editor.start()
        assert editing.wait(timeout=10)
        done = importing.run_import(batch.pk)
        editor.join(timeout=30)

        assert done.status == ImportStatus.DONE
        rania.refresh_from_db()
        assert (rania.family_name, rania.region) == ("Khoury", "Beirut")
