"""Import pages: upload, match columns, progress, cancel, report; permissions."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from saha.core.models import AuditEntry
from saha.supporters.models import ImportBatch, ImportStatus, Person

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
