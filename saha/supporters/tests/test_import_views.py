"""Import pages: upload, match columns, progress, cancel, report; permissions."""

from __future__ import annotations

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.test import Client
from django.urls import reverse
from django.utils import translation

from saha.core.models import AuditEntry
from saha.organizations.roles import Role
from saha.supporters import importing
from saha.supporters.models import ImportBatch, ImportStatus, Person
from saha.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db

CSV = "Nom,Prénom,Courriel,Téléphone\nHaddad,Rania,rania@example.org,03123456\nNasr,Sami,bad,\n"


@pytest.fixture(autouse=True)
def _import_dir(tmp_path, settings):
    settings.SAHA_IMPORT_DIR = tmp_path / "imports"


def upload(client, slug: str, data: bytes, name: str = "people.csv"):
    return client.post(
        reverse("supporters:import_new", args=[slug]),
        {"file": SimpleUploadedFile(name, data, content_type="text/csv"), "encoding": "auto"},
    )


def mapping_post(batch: ImportBatch, **overrides) -> dict:
    data = {f"column_{i}": target for i, target in ((int(k), v) for k, v in batch.mapping.items())}
    data.update(
        tags="spring fair",
        consent_email="on",
        consent_wording="I want news.",
        language="fr",
        lawful_basis="consent",
        attested="on",
    )
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_organizer_imports_a_file_end_to_end(organizer, django_capture_on_commit_callbacks) -> None:
    client = organizer.client()
    slug = organizer.organization.slug
    # when they upload
    response = upload(client, slug, CSV.encode())
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/imports/{batch.pk}/")
    # then the mapping page shows the guessed columns and examples
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "rania@example.org" in page.content.decode()
    # when they start it (tasks run immediately in tests)
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(response["Location"], mapping_post(batch))
    assert started.status_code == 302
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE and batch.created_count == 1
    assert batch.problem_count == 2  # a bad address, so no contact left on that row
    assert Person.objects.get(emails__address="rania@example.org").given_name == "Rania"
    # and the result page and the report are there
    result = client.get(response["Location"])
    assert "<bdi>bad</bdi>" in result.content.decode()
    report = client.get(reverse("supporters:import_report", args=[slug, batch.pk]))
    body = b"".join(report.streaming_content).decode("utf-8-sig")
    assert body.splitlines()[1].startswith("3,Courriel,") and body.splitlines()[1].endswith(",bad")
    progress = client.get(reverse("supporters:import_progress", args=[slug, batch.pk]))
    assert b"hx-trigger" not in progress.content  # finished: no more polling
    assert AuditEntry.objects.filter(
        action="supporters.import.started", actor=organizer.user
    ).exists()


def test_a_bad_file_gets_a_clear_error_not_a_crash(organizer) -> None:
    response = upload(organizer.client(), organizer.organization.slug, b"PK\x03\x04rest")
    assert response.status_code == 400
    assert 'class="errors"' in response.content.decode()
    assert ImportBatch.objects.count() == 0


def test_mapping_errors_are_shown_and_nothing_starts(organizer) -> None:
    client = organizer.client()
    upload(client, organizer.organization.slug, CSV.encode())
    batch = ImportBatch.objects.get()
    url = reverse("supporters:import_detail", args=[organizer.organization.slug, batch.pk])
    no_contact = mapping_post(batch, column_2="", column_3="")
    assert client.post(url, no_contact).status_code == 400
    no_attest = mapping_post(batch, attested=None)
    assert client.post(url, no_attest).status_code == 400
    twice = mapping_post(batch, column_0="email")
    assert client.post(url, twice).status_code == 400
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DRAFT


def test_cancelling_a_draft_removes_the_file(organizer, settings) -> None:
    client = organizer.client()
    upload(client, organizer.organization.slug, CSV.encode())
    batch = ImportBatch.objects.get()
    client.post(reverse("supporters:import_cancel", args=[organizer.organization.slug, batch.pk]))
    batch.refresh_from_db()
    assert batch.status == ImportStatus.CANCELLED
    assert list((settings.SAHA_IMPORT_DIR).iterdir()) == []


def test_check_in_staff_cannot_import(checkin_staff) -> None:
    client = checkin_staff.client()
    slug = checkin_staff.organization.slug
    assert client.get(reverse("supporters:import_list", args=[slug])).status_code == 403
    assert upload(client, slug, CSV.encode()).status_code == 403


class Recorder(FileUploadHandler):
    """Counts the bytes of an upload that reach the handlers that store it."""

    received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        Recorder.received += len(raw_data)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def test_a_file_over_the_limit_is_stopped_before_it_is_stored(organizer, settings) -> None:
    settings.SAHA_IMPORT_MAX_MB = 1
    settings.FILE_UPLOAD_HANDLERS = [
        "saha.supporters.tests.test_import_views.Recorder",
        "django.core.files.uploadhandler.MemoryFileUploadHandler",
        "django.core.files.uploadhandler.TemporaryFileUploadHandler",
    ]
    Recorder.received = 0
    big = b"Email\n" + b"someone@example.org\n" * 160_000  # 3 MB

    response = upload(organizer.client(), organizer.organization.slug, big)

    assert response.status_code == 400
    assert response.context["form"].has_error("file", code="file_too_large")
    assert Recorder.received <= 1024 * 1024
    assert ImportBatch.objects.count() == 0


def test_a_file_of_too_many_columns_is_refused_with_its_reason(organizer) -> None:
    header = ",".join(f"c{i}" for i in range(importing.MAX_COLUMNS + 1)).encode()

    response = upload(organizer.client(), organizer.organization.slug, header + b"\n")

    assert response.status_code == 400
    assert response.context["form"].has_error("file", code="too_many_columns")


def test_a_tag_longer_than_a_tag_is_refused_in_the_form(organizer) -> None:
    client = organizer.client()
    upload(client, organizer.organization.slug, CSV.encode())
    batch = ImportBatch.objects.get()
    url = reverse("supporters:import_detail", args=[organizer.organization.slug, batch.pk])

    response = client.post(url, mapping_post(batch, tags="fair, " + "x" * 101))

    assert response.status_code == 400
    assert response.context["form"].has_error("tags", code="tag_too_long")
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DRAFT


def _imported_by(persona, django_capture_on_commit_callbacks) -> ImportBatch:
    client = persona.client()
    upload(client, persona.organization.slug, CSV.encode())
    batch = ImportBatch.objects.get()
    url = reverse("supporters:import_detail", args=[persona.organization.slug, batch.pk])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, mapping_post(batch))
    batch.refresh_from_db()
    assert batch.problem_count == 2
    return batch


def test_the_report_is_for_who_imported_and_who_may_export_and_is_audited(
    organizer, data_steward, django_capture_on_commit_callbacks
) -> None:
    batch = _imported_by(organizer, django_capture_on_commit_callbacks)
    slug = organizer.organization.slug
    report = reverse("supporters:import_report", args=[slug, batch.pk])
    progress = reverse("supporters:import_progress", args=[slug, batch.pk])
    # another organizer: may edit people, may not export them, did not import this file
    other = MembershipFactory(organization=organizer.organization, role=Role.ORGANIZER)
    other_client = Client()
    other_client.force_login(other.user)

    assert other_client.get(report).status_code == 403
    assert report.encode() not in other_client.get(progress).content
    detail = other_client.get(reverse("supporters:import_detail", args=[slug, batch.pk]))
    assert detail.status_code == 200 and "<bdi>bad</bdi>" not in detail.content.decode()
    # the data steward did not import it: their session must have passed MFA
    assert data_steward.client().get(report).status_code == 302
    for client in (organizer.client(), data_steward.mfa_client()):
        response = client.get(report)
        assert response.status_code == 200
        assert len(b"".join(response.streaming_content).decode("utf-8-sig").splitlines()) == 3
    entries = AuditEntry.objects.filter(action="supporters.import.report_downloaded")
    assert {e.actor_id for e in entries} == {organizer.user.pk, data_steward.user.pk}
    assert all(e.data == {"rows": 2} for e in entries)


def test_a_failed_import_says_so_clearly_and_never_shows_the_error(organizer) -> None:
    client = organizer.client()
    upload(client, organizer.organization.slug, CSV.encode())
    batch = ImportBatch.objects.get()
    # an import that failed before failures were codes
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportStatus.FAILED,
        failure="Key (organization_id, number)=(1, +9613123456) already exists.",
    )
    url = reverse("supporters:import_detail", args=[organizer.organization.slug, batch.pk])

    response = client.get(url)

    page = html.unescape(response.content.decode())
    assert "+9613123456" not in page
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        assert str(importing.FAILURE_TEXT[importing.UNEXPECTED]) in page


def test_the_upload_still_checks_the_csrf_token(organizer) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(organizer.user)

    response = upload(client, organizer.organization.slug, CSV.encode())

    assert response.status_code == 403
    assert ImportBatch.objects.count() == 0
